/**
 * Where the NVIDIA collateral of an appraisal comes from, in one place (as tdx/fetch.ts for Intel PCS): RIMs
 * from the cache or the NVIDIA RIM service, OCSP answers from the pod's pre-fetched responses, the cache or the
 * NVIDIA OCSP responder, and the NRAS signing keys (JWKS). The sources are untrusted for content: a RIM is verified by the appraisal (signature,
 * version, signed identity), and every OCSP answer, whatever its source, gets `checkOcspResponse` before its
 * status is used. URL builders and the RIM service's answer format are in collateral.ts.
 */
import { CcinferError, CollateralError, cachedFetch, equalBytes, fetchBytes, fromUtf8, randomBytes, sha256, toHex, type Cache, type Fetcher, type Jwk } from '@ccinfer/core';
import { definedOnly } from '@ccinfer/core/internal';
import type { Certificate, ChainCache } from '../x509/index.js';
import { NRAS_JWKS_URL, OCSP_URL, RIM_SERVICE_URL, parseRimServiceResponse, rimUrl } from './collateral.js';
import { memoized, type NvidiaCollateralMemo, type NvidiaMemo } from './memo.js';
import { buildOcspRequest, certIdFor, checkOcspResponse, parseOcspResponse, type CertId, type OcspMode, type OcspResponse, type OcspResult } from './ocsp.js';
import { parseRim, type Rim } from './rim.js';

const HOUR = 3_600_000;

/** The options of an appraisal that say where its NVIDIA collateral may come from. */
export interface NvidiaCollateralSources {
  now: Date;
  fetcher?: Fetcher | undefined;
  cache?: Cache | undefined;
  signal?: AbortSignal | undefined;
  rimServiceUrl?: string | undefined;
  ocspUrl?: string | undefined;
  /** OCSP responses the pod gathered (bundle collateral); see `GpuAppraisalOptions.ocspResponses`. */
  ocspResponses?: readonly Uint8Array[] | undefined;
  memo?: NvidiaMemo | undefined;
  chainCache?: ChainCache | undefined;
}

/**
 * The RIM `rimId` from the cache or the RIM service (cached a day), parsed. `ERR_NV_RIM_MISSING` when the
 * service has none, is unreachable or there is no fetcher.
 */
export async function fetchRim(rimId: string, sources: NvidiaCollateralSources, across: NvidiaCollateralMemo | undefined): Promise<Rim> {
  const url = rimUrl(rimId, sources.rimServiceUrl ?? RIM_SERVICE_URL);
  const body = await cachedFetch(url, { ...definedOnly({ fetcher: sources.fetcher, cache: sources.cache, signal: sources.signal }), now: sources.now, ttlMs: 24 * HOUR, missingCode: 'ERR_NV_RIM_MISSING' });
  const doc = await parseRimServiceResponse(body, rimId);
  return across ? across.parseRim(doc) : parseRim(doc);
}

/**
 * The checked OCSP status of `cert` (issued by `issuer`): from the pod's pre-fetched responses when one names
 * it (every such response must pass), else from a response cached earlier, else asked of the responder with a
 * fresh nonce (and cached until its nextUpdate, at most an hour). `ERR_NV_OCSP_UNAVAILABLE` when no answer can
 * be had; `mode` `allow-unavailable` accepts an `unknown` status.
 */
