/**
 * Key broker errors: ccinfer codes (stable, for the audit log and callers) and the KBS protocol's error
 * format they are answered with (kbs_attestation_protocol.md "Error information": RFC 7807-style
 * `{ "type": "https://github.com/confidential-containers/kbs/errors/<problem-type>", "detail" }`).
 */
import { CcinferError } from '@ccinfer/core';

export type KeyBrokerErrorCode =
  | 'ERR_KBS_REQUEST_MALFORMED' // ParseError: body is not the protocol's JSON
  | 'ERR_KBS_BODY_TOO_LARGE' // ParseError: body over the limit
  | 'ERR_KBS_VERSION' // SessionError: Request.version is not 0.4.0
  | 'ERR_KBS_TEE_UNSUPPORTED' // SessionError: Request.tee is not snp / tdx
  | 'ERR_KBS_SESSION_UNKNOWN' // SessionError: no or unknown kbs-session-id cookie
  | 'ERR_KBS_SESSION_EXPIRED' // SessionError
  | 'ERR_KBS_NONCE_MISMATCH' // SessionError: runtime-data.nonce is not this session's challenge (stale)
  | 'ERR_KBS_NONCE_USED' // SessionError: the challenge was already answered (replayed attest)
  | 'ERR_KBS_NOT_ATTESTED' // SessionError: resource request before a successful attest
  | 'ERR_KBS_TOKEN_INVALID' // VerificationError: Bearer token not signed by this broker, malformed, or naming no held attestation
  | 'ERR_KBS_TOKEN_EXPIRED' // SessionError: Bearer token past its exp
  | 'ERR_KBS_PATH_INVALID' // ParseError: not /kbs/v0/resource/<repository>/<type>/<tag> with safe names
  | 'ERR_KBS_RESOURCE_UNKNOWN' // SessionError: no such resource
  | 'ERR_KBS_NO_POLICY' // PolicyError: no resource policy covers the resource (never released)
  | 'ERR_KBS_ADMIN_AUTH' // VerificationError: admin bearer token missing, invalid or not allowed
  | 'ERR_KBS_SESSION_LIMIT' // SessionError: maxSessions live sessions; /auth refused (503 + Retry-After), none evicted
  | 'ERR_KBS_AUDIT_UNAVAILABLE'; // TransportError: the audit entry could not be written; nothing released (500)

/**
 * KBS problem types (kbs/src/error.rs) with the HTTP status Trustee documents for each. `InternalError` (500)
 * and `SessionLimit` (503) are this broker's own, answered in the same format: the broker cannot do its job
 * (audit log unwritable, unexpected failure), or is at its session limit and asks the client to retry.
 */
export const KBS_PROBLEMS = {
  AdminAuth: 401,
  AttestationError: 401,
  InvalidRequestPath: 404,
  PolicyDeny: 401,
  SerdeError: 401,
  TokenNotFound: 401,
  InternalError: 500,
  SessionLimit: 503,
} as const;
export type KbsProblem = keyof typeof KBS_PROBLEMS;

export const KBS_ERROR_PREFIX = 'https://github.com/confidential-containers/kbs/errors/';

export interface KbsErrorBody {
  type: string;
  detail: string;
}

export function kbsErrorBody(problem: KbsProblem, detail: string): KbsErrorBody {
  return { type: `${KBS_ERROR_PREFIX}${problem}`, detail };
}

/** Which KBS problem a ccinfer error is answered with. */
export function problemFor(stage: 'auth' | 'attest' | 'resource' | 'admin', err: CcinferError): KbsProblem {
  switch (err.code) {
    case 'ERR_KBS_REQUEST_MALFORMED':
    case 'ERR_KBS_BODY_TOO_LARGE':
      return 'SerdeError';
    case 'ERR_KBS_PATH_INVALID':
    case 'ERR_KBS_RESOURCE_UNKNOWN':
      return 'InvalidRequestPath';
    case 'ERR_KBS_SESSION_UNKNOWN':
    case 'ERR_KBS_SESSION_EXPIRED':
    case 'ERR_KBS_NOT_ATTESTED':
    case 'ERR_KBS_TOKEN_INVALID':
    case 'ERR_KBS_TOKEN_EXPIRED':
      return stage === 'resource' ? 'TokenNotFound' : 'AttestationError';
    case 'ERR_KBS_ADMIN_AUTH':
      return 'AdminAuth';
    case 'ERR_KBS_SESSION_LIMIT':
      return 'SessionLimit';
    case 'ERR_KBS_AUDIT_UNAVAILABLE':
      return 'InternalError';
    default:
      return stage === 'resource' ? 'PolicyDeny' : stage === 'admin' ? 'SerdeError' : 'AttestationError';
  }
}

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<KeyBrokerErrorCode, true> {}
}
