/** Bundle appraisal (docs/checks.md "Bundle appraisal"): the whole checklist on simulated pods, and each kind of tampering refused. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, encodeBundle, generateGatewayKey, randomBytes, sha384, toHex, utf8, type EvidenceBundle } from '@ccinfer/core';
import { appraise, initdataDigest, parsePolicy, policyFromBundle, PINNED_ANCHORS, type TrustAnchors } from '../../src/index.js';
import { mintBundle, mintGpuEvidence, simulatedPodMaterial, type MintedGpuEvidence, type SimulatedNvidia } from '../../src/testing.js';
import { expectCode, flip } from '../../../../test-support/helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');
// For pods that carry no NVIDIA collateral: the relaxation is named in the policy (the default requires both).
const lab = parsePolicy({ version: 1, gpu: { requireRim: false, ocsp: 'skip' } });
let keyConfig: Uint8Array;
let anchors: TrustAnchors;

beforeAll(async () => {
  keyConfig = (await generateGatewayKey(1)).encoded;
  anchors = (await simulatedPodMaterial()).anchors;
});

async function pod(gpus = 1, switches = 0, extra: Partial<Parameters<typeof mintBundle>[0]> = {}) {
  const nonce = randomBytes(32);
  const { bundle } = await mintBundle({ nonce, keyConfig, gpus, switches, now: NOW, ...extra });
  return { nonce, bundle };
}

function failed(doc: { ok: boolean; checks: { id: string; status: string; code?: string }[] }, id: string, code: string): void {
  expect(doc.ok).toBe(false);
  const f = doc.checks.find((c) => c.status === 'failed');
  expect(f?.id).toBe(id);
  expect(f?.code).toBe(code);
  // Nothing after a failed step is reported as passed.
  const at = doc.checks.indexOf(f as never);
  expect(doc.checks.slice(at + 1).filter((c) => c.status === 'passed' && !c.id.includes('.policy.'))).toEqual([]);
}

describe('appraise: accepted pods', () => {
  it('SNP + 1 GPU under the strict defaults: every step in order, key config released, EAR affirming/warning per component', async () => {
    const { nonce, bundle } = await pod(1);
    const ids: string[] = [];
    const r = await appraise(encodeBundle(bundle), { nonce, anchors, now: NOW, onCheck: (c) => ids.push(c.id) });
    expect(r.document.errors).toEqual([]);
    expect(r.document.ok).toBe(true);
    expect(r.keyConfig).toEqual(keyConfig);
    const order = ['bundle.decode', 'nonce.echo', 'snp.parse', 'snp.chain', 'snp.signature', 'binding.reportData', 'initdata.digest', 'gpu0.parse', 'gpu0.ocsp', 'gpu0.rim.driver.signature', 'gpu0.rim.vbios.ocsp', 'gpu0.measurements', 'gpu.policy.count'];
    const pos = order.map((id) => ids.indexOf(id));
    expect(pos.every((p) => p >= 0)).toBe(true);
    expect([...pos].sort((a, b) => a - b)).toEqual(pos);
    expect(Object.keys(r.ear.submods)).toEqual(['cpu0', 'gpu0']);
    expect(r.ear.submods['cpu0']!['ear.status']).toBe('warning'); // no measurement allowlist
    expect(r.document.warnings[0]).toMatch(/SIMULATED/);
    // The carried RIMs and OCSP responses leave no GPU check skipped but the unset allowlists.
    expect(r.document.checks.filter((c) => c.id.startsWith('gpu0.') && c.status === 'skipped').map((c) => c.id)).toEqual(['gpu0.policy.arch', 'gpu0.policy.driver', 'gpu0.policy.vbios']);
    expect((r.document.claims['gpus'] as { rimMatched: boolean }[])[0]!.rimMatched).toBe(true);
  });

  it('PPCIe: 8 GPUs + 4 NVSwitches under the strict defaults, topology checked', async () => {
    const { nonce, bundle } = await pod(8, 4);
    const r = await appraise(bundle, { nonce, anchors, policy: parsePolicy({ version: 1, gpu: { mode: 'ppcie', count: { min: 8, max: 8 } } }), now: NOW });
    expect(r.document.errors).toEqual([]);
    expect(r.document.checks.find((c) => c.id === 'topology.ppcie')?.status).toBe('passed');
    expect(r.document.checks.filter((c) => /^(gpu|switch)\d+\.(ocsp|measurements|rim\.vbios\.ocsp)$/.test(c.id)).every((c) => c.status === 'passed')).toBe(true);
    expect(Object.keys(r.ear.submods)).toHaveLength(13);
  });

  it('TDX + 1 GPU: quote v4 bound to the session, MRCONFIGID = initdata digest, DCAP collateral from the bundle', async () => {
    const initdata = 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
    const { nonce, bundle } = await pod(1, 0, { tee: 'tdx', initdata });
    const mrConfigId = toHex(await initdataDigest(initdata, { tee: 'tdx' }));
    const r = await appraise(bundle, { nonce, anchors, now: NOW, policy: parsePolicy({ version: 1, tdx: { mrConfigId: [mrConfigId] } }) });
    expect(r.document.errors).toEqual([]);
    expect(r.document.checks.find((c) => c.id === 'initdata.digest')?.status).toBe('passed');
    expect((r.document.claims['cpu'] as { mrConfigId: string }).mrConfigId).toBe(mrConfigId);
  });

  it("a bundle appraisal's signal cancels its TDX collateral fetches", async () => {
    const { nonce, bundle } = await pod(0, 0, { tee: 'tdx' });
    const { collateral: _dropped, ...bare } = bundle;
    const ac = new AbortController();
    const asked: string[] = [];
    const fetcher = (url: string, init?: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        asked.push(url);
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
        queueMicrotask(() => ac.abort());
      });
    const r = await appraise(bare, { nonce, anchors, now: NOW, fetcher, signal: ac.signal });
    expect(asked.some((u) => u.includes('/tdx/certification/v4/tcb'))).toBe(true);
    failed(r.document, 'tdx.collateral', 'ERR_FETCH_ABORTED');
  });

  it('a pod without NVIDIA collateral passes only a policy that names the relaxation, with the skips reported', async () => {
    const { nonce, bundle } = await pod(1, 0, { nvidiaCollateral: false });
    expect(bundle.collateral?.nvidia).toBeUndefined();
    const r = await appraise(bundle, { nonce, anchors, policy: lab, now: NOW });
    expect(r.document.ok).toBe(true);
    expect(r.document.checks.filter((c) => c.status === 'skipped').map((c) => c.id)).toEqual(expect.arrayContaining(['gpu0.ocsp', 'gpu0.rim.driver', 'gpu0.rim.vbios', 'gpu0.measurements']));
  });

  it('initdata digest checked against HOST_DATA', async () => {
    const initdata = 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
    const hostData = await initdataDigest(initdata, { tee: 'snp' });
    const { nonce, bundle } = await pod(0, 0, { initdata, report: { hostData } });
    const r = await appraise(bundle, { nonce, anchors, now: NOW });
    expect(r.document.checks.find((c) => c.id === 'initdata.digest')?.status).toBe('passed');
    const other = await pod(0, 0, { initdata: initdata + '# changed\n', report: { hostData } });
    failed((await appraise(other.bundle, { nonce: other.nonce, anchors, now: NOW })).document, 'initdata.digest', 'ERR_INITDATA_MISMATCH');
    expect(r.document.claims).toMatchObject({ initdataDigest: toHex(hostData), initdataAlgorithm: 'sha384' });
    expect(r.document.claims['initdataParts']).toEqual({ 'policy.rego': toHex(await sha384(utf8('package agent_policy'))) });
    const undeclared = await pod(0, 0, { initdata: 'version = "0.1.0"\n[data]\n', report: { hostData } });
    failed((await appraise(undeclared.bundle, { nonce: undeclared.nonce, anchors, now: NOW })).document, 'initdata.digest', 'ERR_INITDATA_MALFORMED');
  });
});

describe('appraise: refused pods', () => {
  it('pinned vendor roots refuse the simulated pod', async () => {
    const { nonce, bundle } = await pod(1);
    failed((await appraise(bundle, { nonce, anchors: PINNED_ANCHORS, now: NOW })).document, 'snp.chain', 'ERR_X509_UNTRUSTED_ROOT');
  });

  it('a bundle for another nonce (replay) is refused at nonce.echo', async () => {
    const { bundle } = await pod(1);
    failed((await appraise(bundle, { nonce: randomBytes(32), anchors, now: NOW })).document, 'nonce.echo', 'ERR_BUNDLE_NONCE_MISMATCH');
  });

  it('a swapped key config (MITM) breaks the binding', async () => {
    const { nonce, bundle } = await pod(1);
    const other = (await generateGatewayKey(2)).encoded;
    const r = await appraise({ ...bundle, keyConfig: other }, { nonce, anchors, now: NOW });
    failed(r.document, 'binding.reportData', 'ERR_BINDING_MISMATCH');
    expect(r.keyConfig).toBeUndefined();
  });

  it('a GPU report swapped for another valid one breaks the binding', async () => {
    const { nonce, bundle } = await pod(2);
    const swapped: EvidenceBundle = { ...bundle, gpus: [bundle.gpus[1]!, bundle.gpus[0]!] };
    failed((await appraise(swapped, { nonce, anchors, now: NOW })).document, 'binding.reportData', 'ERR_BINDING_MISMATCH');
  });

  it('a dropped GPU breaks the binding', async () => {
    const { nonce, bundle } = await pod(2);
    failed((await appraise({ ...bundle, gpus: [bundle.gpus[0]!] }, { nonce, anchors, now: NOW })).document, 'binding.reportData', 'ERR_BINDING_MISMATCH');
  });

  it('GPU evidence answering another nonce is refused even when bound', async () => {
    const { nonce, bundle } = await pod(1, 0, { gpuNonce: randomBytes(32) });
    const r = await appraise(bundle, { nonce, anchors, now: NOW });
    expect(r.document.ok).toBe(false);
    expect(r.document.checks.find((c) => c.status === 'failed')?.id).toMatch(/^gpu0\./);
  });

  it('a flipped CPU report byte fails the SNP signature', async () => {
    const { nonce, bundle } = await pod(0);
    const cpu = bundle.cpu as Extract<EvidenceBundle['cpu'], { tee: 'snp' }>;
    failed((await appraise({ ...bundle, cpu: { ...cpu, report: flip(cpu.report, 0x90) } }, { nonce, anchors, now: NOW })).document, 'snp.signature', 'ERR_SNP_SIGNATURE_INVALID');
  });

  it('a debug VM is refused by the default policy', async () => {
    const { nonce, bundle } = await pod(0, 0, { report: { policy: 0x30000n | (1n << 19n) } });
    const r = await appraise(bundle, { nonce, anchors, now: NOW });
    expect(r.document.errors.map((e) => e.code)).toContain('ERR_SNP_POLICY_DEBUG');
    expect(r.ear.submods['cpu0']!['ear.status']).toBe('contraindicated');
  });

  it('the default GPU policy refuses a pod that carries no RIMs (ERR_NV_RIM_MISSING) or no OCSP responses (ERR_NV_OCSP_UNAVAILABLE)', async () => {
    const noRims = await pod(1, 0, { nvidiaCollateral: { rims: false } });
    failed((await appraise(noRims.bundle, { nonce: noRims.nonce, anchors, now: NOW })).document, 'gpu0.rim.driver', 'ERR_NV_RIM_MISSING');
    const noOcsp = await pod(1, 0, { nvidiaCollateral: { ocsp: false } });
    failed((await appraise(noOcsp.bundle, { nonce: noOcsp.nonce, anchors, now: NOW })).document, 'gpu0.ocsp', 'ERR_NV_OCSP_UNAVAILABLE');
  });

  it('carried OCSP responses past their nextUpdate are refused (ERR_NV_OCSP_STALE)', async () => {
    const { nonce, bundle } = await pod(1);
    failed((await appraise(bundle, { nonce, anchors, now: new Date(NOW.getTime() + 2 * 86_400_000) })).document, 'gpu0.ocsp', 'ERR_NV_OCSP_STALE');
  });

  it('a PPCIe pod that leaves out its NVSwitch RIM is refused at switch0.rim.vbios (ERR_NV_RIM_MISSING)', async () => {
    const { nonce, bundle } = await pod(8, 4);
    const rims = new Map([...bundle.collateral!.nvidia!.rims!].filter(([id]) => !id.startsWith('NV_SWITCH_')));
    const r = await appraise({ ...bundle, collateral: { ...bundle.collateral, nvidia: { ...bundle.collateral!.nvidia, rims } } }, { nonce, anchors, now: NOW });
    failed(r.document, 'switch0.rim.vbios', 'ERR_NV_RIM_MISSING');
  });

  it('undecodable bytes fail at bundle.decode; a bad nonce option is a ConfigError', async () => {
    const r = await appraise(Uint8Array.of(0xa0), { nonce: randomBytes(32), anchors, now: NOW });
    expect(r.document.checks[0]).toMatchObject({ id: 'bundle.decode', status: 'failed' });
    await expectCode(appraise(Uint8Array.of(0xa0), { nonce: new Uint8Array(16), now: NOW }), ConfigError, 'ERR_OPTIONS_INVALID');
  });
});

describe('appraise: device roles and PPCIe (security review findings)', () => {
  it('PPCIe GPUs presented without their NVSwitches are refused, whatever the policy mode', async () => {
    const { nonce, bundle } = await pod(8, 4);
    const noSwitches = await mintBundle({ nonce, keyConfig, gpus: 0 });
    // Re-bind the 8 PPCIe GPUs alone: same GPU evidence, no switches, correctly bound CPU report.
    const { bundle: rebound } = await (async () => {
      const { ccinferV1Binding } = await import('@ccinfer/core');
      const { encodeReport, signReport } = await import('../../src/testing.js');
      const m = await simulatedPodMaterial();
      const reportData = await ccinferV1Binding.compute({ nonce, keyConfig, gpuReports: bundle.gpus.map((g) => g.report), switchReports: [] });
      const leaf = await m.amd.mintLeaf({});
      const report = await signReport(encodeReport({ reportData }, 'Genoa'), leaf.key);
      return { bundle: { ...noSwitches.bundle, gpus: bundle.gpus, switches: [], cpu: { tee: 'snp' as const, report, leaf: leaf.der, chain: [m.amd.askDer, m.amd.arkDer] } } };
    })();
    for (const mode of [undefined, 'single', 'any'] as const) {
      const policy = parsePolicy({ version: 1, gpu: { requireRim: false, ocsp: 'skip', ...(mode ? { mode } : {}) } });
      failed((await appraise(rebound, { nonce, anchors, policy, now: NOW })).document, 'topology.ppcie', 'ERR_NV_TOPOLOGY_COUNT');
    }
  });

  it('an NVSwitch listed as a GPU is refused', async () => {
    const nonce = randomBytes(32);
    const { bundle: sys } = await mintBundle({ nonce, keyConfig, gpus: 8, switches: 4 });
    const { ccinferV1Binding } = await import('@ccinfer/core');
    const { encodeReport, signReport } = await import('../../src/testing.js');
    const m = await simulatedPodMaterial();
    const gpus = [sys.switches[0]!];
    const reportData = await ccinferV1Binding.compute({ nonce, keyConfig, gpuReports: gpus.map((g) => g.report), switchReports: [] });
    const leaf = await m.amd.mintLeaf({});
    const report = await signReport(encodeReport({ reportData }, 'Genoa'), leaf.key);
    const bundle: EvidenceBundle = { ...sys, gpus, switches: [], cpu: { tee: 'snp', report, leaf: leaf.der, chain: [m.amd.askDer, m.amd.arkDer] } };
    const policy = parsePolicy({ version: 1, gpu: { requireRim: false, ocsp: 'skip', count: { min: 1 } } });
    failed((await appraise(bundle, { nonce, anchors, policy, now: NOW })).document, 'gpu0.role', 'ERR_NV_TOPOLOGY_MISMATCH');
  });

  it('an audit without a nonce never releases the key config', async () => {
    const { bundle } = await pod(1);
    const r = await appraise(bundle, { audit: true, anchors, policy: lab, now: NOW });
    expect(r.document.ok).toBe(true);
    expect(r.keyConfig).toBeUndefined();
  });
});

describe('appraise: every GPU and NVSwitch is a distinct device (issue 10 finding 1)', () => {
  const twoOrMore = parsePolicy({ version: 1, gpu: { count: { min: 2 } } });

  it('the same GPU report listed twice is refused before any count, in the default mode', async () => {
    const { nonce, bundle } = await pod(1, 0, { editDevices: (d) => ({ gpus: [d.gpus[0]!, d.gpus[0]!], switches: [] }) });
    expect(bundle.gpus).toHaveLength(2);
    const doc = (await appraise(bundle, { nonce, anchors, policy: twoOrMore, now: NOW })).document;
    failed(doc, 'devices.distinct', 'ERR_NV_DEVICE_DUPLICATE');
    expect(doc.checks.some((c) => c.id.startsWith('gpu.policy.'))).toBe(false);
  });

  /** A pod whose GPUs are the evidence `make` mints (correctly bound, with their collateral). */
  async function podOf(make: (nvidia: SimulatedNvidia, nonce: Uint8Array) => Promise<MintedGpuEvidence[]>) {
    const m = await simulatedPodMaterial();
    const nonce = randomBytes(32);
    const editDevices = async () => ({ gpus: (await make(m.nvidia, nonce)).map((x) => ({ report: x.report, certChain: new TextEncoder().encode(x.certChain) })), switches: [] });
    return { nonce, bundle: (await mintBundle({ nonce, keyConfig, gpus: 1, now: NOW, editDevices })).bundle };
  }

  it('two fresh reports from one GPU (same chain, new signatures) are refused', async () => {
    const { nonce, bundle } = await podOf(async (nvidia, n) => {
      const first = await mintGpuEvidence(nvidia, { nonce: n });
      return [first, await mintGpuEvidence(nvidia, { nonce: n, minted: first.device, report: { responderNonce: new Uint8Array(32).fill(0x22) } })];
    });
    expect(toHex(bundle.gpus[0]!.report)).not.toBe(toHex(bundle.gpus[1]!.report));
    failed((await appraise(bundle, { nonce, anchors, policy: twoOrMore, now: NOW })).document, 'devices.distinct', 'ERR_NV_DEVICE_DUPLICATE');
  });

  it('two GPUs with one device identity (same PDI, new leaf) are refused', async () => {
    const pdi = randomBytes(8);
    const { nonce, bundle } = await podOf((nvidia, n) => Promise.all([mintGpuEvidence(nvidia, { nonce: n, device: { pdi } }), mintGpuEvidence(nvidia, { nonce: n, device: { pdi } })]));
    failed((await appraise(bundle, { nonce, anchors, policy: twoOrMore, now: NOW })).document, 'devices.distinct', 'ERR_NV_DEVICE_DUPLICATE');
  });

  it('PPCIe: a GPU repeated in place of another, or a repeated NVSwitch, is refused with the same code', async () => {
    const policy = parsePolicy({ version: 1, gpu: { mode: 'ppcie', count: { min: 8, max: 8 } } });
    const gpuTwice = await pod(8, 4, { editDevices: (d) => ({ gpus: [...d.gpus.slice(0, 7), d.gpus[0]!], switches: d.switches }) });
    failed((await appraise(gpuTwice.bundle, { nonce: gpuTwice.nonce, anchors, policy, now: NOW })).document, 'devices.distinct', 'ERR_NV_DEVICE_DUPLICATE');
    const switchTwice = await pod(8, 4, { editDevices: (d) => ({ gpus: d.gpus, switches: [...d.switches.slice(0, 3), d.switches[0]!] }) });
    failed((await appraise(switchTwice.bundle, { nonce: switchTwice.nonce, anchors, policy, now: NOW })).document, 'devices.distinct', 'ERR_NV_DEVICE_DUPLICATE');
  });

  it('distinct GPUs pass the check', async () => {
    const { nonce, bundle } = await pod(2);
    const doc = (await appraise(bundle, { nonce, anchors, policy: twoOrMore, now: NOW })).document;
    expect(doc.errors).toEqual([]);
    expect(doc.checks.find((c) => c.id === 'devices.distinct')?.status).toBe('passed');
  });
});