export async function ocspStatus(cert: Certificate, issuer: Certificate, mode: OcspMode, sources: NvidiaCollateralSources, across: NvidiaCollateralMemo | undefined): Promise<OcspResult> {
  const certId = across?.certId ?? certIdFor;
  const check = { now: sources.now, allowUnknown: mode === 'allow-unavailable', certId };
  // Responses checked without a nonce (carried, cached) may reuse remembered signature checks (memo.ts); the
  // responder, CertID, time and status checks run every time. A response fetched with our nonce is used once:
  // it is checked with `check`, and nothing about it is remembered.
  const reusable = { ...check, ...definedOnly({ signatures: sources.chainCache?.signatures }) };
  const id = await certId(cert, issuer, 'SHA-384');
  // Responses the pod gathered: those whose CertID names this certificate (serial numbers alone are only
  // unique per issuer), checked without a nonce (see `ocspResponses`). Every one of them must pass, so a
  // "revoked" answer cannot be outvoted by an older "good" one carried alongside it.
  const carried = await carriedResponses(cert, issuer, id, sources, across);
  if (carried.length) {
    return memoized(sources.memo?.ocspChecks, `${toHex(cert.raw)}|${toHex(issuer.raw)}`, async () => {
      const results = await Promise.all(
        carried.map(async (r) => {
          const result = await checkOcspResponse(r, cert, issuer, reusable);
          across?.ocspVerified(r);
          return result;
        }),
      );
      return results.find((r) => r.status !== 'good') ?? results[0]!;
    });
  }
  // A response we cached earlier: fresh by thisUpdate/nextUpdate (and at most an hour old), no nonce, so
  // checked as a carried one; a cached response too old for that is not an answer: ask the responder again.
  const key = `ocsp:${toHex(await sha256(buildOcspRequest(id)))}`;
  const hit = await sources.cache?.get(key);
  if (hit && (hit.expiresAt === undefined || hit.expiresAt > sources.now.getTime())) {
    try {
      const parsed = across ? across.parseOcsp(hit.value) : parseOcspResponse(hit.value);
      const result = await checkOcspResponse(parsed, cert, issuer, reusable);
      across?.ocspVerified(parsed);
      return result;
    } catch (err) {
      if (!(err instanceof CcinferError && err.code === 'ERR_NV_OCSP_STALE')) throw err;
    }
  }
  if (!sources.fetcher) throw new CollateralError('ERR_NV_OCSP_UNAVAILABLE', `no OCSP response for ${cert.subject.cn ?? 'a certificate'} and no fetcher configured`);
  const nonce = randomBytes(32);
  let body: Uint8Array;
  try {
    ({ body } = await fetchBytes(sources.ocspUrl ?? OCSP_URL, {
      fetcher: sources.fetcher,
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: buildOcspRequest(id, nonce),
      ...definedOnly({ signal: sources.signal }),
    }));
  } catch (cause) {
    throw new CollateralError('ERR_NV_OCSP_UNAVAILABLE', `OCSP responder unreachable for ${cert.subject.cn ?? 'a certificate'}`, { cause });
  }
  const result = await checkOcspResponse(parseOcspResponse(body), cert, issuer, { ...check, nonce });
  // Without nextUpdate it could never be reused without its nonce (see checkOcspResponse): not cached.
  if (result.nextUpdate) await sources.cache?.set(key, { value: body, expiresAt: Math.min(result.nextUpdate.getTime(), sources.now.getTime() + HOUR) });
  return result;
}

/** The pre-fetched responses with a SingleResponse whose CertID is the one of `cert` issued by `issuer`. */
async function carriedResponses(
  cert: Certificate,
  issuer: Certificate,
  id: CertId,
  sources: NvidiaCollateralSources,
  across: NvidiaCollateralMemo | undefined,
): Promise<OcspResponse[]> {
  const out: OcspResponse[] = [];
  const mine = new Map<string, CertId>([[id.hash, id]]);
  for (const bytes of sources.ocspResponses ?? []) {
    let parsed = sources.memo?.ocspParsed.get(bytes);
    if (!parsed) {
      parsed = across ? across.parseOcsp(bytes) : parseOcspResponse(bytes);
      sources.memo?.ocspParsed.set(bytes, parsed);
    }
    for (const s of parsed.basic?.responses ?? []) {
      if (!equalBytes(s.certId.serialNumber, cert.serialNumber)) continue;
      const want = mine.get(s.certId.hash) ?? (await (across?.certId ?? certIdFor)(cert, issuer, s.certId.hash));
      mine.set(want.hash, want);
      if (equalBytes(s.certId.issuerNameHash, want.issuerNameHash) && equalBytes(s.certId.issuerKeyHash, want.issuerKeyHash)) {
        out.push(parsed);
        break;
      }
    }
  }
  return out;
}

/**
 * The NRAS JSON Web Key Set from the cache or `jwksUrl` (default NVIDIA's), cached five minutes: NRAS rotates
 * its keys within days, so they are looked up, never pinned. `ERR_NV_NRAS_JWKS_UNAVAILABLE` when it cannot be
 * had or is not a key set.
 */
export async function fetchNrasJwks(o: { now: Date; jwksUrl?: string | undefined; fetcher?: Fetcher | undefined; cache?: Cache | undefined; signal?: AbortSignal | undefined }): Promise<{ keys: Jwk[] }> {
  const body = await cachedFetch(o.jwksUrl ?? NRAS_JWKS_URL, {
    ...definedOnly({ fetcher: o.fetcher, cache: o.cache, signal: o.signal }),
    now: o.now,
    ttlMs: 5 * 60_000,
    missingCode: 'ERR_NV_NRAS_JWKS_UNAVAILABLE',
  });
  try {
    const j = JSON.parse(fromUtf8(body)) as { keys?: unknown };
    if (!Array.isArray(j.keys)) throw new Error('no keys');
    return j as { keys: Jwk[] };
  } catch (cause) {
    throw new CollateralError('ERR_NV_NRAS_JWKS_UNAVAILABLE', 'NRAS JWKS is not a JSON Web Key Set', { cause });
  }
}
