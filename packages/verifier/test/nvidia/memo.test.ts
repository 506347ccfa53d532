/**
 * The cross-appraisal memo of verified RIMs and OCSP responses (nvidia/memo.ts), kept with the caller's
 * ChainCache: a warm appraisal says exactly what a cold one says, time-dependent checks still run at `now`,
 * altered bytes never hit, failures are not remembered, and every map is bounded.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CcinferError, CheckList, ParseError, VerificationError, fromUtf8, generateGatewayKey, randomBytes, utf8, type ErrorCode } from '@ccinfer/core';
import { appraise } from '../../src/appraise.js';
import { appraiseGpu, type GpuAppraisalOptions } from '../../src/nvidia/appraise.js';
import { NvidiaCollateralMemo, nvidiaCollateralMemo } from '../../src/nvidia/memo.js';
import { parseRim } from '../../src/nvidia/rim.js';
import { ChainCache, parseCertificate } from '../../src/x509/index.js';
import { mintBundle, simulatedPodMaterial } from '../../src/testing.js';
import {
  GPU_DRIVER_RIM_INDICES,
  createSimulatedNvidia,
  defaultBlocks,
  mintGpuEvidence,
  mintNvidiaCollateral,
  mintOcspResponse,
  mintRim,
  mintRimSigner,
  rimMeasurementsFrom,
  type MintedGpuEvidence,
  type NvidiaCollateral,
  type SimulatedNvidia,
} from '../../src/testing/nvidia.js';
import { expectCode, expectCodeSync } from '../helpers.js';

const HOUR = 3_600_000;
const DRIVER_ID = 'NV_GPU_DRIVER_GH100_550.90.07';
const now = new Date('2026-11-28T12:00:00Z');
const nonce = randomBytes(32);
let sim: SimulatedNvidia;
let ev: MintedGpuEvidence;
let collateral: NvidiaCollateral;

beforeAll(async () => {
  sim = await createSimulatedNvidia();
  ev = await mintGpuEvidence(sim, { nonce });
  collateral = await mintNvidiaCollateral(sim, [ev], { now });
});

/** Fresh copies of the bytes: a re-attestation decodes new arrays, so nothing may hinge on object identity. */
const copies = (list: Iterable<Uint8Array>): Uint8Array[] => [...list].map((b) => b.slice());

interface Outcome {
  code: ErrorCode | undefined;
  checks: { id: string; status: string; code?: ErrorCode | undefined; detail?: string | undefined }[];
  claims: unknown;
}

/** One strict appraisal of `device` (default `ev`) at `at`, with the given collateral and chain cache. */
async function appraiseAt(at: Date, chainCache: ChainCache | undefined, extra: Partial<GpuAppraisalOptions> = {}, device = ev): Promise<Outcome> {
  const checks = new CheckList();
  const opts: GpuAppraisalOptions = {
    expectedNonce: nonce,
    now: at,
    checks,
    id: 'gpu0',
    anchors: sim.anchors,
    rims: copies(collateral.rims.values()),
    ocspResponses: copies(collateral.ocsp),
    ...(chainCache ? { chainCache } : {}),
    ...extra,
  };
  let code: ErrorCode | undefined;
  let claims: unknown;
  try {
    claims = await appraiseGpu(device, opts);
  } catch (err) {
    if (!(err instanceof CcinferError)) throw err;
    code = err.code;
  }
  return { code, checks: checks.checks.map((c) => ({ id: c.id, status: c.status, code: c.code, detail: c.detail })), claims };
}

/** A cache that has verified `collateral` for `ev` at `now`. */
async function warmCache(extra: Partial<GpuAppraisalOptions> = {}): Promise<ChainCache> {
  const cache = new ChainCache();
  const first = await appraiseAt(now, cache, extra);
  expect(first.code).toBeUndefined();
  return cache;
}

function lastFailed(o: Outcome): { id: string; code: ErrorCode | undefined } | undefined {
  const f = o.checks.find((c) => c.status === 'failed');
  return f && { id: f.id, code: f.code };
}

