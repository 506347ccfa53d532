/**
 * Conformance against the real NVIDIA vectors in test-vectors/nvidia (MANIFEST.md): every device set is
 * parsed and compared field by field with its expected.json, appraised at its recorded time (chain, FWID,
 * nonce, SPDM signature), RIMs verified and compared with the golden values of rim_check.json, the PPCIe
 * system's topology checked, and the negative sets rejected with the right codes.
 */

import { describe, expect, it } from 'vitest';
import { CheckList, PolicyError, VerificationError, fromHex, toHex } from '@ccinfer/core';
import { parseCertificates } from '../../src/x509/index.js';
import { appraiseGpu, verifyGpu, type GpuClaims } from '../../src/nvidia/appraise.js';
import { parseReport } from '../../src/nvidia/parse.js';
import { checkRimIdentity, compareGolden, driverRimTagId, expectedRimIdentity, parseRim, verifyRim } from '../../src/nvidia/rim.js';
import { checkPpcieTopology } from '../../src/nvidia/topology.js';
import { identifyDevice, leafFwid, verifyReportSignature } from '../../src/nvidia/verify.js';
import { PINNED_ANCHORS } from '../../src/anchors.js';
import { expectCode } from '../../../../test-support/helpers.js';
import { deviceSets, readBytes, readJson, readText, vectorsDir } from '../../../../test-support/vectors.js';

const dir = vectorsDir('nvidia');
const d = describe;
const V = dir;


const AT_NOW = new Date('2026-11-28T00:00:00Z');
const offline = { ocsp: 'skip' as const, requireRim: false };

async function appraise(set: string, extra: Partial<Parameters<typeof appraiseGpu>[1]> = {}, nonce?: Uint8Array): Promise<{ claims: GpuClaims; checks: CheckList }> {
  const e = readJson(V, set, 'expected.json');
  const checks = new CheckList();
  const claims = await appraiseGpu(
    { report: readBytes(V, set, 'report.bin'), certChain: readText(V, set, 'cert_chain.pem') },
    { expectedNonce: nonce ?? fromHex(e.request.nonce), now: AT_NOW, checks, id: 'gpu0', ...offline, ...extra },
  );
  return { claims, checks };
}

d('NVIDIA conformance: parsing every device set', () => {
  const sets = deviceSets(dir);
  it('finds the device sets', () => {
    expect(sets.length).toBeGreaterThanOrEqual(30);
  });
  it.each(sets)('%s matches expected.json', (set) => {
    const e = readJson(V, set, 'expected.json');
    const raw = readBytes(V, set, 'report.bin');
    expect(toHex(raw)).toBe(readText(V, set, 'report.hex').trim());
    const chain = parseCertificates(readText(V, set, 'cert_chain.pem'));
    const id = identifyDevice(chain[0]!);
    expect(id.arch).toBe(e.arch === 'HOPPER' ? 'hopper' : e.arch === 'BLACKWELL' ? 'blackwell' : 'ls10');
    const r = parseReport(raw, id.kind);
    expect(r.signedBytes.length).toBe(e.signed_len);
    expect(r.trailingBytes).toBe(e.trailing_bytes_after_signature);
    expect(toHex(r.signature)).toBe(e.signature_r_s_hex);
    expect(toHex(r.request.nonce)).toBe(e.request.nonce);
    expect(r.request.param1).toBe(e.request.param1);
    expect(r.request.slotId).toBe(e.request.slot);
    expect(r.response.param1).toBe(e.response_header.param1);
    expect(r.response.param2).toBe(e.response_header.param2);
    expect(r.response.numberOfBlocks).toBe(e.number_of_blocks);
    expect(r.response.measurementRecordLength).toBe(e.measurement_record_length);
    expect(toHex(r.response.nonce)).toBe(e.response_nonce);
    expect(r.response.opaqueLength).toBe(e.opaque_length);
    const o = r.response.opaque;
    expect(o.fields.map((f) => f.type)).toEqual(e.opaque_field_order);
    for (const [, f] of Object.entries<any>(e.opaque)) {
      const mine = o.fields.find((x) => x.type === f.type)!;
      expect(mine.value.length).toBe(f.len);
      if (f.hex) expect(toHex(mine.value)).toBe(f.hex);
    }
    if (e.opaque.MSRSCNT) expect(o.measurementCounts).toEqual(e.opaque.MSRSCNT.counts);
    const byIndex = Object.fromEntries(r.response.blocks.map((b) => [String(b.index), toHex(b.value)]));
    expect(byIndex).toEqual(e.measurements_by_spdm_index);
    expect(o.driverVersion ?? null).toBe(e.driver_version);
    expect(o.vbiosVersion ?? null).toBe(e.vbios_version);
    expect(o.fwid ? toHex(o.fwid) : null).toBe(e.fwid_report);
    const fw = leafFwid(chain[0]!);
    expect(fw ? toHex(fw) : null).toBe(e.fwid_cert);
    expect(chain.map((c) => toHex(c.serialNumber).toUpperCase())).toEqual(e.chain.map((c: any) => c.serial_hex.replace(/^0+(?=.)/, '')));
  });
});

