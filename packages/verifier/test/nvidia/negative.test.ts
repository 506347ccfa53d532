/**
 * Every NVIDIA error code (src/nvidia/errors.ts), each made to happen with evidence minted by the
 * simulator. The positive path is checked first so that a negative cannot pass for the wrong reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, CollateralError, ConfigError, ParseError, PolicyError, VerificationError, concat, randomBytes, sha256, toHex, utf8 } from '@ccinfer/core';
import { appraiseGpu, verifyGpu, type GpuClaims, type GpuAppraisalOptions } from '../../src/nvidia/appraise.js';
import { parseReport } from '../../src/nvidia/parse.js';
import { parseRim, verifyRim, compareGolden } from '../../src/nvidia/rim.js';
import { evaluateSystemPolicy, parseGpuPolicy } from '../../src/nvidia/policy.js';
import { checkDistinctDevices, checkFeatureFlags, checkPpcieTopology } from '../../src/nvidia/topology.js';
import { parsePolicy } from '../../src/policy.js';
import { PINNED_ANCHORS } from '../../src/anchors.js';
import {
  createSimulatedNvidia,
  gpuOpaque,
  mintGpuEvidence,
  mintRim,
  rimMeasurementsFrom,
  mintSpdmReport,
  mintDevice,
  mintNvidiaCollateral,
  switchOpaque,
  type SimulatedNvidia,
} from '../../src/testing/nvidia.js';
import { generateKey, mintCertificate } from '../../src/testing/x509.js';
import { expectCode, flip } from '../helpers.js';

let sim: SimulatedNvidia;
const nonce = randomBytes(32);
const now = new Date('2026-11-28T00:00:00Z');
const DRIVER_IDX = [7, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40];
const VBIOS_IDX = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12];

beforeAll(async () => {
  sim = await createSimulatedNvidia();
});

function options(extra: Partial<GpuAppraisalOptions> = {}): GpuAppraisalOptions {
  return { expectedNonce: nonce, now, checks: new CheckList(), id: 'gpu0', anchors: sim.anchors, ocsp: 'skip', requireRim: false, ...extra };
}

async function appraise(ev: { report: Uint8Array; certChain: string }, extra: Partial<GpuAppraisalOptions> = {}): Promise<GpuClaims> {
  return appraiseGpu(ev, options(extra));
}

async function rimsFor(blocks: Uint8Array[], o: { driverVersion?: string; vbiosVersion?: string } = {}): Promise<string[]> {
  return [
    await mintRim(sim, { version: o.driverVersion ?? '550.90.07', measurements: rimMeasurementsFrom(blocks, DRIVER_IDX) }),
    await mintRim(sim, { version: o.vbiosVersion ?? '96.00.9F.00.01', measurements: rimMeasurementsFrom(blocks, VBIOS_IDX) }),
  ];
}

describe('simulated GPU evidence: positive path', () => {
  it('verifies with the simulator anchors, RIMs matched; rejected by the pinned NVIDIA root', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const claims = await appraise(ev, { rims: await rimsFor(ev.blocks), requireRim: true });
    expect(claims.rimMatched).toBe(true);
    expect(claims.arch).toBe('hopper');
    expect(claims.vbiosVersion).toBe('96.00.9F.00.01');
    expect(claims.fwid).toBe('11'.repeat(48));
    await expectCode(appraise(ev, { anchors: PINNED_ANCHORS }), VerificationError, 'ERR_X509_UNTRUSTED_ROOT');
    const doc = await verifyGpu(ev, { expectedNonce: nonce, now, anchors: sim.anchors, ocsp: 'skip', requireRim: false });
    expect(doc.ok).toBe(true);
    expect(doc.warnings[0]).toMatch(/SIMULATED/);
  });

  it('Blackwell GB20X with CHIP_INFO names its CC driver RIM after the chip', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, device: { chip: 'GB20X' }, gpu: { chip: 'GB20X', chipInfo: 'GB202' } });
    const claims = await appraise(ev);
    expect(claims.arch).toBe('blackwell');
    expect(claims.driverRimId).toBe('NV_GPU_CC_DRIVER_GB202_550.90.07');
  });

  it('RTX PRO 6000 Blackwell Server Edition (GB202): GPU_INFO 0x00000002_000001b0 verifies end to end (issue 10 finding 7)', async () => {
    const gpu = { chip: 'GB20X' as const, gpuInfoHigh: 2, chipInfo: 'GB202', project: 'G153', projectSku: '0200', chipSku: '882', driverVersion: '580.65.06', vbiosVersion: '98.02.2E.00.05' };
    const ev = await mintGpuEvidence(sim, { nonce, device: { chip: 'GB20X' }, gpu });
    const parsed = parseReport(ev.report, 'gpu');
    const info = parsed.response.opaque.fields.find((f) => f.type === 4)!;
    expect(toHex(info.value)).toBe('b001000002000000'); // u64le 0x00000002_000001b0, as the real GPU sends it
    expect(parsed.response.opaque.gpuInfo).toBe(0x1b0);
    expect(parsed.response.opaque.gpuInfoHigh).toBe(2);
    // Everything the strict defaults require: chain, FWID (DiceTcbInfo), OCSP, nonce, signature, both RIMs.
    const collateral = await mintNvidiaCollateral(sim, [ev], { now });
    const doc = await verifyGpu(ev, { expectedNonce: nonce, now, anchors: sim.anchors, rims: [...collateral.rims.values()], ocspResponses: collateral.ocsp });
    expect(doc.errors).toEqual([]);
    expect(doc.ok).toBe(true);
    for (const step of ['parse', 'arch', 'chain', 'fwid', 'ocsp', 'nonce', 'signature', 'rim.driver.signature', 'rim.vbios.signature', 'measurements']) {
      expect(doc.checks.find((c) => c.id === `gpu0.${step}`)?.status, step).toBe('passed');
    }
    expect(doc.claims).toMatchObject({ arch: 'blackwell', chip: 'GB20X', driverVersion: '580.65.06', vbiosVersion: '98.02.2E.00.05', driverRimId: 'NV_GPU_CC_DRIVER_GB202_580.65.06', rimMatched: true, fwid: '11'.repeat(48) });
    // The upper half is kept, not a licence: the architecture id in the lower half still decides.
    const hopperInfo = await mintGpuEvidence(sim, { nonce, device: { chip: 'GB20X' }, gpu: { ...gpu, chip: 'GH100' } });
    await expectCode(appraise(hopperInfo), VerificationError, 'ERR_NV_ARCH_MISMATCH');
  });

  it('a RIM from the RIM service (fetcher) is used and cached', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const [driver, vbios] = await rimsFor(ev.blocks);
    const served: string[] = [];
    const fetcher = async (url: string): Promise<Response> => {
      served.push(url);
      const id = url.split('/').pop()!;
      const xml = id.startsWith('NV_GPU_DRIVER') ? driver! : vbios!;
      const sha = toHex(await sha256(utf8(xml)));
      return new Response(JSON.stringify({ id, rim: btoa(xml), sha256: sha }), { status: 200 });
    };
    const { MemoryCache } = await import('@ccinfer/core');
    const cache = new MemoryCache();
    expect((await appraise(ev, { fetcher, cache, requireRim: true })).rimMatched).toBe(true);
    expect(served).toEqual(['https://rim.attestation.nvidia.com/v1/rim/NV_GPU_DRIVER_GH100_550.90.07', 'https://rim.attestation.nvidia.com/v1/rim/NV_GPU_VBIOS_1010_0200_882_96009F0001']);
    expect((await appraise(ev, { fetcher, cache, requireRim: true })).rimMatched).toBe(true);
    expect(served.length).toBe(2);
  });
});

describe('parse errors', () => {
  it('ERR_NV_REPORT_TRUNCATED', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    await expectCode(appraise({ ...ev, report: ev.report.subarray(0, 200) }), ParseError, 'ERR_NV_REPORT_TRUNCATED');
    await expectCode(appraise({ ...ev, report: ev.report.subarray(0, ev.report.length - 1) }), ParseError, 'ERR_NV_REPORT_TRUNCATED');
  });

  it('ERR_NV_REPORT_MALFORMED: SPDM version, no signature requested, not all measurements, not DMTF', async () => {
    const leaf = (await mintDevice(sim)).leafKey;
    for (const o of [{ requestVersion: 0x12 }, { requestParam1: 0 }, { requestParam2: 1 }, { measurementSpecification: 2 }]) {
      const r = await mintSpdmReport({ nonce, opaque: gpuOpaque(), signer: leaf, ...o });
      expect(() => parseReport(r)).toThrow(ParseError);
      try {
        parseReport(r);
      } catch (e) {
        expect((e as ParseError).code).toBe('ERR_NV_REPORT_MALFORMED');
      }
    }
  });

  it('ERR_NV_OPAQUE_MALFORMED: repeated type, VBIOS and FWID of the wrong size, TLV past the end', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, gpu: { extra: [{ type: 3, value: utf8('1.0\0') }] } });
    await expectCode(appraise(ev), ParseError, 'ERR_NV_OPAQUE_MALFORMED');
    const ev2 = await mintGpuEvidence(sim, { nonce, gpu: { fwid: new Uint8Array(47) } });
    await expectCode(appraise(ev2), ParseError, 'ERR_NV_OPAQUE_MALFORMED');
    const ev3 = await mintGpuEvidence(sim, { nonce, opaque: [{ type: 6, value: new Uint8Array(7) }, { type: 4, value: new Uint8Array(8) }] });
    await expectCode(appraise(ev3), ParseError, 'ERR_NV_OPAQUE_MALFORMED');
    const ev4 = await mintGpuEvidence(sim, { nonce, opaque: [{ type: 3, value: utf8('\x01\x02') }] });
    await expectCode(appraise(ev4), ParseError, 'ERR_NV_OPAQUE_MALFORMED');    // GPU_INFO is a u32 or a u64 (GB202), nothing in between.
    for (const n of [0, 3, 6, 12]) {
      const ev5 = await mintGpuEvidence(sim, { nonce, opaque: [{ type: 4, value: new Uint8Array(n).fill(1) }] });
      await expectCode(appraise(ev5), ParseError, 'ERR_NV_OPAQUE_MALFORMED');
    }
  });

  it('ERR_NV_TRAILING_BYTES: non-zero bytes after the signature (zero padding is accepted)', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, report: { trailing: Uint8Array.of(0, 1) } });
    await expectCode(appraise(ev), ParseError, 'ERR_NV_TRAILING_BYTES');
    const ok = await mintGpuEvidence(sim, { nonce, report: { trailing: Uint8Array.of(0) } });
    expect((await appraise(ok)).nonce).toBe(toHex(nonce));
  });
});

describe('evidence verification errors', () => {
  it('ERR_NV_NONCE_MISMATCH', async () => {
    const ev = await mintGpuEvidence(sim, { nonce: randomBytes(32) });
    await expectCode(appraise(ev), VerificationError, 'ERR_NV_NONCE_MISMATCH');
  });

  it('ERR_NV_SIGNATURE_INVALID: a flipped signed byte (a measurement) and a flipped signature byte', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    await expectCode(appraise({ ...ev, report: flip(ev.report, 37 + 8 + 7 + 10) }), VerificationError, 'ERR_NV_SIGNATURE_INVALID');
    await expectCode(appraise({ ...ev, report: flip(ev.report, ev.report.length - 5) }), VerificationError, 'ERR_NV_SIGNATURE_INVALID');
  });

  it('ERR_NV_SIGNATURE_INVALID: an all-zero r || s, r = s = 0xff…, and a signature from the BROM key instead of the leaf', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const at = ev.report.length - 96;
    for (const fill of [0x00, 0xff]) {
      const report = ev.report.slice();
      report.fill(fill, at);
      const checks = new CheckList();
      await expectCode(appraise({ ...ev, report }, { checks }), VerificationError, 'ERR_NV_SIGNATURE_INVALID');
      expect(checks.checks.find((c) => c.status === 'failed')?.id).toBe('gpu0.signature');
    }
    const other = await generateKey('P-384');
    const forged = await mintGpuEvidence(sim, { nonce, minted: ev.device, report: { signer: other } });
    await expectCode(appraise(forged), VerificationError, 'ERR_NV_SIGNATURE_INVALID');
  });

  it('device chain PEM with an unterminated block (ERR_X509_PEM_INVALID at parse); chain validity at `now` (time)', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const checks = new CheckList();
    await expectCode(appraise({ ...ev, certChain: `${ev.certChain}-----BEGIN CERTIFICATE-----\nMIIB\n` }, { checks }), ParseError, 'ERR_X509_PEM_INVALID');
    expect(checks.checks.find((c) => c.status === 'failed')?.id).toBe('gpu0.parse');
    // Simulated device certificates are valid 2024-01-01 .. 2049-01-01.
    await expectCode(appraise(ev, { now: new Date('2049-01-01T00:00:01Z') }), VerificationError, 'ERR_X509_EXPIRED');
    await expectCode(appraise(ev, { now: new Date('2023-12-31T23:59:59Z') }), VerificationError, 'ERR_X509_NOT_YET_VALID');
  });

  it('ERR_NV_CHAIN_LENGTH: four or six certificates', async () => {
    for (const n of [4, 6]) {
      const ev = await mintGpuEvidence(sim, { nonce, device: { chainLength: n } });
      await expectCode(appraise(ev), VerificationError, 'ERR_NV_CHAIN_LENGTH');
    }
  });

  it('ERR_NV_FWID_MISMATCH: report FWID differs from the leaf (Hopper and Blackwell)', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, device: { fwid: new Uint8Array(48).fill(2) } });
    await expectCode(appraise(ev), VerificationError, 'ERR_NV_FWID_MISMATCH');
    const bw = await mintGpuEvidence(sim, { nonce, device: { chip: 'GB100', fwid: new Uint8Array(48).fill(3) }, gpu: { chip: 'GB100' } });
    await expectCode(appraise(bw), VerificationError, 'ERR_NV_FWID_MISMATCH');
  });

  it('ERR_NV_FWID_MISSING: a report FWID with a leaf that has none', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, device: { fwid: null } });
    await expectCode(appraise(ev), VerificationError, 'ERR_NV_FWID_MISSING');
    const old = await mintGpuEvidence(sim, { nonce, device: { fwid: null }, gpu: { fwid: null } });
    const checks = new CheckList();
    await appraiseGpu(old, { ...options(), checks });
    expect(checks.checks.find((c) => c.id === 'gpu0.fwid')?.status).toBe('skipped');
  });

  it('ERR_NV_ARCH_UNKNOWN: a leaf that is not an NVIDIA attestation key', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, device: { leafSubject: 'Some Other Key' } });
    await expectCode(appraise(ev), VerificationError, 'ERR_NV_ARCH_UNKNOWN');
  });

  it('ERR_NV_ARCH_MISMATCH: GB100 certificate with a GH100 GPU_INFO', async () => {
    const ev = await mintGpuEvidence(sim, { nonce, device: { chip: 'GB100' }, gpu: { chip: 'GH100' } });
    await expectCode(appraise(ev), VerificationError, 'ERR_NV_ARCH_MISMATCH');
  });
});

describe('keys WebCrypto refuses (issue 10 finding 11): typed, never ERR_INTERNAL', () => {
  /** The SubjectPublicKeyInfo with the last bit of y flipped: a point that is not on the curve. */
  const offCurve = (spki: Uint8Array): Uint8Array => flip(spki, spki.length - 1);

  it('ERR_X509_KEY_INVALID: a device leaf certifying a point not on P-384 fails the report signature step', async () => {
    const key = await generateKey('P-384');
    const ev = await mintGpuEvidence(sim, { nonce, device: { leafPublicKey: offCurve(key.spki) } });
    const checks = new CheckList();
    await expectCode(appraise(ev, { checks }), VerificationError, 'ERR_X509_KEY_INVALID');
    expect(checks.checks.find((c) => c.status === 'failed')).toMatchObject({ id: 'gpu0.signature', code: 'ERR_X509_KEY_INVALID' });
    const doc = await verifyGpu(ev, { expectedNonce: nonce, now, anchors: sim.anchors, ocsp: 'skip', requireRim: false });
    expect(doc.errors.map((e) => e.code)).toEqual(['ERR_X509_KEY_INVALID']);
  });

  it('ERR_X509_KEY_INVALID: a RIM signer certifying a point not on P-384 fails the RIM signature step', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const cert = await mintCertificate({ subject: 'SIMULATED HCC RIM L4 Signer', issuer: sim.rimCa.name, publicKey: offCurve(sim.rimSigner.key.spki), signer: sim.rimCa.key, serial: 78 });
    const chain = [{ key: sim.rimSigner.key, der: cert, name: 'SIMULATED HCC RIM L4 Signer' }, sim.rimCa, sim.rimRoot];
    const rim = await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(ev.blocks, DRIVER_IDX), chain });
    await expectCode(verifyRim(await parseRim(rim), { anchors: sim.anchors.nvidiaRim, now }), VerificationError, 'ERR_X509_KEY_INVALID');
    const checks = new CheckList();
    await expectCode(appraise(ev, { checks, rims: [rim] }), VerificationError, 'ERR_X509_KEY_INVALID');
    expect(checks.checks.find((c) => c.status === 'failed')).toMatchObject({ id: 'gpu0.rim.driver.signature', code: 'ERR_X509_KEY_INVALID' });
  });
});

