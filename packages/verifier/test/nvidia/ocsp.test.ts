/**
 * OCSP for the device and RIM chains: request encoding, response verification and every OCSP error code,
 * with responses minted by the simulator and an in-memory responder behind a fake fetcher.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, CollateralError, MemoryCache, ParseError, VerificationError, randomBytes, sha256, toHex } from '@ccinfer/core';
import { children, decodeDer, readOctets, sequence } from '@ccinfer/core/internal';
import { appraiseGpu, type GpuAppraisalOptions } from '../../src/nvidia/appraise.js';
import { OCSP_MAX_AGE_MS, buildOcspRequest, certIdFor, checkOcspResponse, parseOcspResponse, type OcspCheckOptions } from '../../src/nvidia/ocsp.js';
import { nvidiaCollateralMemo } from '../../src/nvidia/memo.js';
import { ChainCache, parseCertificate, type Certificate } from '../../src/x509/index.js';
import { createSimulatedNvidia, mintCa, mintGpuEvidence, mintOcspResponse, mintRim, rimMeasurementsFrom, type MintedGpuEvidence, type OcspResponseSpec, type SimulatedNvidia } from '../../src/testing/nvidia.js';
import { generateKey, mintCertificate } from '../../src/testing/x509.js';
import { expectCode } from '../helpers.js';

let sim: SimulatedNvidia;
let ev: MintedGpuEvidence;
let brom: Certificate;
let ica: Certificate;
const nonce = randomBytes(32);
const now = new Date('2026-11-28T12:00:00Z');
const thisUpdate = new Date('2026-11-28T11:00:00Z');
const nextUpdate = new Date('2026-11-29T11:00:00Z');

beforeAll(async () => {
  sim = await createSimulatedNvidia();
  ev = await mintGpuEvidence(sim, { nonce });
  brom = parseCertificate(ev.device.certs[1]!);
  ica = parseCertificate(ev.device.certs[2]!);
});

async function response(extra: Partial<OcspResponseSpec> = {}): Promise<Uint8Array> {
  return mintOcspResponse(sim, { cert: ev.device.certs[1]!, issuer: ev.device.certs[2]!, thisUpdate, nextUpdate, signer: sim.provisioner.key, ...extra });
}

async function check(bytes: Uint8Array, o: Partial<OcspCheckOptions> = {}) {
  return checkOcspResponse(parseOcspResponse(bytes), brom, ica, { now, ...o });
}

/** An OCSP responder over every simulated certificate: answers good (or `status`) and echoes the nonce. */
function responder(certs: Uint8Array[], status: OcspResponseSpec['status'] = 'good', log: string[] = [], withNextUpdate = true) {
  return async (url: string, init?: RequestInit): Promise<Response> => {
    log.push(url);
    if (!url.startsWith('https://ocsp.')) return new Response('{"message":"RIM_NOT_FOUND"}', { status: 404 });
    return answer(init);
  };
  async function answer(init?: RequestInit): Promise<Response> {
    const req = decodeDer(new Uint8Array(init!.body as ArrayBuffer | Uint8Array as Uint8Array));
    const tbs = sequence(req, 'OCSPRequest')[0]!;
    const [list, ext] = sequence(tbs, 'TBSRequest');
    const certId = sequence(sequence(list, 'requestList')[0], 'Request')[0]!;
    const serial = toHex(sequence(certId, 'CertID')[3]!.value).replace(/^00/, '');
    const reqNonce = readOctets(decodeDer(readOctets(sequence(sequence(children(ext!)[0], 'exts')[0], 'ext')[1])));
    const i = certs.findIndex((c) => toHex(parseCertificate(c).serialNumber) === serial);
    const body = await mintOcspResponse(sim, { cert: certs[i]!, issuer: certs[i + 1]!, thisUpdate, ...(withNextUpdate ? { nextUpdate } : {}), nonce: reqNonce, status });
    return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': 'application/ocsp-response' } });
  }
}

/** Pre-fetched (no nonce) good responses for device chain certificates `idx`, valid around `now`. */
function carriedFor(idx: number[]): Promise<Uint8Array[]> {
  const certs = ev.device.certs;
  return Promise.all(idx.map((i) => mintOcspResponse(sim, { cert: certs[i]!, issuer: certs[i + 1]!, thisUpdate, nextUpdate })));
}