describe('a warm appraisal (memo hit) says what a cold one says', () => {
  it('same claims and checks; the RIMs and OCSP responses come from the memo', async () => {
    const cold = await appraiseAt(now, undefined);
    expect(cold.code).toBeUndefined();
    const cache = await warmCache();
    const memo = nvidiaCollateralMemo(cache)!;
    // Driver and VBIOS RIM; BROM, Provisioner ICA, Identity, RIM signer, RIM CA responses.
    expect(memo.sizes).toMatchObject({ rims: 2, ocsp: 5 });
    const warm = await appraiseAt(now, cache);
    expect(warm).toEqual(cold);
    // A hit returns the remembered object (parsed and signature-checked once), for any copy of the bytes.
    const driver = collateral.rims.get(DRIVER_ID)!;
    expect(await memo.parseRim(driver.slice())).toBe(await memo.parseRim(fromUtf8(driver)));
    expect(memo.parseOcsp(collateral.ocsp[0]!.slice())).toBe(memo.parseOcsp(collateral.ocsp[0]!.slice()));
  });

  it('appraise(): a kept ChainCache gives the same document as a fresh one', async () => {
    const keyConfig = (await generateGatewayKey(1)).encoded;
    const { anchors } = await simulatedPodMaterial();
    const n = randomBytes(32);
    const { bundle } = await mintBundle({ nonce: n, keyConfig, gpus: 2, switches: 0, now });
    const cold = await appraise(bundle, { nonce: n, anchors, now });
    expect(cold.document.ok).toBe(true);
    const chainCache = new ChainCache();
    await appraise(bundle, { nonce: n, anchors, now, chainCache });
    expect(nvidiaCollateralMemo(chainCache)!.sizes.rims).toBe(2);
    const warm = await appraise(bundle, { nonce: n, anchors, now, chainCache });
    expect(warm.document).toEqual(cold.document);
  });
});

describe('time-dependent checks run on every appraisal', () => {
  it.each([
    ['after nextUpdate', new Date(now.getTime() + 2 * 86_400_000)],
    ['before thisUpdate (beyond the skew)', new Date(now.getTime() - 2 * HOUR)],
  ])('a remembered OCSP response used %s fails as cold (ERR_NV_OCSP_STALE)', async (_, at) => {
    const cache = await warmCache();
    const cold = await appraiseAt(at, undefined);
    const warm = await appraiseAt(at, cache);
    expect(cold.code).toBe('ERR_NV_OCSP_STALE');
    expect(lastFailed(cold)).toEqual({ id: 'gpu0.ocsp', code: 'ERR_NV_OCSP_STALE' });
    expect(warm).toEqual(cold);
    // Still remembered: the refusal came from the time check, and at `now` the same memo accepts again.
    expect(nvidiaCollateralMemo(cache)!.sizes.ocsp).toBe(5);
    expect((await appraiseAt(now, cache)).code).toBeUndefined();
  });

  it('a remembered RIM whose signer has since expired fails as cold (ERR_X509_EXPIRED)', async () => {
    const signer = await mintRimSigner('SIMULATED short-lived RIM signer', sim.rimCa, new Date(now.getTime() + HOUR));
    const rim = utf8(await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(ev.blocks, GPU_DRIVER_RIM_INDICES), chain: [signer, sim.rimCa, sim.rimRoot] }));
    const signerOcsp = await mintOcspResponse(sim, { cert: signer.der, issuer: sim.rimCa.der, thisUpdate: new Date(now.getTime() - HOUR), nextUpdate: new Date(now.getTime() + 86_400_000) });
    const rims = new Map(collateral.rims).set(DRIVER_ID, rim);
    const extra = { rims: copies(rims.values()), ocspResponses: copies([...collateral.ocsp, signerOcsp]) };
    const cache = await warmCache(extra);
    const later = new Date(now.getTime() + 2 * HOUR);
    const cold = await appraiseAt(later, undefined, extra);
    const warm = await appraiseAt(later, cache, extra);
    expect(lastFailed(cold)).toEqual({ id: 'gpu0.rim.driver.signature', code: 'ERR_X509_EXPIRED' });
    expect(warm).toEqual(cold);
  });

  it('golden values are compared every time: a remembered RIM refuses another GPU’s measurements (ERR_NV_MEASUREMENT_MISMATCH)', async () => {
    const cache = await warmCache();
    const other = await mintGpuEvidence(sim, { nonce, blocks: defaultBlocks(64, 9) });
    const otherOcsp = (await mintNvidiaCollateral(sim, [other], { now, rims: false })).ocsp;
    const extra = { ocspResponses: copies(otherOcsp) };
    const cold = await appraiseAt(now, undefined, extra, other);
    const warm = await appraiseAt(now, cache, extra, other);
    expect(lastFailed(cold)).toEqual({ id: 'gpu0.measurements', code: 'ERR_NV_MEASUREMENT_MISMATCH' });
    expect(warm).toEqual(cold);
    expect(nvidiaCollateralMemo(cache)!.sizes.rims).toBe(2);
  });
});

