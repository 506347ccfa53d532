/**
 * Delegated appraisal: verifying NVIDIA Remote Attestation Service results (docs/checks.md "NVIDIA Remote Attestation Service").
 *
 * NRAS answers with a detached EAT `[["JWT", overall], {"GPU-0": jwt, …}]` (HTTP 200 even on failure). The
 * relying party must check every JWT's ES384 signature with the JWKS key named by its `kid` (keys rotate
 * within days: looked up, cached briefly, never pinned), the issuer, `exp`/`nbf` at `now`, that every device
 * JWT's SHA-256 is listed in `submods` and the counts agree, that `eat_nonce` is its own nonce and that the
 * nonce inside the evidence it submitted is that nonce too (NRAS compares its request nonce with the
 * evidence; a proxy can choose both), and the overall and per-device results.
 */
import {
  CcinferError,
  CheckList,
  ParseError,
  PolicyError,
  VerificationError,
  fromUtf8,
  sha256,
  toHex,
  utf8,
  type Cache,
  type CheckListener,
  type Clock,
  type Fetcher,
  type Jwk,
  type JwtClaims,
  type VerificationDocument,
} from '@ccinfer/core';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { fetchNrasJwks } from './fetch.js';
import { parseReport } from './parse.js';
import { runVerification } from '../verification.js';

export const NRAS_ISSUERS = ['https://nras.attestation.nvidia.com'] as const;

export interface NrasAppraisalOptions {
  /** The nonce the caller sent to NRAS (and put in every SPDM request). */
  expectedNonce: Uint8Array;
  now: Date;
  /** The JWKS (`{ keys: [...] }`); without it it is fetched from `jwksUrl` and cached briefly. */
  jwks?: { keys: Jwk[] } | undefined;
  jwksUrl?: string | undefined;
  fetcher?: Fetcher | undefined;
  cache?: Cache | undefined;
  /** Accepted issuers. Default the production NRAS. */
  issuers?: readonly string[] | undefined;
  /** The SPDM reports that were submitted to NRAS; each must carry `expectedNonce`. */
  evidence?: readonly Uint8Array[] | undefined;
  /** Tolerated clock skew for exp / nbf, seconds. Default 0. */
  clockToleranceSeconds?: number | undefined;
  /** Records each step (`nras.parse`, `nras.signature`, …) when given. */
  checks?: CheckList | undefined;
  /** Cancels the JWKS fetch. */
  signal?: AbortSignal | undefined;
}

export interface NrasResult {
  /** Always true: these results were appraised by NVIDIA's service, not here. */
  delegated: true;
  issuer: string;
  claimsVersion: string | undefined;
  overallResult: boolean;
  nonce: string;
  issuedAt: string | undefined;
  expiresAt: string | undefined;
  overall: JwtClaims;
  devices: Record<string, JwtClaims>;
}

const MALFORMED = 'ERR_NV_NRAS_MALFORMED';

/** Splits the detached EAT. Accepts the JSON text, its bytes, or the parsed value. */
export function parseDetachedEat(input: string | Uint8Array | unknown): { overall: string; devices: Record<string, string> } {
  let v: unknown = input;
  try {
    if (input instanceof Uint8Array) v = JSON.parse(fromUtf8(input, MALFORMED));
    else if (typeof input === 'string') v = JSON.parse(input);
  } catch (cause) {
    throw new ParseError(MALFORMED, 'NRAS result is not JSON', { cause });
  }
  const ok =
    Array.isArray(v) &&
    v.length === 2 &&
    Array.isArray(v[0]) &&
    v[0].length === 2 &&
    v[0][0] === 'JWT' &&
    typeof v[0][1] === 'string' &&
    typeof v[1] === 'object' &&
    v[1] !== null &&
    !Array.isArray(v[1]) &&
    Object.values(v[1]).every((t) => typeof t === 'string');
  if (!ok) throw new ParseError(MALFORMED, 'NRAS result is not a detached EAT [["JWT", token], {name: token}]');
  const arr = v as [[string, string], Record<string, string>];
  return { overall: arr[0][1], devices: arr[1] };
}

