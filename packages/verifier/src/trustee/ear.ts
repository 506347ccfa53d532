/**
 * Delegated appraisal: verifying the EAR attestation-result tokens of Trustee's Attestation Service (the JWT
 * KBS returns from `/kbs/v0/attest`).
 *
 * What the token is (Trustee `attestation-service/src/ear_token/`, `docs/attestation_token.md`,
 * `docs/example.token.json`): a JWT signed ES256 by the AS token signer, whose header also carries the
 * signer's `jwk` (never trusted here: the relying party configures the key or JWKS); claims
 * `eat_profile` (default "tag:github.com,2024:confidential-containers/Trustee"; the EAR draft's
 * "tag:github.com,2023:veraison/ear" also accepted), `iat`, `exp`, the verifier id, and one appraisal per
 * attested component in `submods`: `cpu0` (the primary attester), `gpu0`, `gpu1`, … The AS sets no
 * `eat_nonce`; the KBS nonce is inside the cpu0 appraisal's runtime-data claims. Two spellings exist:
 *   EAR crate form:   "ear.status", "ear.trustworthiness-vector", "ear.appraisal-policy-id",
 *                     "ear.veraison.annotated-evidence": { …, "runtime_data_claims": { nonce, tee-pubkey, … } }
 *   current Trustee:  "ear_status", "ear_trustworthiness_vector", "ear_appraisal_policy_ids",
 *                     "ear_attester_claims", "ear_verifier_claims": { "runtime_data": { nonce, tee-pubkey, … } }
 * Device appraisals carry runtime-data claims only when their verifier reports report_data; where present,
 * their nonce is checked too.
 */
import { CcinferError, CheckList, ConfigError, ParseError, PolicyError, VerificationError, type Jwk, type JwtClaims, type VerificationDocument } from '@ccinfer/core';
import { createLocalJWKSet, errors as joseErrors, importJWK, jwtVerify, type JWK } from 'jose';

export const TRUSTEE_EAR_PROFILES = ['tag:github.com,2024:confidential-containers/Trustee', 'tag:github.com,2023:veraison/ear'] as const;

export type EarSubmodStatus = 'affirming' | 'warning' | 'contraindicated' | 'none';

export interface TrusteeEarOptions {
  /** The AS token-signing public key, or a JWKS. One is required; the key in the JWT header is never used. */
  key?: CryptoKey | Jwk | undefined;
  jwks?: { keys: Jwk[] } | undefined;
  /** The KBS challenge nonce (the string sent to the guest). */
  expectedNonce: string;
  now: Date;
  /** Accepted JWS algorithms. Default ES256 and ES384. */
  algorithms?: string[] | undefined;
  /** Accepted eat_profile values. Default {@link TRUSTEE_EAR_PROFILES}. */
  profiles?: readonly string[] | undefined;
  /** Submods that must be present. Default ["cpu0"] plus gpu0..gpu{gpus-1}. */
  requireSubmods?: readonly string[] | undefined;
  /** Number of GPU appraisals required (gpu0..). Default 0. */
  gpus?: number | undefined;
  /** Statuses accepted for every submod. Default ["affirming"]. */
  acceptStatus?: readonly EarSubmodStatus[] | undefined;
  clockToleranceSeconds?: number | undefined;
}

export interface TrusteeEarSubmod {
  status: EarSubmodStatus;
  trustworthinessVector: Record<string, number>;
  policyIds: string[];
  /** The runtime-data nonce this appraisal reports, when it reports one. */
  nonce: string | undefined;
  teePubkey: unknown;
  raw: Record<string, unknown>;
}