describe('altered bytes never hit the memo', () => {
  it('a remembered RIM edited after signing is verified afresh (ERR_NV_RIM_DIGEST_MISMATCH)', async () => {
    const cache = await warmCache();
    const memo = nvidiaCollateralMemo(cache)!;
    const text = fromUtf8(collateral.rims.get(DRIVER_ID)!);
    const at = text.indexOf('Hash0="') + 'Hash0="'.length;
    const edited = utf8(text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
    const rims = new Map(collateral.rims).set(DRIVER_ID, edited);
    const warm = await appraiseAt(now, cache, { rims: [...rims.values()] });
    expect(lastFailed(warm)).toEqual({ id: 'gpu0.rim.driver.signature', code: 'ERR_NV_RIM_DIGEST_MISMATCH' });
    expect(memo.sizes.rims).toBe(2);
    expect(await memo.parseRim(edited)).not.toBe(await memo.parseRim(edited));
  });

  it('a response with a remembered signature over other signed bytes is refused (ERR_NV_OCSP_SIGNATURE_INVALID)', async () => {
    const [brom, ica] = [ev.device.certs[1]!, ev.device.certs[2]!];
    const thisUpdate = new Date(now.getTime() - HOUR);
    const producedAt = new Date(now.getTime() - HOUR + 60_000);
    const genuine = await mintOcspResponse(sim, { cert: brom, issuer: ica, thisUpdate, producedAt, nextUpdate: new Date(now.getTime() + 86_400_000) });
    const rest = collateral.ocsp.slice(1); // ocsp[0] is the BROM's (mintNvidiaCollateral order)
    const cache = await warmCache({ ocspResponses: [genuine, ...rest] });
    // producedAt one second later: same signature, same length, still fresh, other signed bytes.
    const stamp = utf8('20261128110100Z');
    const altered = genuine.slice();
    const pos = indexOf(altered, stamp);
    expect(pos).toBeGreaterThan(0);
    altered[pos + 13] = 0x31;
    const warm = await appraiseAt(now, cache, { ocspResponses: [altered, ...rest] });
    expect(lastFailed(warm)).toEqual({ id: 'gpu0.ocsp', code: 'ERR_NV_OCSP_SIGNATURE_INVALID' });
    const memo = nvidiaCollateralMemo(cache)!;
    expect(memo.parseOcsp(altered)).not.toBe(memo.parseOcsp(altered));
  });
});

describe('only successes are remembered', () => {
  it('a RIM whose signature fails, or that the caller parsed itself, is not remembered', async () => {
    const memo = new NvidiaCollateralMemo();
    const opts = { anchors: sim.anchors.nvidiaRim, now };
    const badXml = utf8(await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(ev.blocks, GPU_DRIVER_RIM_INDICES), tamperSignature: (s) => void (s[5] = s[5]! ^ 1) }));
    for (let i = 0; i < 2; i++) await expectCode(memo.verifyRim(await memo.parseRim(badXml), opts), VerificationError, 'ERR_NV_RIM_SIGNATURE_INVALID');
    expect(memo.sizes.rims).toBe(0);
    const good = collateral.rims.get(DRIVER_ID)!;
    await memo.verifyRim(await parseRim(good), opts);
    expect(memo.sizes.rims).toBe(0);
    // A chain that does not verify (other anchors) is not remembered either, even though the XML signature is good.
    await expectCode(memo.verifyRim(await memo.parseRim(good), { ...opts, anchors: sim.anchors.nvidiaDevice }), VerificationError, 'ERR_X509_UNTRUSTED_ROOT');
    expect(memo.sizes.rims).toBe(0);
    await memo.verifyRim(await memo.parseRim(good), opts);
    expect(memo.sizes.rims).toBe(1);
  });

  it('a revoked response is not remembered, and on a warm path still refuses the device (ERR_NV_OCSP_REVOKED)', async () => {
    const revoked = await mintOcspResponse(sim, {
      cert: ev.device.certs[1]!,
      issuer: ev.device.certs[2]!,
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 86_400_000),
      status: 'revoked',
      reason: 'keyCompromise',
    });
    const cache = await warmCache();
    const extra = { ocspResponses: [...copies(collateral.ocsp), revoked] };
    const cold = await appraiseAt(now, undefined, extra);
    expect(lastFailed(cold)).toEqual({ id: 'gpu0.ocsp', code: 'ERR_NV_OCSP_REVOKED' });
    for (let i = 0; i < 2; i++) expect(await appraiseAt(now, cache, extra)).toEqual(cold);
    const memo = nvidiaCollateralMemo(cache)!;
    expect(memo.parseOcsp(revoked)).not.toBe(memo.parseOcsp(revoked));
  });
});