d('NVIDIA conformance: appraisal of every device set', () => {
  const positives = (deviceSets(dir)).filter((s) => {
    const c = readJson(V, s, 'expected.json').checks;
    return c.chain_to_nvidia_device_identity_ca && c.spdm_signature_ecdsa_p384_sha384 && c.fwid_match && c.request_nonce_equals_expected !== false;
  });
  it.each(positives)('%s: chain, FWID, nonce and signature verify; claims as expected', async (set) => {
    const e = readJson(V, set, 'expected.json');
    const { claims, checks } = await appraise(set);
    const by = Object.fromEntries(checks.checks.map((c) => [c.id, c.status]));
    expect(by['gpu0.chain']).toBe('passed');
    expect(by['gpu0.signature']).toBe('passed');
    expect(by['gpu0.nonce']).toBe('passed');
    expect(by['gpu0.fwid']).toBe(e.checks.fwid_present_in_report ? 'passed' : 'skipped');
    expect(by['gpu0.ocsp']).toBe('skipped');
    expect(claims.nonce).toBe(e.request.nonce);
    expect(claims.driverVersion).toBe(e.driver_version);
    expect(claims.vbiosVersion).toBe(e.vbios_version);
    expect(claims.driverRimId).toBe(e.driver_rim_id);
    expect(claims.vbiosRimId).toBe(e.vbios_rim_id);
    expect(claims.fwid).toBe(e.fwid_report ?? e.fwid_cert);
    expect(claims.ueid).toBe(e.chain[0].serial_decimal);
    expect(claims.hwmodel).toBe(/CN=([^,]+)/.exec(e.chain[1].subject)![1]);
    expect(claims.measurementCount).toBe(e.number_of_blocks);
    expect(claims.rimMatched).toBe(false);
    expect(claims.certExpiration).toBe('9999-12-31T23:59:59.000Z');
  });

  it('the nonce files agree with the SPDM request nonce', () => {
    for (const set of ['h100-pcie-545.00-nvtrust2023-rims', 'h100-pcie-550.90.07-nvtrust2025-nrasv4', 'h200-595.71.05-tinfoil-nras-tdxbind', 'b200-gb100-575.32-asdk', 'nvswitch-ls10-96.10.55.00.01-rim', 'rtxpro6000-gb202-595.58.03-trustee']) {
      expect(readText(V, set, 'nonce.txt').trim()).toBe(readJson(V, set, 'expected.json').request.nonce);
    }
  });

  it('Blackwell GB100: DICE TcbInfo FWID, CC driver RIM id falls back to GB100', async () => {
    const { claims } = await appraise('b200-gb100-575.32-asdk');
    expect(claims.arch).toBe('blackwell');
    expect(claims.chip).toBe('GB100');
    expect(claims.driverRimId).toBe('NV_GPU_CC_DRIVER_GB100_575.32');
  });

  it('RTX PRO 6000 Blackwell (GB202), real: 8-byte GPU_INFO with a non-zero upper half verifies end to end', async () => {
    const set = 'rtxpro6000-gb202-595.58.03-trustee';
    const r = parseReport(readBytes(V, set, 'report.bin'), 'gpu');
    // Finding 7 of the outside review: GPU_INFO reads 0x00000002_000001b0; the architecture is the lower word.
    expect(r.response.opaque.gpuInfo).toBe(0x1b0);
    expect(r.response.opaque.gpuInfoHigh).toBe(2);
    const { claims, checks } = await appraise(set);
    const by = Object.fromEntries(checks.checks.map((c) => [c.id, c.status]));
    expect([by['gpu0.arch'], by['gpu0.chain'], by['gpu0.fwid'], by['gpu0.nonce'], by['gpu0.signature']]).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
    expect(claims.arch).toBe('blackwell');
    expect(claims.chip).toBe('GB20X');
    expect(claims.driverRimId).toBe('NV_GPU_CC_DRIVER_GB202_595.58.03');
    expect(claims.vbiosRimId).toBe('NV_GPU_VBIOS_G153_0210_895_9802740001');
  });

  it('trailing zero byte after the signature: signed range found structurally', async () => {
    const { checks, claims } = await appraise('negative/trailing-byte-after-signature-hopper');
    expect(checks.checks.find((c) => c.id === 'gpu0.signature')?.status).toBe('passed');
    expect(claims.driverVersion).toBe('580.95.05');
  });

  it('bad SPDM signature (Hopper): FWID mismatch first, and the signature does not verify', async () => {
    await expectCode(appraise('negative/bad-spdm-signature-hopper'), VerificationError, 'ERR_NV_FWID_MISMATCH');
    const set = 'negative/bad-spdm-signature-hopper';
    const chain = parseCertificates(readText(V, set, 'cert_chain.pem'));
    await expectCode(verifyReportSignature(parseReport(readBytes(V, set, 'report.bin'), 'gpu'), chain[0]!), VerificationError, 'ERR_NV_SIGNATURE_INVALID');
  });

  it('bad SPDM signature (NVSwitch) is rejected', async () => {
    await expectCode(appraise('negative/bad-spdm-signature-switch'), VerificationError, 'ERR_NV_SIGNATURE_INVALID');
  });

  it('chutes: SPDM nonce is not the NRAS request nonce', async () => {
    const nonce = fromHex(readJson(V, 'negative/nras-signed-failure-nonce-not-matching-chutes', 'nras_request.json').nonce);
    await expectCode(appraise('negative/nras-signed-failure-nonce-not-matching-chutes/gpus/gpu0', {}, nonce), VerificationError, 'ERR_NV_NONCE_MISMATCH');
  });

  it('a wrong expected nonce is rejected on a valid report', async () => {
    await expectCode(appraise('h200-595.71.05-tinfoil-nras-tdxbind', {}, new Uint8Array(32)), VerificationError, 'ERR_NV_NONCE_MISMATCH');
  });

  it('verifyGpu produces a document with ok and the step list', async () => {
    const set = 'h200-595.71.05-tinfoil-nras-tdxbind';
    const doc = await verifyGpu(
      { report: readBytes(V, set, 'report.bin'), certChain: readText(V, set, 'cert_chain.pem') },
      { expectedNonce: fromHex(readText(V, set, 'nonce.txt').trim()), now: AT_NOW, ...offline, rims: [readBytes(V, set, 'rims/NV_GPU_DRIVER_GH100_595.71.05.xml')] },
    );
    expect(doc.ok).toBe(true);
    expect(doc.tee).toBe('gpu');
    expect(doc.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining(['gpu0.parse', 'gpu0.arch', 'gpu0.chain', 'gpu0.fwid', 'gpu0.ocsp', 'gpu0.nonce', 'gpu0.signature', 'gpu0.rim.driver', 'gpu0.rim.driver.signature', 'gpu0.measurements']),
    );
    expect(doc.claims['rimMatched']).toBe(false); // no VBIOS RIM published for G520_0280_895
  });
});