describe('RIM errors', () => {
  it('ERR_NV_RIM_MALFORMED: not XML, DTD, two signatures, hash count', async () => {
    await expectCode(parseRim('<a>'), ParseError, 'ERR_NV_RIM_MALFORMED');
    await expectCode(parseRim('<!DOCTYPE x [<!ENTITY a "b">]><x/>'), ParseError, 'ERR_NV_RIM_MALFORMED');
    const xml = await mintRim(sim, { version: '1.0', measurements: rimMeasurementsFrom([], [0], 2) });
    const sig = xml.slice(xml.indexOf('<ds:Signature'), xml.indexOf('</SoftwareIdentity>'));
    await expectCode(parseRim(xml.replace('</SoftwareIdentity>', `${sig}</SoftwareIdentity>`)), ParseError, 'ERR_NV_RIM_MALFORMED');
    await expectCode(parseRim(xml.replace('alternatives="1"', 'alternatives="2"')), ParseError, 'ERR_NV_RIM_MALFORMED');
    await expectCode(parseRim(xml.replace('ns2:Hash0=', 'ns2:Hash0="00" ns2:Hash1=')), ParseError, 'ERR_NV_RIM_MALFORMED');
  });

  it('ERR_NV_RIM_DIGEST_MISMATCH: a signed value changed', async () => {
    const xml = await mintRim(sim, { version: '1.0', measurements: rimMeasurementsFrom([new Uint8Array(48).fill(9)], [0], 1) });
    await verifyRim(await parseRim(xml), { anchors: sim.anchors.nvidiaRim, now });
    const t = xml.replace('0909', '0908');
    await expectCode(verifyRim(await parseRim(t), { anchors: sim.anchors.nvidiaRim, now }), VerificationError, 'ERR_NV_RIM_DIGEST_MISMATCH');
  });

  it('ERR_NV_RIM_SIGNATURE_INVALID', async () => {
    const xml = await mintRim(sim, { version: '1.0', measurements: rimMeasurementsFrom([], [0], 1), tamperSignature: (s) => void (s[5]! ^= 1) });
    await expectCode(verifyRim(await parseRim(xml), { anchors: sim.anchors.nvidiaRim, now }), VerificationError, 'ERR_NV_RIM_SIGNATURE_INVALID');
  });

  it('ERR_NV_RIM_CHAIN_INVALID: KeyInfo carries only the signer; an expired signer fails its chain', async () => {
    const xml = await mintRim(sim, { version: '1.0', measurements: rimMeasurementsFrom([], [0], 1), chain: [sim.rimSigner] });
    await expectCode(verifyRim(await parseRim(xml), { anchors: sim.anchors.nvidiaRim, now }), VerificationError, 'ERR_NV_RIM_CHAIN_INVALID');
    const ok = await parseRim(await mintRim(sim, { version: '1.0', measurements: rimMeasurementsFrom([], [0], 1) }));
    await expectCode(verifyRim(ok, { anchors: sim.anchors.nvidiaRim, now: new Date('2050-01-01') }), VerificationError, 'ERR_X509_EXPIRED');
  });

  it('ERR_NV_RIM_VERSION_MISMATCH: the RIM service serves a RIM for another version', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const [driver] = await rimsFor(ev.blocks, { driverVersion: '999.1' });
    const fetcher = async (url: string): Promise<Response> => {
      const id = url.split('/').pop()!;
      const sha = toHex(await sha256(utf8(driver!)));
      return new Response(JSON.stringify({ id, rim: btoa(driver!), sha256: sha }), { status: 200 });
    };
    await expectCode(appraise(ev, { fetcher }), VerificationError, 'ERR_NV_RIM_VERSION_MISMATCH');
  });

  it('ERR_NV_RIM_MISSING: required but absent; service answer not matching its sha256', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    await expectCode(appraise(ev, { requireRim: true }), CollateralError, 'ERR_NV_RIM_MISSING');
    const fetcher = async (url: string): Promise<Response> => new Response(JSON.stringify({ id: url.split('/').pop(), rim: btoa('<x/>'), sha256: '00'.repeat(32) }), { status: 200 });
    await expectCode(appraise(ev, { requireRim: true, fetcher }), CollateralError, 'ERR_NV_RIM_MISSING');
    const notFound = async (): Promise<Response> => new Response('{"message":"RIM_NOT_FOUND"}', { status: 404 });
    await expectCode(appraise(ev, { requireRim: true, fetcher: notFound }), CollateralError, 'ERR_NV_RIM_MISSING');
    // Not required: recorded as skipped with a warning.
    const checks = new CheckList();
    await appraiseGpu(ev, { ...options(), checks, fetcher: notFound });
    expect(checks.checks.find((c) => c.id === 'gpu0.rim.driver')?.status).toBe('skipped');
    expect(checks.warnings.length).toBeGreaterThan(0);
  });

  it('ERR_NV_RIM_INDEX_CONFLICT: an index active in both RIMs', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const rims = [
      await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(ev.blocks, [...DRIVER_IDX, 0]) }),
      await mintRim(sim, { version: '96.00.9F.00.01', measurements: rimMeasurementsFrom(ev.blocks, VBIOS_IDX) }),
    ];
    await expectCode(appraise(ev, { rims }), VerificationError, 'ERR_NV_RIM_INDEX_CONFLICT');
  });

  it('ERR_NV_MEASUREMENT_MISMATCH: every mismatch with index, source, expected and actual; alternatives accepted', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    const wrong = ev.blocks.map((b, i) => (i === 2 || i === 22 ? new Uint8Array(48).fill(0xee) : b));
    const err = (await expectCode(appraise(ev, { rims: await rimsFor(wrong) }), PolicyError, 'ERR_NV_MEASUREMENT_MISMATCH')) as PolicyError;
    expect(err.actual).toEqual([
      { index: 2, source: 'vbios', expected: ['ee'.repeat(48)], actual: toHex(ev.blocks[2]!) },
      { index: 22, source: 'driver', expected: ['ee'.repeat(48)], actual: toHex(ev.blocks[22]!) },
    ]);
    // The same values as a second alternative match.
    const measurements = rimMeasurementsFrom(wrong, VBIOS_IDX).map((m) => ({ ...m, alternatives: [...m.alternatives, ev.blocks[m.index]!] }));
    const rims = [await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(ev.blocks, DRIVER_IDX) }), await mintRim(sim, { version: '96.00.9F.00.01', measurements })];
    expect((await appraise(ev, { rims })).rimMatched).toBe(true);
  });

  it('index 35 is skipped only when NVDEC0 is disabled', async () => {
    for (const nvdec0 of [0x55, 0xaa]) {
      const ev = await mintGpuEvidence(sim, { nonce, gpu: { nvdec0 } });
      const wrong = ev.blocks.map((b, i) => (i === 35 ? new Uint8Array(48).fill(0xee) : b));
      const r = compareGolden(parseReport(ev.report), { driver: await parseRim((await rimsFor(wrong))[0]!) });
      expect(r.mismatches.map((m) => m.index)).toEqual(nvdec0 === 0x55 ? [] : [35]);
      expect(r.skipped).toEqual(nvdec0 === 0x55 ? [35] : []);
    }
  });
});

