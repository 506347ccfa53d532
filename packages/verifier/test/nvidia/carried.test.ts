/**
 * Collateral a pod carries for its devices (docs/wire-protocol.md "Evidence bundle" `collateral.nvidia`): the simulator's
 * `mintNvidiaCollateral` RIMs and pre-fetched OCSP responses satisfy the strict defaults (requireRim,
 * ocsp "require") without network, and what such responses can and cannot vouch for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, CollateralError, PolicyError, VerificationError, randomBytes, toBase64, utf8 } from '@ccinfer/core';
import { appraiseGpu, type GpuAppraisalOptions } from '../../src/nvidia/appraise.js';
import { NvidiaMemo } from '../../src/nvidia/memo.js';
import { parseCertificate } from '../../src/x509/index.js';
import {
  GPU_DRIVER_RIM_INDICES,
  GPU_VBIOS_RIM_INDICES,
  createSimulatedNvidia,
  defaultBlocks,
  mintGpuEvidence,
  mintNvidiaCollateral,
  mintOcspResponse,
  mintRim,
  rimMeasurementsFrom,
  switchOpaque,
  type MintedGpuEvidence,
  type RimSpec,
  type SimulatedNvidia,
} from '../../src/testing/nvidia.js';
import { mintCertificate, generateKey } from '../../src/testing/x509.js';
import { expectCode } from '../helpers.js';

let sim: SimulatedNvidia;
let ev: MintedGpuEvidence;
const nonce = randomBytes(32);
const now = new Date('2026-11-28T12:00:00Z');

beforeAll(async () => {
  sim = await createSimulatedNvidia();
  ev = await mintGpuEvidence(sim, { nonce });
});

/** The strict defaults: no `ocsp` / `requireRim` overrides, no fetcher. */
function strict(extra: Partial<GpuAppraisalOptions> = {}): GpuAppraisalOptions {
  return { expectedNonce: nonce, now, checks: new CheckList(), id: 'gpu0', anchors: sim.anchors, ...extra };
}

describe('mintNvidiaCollateral', () => {
  it('names the RIMs as the verifier does and covers every certificate OCSP is asked about', async () => {
    const sw = await mintGpuEvidence(sim, { nonce, device: { chip: 'LS10' }, opaque: switchOpaque({ devicePdi: randomBytes(8), gpuPdis: [randomBytes(8)] }) });
    const c = await mintNvidiaCollateral(sim, [ev, ev, sw], { now });
    expect([...c.rims.keys()].sort()).toEqual(['NV_GPU_DRIVER_GH100_550.90.07', 'NV_GPU_VBIOS_1010_0200_882_96009F0001', 'NV_SWITCH_BIOS_5612_0002_890_9610550001'].sort());
    // GPU: BROM, Provisioner ICA, Identity; switch: its BROM (the CAs are shared); RIM signer and RIM CA.
    expect(c.ocsp).toHaveLength(3 + 1 + 2);
  });

  it('a GPU with its carried RIMs and OCSP responses passes the strict defaults offline', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const checks = new CheckList();
    const claims = await appraiseGpu(ev, strict({ checks, rims: [...rims.values()], ocspResponses: ocsp }));
    expect(claims.rimMatched).toBe(true);
    expect(Object.values(claims.ocsp as Record<string, string>)).toEqual(['good', 'good', 'good']);
    const byId = new Map(checks.checks.map((c) => [c.id, c.status]));
    for (const id of ['gpu0.ocsp', 'gpu0.rim.driver', 'gpu0.rim.driver.signature', 'gpu0.rim.driver.ocsp', 'gpu0.rim.vbios.ocsp', 'gpu0.measurements']) expect(byId.get(id)).toBe('passed');
    expect(checks.checks.filter((c) => c.status === 'skipped').map((c) => c.id)).toEqual(['gpu0.policy.arch', 'gpu0.policy.driver', 'gpu0.policy.vbios']);
  });

  it('without RIMs the strict default refuses (ERR_NV_RIM_MISSING); without OCSP responses too (ERR_NV_OCSP_UNAVAILABLE)', async () => {
    const noRims = await mintNvidiaCollateral(sim, [ev], { now, rims: false });
    expect(noRims.rims.size).toBe(0);
    await expectCode(appraiseGpu(ev, strict({ ocspResponses: noRims.ocsp })), CollateralError, 'ERR_NV_RIM_MISSING');
    const noOcsp = await mintNvidiaCollateral(sim, [ev], { now, ocsp: false });
    await expectCode(appraiseGpu(ev, strict({ rims: [...noOcsp.rims.values()] })), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
  });
});

