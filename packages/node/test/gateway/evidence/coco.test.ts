/**
 * `--evidence coco`: the gateway takes CPU evidence from a stand-in CoCo Attestation Agent of either API
 * generation (v0.21: binary runtime data + additional evidence; v0.19: text runtime data only, the
 * `ccinfer/1-text` binding) and GPU evidence from the agent or nvattest; a real client verifies end to end.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcinferError, ccinferV1Binding, decodeBundle, encodeBundle, randomBytes, toBase64, toHex, type EvidenceBundle } from '@ccinfer/core';
import { appraise, parsePolicy, parseTdxQuote, policyFromBundle, verifyEventLog, type Policy } from '@ccinfer/verifier';
import { readBytes, vectorsDir } from '../../../../../test-support/vectors.js';
import { createCocoProvider, createGateway, type EvidenceProvider } from '../../../src/gateway/index.js';
import { nvattestDevices } from '../../../src/gateway/evidence/gpu/nvattest.js';
import { nvmlDevices } from '../../../src/gateway/evidence/gpu/nvml.js';
import { FAKE_NVML_ENV, compileFakeNvml } from './fixtures/fake-nvml.js';
import { simulatedCollateral } from '../../../src/gateway/evidence/simulated.js';
import { startStandInAgent, type StandInAgent } from '../../../src/demo/coco-agent.js';
import { demoReply, startModelServer, type ModelServer } from '../../../src/demo/model-server.js';
import { createSecureClient } from '../../../src/client.js';
import { expectCode } from '../../../../../test-support/helpers.js';

let model: ModelServer;
const agents: StandInAgent[] = [];
let tmp: string;

beforeAll(async () => {
  model = await startModelServer();
  tmp = mkdtempSync(join(tmpdir(), 'ccinfer-coco-'));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await model.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function agent(o: Parameters<typeof startStandInAgent>[0]): Promise<StandInAgent> {
  const a = await startStandInAgent(o);
  agents.push(a);
  return a;
}

/** The provider with the simulator's vendor collateral attached, as the gateway's attacher would the vendors'. */
async function withCollateral(provider: EvidenceProvider, a: StandInAgent, tee: 'snp' | 'tdx'): Promise<EvidenceProvider> {
  const attach = await simulatedCollateral(a.material, tee);
  return { name: provider.name, collect: async (r) => attach(await provider.collect(r)) };
}

/** A policy pinning what this pod showed (as `ccinfer policy init` would), devices counted exactly. */
async function pinned(provider: EvidenceProvider, gpus: number, switches: number): Promise<Policy> {
  const ref = await policyFromBundle(await provider.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }));
  if (gpus === 0) return ref;
  return parsePolicy({ version: 1, ...(ref.snp ? { snp: ref.snp } : {}), ...(ref.tdx ? { tdx: ref.tdx } : {}), gpu: { mode: switches > 0 ? 'ppcie' : 'single', count: { min: gpus, max: gpus } } });
}

async function endToEnd(provider: EvidenceProvider, a: StandInAgent, policy: Policy): Promise<{ binding: unknown; gpus: number }> {
  const gateway = await createGateway({ upstream: model.url, evidence: provider, attachCollateral: false });
  const { url } = await gateway.listen(0, '127.0.0.1');
  try {
    const client = createSecureClient({ endpoint: url, anchors: a.material.anchors, policy, fetcher: undefined });
    const out = (await client.infer({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'hi' }] })) as { choices: { message: { content: string } }[] };
    expect(out.choices[0]!.message.content).toBe(demoReply('hi'));
    const ev = client.exportEvidence()!;
    expect(ev.document.ok).toBe(true);
    const bundle = decodeBundle(ev.bundle);
    return { binding: (ev.document.claims as Record<string, unknown>)['binding'], gpus: bundle.gpus.length + bundle.switches.length };
  } finally {
    await gateway.close();
  }
}