export interface TrusteeEarResult {
  document: VerificationDocument;
  payload: JwtClaims | undefined;
  submods: Record<string, TrusteeEarSubmod>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads one appraisal in either spelling. */
function readSubmod(name: string, v: unknown): TrusteeEarSubmod {
  if (!isObject(v)) throw new ParseError('ERR_TRUSTEE_EAR_MALFORMED', `submods.${name} is not an object`);
  const status = v['ear.status'] ?? v['ear_status'];
  if (status !== 'affirming' && status !== 'warning' && status !== 'contraindicated' && status !== 'none') {
    throw new ParseError('ERR_TRUSTEE_EAR_MALFORMED', `submods.${name} has no valid ear.status`);
  }
  const tv = v['ear.trustworthiness-vector'] ?? v['ear_trustworthiness_vector'] ?? {};
  const pid = v['ear.appraisal-policy-id'] ?? v['ear_appraisal_policy_ids'];
  const policyIds = typeof pid === 'string' ? [pid] : Array.isArray(pid) ? pid.filter((x): x is string => typeof x === 'string') : [];
  const annotated = v['ear.veraison.annotated-evidence'];
  const verifierClaims = v['ear_verifier_claims'];
  const runtime = isObject(annotated) && isObject(annotated['runtime_data_claims']) ? annotated['runtime_data_claims'] : isObject(verifierClaims) && isObject(verifierClaims['runtime_data']) ? verifierClaims['runtime_data'] : undefined;
  const nonce = runtime && typeof runtime['nonce'] === 'string' ? runtime['nonce'] : undefined;
  return { status, trustworthinessVector: isObject(tv) ? (tv as Record<string, number>) : {}, policyIds, nonce, teePubkey: runtime?.['tee-pubkey'], raw: v };
}

function mapJoseError(err: unknown): CcinferError {
  if (err instanceof joseErrors.JWTExpired) return new VerificationError('ERR_TRUSTEE_EAR_EXPIRED', 'the EAR token has expired', { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new VerificationError('ERR_TRUSTEE_EAR_EXPIRED', `the EAR token's ${err.claim} claim is not valid now`, { cause: err });
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new VerificationError('ERR_TRUSTEE_EAR_SIGNATURE', 'the EAR token signature does not verify with the configured Attestation Service key', { cause: err });
  }
  return new ParseError('ERR_TRUSTEE_EAR_MALFORMED', 'the EAR token is not a well-formed JWT', { cause: err });
}

/**
 * Verifies a Trustee EAR token and returns a verification document (tee "bundle", `delegated: true`):
 * `trustee.signature` → `trustee.profile` → `trustee.submods` → per submod `trustee.<name>.nonce` and
 * `trustee.<name>.status`. Evidence problems are recorded (document.ok false); bad options throw ConfigError.
 */
export async function verifyTrusteeEar(token: string, options: TrusteeEarOptions): Promise<TrusteeEarResult> {
  if (!options || (!options.key && !options.jwks)) throw new ConfigError('ERR_OPTIONS_INVALID', 'a Trustee AS key or JWKS is required', { fields: ['key', 'jwks'] });
  if (typeof options.expectedNonce !== 'string' || options.expectedNonce === '') throw new ConfigError('ERR_OPTIONS_INVALID', 'expectedNonce must be the KBS challenge nonce', { fields: ['expectedNonce'] });
  const checks = new CheckList();
  const claims: Record<string, unknown> = { delegatedTo: 'trustee-attestation-service' };
  const submods: Record<string, TrusteeEarSubmod> = {};
  let payload: JwtClaims | undefined;
  try {
    payload = await checks.run('trustee.signature', async () => {
      const verifyOpts = { algorithms: options.algorithms ?? ['ES256', 'ES384'], currentDate: options.now, clockTolerance: options.clockToleranceSeconds ?? 0, requiredClaims: ['iat', 'exp'] };
      try {
        if (options.jwks) return (await jwtVerify(token, createLocalJWKSet(options.jwks as { keys: JWK[] }), verifyOpts)).payload;
        const key = options.key!;
        const k = 'kty' in key ? await importJWK(key as JWK, key.alg ?? 'ES256') : key;
        return (await jwtVerify(token, k, verifyOpts)).payload;
      } catch (err) {
        throw mapJoseError(err);
      }
    }, (p) => `signed by the configured Attestation Service key; issued ${new Date((p.iat ?? 0) * 1000).toISOString()}, expires ${new Date((p.exp ?? 0) * 1000).toISOString()}`);
    const p = payload;
    await checks.run('trustee.profile', () => {
      const accepted = options.profiles ?? TRUSTEE_EAR_PROFILES;
      if (typeof p['eat_profile'] !== 'string' || !accepted.includes(p['eat_profile'])) {
        throw new VerificationError('ERR_TRUSTEE_EAR_PROFILE', `eat_profile ${String(p['eat_profile'])} is not an accepted EAR profile`);
      }
    }, () => String(p['eat_profile']));
    const raw = p['submods'];
    if (!isObject(raw)) throw new ParseError('ERR_TRUSTEE_EAR_MALFORMED', 'the EAR token has no submods');
    await checks.run('trustee.submods', () => {
      for (const [name, v] of Object.entries(raw)) submods[name] = readSubmod(name, v);
      const required = options.requireSubmods ?? ['cpu0', ...Array.from({ length: options.gpus ?? 0 }, (_, i) => `gpu${i}`)];
      const missing = required.filter((r) => !(r in submods));
      if (missing.length) throw new PolicyError('ERR_TRUSTEE_EAR_SUBMOD_MISSING', `the EAR token has no appraisal for ${missing.join(', ')}`, { field: 'submods', expected: required, actual: Object.keys(submods) });
    }, () => Object.keys(submods).join(', '));
    claims['submods'] = Object.fromEntries(Object.entries(submods).map(([n, s]) => [n, { status: s.status, trustworthinessVector: s.trustworthinessVector, policyIds: s.policyIds }]));
    const accept = options.acceptStatus ?? ['affirming'];
    for (const [name, s] of Object.entries(submods)) {
      if (s.nonce !== undefined || name === 'cpu0') {
        await checks.run(`trustee.${name}.nonce`, () => {
          if (s.nonce !== options.expectedNonce) throw new VerificationError('ERR_TRUSTEE_EAR_NONCE', `${name} was appraised for nonce ${String(s.nonce)}, not this session's`);
        }, () => 'runtime-data nonce is this session’s KBS challenge');
      } else {
        checks.skip(`trustee.${name}.nonce`, 'this appraisal exports no runtime-data claims (bound by the AS through the same runtime data)');
      }
      await checks.run(`trustee.${name}.status`, () => {
        if (!accept.includes(s.status)) throw new PolicyError('ERR_TRUSTEE_EAR_STATUS', `${name} is ${s.status}`, { field: `submods.${name}.ear.status`, expected: accept, actual: s.status });
      }, () => s.status);
    }
  } catch (err) {
    if (!(err instanceof CcinferError)) throw err;
    if (!checks.errors.some((e) => e.code === err.code)) checks.errors.push({ code: err.code, message: err.message });
  }
  const document = checks.document('bundle', options.now, claims);
  document.delegated = true;
  document.warnings.push('delegated appraisal: the evidence was appraised by a Trustee Attestation Service, not here');
  return { document, payload, submods };
}