describe('bounds', () => {
  it('each map keeps at most its limit, evicting the least recently used', async () => {
    const memo = new NvidiaCollateralMemo({ rims: 2, ocsp: 2, certIds: 2 });
    const opts = { anchors: sim.anchors.nvidiaRim, now };
    const docs = await Promise.all(['550.90.07', '550.90.08', '550.90.09'].map(async (version) => utf8(await mintRim(sim, { version, measurements: rimMeasurementsFrom(ev.blocks, GPU_DRIVER_RIM_INDICES) }))));
    const parsed = [];
    for (const d of docs) {
      const rim = await memo.parseRim(d);
      await memo.verifyRim(rim, opts);
      parsed.push(rim);
    }
    expect(memo.sizes.rims).toBe(2);
    expect(await memo.parseRim(docs[0]!)).not.toBe(parsed[0]); // evicted: parsed and verified afresh
    expect(await memo.parseRim(docs[2]!)).toBe(parsed[2]);

    const [cert, issuer] = [parseCertificate(ev.device.certs[1]!), parseCertificate(ev.device.certs[2]!)];
    for (const bytes of collateral.ocsp.slice(0, 3)) {
      const r = memo.parseOcsp(bytes);
      memo.ocspVerified(r);
    }
    expect(memo.sizes.ocsp).toBe(2);

    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384'] as const) await memo.certId(cert, issuer, hash);
    expect(memo.sizes.certIds).toBe(2);
  });

  it('one memo per ChainCache, none without', () => {
    const a = new ChainCache();
    expect(nvidiaCollateralMemo(a)).toBe(nvidiaCollateralMemo(a));
    expect(nvidiaCollateralMemo(a)).not.toBe(nvidiaCollateralMemo(new ChainCache()));
    expect(nvidiaCollateralMemo(undefined)).toBeUndefined();
  });

  it('a malformed RIM or response throws as without the memo and leaves nothing behind', async () => {
    const memo = new NvidiaCollateralMemo();
    await expectCode(memo.parseRim('<x/>'), ParseError, 'ERR_NV_RIM_MALFORMED');
    expectCodeSync(() => memo.parseOcsp(Uint8Array.of(0x30, 0x01)), ParseError, 'ERR_NV_OCSP_MALFORMED');
    expect(memo.sizes).toEqual({ rims: 0, ocsp: 0, certIds: 0 });
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