/** An nvattest stand-in: an executable script that answers collect-evidence with simulator evidence for the nonce. */
function nvattestScript(devicesAgentUrl: string): string {
  const file = join(tmp, `nvattest-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    file,
    `#!/usr/bin/env node
const a = process.argv.slice(2);
const at = (f) => a[a.indexOf(f) + 1];
if (a[0] !== 'collect-evidence' || at('--format') !== 'json') process.exit(2);
const nonce = Buffer.from(at('--nonce'), 'hex');
const res = await fetch('${devicesAgentUrl}/aa/additional-evidence?encoding=base64&runtime_data=' + nonce.toString('base64url'));
const text = await res.text();
const list = text ? JSON.parse(text).nvidia.device_evidence_list : [];
const want = at('--device') === 'nvswitch';
console.log(JSON.stringify(list.filter((d) => (d.arch === 'LS10') === want).map((d) => ({ arch: d.arch, nonce: at('--nonce'), evidence: d.evidence, certificate: d.certificate, version: '1.0' }))));
`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe('gateway --evidence coco, end to end', () => {
  it('v0.21 SNP agent, GPUs from the agent (--gpu aa): binary ccinfer/1 binding', async () => {
    const a = await agent({ api: 'v0.21', tee: 'snp', gpus: 1 });
    const provider = await withCollateral(await createCocoProvider({ url: a.url, gpu: 'aa' }), a, 'snp');
    const r = await endToEnd(provider, a, await pinned(provider, 1, 0));
    expect(r).toEqual({ binding: 'ccinfer/1', gpus: 1 });
    expect(a.requests.some((q) => q.startsWith('/aa/evidence?') && q.includes('encoding=base64'))).toBe(true);
    expect(a.requests.some((q) => q.startsWith('/aa/additional-evidence?'))).toBe(true);
  });

  it('v0.21 agent with GPUs and NVSwitches in serde casing (Hopper / Ls10)', async () => {
    const a = await agent({ api: 'v0.21', tee: 'snp', gpus: 8, switches: 4, serdeArchCase: true });
    const provider = await withCollateral(await createCocoProvider({ url: a.url, gpu: 'aa' }), a, 'snp');
    const b = await provider.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) });
    expect([b.gpus.length, b.switches.length]).toEqual([8, 4]);
  });

  it('v0.19 SNP agent (text runtime data only), GPUs from nvattest: the ccinfer/1-text binding', async () => {
    const a = await agent({ api: 'v0.19', tee: 'snp' });
    const devicesAgent = await agent({ api: 'v0.21', tee: 'snp', gpus: 1, material: a.material });
    const coco = await createCocoProvider({ url: a.url, gpu: nvattestDevices({ command: nvattestScript(devicesAgent.url) }) });
    expect(coco.agent.api).toBe('v0.19');
    const provider = await withCollateral(coco, a, 'snp');
    const r = await endToEnd(provider, a, await pinned(provider, 1, 0));
    expect(r).toEqual({ binding: 'ccinfer/1-text', gpus: 1 });
    const q = a.requests.find((x) => x.startsWith('/aa/evidence?'))!;
    expect(q).not.toContain('encoding');
    expect(new URLSearchParams(q.split('?')[1]).get('runtime_data')).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it('v0.19 SNP agent, GPUs from NVML (stand-in libnvidia-ml.so.1 minting evidence for the client nonce)', async () => {
    const a = await agent({ api: 'v0.19', tee: 'snp' });
    const devicesAgent = await agent({ api: 'v0.21', tee: 'snp', gpus: 1, material: a.material });
    const mint = join(tmp, 'mint-gpu');
    writeFileSync(
      mint,
      `#!/usr/bin/env node
const [nonce, dir] = process.argv.slice(2);
const res = await fetch('${devicesAgent.url}/aa/additional-evidence?encoding=base64&runtime_data=' + Buffer.from(nonce, 'hex').toString('base64url'));
const d = JSON.parse(await res.text()).nvidia.device_evidence_list[0];
const fs = await import('node:fs');
fs.writeFileSync(dir + '/report.bin', Buffer.from(d.evidence, 'base64'));
fs.writeFileSync(dir + '/cert.pem', Buffer.from(d.certificate, 'base64'));
`,
    );
    chmodSync(mint, 0o755);
    Object.assign(process.env, { FAKE_NVML_MINT: mint, FAKE_NVML_MINT_DIR: tmp, FAKE_NVML_COUNT: '1' });
    try {
      const coco = await createCocoProvider({ url: a.url, gpu: nvmlDevices({ library: compileFakeNvml(tmp) }) });
      const provider = await withCollateral(coco, a, 'snp');
      const r = await endToEnd(provider, a, await pinned(provider, 1, 0));
      expect(r).toEqual({ binding: 'ccinfer/1-text', gpus: 1 });
    } finally {
      for (const k of FAKE_NVML_ENV) delete process.env[k];
    }
  });

  it('v0.21 TDX agent: quote from the agent', async () => {
    const initdata = 'algorithm = "sha384"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n';
    const a = await agent({ api: 'v0.21', tee: 'tdx', initdata });
    const provider = await withCollateral(await createCocoProvider({ url: a.url, initdata }), a, 'tdx');
    const r = await endToEnd(provider, a, await pinned(provider, 0, 0));
    expect(r).toEqual({ binding: 'ccinfer/1', gpus: 0 });
  });

  it('v0.19 TDX agent: the text binding in REPORTDATA', async () => {
    const a = await agent({ api: 'v0.19', tee: 'tdx' });
    const provider = await withCollateral(await createCocoProvider({ url: a.url }), a, 'tdx');
    const r = await endToEnd(provider, a, await pinned(provider, 0, 0));
    expect(r.binding).toBe('ccinfer/1-text');
  });
});

describe('the client checks the binding scheme the bundle names', () => {
  it('refuses a renamed scheme (ERR_BINDING_MISMATCH) and an unknown one (ERR_BINDING_SCHEME)', async () => {
    const a = await agent({ api: 'v0.19', tee: 'snp' });
    const provider = await withCollateral(await createCocoProvider({ url: a.url }), a, 'snp');
    const nonce = randomBytes(32);
    const bundle = await provider.collect({ nonce, keyConfig: new Uint8Array(8) });
    expect(bundle.binding).toBe('ccinfer/1-text');
    const policy = await policyFromBundle(bundle);
    const run = async (b: EvidenceBundle, extra: Record<string, unknown> = {}) =>
      (await appraise(encodeBundle(b), { nonce, anchors: a.material.anchors, policy, ...extra })).document;
    expect((await run(bundle)).ok).toBe(true);
    const { binding: _b, ...unnamed } = bundle;
    expect((await run(unnamed)).errors.map((e) => e.code)).toContain('ERR_BINDING_MISMATCH');
    expect((await run({ ...bundle, binding: 'trustee-kbs/0.4.0' })).errors.map((e) => e.code)).toContain('ERR_BINDING_SCHEME');
    // An explicit scheme is not overridden by the bundle.
    expect((await run(bundle, { binding: ccinferV1Binding })).errors.map((e) => e.code)).toContain('ERR_BINDING_SCHEME');
  });
});

describe('coco provider refusals', () => {
  it('refuses SNP JSON that does not round-trip (ERR_GATEWAY_AA_EVIDENCE caused by ERR_SNP_JSON_NOT_ROUND_TRIP)', async () => {
    const a = await agent({ api: 'v0.21', mutateReport: (j) => ({ ...j, launch_mit_vector: (j['version'] as number) >= 5 ? null : 0 }) });
    const provider = await createCocoProvider({ url: a.url });
    const err = await expectCode(provider.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }), CcinferError, 'ERR_GATEWAY_AA_EVIDENCE');
    expect((err.cause as CcinferError).code).toBe('ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expect(((err.cause as CcinferError).cause as CcinferError).code).toBe('ERR_SNP_JSON_NOT_ROUND_TRIP');
  });

  it('refuses SNP JSON with an unknown field, and the gateway answers evidence-unavailable', async () => {
    const a = await agent({ api: 'v0.21', mutateReport: (j) => ({ ...j, _reserved_0: 0 }) });
    const provider = await createCocoProvider({ url: a.url });
    await expectCode(provider.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }), CcinferError, 'ERR_GATEWAY_AA_EVIDENCE');
    const gateway = await createGateway({ upstream: model.url, evidence: provider, attachCollateral: false });
    const { url } = await gateway.listen(0, '127.0.0.1');
    try {
      const client = createSecureClient({ endpoint: url, anchors: a.material.anchors, fetcher: undefined });
      await expect(client.attest()).rejects.toBeInstanceOf(CcinferError);
    } finally {
      await gateway.close();
    }
  });

  it('SNP without cert_chain: the configured leaf, else ERR_GATEWAY_NO_LEAF', async () => {
    const a = await agent({ api: 'v0.21', noCertChain: true });
    await expectCode((await createCocoProvider({ url: a.url })).collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }), CcinferError, 'ERR_GATEWAY_NO_LEAF');
    const withLeaf = await createCocoProvider({ url: a.url, snpLeaf: new Uint8Array([0x30, 0x00]) });
    const b = await withLeaf.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) });
    expect(b.cpu.tee === 'snp' && Array.from(b.cpu.leaf)).toEqual([0x30, 0x00]);
  });

  it('--gpu aa needs guest-components v0.21 (ERR_GATEWAY_AA_UNSUPPORTED)', async () => {
    const a = await agent({ api: 'v0.19' });
    await expectCode(createCocoProvider({ url: a.url, gpu: 'aa' }), CcinferError, 'ERR_GATEWAY_AA_UNSUPPORTED');
  });

  it('an agent that does not answer (ERR_GATEWAY_AA_UNREACHABLE)', async () => {
    const s = createServer((_q, res) => res.writeHead(500).end());
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    await expectCode(createCocoProvider({ url }), CcinferError, 'ERR_GATEWAY_AA_UNREACHABLE');
    await new Promise((r) => s.close(r));
    await expectCode(createCocoProvider({ url }), CcinferError, 'ERR_GATEWAY_AA_UNREACHABLE');
  });

  it('an /info or evidence answer of the wrong shape (ERR_GATEWAY_AA_EVIDENCE)', async () => {
    const answers: Record<string, string> = { '/info': '{"version":"0.21.0","tee":"snp"}', '/aa/evidence': '{"quote": 5}', '/aa/additional-evidence': '{"nvidia":{"device_evidence_list":[{"arch":"AMPERE","uuid":"x","evidence":"AA==","certificate":"AA=="}]}}' };
    const s = createServer((q, res) => res.writeHead(200).end(answers[new URL(q.url!, 'http://x').pathname] ?? ''));
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const p = await createCocoProvider({ url, gpu: 'aa' });
      await expectCode(p.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }), CcinferError, 'ERR_GATEWAY_AA_EVIDENCE');
      answers['/aa/additional-evidence'] = '';
      await expectCode(p.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }), CcinferError, 'ERR_GATEWAY_AA_EVIDENCE');
      answers['/info'] = '{"version":"latest","tee":"snp"}';
      await expectCode(createCocoProvider({ url }), CcinferError, 'ERR_GATEWAY_AA_EVIDENCE');
      answers['/info'] = '{"version":"0.21.0","tee":"sgx"}';
      await expectCode(createCocoProvider({ url }), CcinferError, 'ERR_GATEWAY_AA_UNSUPPORTED');
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});

const tdxDir = vectorsDir('tdx');
describe.skipIf(!tdxDir)('TDX evidence from the agent: quote and CC event log', () => {
  it('carries a real GCP quote and its CCEL into the bundle, where the verifier replays the log to the RTMRs', async () => {
    const set = join(tdxDir!, 's5-00806f05-2025-07');
    const quote = readBytes(set, 'quote_gcp_cos113.bin');
    const ccel = readBytes(set, 'ccel_gcp_cos113', 'ccel_data.dat');
    const answers: Record<string, string> = {
      '/info': JSON.stringify({ version: '0.21.0', tee: 'tdx', additional_tees: [], feature: 'all' }),
      '/aa/evidence': JSON.stringify({ cc_eventlog: toBase64(ccel), quote: toBase64(quote) }),
    };
    const s = createServer((q, res) => res.writeHead(200).end(answers[new URL(q.url!, 'http://x').pathname] ?? ''));
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    try {
      const p = await createCocoProvider({ url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` });
      const b = decodeBundle(encodeBundle(await p.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) })));
      expect(b.cpu.tee === 'tdx' && toHex(b.cpu.quote)).toBe(toHex(quote));
      expect(toHex(b.eventLog!)).toBe(toHex(ccel));
      const events = await verifyEventLog(b.eventLog!, parseTdxQuote(quote).body.rtmrs);
      expect(events.length).toBeGreaterThan(10);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
