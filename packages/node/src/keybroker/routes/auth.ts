/** `POST /kbs/v0/auth` (kbs_attestation_protocol.md "Request" → "Challenge"): opens a session with a fresh nonce. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ParseError, SessionError, randomBytes, toBase64 } from '@ccinfer/core';
import type { BrokerContext } from '../context.js';
import { readKbsJson, send } from '../reply.js';
import { SUPPORTED_TEES, type KbsTee } from '../sessions.js';

export const KBS_PROTOCOL_VERSION = '0.4.0';

/** A KBS Request is a few short strings; 64 KiB leaves room for extra-params. */
const MAX_REQUEST_BYTES = 64 * 1024;

export async function auth(ctx: BrokerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tee = parseKbsRequest(await readKbsJson(req, MAX_REQUEST_BYTES));
  const s = ctx.sessions.open(tee, toBase64(randomBytes(32)));
  ctx.sessions.setCookie(res, s);
  // Not audited: anyone may ask for a challenge; the log records what is decided (attest, release, admin).
  send(res, 200, { nonce: s.nonce, 'extra-params': '' });
}

/**
 * A KBS `Request` (kbs_protocol.md §"Request"): `{version, tee, extra-params}`. The version must be exactly
 * 0.4.0 (Trustee's semver "=0.4.0"), the TEE one this broker appraises, and any `tee-metadata` must name the same
 * primary TEE (kbs/src/attestation/mod.rs). Returns the TEE.
 */
export function parseKbsRequest(r: unknown): KbsTee {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'Request must be a JSON object');
  const o = r as Record<string, unknown>;
  if (typeof o['version'] !== 'string' || typeof o['tee'] !== 'string' || !('extra-params' in o)) throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'Request needs version, tee and extra-params');
  // Trustee requires the client's protocol version to equal its own (semver "=0.4.0").
  if (o['version'] !== KBS_PROTOCOL_VERSION) throw new SessionError('ERR_KBS_VERSION', `KBS Client Protocol Version Mismatch: expect =${KBS_PROTOCOL_VERSION} while the request is ${o['version']}`);
  const tee = o['tee'];
  if (!(SUPPORTED_TEES as readonly string[]).includes(tee as string)) throw new SessionError('ERR_KBS_TEE_UNSUPPORTED', `TEE ${tee} is not supported by this broker (snp, tdx)`);
  const extra = o['extra-params'];
  const meta = typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>)['tee-metadata'] : undefined;
  if (meta !== undefined) {
    // kbs/src/attestation/mod.rs: when tee-metadata is present, its primary TEE must be the request's.
    const primary = (meta as { primary_tee?: { tee?: unknown } } | null)?.primary_tee?.tee;
    if (primary !== tee) throw new ParseError('ERR_KBS_REQUEST_MALFORMED', `tee-metadata primary TEE ${String(primary)} does not match request TEE ${tee}`);
  }
  return tee as KbsTee;
}