describe('pre-fetched OCSP responses (no nonce)', () => {
  it('are refused outside their validity window (ERR_NV_OCSP_STALE): their freshness is nextUpdate', async () => {
    const old = await mintNvidiaCollateral(sim, [ev], { now: new Date(now.getTime() - 2 * 86_400_000) });
    await expectCode(appraiseGpu(ev, strict({ rims: [...old.rims.values()], ocspResponses: old.ocsp })), VerificationError, 'ERR_NV_OCSP_STALE');
  });

  it('a carried "revoked" answer is not outvoted by a "good" one carried alongside it', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const revoked = await mintOcspResponse(sim, {
      cert: ev.device.certs[1]!,
      issuer: ev.device.certs[2]!,
      thisUpdate: new Date(now.getTime() - 60_000),
      nextUpdate: new Date(now.getTime() + 86_400_000),
      status: 'revoked',
      reason: 'keyCompromise',
    });
    await expectCode(appraiseGpu(ev, strict({ rims: [...rims.values()], ocspResponses: [...ocsp, revoked] })), VerificationError, 'ERR_NV_OCSP_REVOKED');
  });

  it('are matched by the whole CertID: a response about another issuer’s certificate with the same serial is not used', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const brom = parseCertificate(ev.device.certs[1]!);
    // Same serial number as the BROM certificate, issued by another CA the simulator holds the key of.
    const twin = await mintCertificate({ subject: 'SIMULATED twin', issuer: sim.rimCa.name, publicKey: await generateKey('P-384'), signer: sim.rimCa.key, serial: brom.serialNumber });
    const decoy = await mintOcspResponse(sim, { cert: twin, issuer: sim.rimCa.der, thisUpdate: new Date(now.getTime() - 60_000), status: 'unknown' });
    const claims = await appraiseGpu(ev, strict({ rims: [...rims.values()], ocspResponses: [decoy, ...ocsp] }));
    expect(Object.values(claims.ocsp as Record<string, string>)).toEqual(['good', 'good', 'good']);
    // With only the decoy, the BROM has no response and no fetcher: unavailable, not "unknown".
    const rest = ocsp.slice(1);
    await expectCode(appraiseGpu(ev, strict({ rims: [...rims.values()], ocspResponses: [decoy, ...rest] })), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
  });

  it('a memo shared by the devices of one appraisal shares failures too', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const memo = new NvidiaMemo();
    const late = new Date(now.getTime() + 3 * 86_400_000);
    for (let i = 0; i < 2; i++) {
      await expectCode(appraiseGpu(ev, strict({ now: late, memo, rims: [...rims.values()], ocspResponses: ocsp })), VerificationError, 'ERR_NV_OCSP_STALE');
    }
    expect(memo.ocspChecks.size).toBeGreaterThan(0);
  });
});

describe('carried RIMs', () => {
  it('a genuine RIM whose golden values are not this GPU’s is refused (ERR_NV_MEASUREMENT_MISMATCH)', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const other = await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(defaultBlocks(64, 9), GPU_DRIVER_RIM_INDICES) });
    rims.set('NV_GPU_DRIVER_GH100_550.90.07', utf8(other));
    await expectCode(appraiseGpu(ev, strict({ rims: [...rims.values()], ocspResponses: ocsp })), PolicyError, 'ERR_NV_MEASUREMENT_MISMATCH');
  });
});