async function verifyJwt(token: string, jwks: { keys: Jwk[] }, o: NrasAppraisalOptions, what: string): Promise<JwtClaims> {
  let kid: string | undefined;
  try {
    const h = decodeProtectedHeader(token);
    if (h.alg !== 'ES384') throw new Error(`alg ${h.alg}`);
    kid = h.kid;
  } catch (cause) {
    throw new ParseError(MALFORMED, `${what}: not an ES384 JWT`, { cause });
  }
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!kid || !jwk) throw new VerificationError('ERR_NV_NRAS_KID_UNKNOWN', `${what}: key ${kid ?? '(none)'} is not in the NRAS JWKS`);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-384') throw new VerificationError('ERR_NV_NRAS_KID_UNKNOWN', `${what}: key ${kid} is not a P-384 key`);
  try {
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x!, y: jwk.y! }, 'ES384');
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['ES384'],
      issuer: [...(o.issuers ?? NRAS_ISSUERS)],
      currentDate: o.now,
      clockTolerance: o.clockToleranceSeconds ?? 0,
      requiredClaims: ['exp', 'iss'],
    });
    return payload;
  } catch (err) {
    if (err instanceof CcinferError) throw err;
    const code = (err as { code?: string; claim?: string }).code;
    const claim = (err as { claim?: string }).claim;
    if (code === 'ERR_JWT_EXPIRED' || (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (claim === 'nbf' || claim === 'iat' || claim === 'exp'))) {
      throw new VerificationError('ERR_NV_NRAS_EXPIRED', `${what}: not valid at ${o.now.toISOString()}`, { cause: err });
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'iss') {
      throw new VerificationError('ERR_NV_NRAS_ISSUER', `${what}: issuer is not ${(o.issuers ?? NRAS_ISSUERS).join(' or ')}`, { cause: err });
    }
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
      throw new VerificationError('ERR_NV_NRAS_SIGNATURE_INVALID', `${what}: ES384 signature does not verify with key ${kid}`, { cause: err });
    }
    throw new ParseError(MALFORMED, `${what}: invalid JWT`, { cause: err });
  }
}

/** `submods` entry: `["DIGEST", ["SHA-256" | "SHA256", hex]]`. */
function submodDigest(v: unknown, name: string): string {
  if (Array.isArray(v) && v[0] === 'DIGEST' && Array.isArray(v[1]) && (v[1][0] === 'SHA-256' || v[1][0] === 'SHA256') && typeof v[1][1] === 'string') {
    return v[1][1].toLowerCase();
  }
  throw new VerificationError('ERR_NV_NRAS_SUBMODS_MISMATCH', `submods.${name} is not a SHA-256 digest`);
}

/**
 * Verifies an NRAS detached EAT. Throws the first failure; the result is marked `delegated`.
 * Steps, in order: shape, overall signature/issuer/time, device signatures, submods digests and counts,
 * nonces (token and submitted evidence), results.
 */
export async function appraiseNras(input: string | Uint8Array | unknown, o: NrasAppraisalOptions): Promise<NrasResult> {
  const step = <T>(id: string, fn: () => T | Promise<T>, detail?: (v: T) => string | undefined): Promise<T> =>
    o.checks ? o.checks.run(id, fn, detail) : Promise.resolve(fn());
  const eat = await step('nras.parse', () => parseDetachedEat(input), (e) => `detached EAT with ${Object.keys(e.devices).length} device tokens`);
  const jwks = await step('nras.jwks', () => o.jwks ?? fetchNrasJwks(o), (j) => `${j.keys.length} keys`);
  const { overall, devices } = await step('nras.signature', () => verifyTokens(eat, jwks, o), () => `ES384 signatures, issuer and validity of ${1 + Object.keys(eat.devices).length} tokens`);
  await step('nras.submods', () => checkSubmods(overall, eat.devices));
  const nonce = toHex(o.expectedNonce);
  await step('nras.nonce', () => checkNonces(overall, devices, nonce, o.evidence), () => (o.evidence?.length ? `eat_nonce and ${o.evidence.length} submitted reports carry our nonce` : 'eat_nonce is our nonce (submitted evidence not given)'));
  await step('nras.result', () => checkResults(overall, devices), () => 'overall and every device result true (appraised by NRAS: delegated)');
  return {
    delegated: true,
    issuer: String(overall.iss),
    claimsVersion: typeof overall['x-nvidia-ver'] === 'string' ? overall['x-nvidia-ver'] : undefined,
    overallResult: true,
    nonce,
    issuedAt: overall.iat !== undefined ? new Date(overall.iat * 1000).toISOString() : undefined,
    expiresAt: overall.exp !== undefined ? new Date(overall.exp * 1000).toISOString() : undefined,
    overall,
    devices,
  };
}