describe('policy', () => {
  it('gpu section parses and reports every bad field', () => {
    expect(parsePolicy({ version: 1, gpu: { archs: ['hopper'], ocsp: 'skip', requireRim: false, count: { min: 1, max: 8 } } }).gpu).toEqual({ archs: ['hopper'], ocsp: 'skip', requireRim: false, count: { min: 1, max: 8 } });
    const errs: string[] = [];
    parseGpuPolicy({ archs: ['volta'], ocsp: 'maybe', mode: 'x', count: { min: 3, max: 1 }, bogus: 1 }, '$.gpu', errs);
    expect(errs.length).toBe(5);
    expect(() => parsePolicy({ version: 1, gpu: { ocsp: 'never' } })).toThrow(ConfigError);
  });

  it('ERR_NV_POLICY_ARCH / ERR_NV_POLICY_DRIVER / ERR_NV_POLICY_VBIOS (all rules evaluated and recorded)', async () => {
    const ev = await mintGpuEvidence(sim, { nonce });
    await expectCode(appraise(ev, { policy: { archs: ['blackwell'] } }), PolicyError, 'ERR_NV_POLICY_ARCH');
    await expectCode(appraise(ev, { policy: { driverVersions: ['570.1'] } }), PolicyError, 'ERR_NV_POLICY_DRIVER');
    const checks = new CheckList();
    await expectCode(appraiseGpu(ev, { ...options(), checks, policy: { driverVersions: ['550.90.07'], vbiosVersions: ['96.00.00.00.00'] } }), PolicyError, 'ERR_NV_POLICY_VBIOS');
    expect(checks.checks.find((c) => c.id === 'gpu0.policy.driver')?.status).toBe('passed');
    expect(checks.checks.find((c) => c.id === 'gpu0.policy.arch')?.status).toBe('skipped');
  });

  it('ERR_NV_POLICY_COUNT / ERR_NV_POLICY_MODE', () => {
    const fail = (o: ReturnType<typeof evaluateSystemPolicy>): string[] => o.filter((x) => x.error).map((x) => x.error!.code);
    expect(fail(evaluateSystemPolicy({ gpus: 9, switches: 0, ppcie: false }, { count: { max: 8 } }))).toEqual(['ERR_NV_POLICY_COUNT']);
    expect(fail(evaluateSystemPolicy({ gpus: 8, switches: 4, ppcie: true }, { mode: 'single' }))).toEqual(['ERR_NV_POLICY_MODE']);
    expect(fail(evaluateSystemPolicy({ gpus: 1, switches: 0, ppcie: false }, { mode: 'ppcie' }))).toEqual(['ERR_NV_POLICY_MODE']);
    expect(fail(evaluateSystemPolicy({ gpus: 8, switches: 4, ppcie: true }, { mode: 'ppcie', count: { min: 8, max: 8 } }))).toEqual([]);
  });
});