describe('RIM signed identity (ERR_NV_RIM_IDENTITY_MISMATCH)', () => {
  const DRIVER_ID = 'NV_GPU_DRIVER_GH100_550.90.07';
  const VBIOS_ID = 'NV_GPU_VBIOS_1010_0200_882_96009F0001';

  /** The pod's collateral with the RIM under `rimId` replaced by one validly signed by the simulated RIM signer. */
  async function withRim(rimId: string, spec: Omit<RimSpec, 'measurements'>, active = rimId === DRIVER_ID ? GPU_DRIVER_RIM_INDICES : GPU_VBIOS_RIM_INDICES) {
    const c = await mintNvidiaCollateral(sim, [ev], { now });
    c.rims.set(rimId, utf8(await mintRim(sim, { ...spec, measurements: rimMeasurementsFrom(ev.blocks, active) })));
    return c;
  }

  it.each<[string, string, Omit<RimSpec, 'measurements'>, (readonly number[])?]>([
    ['for another chip (covering fewer indices)', DRIVER_ID, { version: '550.90.07', product: 'GB100' }, [7]],
    ['whose name and product disagree', DRIVER_ID, { version: '550.90.07', name: 'GB100' }],
    ['of another edition', DRIVER_ID, { version: '550.90.07', edition: 'SWITCH' }],
    ['that is a VBIOS RIM (no driver tagId)', DRIVER_ID, { version: '550.90.07', kind: 'vbios' }],
    ['that is a driver RIM (driver tagId) in the VBIOS place', VBIOS_ID, { version: '96.00.9F.00.01', kind: 'driver' }],
    ['for another chip in the VBIOS place', VBIOS_ID, { version: '96.00.9F.00.01', product: 'LS10' }],
  ])('a validly signed RIM with the right version %s is refused after its signature passed', async (_, rimId, spec, active) => {
    const { rims, ocsp } = await withRim(rimId, spec, active);
    const checks = new CheckList();
    await expectCode(appraiseGpu(ev, strict({ checks, rims: [...rims.values()], ocspResponses: ocsp })), VerificationError, 'ERR_NV_RIM_IDENTITY_MISMATCH');
    const what = rimId === DRIVER_ID ? 'driver' : 'vbios';
    const status = new Map(checks.checks.map((c) => [c.id, c.status]));
    expect(status.get(`gpu0.rim.${what}.version`)).toBe('passed');
    expect(status.get(`gpu0.rim.${what}.signature`)).toBe('passed');
    expect(status.get(`gpu0.rim.${what}.identity`)).toBe('failed');
    expect(status.has('gpu0.measurements')).toBe(false);
  });

  it('the RIM of this device is chosen among carried RIMs of one version (a wrong one listed first is passed over)', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const decoy = utf8(await mintRim(sim, { version: '550.90.07', product: 'GB100', measurements: rimMeasurementsFrom(ev.blocks, [7]) }));
    const checks = new CheckList();
    const claims = await appraiseGpu(ev, strict({ checks, rims: [decoy, ...rims.values()], ocspResponses: ocsp }));
    expect(claims.rimMatched).toBe(true);
    expect(checks.checks.find((c) => c.id === 'gpu0.rim.driver.identity')?.status).toBe('passed');
  });

  it('a RIM from the RIM service is held to the same identity (its JSON id is not signed)', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const wrong = await mintRim(sim, { version: '550.90.07', product: 'GB100', measurements: rimMeasurementsFrom(ev.blocks, GPU_DRIVER_RIM_INDICES) });
    const right = new TextDecoder().decode(rims.get(DRIVER_ID)!);
    const service = (xml: string) => async (url: string): Promise<Response> =>
      url.endsWith(`/v1/rim/${DRIVER_ID}`) ? new Response(JSON.stringify({ id: DRIVER_ID, rim: toBase64(utf8(xml)) })) : new Response('{}', { status: 404 });
    const carried = [rims.get(VBIOS_ID)!];
    await expectCode(
      appraiseGpu(ev, strict({ fetcher: service(wrong), rims: carried, ocspResponses: ocsp })),
      VerificationError,
      'ERR_NV_RIM_IDENTITY_MISMATCH',
    );
    expect((await appraiseGpu(ev, strict({ fetcher: service(right), rims: carried, ocspResponses: ocsp }))).rimMatched).toBe(true);
  });

  it('NVSwitch: its RIM must be edition SWITCH for LS10; a GPU-edition RIM of the same version is refused', async () => {
    const sw = await mintGpuEvidence(sim, { nonce, device: { chip: 'LS10' }, opaque: switchOpaque({ devicePdi: randomBytes(8), gpuPdis: [randomBytes(8)] }) });
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [sw], { now });
    const opts = (r: Uint8Array[]) => strict({ id: 'switch0', rims: r, ocspResponses: ocsp });
    expect((await appraiseGpu(sw, opts([...rims.values()]))).rimMatched).toBe(true);
    const all = sw.blocks.map((_, i) => i);
    const gpuEdition = utf8(await mintRim(sim, { version: '96.10.55.00.01', product: 'LS10', edition: 'GPU', measurements: rimMeasurementsFrom(sw.blocks, all, sw.blocks.length) }));
    await expectCode(appraiseGpu(sw, { ...opts([gpuEdition]), id: 'switch0' }), VerificationError, 'ERR_NV_RIM_IDENTITY_MISMATCH');
  });
});
