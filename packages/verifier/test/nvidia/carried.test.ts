/**
 * Collateral a pod carries for its devices (DESIGN.md §4.1 `collateral.nvidia`): the simulator's
 * `mintNvidiaCollateral` RIMs and pre-fetched OCSP responses satisfy the strict defaults (requireRim,
 * ocsp "require") without network, and what such responses can and cannot vouch for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, CollateralError, PolicyError, VerificationError, randomBytes, utf8 } from '@ccinfer/core';
import { NvidiaMemo, appraiseNvidiaDevice, type NvidiaAppraisalOptions } from '../../src/nvidia/appraise.js';
import { parseCertificate } from '../../src/x509/index.js';
import {
  GPU_DRIVER_RIM_INDICES,
  createSimulatedNvidia,
  defaultBlocks,
  mintGpuEvidence,
  mintNvidiaCollateral,
  mintOcspResponse,
  mintRim,
  rimMeasurementsFrom,
  switchOpaque,
  type MintedGpuEvidence,
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
function strict(extra: Partial<NvidiaAppraisalOptions> = {}): NvidiaAppraisalOptions {
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
    const claims = await appraiseNvidiaDevice(ev, strict({ checks, rims: [...rims.values()], ocspResponses: ocsp }));
    expect(claims.rimMatched).toBe(true);
    expect(Object.values(claims.ocsp as Record<string, string>)).toEqual(['good', 'good', 'good']);
    const byId = new Map(checks.checks.map((c) => [c.id, c.status]));
    for (const id of ['gpu0.ocsp', 'gpu0.rim.driver', 'gpu0.rim.driver.signature', 'gpu0.rim.driver.ocsp', 'gpu0.rim.vbios.ocsp', 'gpu0.measurements']) expect(byId.get(id)).toBe('passed');
    expect(checks.checks.filter((c) => c.status === 'skipped').map((c) => c.id)).toEqual(['gpu0.policy.arch', 'gpu0.policy.driver', 'gpu0.policy.vbios']);
  });

  it('without RIMs the strict default refuses (ERR_NV_RIM_MISSING); without OCSP responses too (ERR_NV_OCSP_UNAVAILABLE)', async () => {
    const noRims = await mintNvidiaCollateral(sim, [ev], { now, rims: false });
    expect(noRims.rims.size).toBe(0);
    await expectCode(appraiseNvidiaDevice(ev, strict({ ocspResponses: noRims.ocsp })), CollateralError, 'ERR_NV_RIM_MISSING');
    const noOcsp = await mintNvidiaCollateral(sim, [ev], { now, ocsp: false });
    await expectCode(appraiseNvidiaDevice(ev, strict({ rims: [...noOcsp.rims.values()] })), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
  });
});

describe('pre-fetched OCSP responses (no nonce)', () => {
  it('are refused outside their validity window (ERR_NV_OCSP_STALE): their freshness is nextUpdate', async () => {
    const old = await mintNvidiaCollateral(sim, [ev], { now: new Date(now.getTime() - 2 * 86_400_000) });
    await expectCode(appraiseNvidiaDevice(ev, strict({ rims: [...old.rims.values()], ocspResponses: old.ocsp })), VerificationError, 'ERR_NV_OCSP_STALE');
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
    await expectCode(appraiseNvidiaDevice(ev, strict({ rims: [...rims.values()], ocspResponses: [...ocsp, revoked] })), VerificationError, 'ERR_NV_OCSP_REVOKED');
  });

  it('are matched by the whole CertID: a response about another issuer’s certificate with the same serial is not used', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const brom = parseCertificate(ev.device.certs[1]!);
    // Same serial number as the BROM certificate, issued by another CA the simulator holds the key of.
    const twin = await mintCertificate({ subject: 'SIMULATED twin', issuer: sim.rimCa.name, publicKey: await generateKey('P-384'), signer: sim.rimCa.key, serial: brom.serialNumber });
    const decoy = await mintOcspResponse(sim, { cert: twin, issuer: sim.rimCa.der, thisUpdate: new Date(now.getTime() - 60_000), status: 'unknown' });
    const claims = await appraiseNvidiaDevice(ev, strict({ rims: [...rims.values()], ocspResponses: [decoy, ...ocsp] }));
    expect(Object.values(claims.ocsp as Record<string, string>)).toEqual(['good', 'good', 'good']);
    // With only the decoy, the BROM has no response and no fetcher: unavailable, not "unknown".
    const rest = ocsp.slice(1);
    await expectCode(appraiseNvidiaDevice(ev, strict({ rims: [...rims.values()], ocspResponses: [decoy, ...rest] })), CollateralError, 'ERR_NV_OCSP_UNAVAILABLE');
  });

  it('a memo shared by the devices of one appraisal shares failures too', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const memo = new NvidiaMemo();
    const late = new Date(now.getTime() + 3 * 86_400_000);
    for (let i = 0; i < 2; i++) {
      await expectCode(appraiseNvidiaDevice(ev, strict({ now: late, memo, rims: [...rims.values()], ocspResponses: ocsp })), VerificationError, 'ERR_NV_OCSP_STALE');
    }
    expect(memo.ocspChecks.size).toBeGreaterThan(0);
  });
});

describe('carried RIMs', () => {
  it('a genuine RIM whose golden values are not this GPU’s is refused (ERR_NV_MEASUREMENT_MISMATCH)', async () => {
    const { rims, ocsp } = await mintNvidiaCollateral(sim, [ev], { now });
    const other = await mintRim(sim, { version: '550.90.07', measurements: rimMeasurementsFrom(defaultBlocks(64, 9), GPU_DRIVER_RIM_INDICES) });
    rims.set('NV_GPU_DRIVER_GH100_550.90.07', utf8(other));
    await expectCode(appraiseNvidiaDevice(ev, strict({ rims: [...rims.values()], ocspResponses: ocsp })), PolicyError, 'ERR_NV_MEASUREMENT_MISMATCH');
  });
});