d('NVIDIA conformance: RIMs', () => {
  const anchors = PINNED_ANCHORS.nvidiaRim;
  const h100 = 'h100-pcie-545.00-nvtrust2023-rims';
  const at2023 = new Date('2023-08-01T00:00:00Z');

  it('H100 545.00: driver + VBIOS RIM verify at 2023-08-01, all golden indices match, rimMatched', async () => {
    const rims = ['Driver_RIM_test_no_gpu.swidtag', '1010_0200_882_96005E0001_test_no_gpu.swidtag'].map((f) => readBytes(V, h100, 'rims', f));
    const { claims, checks } = await appraise(h100, { now: at2023, rims, requireRim: true });
    expect(claims.rimMatched).toBe(true);
    expect(claims.oemid).toBe('5703');
    const m = checks.checks.find((c) => c.id === 'gpu0.measurements')!;
    expect(m.status).toBe('passed');
    const check = readJson(V, h100, 'rim_check.json').comparison_positive;
    const r = compareGolden(parseReport(readBytes(V, h100, 'report.bin'), 'gpu'), {
      driver: await parseRim(rims[0]!),
      vbios: await parseRim(rims[1]!),
    });
    expect(r.skipped).toEqual(check.skipped_rim_indices);
    expect([...r.matched, ...r.skipped].sort((a, b) => a - b)).toEqual(check.golden_active_rim_indices);
  });

  it('H100 545.00 RIMs are expired now (signer certificates 2023–2025)', async () => {
    const rim = await parseRim(readBytes(V, h100, 'rims/Driver_RIM_test_no_gpu.swidtag'));
    await expectCode(verifyRim(rim, { anchors, now: AT_NOW }), VerificationError, 'ERR_X509_EXPIRED');
  });

  it('H100 545.00 with the PROD VBIOS RIM: mismatch at RIM index 1, 2, 3, 9 with runtime and golden values', async () => {
    const rims = ['Driver_RIM_test_no_gpu.swidtag', 'negative_1010_0200_882_96005E0001_PROD.swidtag'].map((f) => readBytes(V, h100, 'rims', f));
    const err = await expectCode(appraise(h100, { now: at2023, rims }), PolicyError, 'ERR_NV_MEASUREMENT_MISMATCH');
    const want = readJson(V, h100, 'rim_check.json').comparison_negative_prod_vbios_rim.mismatches;
    expect((err as PolicyError).actual).toEqual(
      want.map((m: any) => ({ index: m.rim_index, source: m.source, actual: m.runtime, expected: m.golden_alternatives })),
    );
  });

  it('H200 595.71.05 driver RIM: verifies now, driver indices match, rimMatched stays false without a VBIOS RIM', async () => {
    const set = 'h200-595.71.05-tinfoil-nras-tdxbind';
    const rims = [readBytes(V, set, 'rims/NV_GPU_DRIVER_GH100_595.71.05.xml')];
    const { claims, checks } = await appraise(set, { rims });
    expect(checks.checks.find((c) => c.id === 'gpu0.rim.driver.signature')?.status).toBe('passed');
    expect(checks.checks.find((c) => c.id === 'gpu0.rim.vbios')?.status).toBe('skipped');
    expect(checks.checks.find((c) => c.id === 'gpu0.measurements')?.status).toBe('passed');
    expect(claims.rimMatched).toBe(false);
    expect(claims.measurementMismatches).toEqual([]);
    // The RIM service's JSON carries the same document.
    const svc = readJson(V, set, 'rims/rim-service-response-NV_GPU_DRIVER_GH100_595.71.05.json');
    expect((await parseRim(rims[0]!)).sha256).toBe(svc.sha256);
  });

  it('H200 with requireRim (default): the missing VBIOS RIM fails the appraisal', async () => {
    const set = 'h200-595.71.05-tinfoil-nras-tdxbind';
    const rims = [readBytes(V, set, 'rims/NV_GPU_DRIVER_GH100_595.71.05.xml')];
    await expectCode(appraise(set, { rims, requireRim: true }), (await import('@ccinfer/core')).CollateralError, 'ERR_NV_RIM_MISSING');
  });

  it('LS10 96.10.55.00.01: switch BIOS RIM verifies now; all 31 indices match', async () => {
    const set = 'nvswitch-ls10-96.10.55.00.01-rim';
    const rims = [readBytes(V, set, 'rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml')];
    const { claims } = await appraise(set, { rims, requireRim: true });
    expect(claims.kind).toBe('switch');
    expect(claims.rimMatched).toBe(true);
    expect(claims.vbiosRimId).toBe('NV_SWITCH_BIOS_5612_0002_890_9610550001');
  });

  it('PPCIe switch0 (96.10.73.00.01) against the 96.10.55.00.01 RIM: not its RIM', async () => {
    const set = 'hgx-h100-590.12-ppcie-8gpu-4switch/switches/switch0';
    const rim = await parseRim(readBytes(V, 'nvswitch-ls10-96.10.55.00.01-rim/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml'));
    const r = compareGolden(parseReport(readBytes(V, set, 'report.bin'), 'switch'), { vbios: rim });
    expect(r.mismatches.length).toBeGreaterThan(0);
    const { checkRimVersion } = await import('../../src/nvidia/rim.js');
    expect(() => checkRimVersion(rim, '96.10.73.00.01', 'vbios')).toThrow(VerificationError);
  });

  it('535.86.09 mismatch set: tampered driver RIM fails its digest; golden mismatches as rim_check.json', async () => {
    const base = 'negative/measurement-mismatch-hopper-535.86.09';
    const driver = await parseRim(readBytes(V, base, 'NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml'));
    await expectCode(verifyRim(driver, { anchors, now: new Date('2025-06-23T00:00:00Z') }), VerificationError, 'ERR_NV_RIM_DIGEST_MISMATCH');
    const vbios = await parseRim(readBytes(V, base, 'NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml'));
    await verifyRim(vbios, { anchors, now: new Date('2024-01-12T00:00:00Z') });
    const prod = await parseRim(readBytes(V, base, '1010_0200_882_96005E0001_PROD.swidtag'));
    await verifyRim(prod, { anchors, now: new Date('2023-07-23T00:00:00Z') });
    const report = parseReport(readBytes(V, base, 'device/report.bin'), 'gpu');
    const check = readJson(V, base, 'rim_check.json');
    for (const [name, vb] of [['comparison_mismatch_driver_plus_prod_vbios', prod], ['comparison_mismatch_driver_plus_mismatch_vbios', vbios]] as const) {
      const r = compareGolden(report, { driver, vbios: vb });
      expect(r.mismatches).toEqual(check[name].mismatches.map((m: any) => ({ index: m.rim_index, source: m.source, actual: m.runtime, expected: m.golden_alternatives })));
      expect(r.skipped).toEqual(check[name].skipped_rim_indices);
    }
  });

  it.each([
    ['NV_GPU_DRIVER_GH100_570.124.03_expired.xml', '2025-06-01', 'ERR_X509_EXPIRED'],
    ['NV_SWITCH_BIOS_5612_0002_890_9610550001_invalid_signature.xml', '2025-06-01', 'ERR_NV_RIM_DIGEST_MISMATCH'],
    ['NV_SWITCH_BIOS_5612_0002_890_9610550001_measurement_mismatch.xml', '2025-06-01', 'ERR_NV_RIM_DIGEST_MISMATCH'],
    ['incorrect_cert_chain_driver_rim.xml', '2025-06-01', 'ERR_X509_ISSUER_MISMATCH'],
    ['incorrect_signature_driver_rim.xml', '2025-06-01', 'ERR_NV_RIM_SIGNATURE_INVALID'],
  ])('rims-bad/%s is rejected', async (file, at, code) => {
    const rim = await parseRim(readBytes(V, 'negative/rims-bad', file));
    await expectCode(verifyRim(rim, { anchors, now: new Date(at) }), VerificationError, code);
  });

  it('signed identity: each real RIM is accepted for its device and kind only (ERR_NV_RIM_IDENTITY_MISMATCH otherwise)', async () => {
    const device = (set: string) => {
      const id = identifyDevice(parseCertificates(readText(V, set, 'cert_chain.pem'))[0]!);
      return { id, report: parseReport(readBytes(V, set, 'report.bin'), id.kind) };
    };
    const gpu = device(h100);
    const sw = device('nvswitch-ls10-96.10.55.00.01-rim');
    const b200 = device('b200-gb100-575.32-asdk');
    const want = {
      driver: expectedRimIdentity(gpu.report, gpu.id, 'driver'),
      vbios: expectedRimIdentity(gpu.report, gpu.id, 'vbios'),
      switch: expectedRimIdentity(sw.report, sw.id, 'vbios'),
      gb100vbios: expectedRimIdentity(b200.report, b200.id, 'vbios'),
    };
    const rims: [string, keyof typeof want][] = [
      [`${h100}/rims/Driver_RIM_test_no_gpu.swidtag`, 'driver'],
      ['h200-595.71.05-tinfoil-nras-tdxbind/rims/NV_GPU_DRIVER_GH100_595.71.05.xml', 'driver'],
      [`${h100}/rims/1010_0200_882_96005E0001_test_no_gpu.swidtag`, 'vbios'],
      [`${h100}/rims/negative_1010_0200_882_96005E0001_PROD.swidtag`, 'vbios'],
      ['negative/measurement-mismatch-hopper-535.86.09/1010_0200_882_96005E0001_PROD.swidtag', 'vbios'],
      ['nvswitch-ls10-96.10.55.00.01-rim/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml', 'switch'],
      // Its signer chain is not NVIDIA's production one, but its fields show a Blackwell RIM's shape.
      ['negative/rims-bad/incorrect_cert_chain_driver_rim.xml', 'gb100vbios'],
    ];
    for (const [file, own] of rims) {
      const rim = await parseRim(readBytes(V, file));
      for (const k of Object.keys(want) as (keyof typeof want)[]) {
        if (k === own) await checkRimIdentity(rim, want[k]);
        else await expectCode(checkRimIdentity(rim, want[k]), VerificationError, 'ERR_NV_RIM_IDENTITY_MISMATCH');
      }
    }
    // NVIDIA's driver tagId: SHA-384 of "<chip>_<version>".
    const drv = await parseRim(readBytes(V, h100, 'rims/Driver_RIM_test_no_gpu.swidtag'));
    expect(drv.tagId).toBe(await driverRimTagId('GH100', '545.00'));
  });

  it('pinning the wrong RIM root (incorrect_rim_root.crt) makes a genuine RIM untrusted', async () => {
    const [wrong] = parseCertificates(readText(V, 'negative/rims-bad/incorrect_rim_root.crt'));
    const { spkiSha256 } = await import('../../src/x509/index.js');
    const rim = await parseRim(readBytes(V, 'nvswitch-ls10-96.10.55.00.01-rim/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml'));
    await expectCode(verifyRim(rim, { anchors: [{ name: 'wrong', spkiSha256: await spkiSha256(wrong!) }], now: AT_NOW }), VerificationError, 'ERR_X509_UNTRUSTED_ROOT');
  });
});

