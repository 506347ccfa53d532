/**
 * The Node client with the real bundle appraiser against simulated pods: accepted only with the simulator's
 * anchors, and every kind of tampered evidence refused before a single request byte reaches the pod.
 */
import { describe, expect, it } from 'vitest';
import { VerificationError, CcinferError, decodeBundle, toHex, type EvidenceBundle } from '@ccinfer/core';
import { initdataDigest, parsePolicy } from '@ccinfer/verifier';
import { mintDevices } from '@ccinfer/verifier/testing';
import { createSecureClient } from '../../src/client.js';
import { createSimulatedProvider, type SimulatedProviderOptions } from '../../src/simulator.js';
import { demoReply } from '../../src/demo/model-server.js';
import { useSimulatedPods } from './simulated-pods.js';

const pod = useSimulatedPods();

const body = { model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'hello' }] };

describe('bundle appraisal end to end', () => {
  it('accepts a simulated pod with the simulator anchors, streaming each check', async () => {
    const { provider, gateway, url } = await pod();
    try {
      const seen: string[] = [];
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, policy: await provider.referencePolicy(), fetcher: undefined, onCheck: (c) => seen.push(`${c.id}:${c.status}`) });
      const out = (await client.infer(body)) as { choices: { message: { content: string } }[] };
      expect(out.choices[0]!.message.content).toBe(demoReply('hello'));
      expect(seen).toContain('bundle.decode:passed');
      expect(seen).toContain('policy.referenceValues:passed');
      expect(seen).toContain('nonce.echo:passed');
      expect(seen).toContain('binding.reportData:passed');
      expect(client.exportEvidence()!.document.warnings.join(' ')).toMatch(/SIMULATED/);
    } finally {
      await gateway.close();
    }
  });

  it.each([
    ['1 GPU', 1, 0],
    ['PPCIe, 8 GPUs + 4 NVSwitches', 8, 4],
  ])('accepts a simulated pod with %s under the strict GPU defaults, every device appraised with the client nonce', async (_n, gpus, switches) => {
    const { provider, gateway, url } = await pod({ gpus, switches });
    try {
      const seen: string[] = [];
      // requireRim and ocsp "require" by default: satisfied by the RIMs and OCSP responses the pod carries.
      const policy = parsePolicy({ version: 1, snp: (await provider.referencePolicy()).snp, gpu: { mode: switches > 0 ? 'ppcie' : 'single', count: { min: gpus, max: gpus } } });
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, policy, fetcher: undefined, onCheck: (c) => seen.push(`${c.id}:${c.status}`) });
      const out = (await client.infer(body)) as { choices: { message: { content: string } }[] };
      expect(out.choices[0]!.message.content).toBe(demoReply('hello'));
      expect(seen.filter((s) => s.endsWith(':failed'))).toEqual([]);
      expect(seen.some((s) => s.startsWith(`gpu${gpus - 1}.`))).toBe(true);
      for (let i = 0; i < gpus; i++) {
        for (const step of ['ocsp', 'rim.driver.signature', 'rim.vbios.ocsp', 'measurements']) expect(seen).toContain(`gpu${i}.${step}:passed`);
      }
      if (switches > 0) expect(seen).toContain('topology.ppcie:passed');
      expect(client.exportEvidence()!.document.claims['gpus']).toHaveLength(gpus);
    } finally {
      await gateway.close();
    }
  });

  it('refuses a GPU pod whose GPU evidence carries another nonce (replayed device evidence)', async () => {
    const provider = await createSimulatedProvider({ gpus: 1 });
    const { gateway, url } = await pod({
      gpus: 1,
      devices: { collect: (nonce) => mintDevices(provider.material.nvidia, nonce.map((x) => x ^ 0xff), 1, 0) },
    });
    try {
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.attest()).rejects.toBeInstanceOf(VerificationError);
      expect(codes).toEqual(['ERR_NV_NONCE_MISMATCH']);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  it('refuses to send anything to a pod whose measurement and initdata digest the policy does not both pin, unless explicitly allowed', async () => {
    const { provider, gateway, url } = await pod({ gpus: 1 });
    try {
      const strict = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined });
      const codes: string[] = [];
      strict.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(strict.infer(body)).rejects.toBeInstanceOf(CcinferError);
      expect(codes).toEqual(['ERR_POLICY_UNPINNED']);
      expect(gateway.stats.ohttp).toBe(0);
      // A measurement pin alone is not enough: every Kata pod of one guest image shares it; HOST_DATA must be pinned too.
      const reference = await provider.referencePolicy();
      const measurementOnly = parsePolicy({ ...reference, snp: Object.fromEntries(Object.entries(reference.snp ?? {}).filter(([k]) => k !== 'hostData')) });
      expect(measurementOnly.snp?.measurements).toBeDefined();
      const half = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined, policy: measurementOnly });
      const halfCodes: string[] = [];
      half.on('rejected', (e) => halfCodes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(half.infer(body)).rejects.toBeInstanceOf(CcinferError);
      expect(halfCodes).toEqual(['ERR_POLICY_UNPINNED']);
      expect(gateway.stats.ohttp).toBe(0);
      const lax = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined, allowUnpinnedMeasurements: true });
      await lax.infer(body);
      expect(lax.exportEvidence()!.document.checks.find((c) => c.id === 'snp.policy.measurement')?.status).toBe('skipped');
      expect(gateway.stats.ohttp).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('refuses a pod with no attested GPU unless the policy says gpu.count.min 0 (ERR_NV_POLICY_NO_GPU)', async () => {
    const { provider, gateway, url } = await pod();
    try {
      const pinned = (await provider.referencePolicy()).snp;
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined, policy: parsePolicy({ version: 1, snp: pinned }) });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.infer(body)).rejects.toBeInstanceOf(CcinferError);
      expect(codes).toEqual(['ERR_NV_POLICY_NO_GPU']);
      expect(gateway.stats.ohttp).toBe(0);
      const cpuOnly = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined, policy: parsePolicy({ version: 1, snp: pinned, gpu: { count: { min: 0 } } }) });
      await cpuOnly.infer(body);
      expect(cpuOnly.exportEvidence()!.document.checks.find((c) => c.id === 'gpu.policy.required')?.status).toBe('passed');
      expect(gateway.stats.ohttp).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('refuses a simulated pod under the pinned vendor roots', async () => {
    const { gateway, url } = await pod();
    try {
      await expect(createSecureClient({ endpoint: url, fetcher: undefined }).infer(body)).rejects.toBeInstanceOf(VerificationError);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  const tamper: [string, SimulatedProviderOptions, string][] = [
    ['nonce not echoed', { mutate: (b: EvidenceBundle) => ({ ...b, nonce: b.nonce.map((x) => x ^ 1) }) }, 'ERR_BUNDLE_NONCE_MISMATCH'],
    ['key config swapped after binding', { mutate: (b: EvidenceBundle) => ({ ...b, keyConfig: b.keyConfig.map((x, i) => (i === 5 ? x ^ 1 : x)) }) }, 'ERR_BINDING_MISMATCH'],
    ['report signature broken', { mutate: (b: EvidenceBundle) => (b.cpu.tee === 'snp' ? { ...b, cpu: { ...b.cpu, report: b.cpu.report.map((x, i) => (i === 0x2a0 ? x ^ 1 : x)) } } : b) }, 'ERR_SNP_SIGNATURE_INVALID'],
    ['report field changed after signing', { mutate: (b: EvidenceBundle) => (b.cpu.tee === 'snp' ? { ...b, cpu: { ...b.cpu, report: b.cpu.report.map((x, i) => (i === 0x90 ? x ^ 1 : x)) } } : b) }, 'ERR_SNP_SIGNATURE_INVALID'],
    ['debug policy', { report: { policy: 0x30000n | (1n << 19n) } }, 'ERR_SNP_POLICY_DEBUG'],
  ];
  it.each(tamper)('refuses %s before any request byte', async (_name, o, code) => {
    const { provider, gateway, url } = await pod(o);
    try {
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      const err = await client.infer(body).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CcinferError);
      expect((err as CcinferError).code).toBe('ERR_SESSION_REJECTED');
      expect(client.exportEvidence()).toBeUndefined();
      expect(codes).toEqual([code]);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  it.each([
    ['a GPU report altered after binding', (b: EvidenceBundle) => ({ ...b, gpus: b.gpus.map((g, i) => (i === 0 ? { ...g, report: g.report.map((x, j) => (j === 40 ? x ^ 1 : x)) } : g)) }), 'ERR_BINDING_MISMATCH'],
    ['an NVSwitch dropped from the bundle', (b: EvidenceBundle) => ({ ...b, switches: b.switches.slice(1) }), 'ERR_BINDING_MISMATCH'],
    ['GPUs reordered', (b: EvidenceBundle) => ({ ...b, gpus: [...b.gpus].reverse() }), 'ERR_BINDING_MISMATCH'],
  ] as const)('PPCIe pod: refuses %s before any request byte', async (_n, mutate, code) => {
    const { provider, gateway, url } = await pod({ gpus: 8, switches: 4, mutate });
    try {
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.infer(body)).rejects.toBeInstanceOf(VerificationError);
      expect(codes).toEqual([code]);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  it('refuses a measurement the policy does not allow', async () => {
    const { provider, gateway, url } = await pod();
    try {
      const policy = parsePolicy({ version: 1, snp: { measurements: ['00'.repeat(48).replace(/^00/, 'ab')] } });
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined, policy });
      await expect(client.attest()).rejects.toBeInstanceOf(VerificationError);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});

describe('strict GPU defaults against what a pod carries', () => {
  it.each([
    ['no RIMs', { rims: false }, 'ERR_NV_RIM_MISSING'],
    ['no OCSP responses', { ocsp: false }, 'ERR_NV_OCSP_UNAVAILABLE'],
  ] as const)('refuses a GPU pod that carries %s, before any request byte', async (_n, nvidiaCollateral, code) => {
    const { provider, gateway, url } = await pod({ gpus: 1, nvidiaCollateral });
    try {
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, fetcher: undefined });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.infer(body)).rejects.toBeInstanceOf(CcinferError);
      expect(codes).toEqual([code]);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});

describe('TDX pods', () => {
  const initdata = 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
  const mrTd = new Uint8Array(48).fill(0xa1);
  const rtmrs = [0xb0, 0xb1, 0xb2, 0xb3].map((b) => new Uint8Array(48).fill(b));
  const tdxPolicy = async () =>
    parsePolicy({
      version: 1,
      tdx: {
        mrTd: [toHex(mrTd)],
        ...Object.fromEntries(rtmrs.map((r, i) => [`rtmr${i}`, [toHex(r)]])),
        mrConfigId: [toHex(await initdataDigest(initdata, { tee: 'tdx' }))],
      },
      gpu: { mode: 'single', count: { min: 1, max: 1 } },
    });

  it('accepts a simulated TDX pod (quote v4, REPORTDATA = binding, MRCONFIGID = initdata digest, DCAP collateral in the bundle) with 1 GPU', async () => {
    const { provider, gateway, url } = await pod({ tee: 'tdx', gpus: 1, initdata, quote: { mrTd, rtmrs } });
    try {
      const seen: string[] = [];
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, policy: await tdxPolicy(), fetcher: undefined, onCheck: (c) => seen.push(`${c.id}:${c.status}`) });
      const out = (await client.infer(body)) as { choices: { message: { content: string } }[] };
      expect(out.choices[0]!.message.content).toBe(demoReply('hello'));
      expect(seen.filter((s) => s.endsWith(':failed'))).toEqual([]);
      for (const id of ['tdx.quote.signature', 'tdx.collateral.tcbInfo', 'tdx.tcb', 'tdx.policy.mrTd', 'tdx.policy.rtmr0', 'tdx.policy.mrConfigId', 'binding.reportData', 'initdata.digest', 'gpu0.measurements', 'gpu0.ocsp']) {
        expect(seen).toContain(`${id}:passed`);
      }
      const doc = client.exportEvidence()!.document;
      expect((doc.claims['cpu'] as Record<string, unknown>)['mrTd']).toBe(toHex(mrTd));
      expect(decodeBundle(client.exportEvidence()!.bundle).cpu.tee).toBe('tdx');
    } finally {
      await gateway.close();
    }
  });

  it.each([
    // MRTD is at offset 48 (header) + 136 of the v4 body: changed after the quote was signed.
    ['a quote field changed after signing', { mutate: (b: EvidenceBundle) => (b.cpu.tee === 'tdx' ? { ...b, cpu: { ...b.cpu, quote: b.cpu.quote.map((x, i) => (i === 184 ? x ^ 1 : x)) } } : b) }, 'ERR_TDX_QUOTE_SIGNATURE'],
    ['another MRTD than the policy pins', { quote: { mrTd: new Uint8Array(48).fill(0xee), rtmrs } }, 'ERR_TDX_MRTD_MISMATCH'],
    ['a session key swapped after binding', { mutate: (b: EvidenceBundle) => ({ ...b, keyConfig: b.keyConfig.map((x, i) => (i === 5 ? x ^ 1 : x)) }) }, 'ERR_BINDING_MISMATCH'],
    ['other initdata than MRCONFIGID vouches for', { mutate: (b: EvidenceBundle) => ({ ...b, initdata: `${initdata}# changed\n` }) }, 'ERR_INITDATA_MISMATCH'],
  ] as const)('refuses a tampered TDX pod (%s) before any request byte', async (_n, o, code) => {
    const { provider, gateway, url } = await pod({ tee: 'tdx', gpus: 1, initdata, quote: { mrTd, rtmrs }, ...o });
    try {
      const client = createSecureClient({ endpoint: url, anchors: provider.anchors, policy: await tdxPolicy(), fetcher: undefined });
      const codes: string[] = [];
      client.on('rejected', (e) => codes.push(...(e.document?.errors.map((x) => x.code) ?? [])));
      await expect(client.infer(body)).rejects.toBeInstanceOf(CcinferError);
      expect(codes).toEqual([code]);
      expect(gateway.stats.ohttp).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});
