/** policyFromBundle pins the GPUs a bundle shows; requireGpu refuses a GPU-less pod unless the policy allows it. */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateGatewayKey, randomBytes } from '@ccinfer/core';
import { appraise, parsePolicy, policyFromBundle, type TrustAnchors } from '../../src/index.js';
import { mintBundle, simulatedPodMaterial } from '../../src/testing.js';

const NOW = new Date('2026-06-01T00:00:00Z');
let keyConfig: Uint8Array;
let anchors: TrustAnchors;

beforeAll(async () => {
  keyConfig = (await generateGatewayKey(1)).encoded;
  anchors = (await simulatedPodMaterial()).anchors;
});

async function pod(gpus: number) {
  const nonce = randomBytes(32);
  return { nonce, ...(await mintBundle({ nonce, keyConfig, gpus, now: NOW })) };
}

describe('policyFromBundle: GPU pins', () => {
  it('pins the GPU count, architecture, driver and VBIOS versions it saw, and the pod passes them', async () => {
    const { nonce, bundle } = await pod(2);
    const p = policyFromBundle(bundle);
    expect(p.gpu?.count).toEqual({ min: 2, max: 2 });
    expect(p.gpu?.archs).toEqual(['hopper']);
    expect(p.gpu?.driverVersions).toHaveLength(1);
    expect(p.gpu?.vbiosVersions).toHaveLength(1);
    expect(p.gpu?.mode).toBe('single');
    const r = await appraise(bundle, { nonce, anchors, now: NOW, policy: p, requireReferenceValues: true, requireGpu: true });
    expect(r.document.errors).toEqual([]);
    for (const id of ['gpu0.policy.arch', 'gpu0.policy.driver', 'gpu1.policy.vbios', 'gpu.policy.count', 'gpu.policy.required']) {
      expect(r.document.checks.find((c) => c.id === id)?.status).toBe('passed');
    }
  });

  it('a CPU-only bundle gets gpu.count { min: 0, max: 0 }: the explicit allowance, and one GPU more is refused', async () => {
    const cpu = await pod(0);
    const p = policyFromBundle(cpu.bundle);
    expect(p.gpu).toEqual({ count: { min: 0, max: 0 } });
    const ok = await appraise(cpu.bundle, { nonce: cpu.nonce, anchors, now: NOW, policy: p, requireGpu: true });
    expect(ok.document.ok).toBe(true);
    const gpu = await pod(1);
    const refused = await appraise(gpu.bundle, { nonce: gpu.nonce, anchors, now: NOW, policy: p });
    expect(refused.document.errors.map((e) => e.code)).toEqual(['ERR_NV_POLICY_COUNT']);
  });
});

describe('requireGpu', () => {
  it('refuses a pod with no attested GPU (ERR_NV_POLICY_NO_GPU) when the policy says nothing about GPUs', async () => {
    const { nonce, bundle } = await pod(0);
    const r = await appraise(bundle, { nonce, anchors, now: NOW, policy: parsePolicy({ version: 1 }), requireGpu: true });
    expect(r.document.ok).toBe(false);
    expect(r.keyConfig).toBeUndefined();
    expect(r.document.checks.find((c) => c.status === 'failed')).toMatchObject({ id: 'gpu.policy.required', code: 'ERR_NV_POLICY_NO_GPU' });
    // Without requireGpu (the verify commands) the same bundle is reported, not refused.
    const audit = await appraise(bundle, { nonce, anchors, now: NOW, policy: parsePolicy({ version: 1 }) });
    expect(audit.document.ok).toBe(true);
    expect(audit.document.checks.some((c) => c.id === 'gpu.policy.required')).toBe(false);
  });

  it('accepts a pod with an attested GPU under the same policy', async () => {
    const { nonce, bundle } = await pod(1);
    const r = await appraise(bundle, { nonce, anchors, now: NOW, policy: parsePolicy({ version: 1 }), requireGpu: true });
    expect(r.document.errors).toEqual([]);
    expect(r.document.checks.find((c) => c.id === 'gpu.policy.required')).toMatchObject({ status: 'passed' });
  });
});
