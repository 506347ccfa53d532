/** `ccinfer keybroker`: serves the KBS protocol from a resource directory and a policy file; usage errors exit 2. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromUtf8 } from '@ccinfer/core';
import { simulatedPodMaterial } from '@ccinfer/verifier/testing';
import { SimulatedCdh } from './cdh-client.js';
import { LAB } from './fixture.js';
import { start as run, waitFor } from '../cli/io.js';

describe('ccinfer keybroker', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-cli-kbs-'));
  const resources = join(tmp, 'resources');
  mkdirSync(join(resources, 'default', 'key'), { recursive: true });
  writeFileSync(join(resources, 'default', 'key', 'model'), 'the-model-key');
  const policy = join(tmp, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, resources: { 'default/key/*': { policy: LAB } } }));
  const attPolicy = join(tmp, 'attestation-policy.json');
  writeFileSync(attPolicy, JSON.stringify(LAB));
  const audit = join(tmp, 'audit.jsonl');

  it('releases a resource from the directory to an appraised pod and audits it', async () => {
    const m = await simulatedPodMaterial();
    const anchors = join(tmp, 'anchors.json');
    writeFileSync(anchors, JSON.stringify(m.anchors));
    const crl = join(tmp, 'ark.crl');
    writeFileSync(crl, await m.amd.mintCrl());
    const kbs = run(['keybroker', '--resources', resources, '--policy', policy, '--attestation-policy', attPolicy, '--anchors', anchors, '--snp-crl', crl, '--audit', audit, '--listen', '127.0.0.1:0']);
    const url = await waitFor(() => /on (http:\/\/\S+)\/kbs\/v0/.exec(kbs.out())?.[1]);
    const cdh = new SimulatedCdh(url);
    await cdh.auth();
    expect((await cdh.attest()).status).toBe(200);
    const r = await cdh.getResource('default/key/model');
    expect(fromUtf8(r.plaintext!)).toBe('the-model-key');
    kbs.stop();
    expect(await kbs.done).toBe(0);
    const events = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events).toEqual(['attest', 'release']);
  });

  it('usage errors exit 2', async () => {
    expect(await run(['keybroker', '--policy', policy]).done).toBe(2);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, resources: { nope: {} } }));
    expect(await run(['keybroker', '--resources', resources, '--policy', bad]).done).toBe(2);
    writeFileSync(bad, '{');
    expect(await run(['keybroker', '--resources', resources, '--policy', bad]).done).toBe(2);
    expect(await run(['keybroker', '--resources', resources, '--policy', policy, '--listen', '0.0.0.0:0']).done).toBe(2);
    expect(await run(['keybroker', '--resources', resources, '--policy', policy, '--session-ttl', '0']).done).toBe(2);
    // --collateral-file must be a `ccinfer collateral fetch` file.
    expect(await run(['keybroker', '--resources', resources, '--policy', policy, '--offline', '--collateral-file', policy]).done).toBe(2);
  });
});
