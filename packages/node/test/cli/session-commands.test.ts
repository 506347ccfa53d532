/**
 * The session commands end to end, in-process, on loopback: `gateway --evidence simulated --anchors-out`,
 * `attest`, `infer`, `proxy`, `policy init` and `demo`, with the exit statuses of docs/cli.md.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBundle } from '@ccinfer/core';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { start as run, waitFor, type Running } from './io.js';

const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-cli-session-'));
const anchors = join(tmp, 'anchors.json');
let model: ModelServer;
let gateway: Running;
let url: string;

beforeAll(async () => {
  model = await startModelServer();
  gateway = run(['gateway', '--upstream', model.url, '--evidence', 'simulated', '--gpus', '1', '--listen', '127.0.0.1:0', '--anchors-out', anchors]);
  url = await waitFor(() => /listening on (\S+)/.exec(gateway.out())?.[1]);
});
afterAll(async () => {
  gateway.stop();
  expect(await gateway.done).toBe(0);
  await model.close();
});

describe('ccinfer session commands', () => {
  it('attest: accepted with --anchors from --anchors-out (exit 0), refused under the pinned roots (exit 1)', async () => {
    const bundle = join(tmp, 'bundle.cbor');
    const ok = run(['attest', url, '--anchors', anchors, '--offline', '--allow-unpinned', '--save', bundle]);
    expect(await ok.done).toBe(0);
    expect(ok.out()).toMatch(/PASS {2}snp\.signature/);
    expect(ok.out()).toMatch(/ACCEPTED/);
    expect(decodeBundle(new Uint8Array(readFileSync(bundle))).cpu.tee).toBe('snp');
    // Without a policy pinning the measurement the client refuses (but still saves the evidence for review).
    const unpinned = join(tmp, 'unpinned.cbor');
    const strict = run(['attest', url, '--anchors', anchors, '--offline', '--save', unpinned]);
    expect(await strict.done).toBe(1);
    expect(strict.out()).toMatch(/FAIL {2}policy\.referenceValues +ERR_POLICY_UNPINNED/);
    expect(decodeBundle(new Uint8Array(readFileSync(unpinned))).cpu.tee).toBe('snp');
    const json = run(['attest', url, '--anchors', anchors, '--offline', '--allow-unpinned', '--json']);
    expect(await json.done).toBe(0);
    expect(JSON.parse(json.out()).ok).toBe(true);
    const pinned = run(['attest', url, '--offline']);
    expect(await pinned.done).toBe(1);
    expect(pinned.out()).toMatch(/REJECTED/);
  });

  it('policy init pins what the bundle shows, and attest --policy accepts it', async () => {
    const bundle = join(tmp, 'b2.cbor');
    expect(await run(['attest', url, '--anchors', anchors, '--offline', '--save', bundle]).done).toBe(1); // unpinned: refused, saved

    const policy = join(tmp, 'policy.json');
    const init = run(['policy', 'init', '--from', bundle, '--out', policy]);
    expect(await init.done).toBe(0);
    const p = JSON.parse(readFileSync(policy, 'utf8'));
    expect(p.snp.measurements).toEqual(['11'.repeat(48)]);
    // …and the GPU it saw: count, architecture, driver and VBIOS versions.
    expect(p.gpu).toMatchObject({ count: { min: 1, max: 1 }, archs: ['hopper'], mode: 'single' });
    expect(p.gpu.driverVersions).toHaveLength(1);
    expect(p.gpu.vbiosVersions).toHaveLength(1);
    // The review names every pinned key with the reason it is there (none left as a bare value).
    for (const [section, body] of Object.entries(p)) {
      if (typeof body === 'object') for (const key of Object.keys(body as object)) expect(init.out()).toContain(`  ${section}.${key} = `);
    }
    expect(init.out()).not.toMatch(/pinned as shown/);
    const r = run(['attest', url, '--anchors', anchors, '--offline', '--policy', policy]);
    expect(await r.done).toBe(0);
    expect(r.out()).toMatch(/PASS {2}snp\.policy\.measurement/);
    const bad = run(['policy', 'init', '--from', policy]);
    expect(await bad.done).toBe(2);
  });

  it('infer streams the reply to stdout; refuses (exit 1) without the anchors', async () => {
    const r = run(['infer', url, '--model', 'ccinfer-demo-1', '--anchors', anchors, '--offline', '--allow-unpinned', 'hi there']);
    expect(await r.done).toBe(0);
    expect(r.out()).toBe(demoReply('hi there') + '\n');
    const refused = run(['infer', url, '--model', 'm', '--offline', 'secret']);
    expect(await refused.done).toBe(1);
    expect(refused.err()).toMatch(/ERR_SESSION_REJECTED/);
  });

  it('proxy: a plain OpenAI-style HTTP client talks to the attested pod through it', async () => {
    const proxy = run(['proxy', '--endpoint', url, '--listen', '127.0.0.1:0', '--anchors', anchors, '--offline', '--allow-unpinned']);
    const base = await waitFor(() => /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(proxy.out())?.[1]);
    try {
      const res = await fetch(`${base}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'via proxy' }] }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(demoReply('via proxy'));
      const models = await fetch(`${base}/models`);
      expect(((await models.json()) as { data: { id: string }[] }).data[0]!.id).toBe('ccinfer-demo-1');
    } finally {
      proxy.stop();
      expect(await proxy.done).toBe(0);
    }
  });

  it('usage errors exit 2', async () => {
    expect(await run(['gateway', '--upstream', model.url, '--evidence', 'magic']).done).toBe(2);
    expect(await run(['gateway', '--upstream', model.url, '--evidence', 'simulated', '--tee', 'sgx']).done).toBe(2);
    expect(await run(['gateway', '--upstream', model.url, '--evidence', 'configfs', '--tee', 'tdx']).done).toBe(2);
    expect(await run(['infer', url, 'prompt']).done).toBe(2);
    expect(await run(['attest', 'not a url']).done).toBe(2);
    expect(await run(['proxy', '--endpoint', url, '--listen', 'nope']).done).toBe(2);
  });

  it('demo: the honest pod (SNP + 1 GPU, strict GPU defaults) is verified and used, the tampered pod refused (exit 0)', async () => {
    const d = run(['demo', '--token-delay', '0']);
    expect(await d.done).toBe(0);
    expect(d.out()).toMatch(/model: Hello from inside the confidential pod/);
    for (const id of ['gpu0.ocsp', 'gpu0.rim.driver.signature', 'gpu0.rim.vbios.ocsp', 'gpu0.measurements', 'gpu0.policy.driver']) expect(d.out()).toContain(`PASS  ${id}`);
    expect(d.out()).not.toMatch(/SKIP {2}gpu/);
    expect(d.out()).toMatch(/FAIL {2}binding\.reportData +ERR_BINDING_MISMATCH/);
    expect(d.out()).toMatch(/the tampered pod received 0 bytes/);
  });

  it('demo --tee tdx: the same chat on a simulated TDX pod whose MRTD, RTMRs and MRCONFIGID the policy pins (exit 0)', async () => {
    const d = run(['demo', '--tee', 'tdx', '--token-delay', '0']);
    expect(await d.done).toBe(0);
    expect(d.out()).toMatch(/SIMULATED TDX evidence \+ 1 GPU/);
    for (const id of ['tdx.quote.signature', 'tdx.tcb', 'tdx.policy.mrTd', 'tdx.policy.rtmr0', 'tdx.policy.mrConfigId', 'initdata.digest', 'gpu0.measurements']) expect(d.out()).toContain(`PASS  ${id}`);
    expect(d.out()).toMatch(/model: Hello from inside the confidential pod/);
    expect(d.out()).toMatch(/FAIL {2}binding\.reportData +ERR_BINDING_MISMATCH/);
    expect(d.out()).toMatch(/the tampered pod received 0 bytes/);
    expect(await run(['demo', '--tee', 'sgx']).done).toBe(2);
  });
});
