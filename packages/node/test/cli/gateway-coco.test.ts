/** `ccinfer gateway --evidence coco` and `ccinfer demo --pod coco` through the CLI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from '@ccinfer/core';
import { parsePolicy, policyFromBundle } from '@ccinfer/verifier';
import { createCocoProvider } from '../../src/gateway/index.js';
import { createSecureClient } from '../../src/client.js';
import { startStandInAgent, type StandInAgent } from '../../src/demo/coco-agent.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { cli, start, waitFor } from './io.js';

let model: ModelServer;
let agent: StandInAgent;

beforeAll(async () => {
  model = await startModelServer();
  agent = await startStandInAgent({ api: 'v0.21', tee: 'snp', gpus: 1 });
});
afterAll(async () => {
  await agent.close();
  await model.close();
});

describe('ccinfer gateway --evidence coco', () => {
  it('serves bundles from the agent that a client verifies (GPUs from the agent)', async () => {
    const g = start(['gateway', '--upstream', model.url, '--evidence', 'coco', '--aa-url', agent.url, '--gpu', 'aa', '--no-attach-collateral', '--listen', '127.0.0.1:0']);
    try {
      const url = await waitFor(() => /listening on (\S+)/.exec(g.out())?.[1]);
      expect(g.err()).toContain('Attestation Agent API v0.21 (snp)');
      // The simulator's CRL is not attached here (no vendor access in the test): revocation may be unavailable.
      const ref = await policyFromBundle(await (await createCocoProvider({ url: agent.url, gpu: 'aa' })).collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(8) }));
      const policy = parsePolicy({ version: 1, snp: { ...ref.snp, revocation: 'allow-unavailable' }, gpu: { requireRim: false, ocsp: 'skip' } });
      const client = createSecureClient({ endpoint: url, anchors: agent.material.anchors, policy, fetcher: undefined });
      const out = (await client.infer({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'via coco' }] })) as { choices: { message: { content: string } }[] };
      expect(out.choices[0]!.message.content).toBe(demoReply('via coco'));
      const doc = client.exportEvidence()!.document;
      expect(doc.checks.find((c) => c.id === 'snp.revocation')?.status).not.toBe('passed');
      expect(doc.checks.find((c) => c.id === 'gpu0.signature')?.status).toBe('passed');
    } finally {
      g.stop();
      expect(await g.done).toBe(0);
    }
  });

  it('usage errors exit 2', async () => {
    for (const argv of [
      ['--evidence', 'coco', '--gpu', 'magic'],
      ['--evidence', 'coco', '--aa-url', 'not a url'],
      ['--evidence', 'coco', '--tee', 'snp'],
      ['--evidence', 'coco', '--nvattest', '/bin/true'],
      ['--evidence', 'simulated', '--gpu', 'aa'],
    ]) {
      expect((await cli(['gateway', '--upstream', model.url, '--aa-url', agent.url, ...argv])).code).toBe(2);
    }
  });
});

describe('ccinfer demo --pod coco', () => {
  it('v0.21: evidence and GPU evidence from the stand-in agent, verified under strict GPU defaults (exit 0)', async () => {
    const r = await cli(['demo', '--pod', 'coco', '--token-delay', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stand-in CoCo Attestation Agent REST API v0\.21/);
    expect(r.out).toMatch(/REPORT_DATA = ccinfer\/1 binding/);
    for (const id of ['snp.signature', 'binding.reportData', 'initdata.digest', 'gpu0.measurements', 'gpu0.ocsp']) expect(r.out).toContain(`PASS  ${id}`);
    expect(r.out).toMatch(/the tampered pod received 0 bytes/);
  });

  it('v0.19 TDX: the ccinfer/1-text binding (exit 0); GPUs with v0.19 is a usage error', async () => {
    const r = await cli(['demo', '--pod', 'coco', '--aa-api', 'v0.19', '--tee', 'tdx', '--gpus', '0', '--token-delay', '0']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/REPORT_DATA = ccinfer\/1-text binding/);
    expect((await cli(['demo', '--pod', 'coco', '--aa-api', 'v0.19'])).code).toBe(2);
    expect((await cli(['demo', '--aa-api', 'v0.19'])).code).toBe(2);
  });
});