/** `nras.signature`: every JWT (overall, then each device's) verified with the JWKS key its `kid` names. */
async function verifyTokens(eat: { overall: string; devices: Record<string, string> }, jwks: { keys: Jwk[] }, o: NrasAppraisalOptions): Promise<{ overall: JwtClaims; devices: Record<string, JwtClaims> }> {
  const overall = await verifyJwt(eat.overall, jwks, o, 'overall token');
  const devices: Record<string, JwtClaims> = {};
  for (const [name, token] of Object.entries(eat.devices)) devices[name] = await verifyJwt(token, jwks, o, `${name} token`);
  return { overall, devices };
}

/** `nras.submods`: the overall token lists the SHA-256 of every device token, and exactly those. */
async function checkSubmods(overall: JwtClaims, tokens: Record<string, string>): Promise<void> {
  const submods = overall['submods'];
  if (typeof submods !== 'object' || submods === null || Array.isArray(submods)) {
    throw new VerificationError('ERR_NV_NRAS_SUBMODS_MISMATCH', 'overall token has no submods');
  }
  const listed = Object.entries(submods as Record<string, unknown>);
  if (listed.length !== Object.keys(tokens).length) {
    throw new VerificationError('ERR_NV_NRAS_SUBMODS_MISMATCH', `submods lists ${listed.length} devices, the EAT carries ${Object.keys(tokens).length} tokens`);
  }
  for (const [name, v] of listed) {
    const token = tokens[name];
    if (token === undefined) throw new VerificationError('ERR_NV_NRAS_SUBMODS_MISMATCH', `submods.${name} has no device token`);
    const want = submodDigest(v, name);
    const got = toHex(await sha256(utf8(token)));
    if (got !== want) throw new VerificationError('ERR_NV_NRAS_SUBMODS_MISMATCH', `SHA-256 of the ${name} token is ${got}, submods says ${want}`);
  }
}

/**
 * `nras.nonce`: `eat_nonce` is ours, and so is the nonce in each SPDM report submitted to NRAS (NRAS compares
 * its request nonce with the evidence; a proxy can choose both).
 */
function checkNonces(overall: JwtClaims, devices: Record<string, JwtClaims>, nonce: string, evidence: NrasAppraisalOptions['evidence']): void {
  const tokenNonce = (p: JwtClaims): string | undefined => (typeof p['eat_nonce'] === 'string' ? p['eat_nonce'].toLowerCase() : undefined);
  if (tokenNonce(overall) !== nonce) {
    throw new VerificationError('ERR_NV_NRAS_NONCE_MISMATCH', `eat_nonce ${String(overall['eat_nonce'])} is not our nonce ${nonce}`);
  }
  for (const [name, p] of Object.entries(devices)) {
    if (p['eat_nonce'] !== undefined && tokenNonce(p) !== nonce) throw new VerificationError('ERR_NV_NRAS_NONCE_MISMATCH', `${name} eat_nonce is not our nonce`);
  }
  (evidence ?? []).forEach((report, i) => {
    const got = toHex(parseReport(report).request.nonce);
    if (got !== nonce) throw new VerificationError('ERR_NV_NRAS_NONCE_MISMATCH', `submitted evidence ${i} carries nonce ${got}, not ${nonce}`);
  });
}