function opts(extra: Partial<GpuAppraisalOptions> = {}): GpuAppraisalOptions {
  return { expectedNonce: nonce, now, checks: new CheckList(), id: 'gpu0', anchors: sim.anchors, requireRim: false, ocsp: 'require', ...extra };
}

describe('OCSP request and response', () => {
  it('request: one CertID (SHA-384 of issuer name and key) and a nonce extension', async () => {
    const id = await certIdFor(brom, ica);
    const req = buildOcspRequest(id, nonce);
    const tbs = sequence(sequence(decodeDer(req), 'OCSPRequest')[0], 'TBSRequest');
    expect(tbs.length).toBe(2);
    expect(id.issuerNameHash.length).toBe(48);
    expect(toHex(req)).toContain(toHex(nonce));
  });

  it('good, with nonce echoed, valid at now', async () => {
    const r = await check(await response({ nonce }), { nonce });
    expect(r.status).toBe('good');
  });

  it('a SHA-1 CertID (as NVIDIA C++ SDK sends) is matched too', async () => {
    expect((await check(await response({ hash: 'SHA-1' }))).status).toBe('good');
  });

  it('a responder delegated by the issuer (id-kp-OCSPSigning) may sign', async () => {
    const key = await generateKey('P-384');
    const responderCert = await mintCertificate({
      subject: 'SIMULATED OCSP responder',
      issuer: 'SIMULATED NVIDIA GH100 Provisioner ICA 1',
      publicKey: key,
      signer: sim.provisioner.key,
      extensions: [{ oid: '2.5.29.37', value: (await import('@ccinfer/core/internal')).der.seq((await import('@ccinfer/core/internal')).der.oid('1.3.6.1.5.5.7.3.9')) }],
    });
    expect((await check(await response({ signer: key, responderCert }))).status).toBe('good');
    // Without the EKU it may not.
    const plain = await mintCertificate({ subject: 'SIMULATED other', issuer: 'SIMULATED NVIDIA GH100 Provisioner ICA 1', publicKey: key, signer: sim.provisioner.key });
    await expectCode(check(await response({ signer: key, responderCert: plain })), VerificationError, 'ERR_NV_OCSP_RESPONDER_INVALID');
  });

  it('ERR_NV_OCSP_MALFORMED', () => {
    expect(() => parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x00, 0x00))).toThrow(ParseError);
    try {
      parseOcspResponse(Uint8Array.of(1, 2, 3));
    } catch (e) {
      expect((e as ParseError).code).toBe('ERR_NV_OCSP_MALFORMED');
    }
  });

  it('ERR_NV_OCSP_STATUS: tryLater', async () => {
    await expectCode(check(await response({ responseStatus: 3 })), VerificationError, 'ERR_NV_OCSP_STATUS');
  });

  it('ERR_NV_OCSP_SIGNATURE_INVALID: tampered response data', async () => {
    const r = await response({
      tamper: (t) => {
        const at = toHex(t).indexOf(toHex(new TextEncoder().encode('20261128110000Z'))) / 2;
        t[at + 13]! ^= 1; // producedAt seconds 00 → 01: still DER, no longer what was signed
        return t;
      },
    });
    await expectCode(check(r), VerificationError, 'ERR_NV_OCSP_SIGNATURE_INVALID');
  });

  it('ERR_NV_OCSP_RESPONDER_INVALID: signed by an unrelated CA', async () => {
    const other = await mintCa('SIMULATED rogue', undefined);
    await expectCode(check(await response({ signer: other.key, responderCert: other.der })), VerificationError, 'ERR_NV_OCSP_RESPONDER_INVALID');
  });

  it('ERR_NV_OCSP_NONCE_MISMATCH: missing or different nonce', async () => {
    await expectCode(check(await response({ nonce: randomBytes(32) }), { nonce }), VerificationError, 'ERR_NV_OCSP_NONCE_MISMATCH');
    await expectCode(check(await response(), { nonce }), VerificationError, 'ERR_NV_OCSP_NONCE_MISMATCH');
  });

  it('ERR_NV_OCSP_CERT_MISMATCH: a response about another certificate', async () => {
    const r = await mintOcspResponse(sim, { cert: ev.device.certs[2]!, issuer: ev.device.certs[3]!, thisUpdate, nextUpdate });
    await expectCode(checkOcspResponse(parseOcspResponse(r), brom, ica, { now }), VerificationError, 'ERR_NV_OCSP_RESPONDER_INVALID');
    const r2 = await mintOcspResponse(sim, { cert: ev.device.certs[2]!, issuer: ev.device.certs[2]!, signer: sim.provisioner.key, thisUpdate, nextUpdate });
    await expectCode(checkOcspResponse(parseOcspResponse(r2), brom, ica, { now }), VerificationError, 'ERR_NV_OCSP_CERT_MISMATCH');
  });

  it('ERR_NV_OCSP_STALE: nextUpdate passed, thisUpdate in the future', async () => {
    await expectCode(check(await response(), { now: new Date('2026-11-30T00:00:00Z') }), VerificationError, 'ERR_NV_OCSP_STALE');
    await expectCode(check(await response(), { now: new Date('2026-11-28T10:00:00Z') }), VerificationError, 'ERR_NV_OCSP_STALE');
  });

  it('ERR_NV_OCSP_STALE without our nonce: no nextUpdate, or thisUpdate / producedAt older than the maximum age', async () => {
    const DAY = 86_400_000;
    const noNext = await mintOcspResponse(sim, { cert: ev.device.certs[1]!, issuer: ev.device.certs[2]!, thisUpdate, signer: sim.provisioner.key });
    await expectCode(check(noNext), VerificationError, 'ERR_NV_OCSP_STALE');
    // With our nonce echoed the same response is fresh: the nonce, not the times, proves it.
    const noNextEchoed = await mintOcspResponse(sim, { cert: ev.device.certs[1]!, issuer: ev.device.certs[2]!, thisUpdate, nonce, signer: sim.provisioner.key });
    expect((await check(noNextEchoed, { nonce })).status).toBe('good');

    const old = new Date(now.getTime() - OCSP_MAX_AGE_MS - 60_000);
    const far = new Date(now.getTime() + 30 * DAY);
    await expectCode(check(await response({ thisUpdate: old, nextUpdate: far })), VerificationError, 'ERR_NV_OCSP_STALE');
    await expectCode(check(await response({ producedAt: old, nextUpdate: far })), VerificationError, 'ERR_NV_OCSP_STALE');
    await expectCode(check(await response({ producedAt: new Date(now.getTime() + DAY) })), VerificationError, 'ERR_NV_OCSP_STALE');
    expect((await check(await response({ thisUpdate: old, nextUpdate: far, nonce }), { nonce })).status).toBe('good');
    // Just inside the bound, and a caller's tighter bound.
    const recent = new Date(now.getTime() - OCSP_MAX_AGE_MS + 60_000);
    expect((await check(await response({ thisUpdate: recent, nextUpdate: far }))).status).toBe('good');
    await expectCode(check(await response(), { maxAgeMs: 30 * 60_000 }), VerificationError, 'ERR_NV_OCSP_STALE');
  });

  it('ERR_NV_OCSP_REVOKED (with reason)', async () => {
    const e = await expectCode(check(await response({ status: 'revoked', reason: 'keyCompromise' })), VerificationError, 'ERR_NV_OCSP_REVOKED');
    expect(e.message).toContain('keyCompromise');
  });

  it('ERR_NV_OCSP_HOLD: certificateHold refused unless allowed', async () => {
    const r = await response({ status: 'revoked', reason: 'certificateHold' });
    await expectCode(check(r), VerificationError, 'ERR_NV_OCSP_HOLD');
    expect((await check(r, { allowHold: true })).reason).toBe('certificateHold');
  });

  it('ERR_NV_OCSP_UNKNOWN: refused by require, accepted by allow-unknown', async () => {
    const r = await response({ status: 'unknown' });
    await expectCode(check(r), VerificationError, 'ERR_NV_OCSP_UNKNOWN');
    expect((await check(r, { allowUnknown: true })).status).toBe('unknown');
  });
});