describe('PPCIe topology (simulated 8 GPUs + 4 switches)', () => {
  const pdi = (b: number): Uint8Array => new Uint8Array(8).fill(b);

  async function system(): Promise<{ gpus: GpuClaims[]; switches: GpuClaims[] }> {
    const switchPdis = [0xa1, 0xa2, 0xa3, 0xa4].map(pdi);
    const gpuPdis = [1, 2, 3, 4, 5, 6, 7, 8].map(pdi);
    // GPUs report switch PDIs little-endian; 18 links, two disabled.
    const links = [...switchPdis, ...switchPdis, ...switchPdis, ...switchPdis].map((p) => p.slice().reverse());
    links.push(new Uint8Array(8), new Uint8Array(8));
    const gpus: GpuClaims[] = [];
    for (let i = 0; i < 8; i++) {
      const ev = await mintGpuEvidence(sim, { nonce, device: { pdi: gpuPdis[i]! }, gpu: { featureFlag: 2, protectedPcie: 0xaa, switchPdis: links } });
      gpus.push(await appraise(ev, { id: `gpu${i}` }));
    }
    const switches: GpuClaims[] = [];
    for (let j = 0; j < 4; j++) {
      const ev = await mintGpuEvidence(sim, {
        nonce,
        device: { chip: 'LS10', pdi: switchPdis[j]! },
        blocks: Array.from({ length: 31 }, () => new Uint8Array(48)),
        opaque: switchOpaque({ devicePdi: switchPdis[j]!, gpuPdis }),
      });
      switches.push(await appraise(ev, { id: `switch${j}` }));
    }
    return { gpus, switches };
  }

  it('a consistent system passes; each rule fails on its own', async () => {
    const { gpus, switches } = await system();
    expect(checkPpcieTopology(gpus, switches).switchPdis).toEqual(['a1a1a1a1a1a1a1a1', 'a2a2a2a2a2a2a2a2', 'a3a3a3a3a3a3a3a3', 'a4a4a4a4a4a4a4a4']);
    expect(switches[0]!.pdi).toBe('a1a1a1a1a1a1a1a1');

    expectCodeSync(() => checkPpcieTopology(gpus.slice(1), switches), 'ERR_NV_TOPOLOGY_COUNT');
    expectCodeSync(() => checkPpcieTopology(gpus, switches.slice(1)), 'ERR_NV_TOPOLOGY_COUNT');
    const g2 = gpus.map((g, i) => (i === 3 ? { ...g, switchPdis: g.switchPdis!.slice(0, 3) } : g));
    expectCodeSync(() => checkPpcieTopology(g2, switches), 'ERR_NV_TOPOLOGY_MISMATCH');
    const s2 = switches.map((s, j) => (j === 1 ? { ...s, devicePdi: switches[0]!.devicePdi } : s));
    expectCodeSync(() => checkPpcieTopology(gpus, s2), 'ERR_NV_TOPOLOGY_MISMATCH');
    const s3 = switches.map((s, j) => (j === 2 ? { ...s, gpuPdis: [...s.gpuPdis!.slice(0, 7), 'ffffffffffffff00'] } : s));
    expectCodeSync(() => checkPpcieTopology(gpus, s3), 'ERR_NV_TOPOLOGY_MISMATCH');
    const g3 = gpus.map((g, i) => (i === 0 ? { ...g, pdi: '0909090909090909' } : g));
    expectCodeSync(() => checkPpcieTopology(g3, switches), 'ERR_NV_TOPOLOGY_MISMATCH');
    const g4 = gpus.map((g, i) => (i === 5 ? { ...g, featureFlag: 0 } : g));
    expectCodeSync(() => checkPpcieTopology(g4, switches), 'ERR_NV_FEATURE_FLAG_MIXED');
    expectCodeSync(() => checkFeatureFlags([gpus[0]!, { ...gpus[1]!, featureFlag: 1 }]), 'ERR_NV_FEATURE_FLAG_MIXED');
    const g5 = gpus.map((g) => ({ ...g, protectedPcie: false }));
    expectCodeSync(() => checkPpcieTopology(g5, switches), 'ERR_NV_TOPOLOGY_MISMATCH');
  }, 60_000);

  it('a GPU whose PDI cannot be derived fails the topology; the other GPUs are still checked (issue 10 finding 5)', async () => {
    const { gpus, switches } = await system();
    // A BROM certificate whose serial is not tag || 8-byte PDI: the device's own PDI is unknown.
    const ev = await mintGpuEvidence(sim, { nonce, device: { pdi: pdi(1).subarray(0, 7) }, gpu: { featureFlag: 2, protectedPcie: 0xaa, switchPdis: gpus[0]!.switchPdis!.map((p) => Uint8Array.from(p.match(/../g)!.map((h) => parseInt(h, 16))).reverse()) } });
    const unknown = await appraise(ev, { id: 'gpu0' });
    expect(unknown.pdi).toBeNull();
    expectCodeSync(() => checkPpcieTopology([unknown, ...gpus.slice(1)], switches), 'ERR_NV_TOPOLOGY_MISMATCH');
    expectCodeSync(() => checkPpcieTopology(gpus.map((g, i) => (i === 7 ? { ...g, pdi: null } : g)), switches), 'ERR_NV_TOPOLOGY_MISMATCH');
    // The one unknown PDI does not switch the list rule off for the others: a foreign GPU is still found.
    const mixed = gpus.map((g, i) => (i === 0 ? { ...g, pdi: null } : i === 1 ? { ...g, pdi: '0909090909090909' } : g));
    expectCodeSync(() => checkPpcieTopology(mixed, switches), 'ERR_NV_TOPOLOGY_MISMATCH');
  }, 60_000);

  it('ERR_NV_DEVICE_DUPLICATE: a device repeated by report, leaf serial (ueid) or PDI; distinct devices pass', async () => {
    const { gpus, switches } = await system();
    const all = [...gpus, ...switches].map((claims, i) => ({ id: `d${i}`, report: Uint8Array.of(i), claims }));
    expect(() => checkDistinctDevices(all)).not.toThrow();
    expectCodeSync(() => checkDistinctDevices([...all, { ...all[3]!, id: 'again' }]), 'ERR_NV_DEVICE_DUPLICATE');
    expectCodeSync(() => checkDistinctDevices([all[0]!, { ...all[1]!, report: all[0]!.report }]), 'ERR_NV_DEVICE_DUPLICATE');
    expectCodeSync(() => checkDistinctDevices([all[0]!, { ...all[1]!, claims: { ...all[1]!.claims, ueid: all[0]!.claims.ueid } }]), 'ERR_NV_DEVICE_DUPLICATE');
    expectCodeSync(() => checkDistinctDevices([all[0]!, { ...all[1]!, claims: { ...all[1]!.claims, pdi: all[0]!.claims.pdi } }]), 'ERR_NV_DEVICE_DUPLICATE');
    // An NVSwitch's reported DEVICE_PDI names a device too.
    expectCodeSync(() => checkDistinctDevices([all[8]!, { ...all[9]!, claims: { ...all[9]!.claims, pdi: null, devicePdi: all[8]!.claims.devicePdi } }]), 'ERR_NV_DEVICE_DUPLICATE');
  }, 60_000);
});

function expectCodeSync(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VerificationError);
  expect((err as VerificationError).code).toBe(code);
}

void concat;