d('NVIDIA conformance: multi-GPU and PPCIe', () => {
  const sys = 'hgx-h100-590.12-ppcie-8gpu-4switch';
  const nonce = (): Uint8Array => fromHex(readText(V, sys, 'nonce.txt').trim());

  async function all(base: string, n: number, kind: 'gpus' | 'switches'): Promise<GpuClaims[]> {
    const out: GpuClaims[] = [];
    for (let i = 0; i < n; i++) {
      const set = `${base}/${kind}/${kind === 'gpus' ? 'gpu' : 'switch'}${i}`;
      out.push((await appraise(set, { id: `${kind === 'gpus' ? 'gpu' : 'switch'}${i}` }, base === sys ? nonce() : undefined)).claims);
    }
    return out;
  }

  it('8 GPUs + 4 NVSwitches: every device verifies with the one nonce, topology consistent', async () => {
    const gpus = await all(sys, 8, 'gpus');
    const switches = await all(sys, 4, 'switches');
    const topo = checkPpcieTopology(gpus, switches);
    const want = readJson(V, sys, 'topology_check.json');
    expect(topo.switchPdis).toEqual(want.per_gpu_unique_switch_pdis[0]);
    expect(topo.gpuPdis.length).toBe(8);
    for (const g of gpus) {
      expect(g.featureFlag).toBe(2);
      expect(g.protectedPcie).toBe(true);
    }
  });

  it('NEAR AI 8×H200: every GPU verifies with the client nonce; 4 switch PDIs seen by all', async () => {
    const base = 'hgx-h200-570.172.08-nearcloud-8gpu-nras';
    const n = fromHex(readText(V, base, 'nonce.txt').trim());
    const gpus: GpuClaims[] = [];
    for (let i = 0; i < 8; i++) gpus.push((await appraise(`${base}/gpus/gpu${i}`, { id: `gpu${i}` }, n)).claims);
    const sets = new Set(gpus.map((g) => [...new Set(g.switchPdis)].sort().join(',')));
    expect(sets.size).toBe(1);
    expect([...sets][0]!.split(',').length).toBe(4);
  });
});