describe('OCSP in the appraisal', () => {
  it('require: BROM, ICA and Identity checked against the responder with fresh nonces; then cached', async () => {
    const log: string[] = [];
    const fetcher = responder(ev.device.certs, 'good', log);
    const cache = new MemoryCache();
    const claims = await appraiseGpu(ev, opts({ fetcher, cache }));
    expect(Object.values(claims.ocsp as object)).toEqual(['good', 'good', 'good']);
    const ocspCalls = (): string[] => log.filter((u) => u.startsWith('https://ocsp.'));
    expect(ocspCalls()).toEqual(Array(3).fill('https://ocsp.ndis.nvidia.com/'));
    await appraiseGpu(ev, opts({ fetcher, cache }));
    expect(ocspCalls().length).toBe(3);
  });

  it('with a kept ChainCache, a response fetched with our nonce is not remembered (nvidia/memo.ts); its cached copy, checked without a nonce, is', async () => {
    const fetcher = responder(ev.device.certs, 'good');
    const cache = new MemoryCache();
    const chainCache = new ChainCache();
    await appraiseGpu(ev, opts({ fetcher, cache, chainCache }));
    const memo = nvidiaCollateralMemo(chainCache)!;
    expect(memo.sizes.ocsp).toBe(0);
    await appraiseGpu(ev, opts({ fetcher, cache, chainCache }));
    expect(memo.sizes.ocsp).toBe(3);
  });

  it('a fetched response without nextUpdate is used once, never cached (it could not be reused without its nonce)', async () => {
    const log: string[] = [];
    const fetcher = responder(ev.device.certs, 'good', log, false);
    const cache = new MemoryCache();
    const ocspCalls = (): number => log.filter((u) => u.startsWith('https://ocsp.')).length;
    expect(Object.values((await appraiseGpu(ev, opts({ fetcher, cache }))).ocsp as object)).toEqual(['good', 'good', 'good']);
    expect(ocspCalls()).toBe(3);
    await appraiseGpu(ev, opts({ fetcher, cache }));
    expect(ocspCalls()).toBe(6);
  });

  it('a cached response too old to be used without its nonce is not an answer: the responder is asked again', async () => {
    const old = new Date(now.getTime() - OCSP_MAX_AGE_MS - 60_000);
    const stale = await response({ thisUpdate: old, nextUpdate: new Date(now.getTime() + 86_400_000) });
    const key = `ocsp:${toHex(await sha256(buildOcspRequest(await certIdFor(brom, ica))))}`;
    const cache = new MemoryCache();
    await cache.set(key, { value: stale, expiresAt: now.getTime() + 3_600_000 });
    await expectCode(appraiseGpu(ev, opts({ cache, ocspResponses: await carriedFor([2, 3]) })), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
    const log: string[] = [];
    const claims = await appraiseGpu(ev, opts({ cache, fetcher: responder(ev.device.certs, 'good', log) }));
    expect(Object.values(claims.ocsp as object)).toEqual(['good', 'good', 'good']);
    expect(log.filter((u) => u.startsWith('https://ocsp.')).length).toBe(3);
  });

  it('allow-unavailable accepts unknown with a warning; require refuses it', async () => {
    const checks = new CheckList();
    await appraiseGpu(ev, opts({ checks, ocsp: 'allow-unavailable', fetcher: responder(ev.device.certs, 'unknown') }));
    expect(checks.checks.find((c) => c.id === 'gpu0.ocsp')?.status).toBe('passed');
    expect(checks.warnings.some((w) => w.includes('unknown'))).toBe(true);
    await expectCode(appraiseGpu(ev, opts({ fetcher: responder(ev.device.certs, 'unknown') })), VerificationError, 'ERR_NV_OCSP_UNKNOWN');
  });

  it('allow-unavailable: no answer to be had is a skipped check with a warning; a revoked answer still refuses', async () => {
    const checks = new CheckList();
    const claims = await appraiseGpu(ev, opts({ checks, ocsp: 'allow-unavailable' })); // no fetcher, nothing carried
    expect(claims.ocsp).toBe('skipped');
    expect(checks.checks.find((c) => c.id === 'gpu0.ocsp')).toMatchObject({ status: 'skipped', ok: false });
    expect(checks.warnings.some((w) => w.includes('NOT CHECKED'))).toBe(true);
    // One certificate's answer carried (revoked), the others unavailable: the revocation is not hidden.
    const certs = ev.device.certs;
    const revoked = await mintOcspResponse(sim, { cert: certs[1]!, issuer: certs[2]!, thisUpdate, nextUpdate, status: 'revoked' });
    await expectCode(appraiseGpu(ev, opts({ ocsp: 'allow-unavailable', ocspResponses: [revoked] })), VerificationError, 'ERR_NV_OCSP_REVOKED');
  });

  it('revoked device certificate fails the appraisal', async () => {
    await expectCode(appraiseGpu(ev, opts({ fetcher: responder(ev.device.certs, 'revoked') })), VerificationError, 'ERR_NV_OCSP_REVOKED');
  });

  it('skip is recorded as skipped, never as passed', async () => {
    const checks = new CheckList();
    const claims = await appraiseGpu(ev, opts({ checks, ocsp: 'skip' }));
    expect(claims.ocsp).toBe('skipped');
    const c = checks.checks.find((x) => x.id === 'gpu0.ocsp')!;
    expect(c.status).toBe('skipped');
    expect(c.ok).toBe(false);
  });

  it('ERR_NV_OCSP_UNAVAILABLE: no fetcher, or the responder unreachable', async () => {
    await expectCode(appraiseGpu(ev, opts()), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
    const down = async (): Promise<Response> => {
      throw new TypeError('network down');
    };
    await expectCode(appraiseGpu(ev, opts({ fetcher: down })), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
  });

  it('carried responses (no nonce) without nextUpdate or older than the maximum age fail the appraisal (ERR_NV_OCSP_STALE)', async () => {
    const certs = ev.device.certs;
    const rest = await carriedFor([2, 3]);
    const noNext = await mintOcspResponse(sim, { cert: certs[1]!, issuer: certs[2]!, thisUpdate });
    await expectCode(appraiseGpu(ev, opts({ ocspResponses: [noNext, ...rest] })), VerificationError, 'ERR_NV_OCSP_STALE');
    const old = new Date(now.getTime() - OCSP_MAX_AGE_MS - 60_000);
    const tooOld = await mintOcspResponse(sim, { cert: certs[1]!, issuer: certs[2]!, thisUpdate: old, nextUpdate: new Date(now.getTime() + 30 * 86_400_000) });
    await expectCode(appraiseGpu(ev, opts({ ocspResponses: [tooOld, ...rest] })), VerificationError, 'ERR_NV_OCSP_STALE');
    // The same set with a fresh response for the BROM passes.
    expect(Object.values((await appraiseGpu(ev, opts({ ocspResponses: await carriedFor([1, 2, 3]) }))).ocsp as object)).toEqual(['good', 'good', 'good']);
  });

  it('bundle-provided OCSP responses are used without network', async () => {
    const certs = ev.device.certs;
    const ocspResponses = await Promise.all([1, 2, 3].map((i) => mintOcspResponse(sim, { cert: certs[i]!, issuer: certs[i + 1]!, thisUpdate, nextUpdate })));
    const claims = await appraiseGpu(ev, opts({ ocspResponses }));
    expect(Object.values(claims.ocsp as object)).toEqual(['good', 'good', 'good']);
  });

  it('the RIM signer chain is checked too (leaf included)', async () => {
    const rims = [
      await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(ev.blocks, [7, 21]) }),
      await mintRim(sim, { version: '96.00.9F.00.01', measurements: rimMeasurementsFrom(ev.blocks, [0, 1]) }),
    ];
    const rimChain = [sim.rimSigner.der, sim.rimCa.der, sim.rimRoot.der];
    const device = responder(ev.device.certs);
    const rim = responder(rimChain);
    const fetcher = async (url: string, init?: RequestInit): Promise<Response> => {
      const body = new Uint8Array(init!.body as Uint8Array);
      return toHex(body).includes(toHex(parseCertificate(sim.rimSigner.der).serialNumber)) && body.length > 0
        ? rim(url, init).catch(() => device(url, init))
        : device(url, init).catch(() => rim(url, init));
    };
    const checks = new CheckList();
    const claims = await appraiseGpu(ev, opts({ checks, fetcher, rims }));
    expect(claims.rimMatched).toBe(true);
    expect(checks.checks.find((c) => c.id === 'gpu0.rim.driver.ocsp')?.status).toBe('passed');
  });
});