describe('appraise: reference values a client must pin (requireReferenceValues)', () => {
  // In Kata every pod of one guest image has the same launch measurement: a client needs the initdata digest
  // (HOST_DATA / MRCONFIGID) pinned as well, or it accepts any pod of that image ("evidence factory").
  for (const tee of ['snp', 'tdx'] as const) {
    it(`${tee}: ERR_POLICY_UNPINNED unless both the measurement and the initdata digest are pinned`, async () => {
      const initdata = 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
      const { nonce, bundle } = await pod(0, 0, tee === 'snp' ? { initdata, report: { hostData: await initdataDigest(initdata, { tee }) } } : { tee, initdata });
      const full = policyFromBundle(bundle);
      const cpu = (full as unknown as Record<string, unknown>)[tee] as Record<string, unknown>;
      const [measurement, register] = tee === 'snp' ? ['measurements', 'hostData'] : ['mrTd', 'mrConfigId'];
      expect(cpu[register]).toEqual([toHex(await initdataDigest(initdata, { tee }))]); // policy init pins both
      const without = (key: string) => parsePolicy({ ...full, [tee]: Object.fromEntries(Object.entries(cpu).filter(([k]) => k !== key)) });
      for (const [policy, field] of [[without(measurement), `${tee}.${measurement}`], [without(register), `${tee}.${register}`], [parsePolicy({ version: 1 }), `${tee}.${measurement}`]] as const) {
        const r = await appraise(bundle, { nonce, anchors, now: NOW, policy, requireReferenceValues: true });
        failed(r.document, 'policy.referenceValues', 'ERR_POLICY_UNPINNED');
        expect(r.keyConfig).toBeUndefined();
        expect(r.document.checks.find((c) => c.id === 'policy.referenceValues')?.detail ?? r.document.errors[0]?.message).toContain(field);
      }
      const ok = await appraise(bundle, { nonce, anchors, now: NOW, policy: full, requireReferenceValues: true });
      expect(ok.document.errors).toEqual([]);
      expect(ok.document.checks.find((c) => c.id === 'policy.referenceValues')?.status).toBe('passed');
      expect(ok.keyConfig).toEqual(keyConfig);
    });
  }

  it('policy init pins a zero HOST_DATA (a VM without initdata) explicitly', async () => {
    const { nonce, bundle } = await pod(0, 0);
    const policy = policyFromBundle(bundle);
    expect(policy.snp?.hostData).toEqual(['00'.repeat(32)]);
    expect((await appraise(bundle, { nonce, anchors, now: NOW, policy, requireReferenceValues: true })).document.errors).toEqual([]);
  });
});