/** `nras.result`: the overall result and every device's `x-nvidia-*` results are true. */
function checkResults(overall: JwtClaims, devices: Record<string, JwtClaims>): void {
  if (overall['x-nvidia-overall-att-result'] !== true) {
    throw new PolicyError('ERR_NV_NRAS_RESULT_FALSE', 'NRAS overall attestation result is false', { field: 'x-nvidia-overall-att-result', expected: true, actual: overall['x-nvidia-overall-att-result'] });
  }
  for (const [name, p] of Object.entries(devices)) {
    const failed = Object.entries(p).filter(([k, v]) => k.startsWith('x-nvidia-') && v === false).map(([k]) => k);
    if (p['x-nvidia-error-details'] !== undefined) failed.push('x-nvidia-error-details');
    if (p['measres'] !== undefined && p['measres'] !== 'success') failed.push('measres');
    if (failed.length) {
      throw new PolicyError('ERR_NV_NRAS_RESULT_FALSE', `${name}: NRAS reports ${failed.join(', ')}`, { field: name, expected: 'all checks true', actual: failed });
    }
  }
}

export interface VerifyNrasOptions extends Omit<NrasAppraisalOptions, 'now' | 'checks'> {
  now?: Date;
  clock?: Clock;
  onCheck?: CheckListener;
}

/**
 * Verifies an NVIDIA Remote Attestation Service result (the detached EAT NRAS returns) and returns the
 * verification document (tee "nras", `delegated: true`: the GPUs were appraised by NVIDIA's service, not here).
 * Checks, in order: `nras.parse` (detached EAT shape), `nras.jwks`, `nras.signature` (every JWT: ES384 with the
 * JWKS key its `kid` names, issuer, `exp` / `nbf` at `now`), `nras.submods` (every device token's SHA-256 listed,
 * counts agree), `nras.nonce` (`eat_nonce` is `expectedNonce`, and so is the nonce inside each report in
 * `evidence`), `nras.result` (overall and per-device results true).
 *
 * Evidence problems do not throw: they make `ok` false and are listed in `checks` and `errors` with their
 * `ERR_…` code (`ERR_NV_NRAS_…` for the tokens themselves).
 *
 * Defaults: `now` from `clock` (the system clock); `issuers` the production NRAS; `clockToleranceSeconds` 0;
 * `jwks` absent: read from `cache` or fetched from `jwksUrl` (default NVIDIA's) through `fetcher`, and without a
 * `fetcher` the appraisal fails with `ERR_NV_NRAS_JWKS_UNAVAILABLE`; `signal` cancels that fetch. Its options are
 * the other stacks' (`now`, `clock`, `onCheck`, `signal`, `fetcher`, `cache`) except `anchors`: what NRAS results
 * are trusted by is the JWKS (`jwks` / `jwksUrl`) and `issuers`, not an X.509 root. Pass the SPDM reports you submitted as
 * `evidence`: NRAS compares its request nonce with the evidence, and a proxy could choose both.
 *
 * @example
 * ```ts
 * import { verifyNras } from '@ccinfer/verifier';
 *
 * // eat: NRAS's response body; nonce: the 32 bytes you sent to NRAS and put in every SPDM request.
 * const doc = await verifyNras(eat, { expectedNonce: nonce, evidence: [gpuReport], fetcher: fetch });
 * console.log(doc.ok, doc.delegated, doc.claims['overallResult']);
 * ```
 */
export async function verifyNras(input: string | Uint8Array | unknown, options: VerifyNrasOptions): Promise<VerificationDocument> {
  let claims: Record<string, unknown> = {};
  const doc = await runVerification('nras', options, false, async (now, checks) => {
    const r = await appraiseNras(input, { ...options, now, checks });
    claims = {
      issuer: r.issuer,
      claimsVersion: r.claimsVersion ?? null,
      overallResult: r.overallResult,
      nonce: r.nonce,
      issuedAt: r.issuedAt ?? null,
      expiresAt: r.expiresAt ?? null,
      devices: Object.fromEntries(
        Object.entries(r.devices).map(([k, p]) => [
          k,
          { ueid: p['ueid'] ?? null, hwmodel: p['hwmodel'] ?? null, driverVersion: p['x-nvidia-gpu-driver-version'] ?? null, vbiosVersion: p['x-nvidia-gpu-vbios-version'] ?? null, measres: p['measres'] ?? null },
        ]),
      ),
    };
  }, () => claims);
  doc.delegated = true;
  return doc;
}
