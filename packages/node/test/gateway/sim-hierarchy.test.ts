/**
 * `--sim-hierarchy DIR`: simulated pods that share one saved hierarchy chain to the same simulated roots, so
 * one set of simulated anchors accepts a restarted pod and every replica (real appraisal, signatures and chains).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, encodeBundle, randomBytes } from '@ccinfer/core';
import { loadSimulatedHierarchy, saveSimulatedHierarchy, simulatedPodMaterial } from '@ccinfer/verifier/testing';
import { bundleAppraiser } from '../../src/client.js';
import { simulatedHierarchyIn, SIM_HIERARCHY_FILE } from '../../src/gateway/evidence/sim-hierarchy.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { expectCode } from '../../../../test-support/helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ccinfer-sim-hierarchy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a saved simulated hierarchy', () => {
  it('is written once (owner-only) and loaded by every later pod, also when several start at once', async () => {
    const d = join(dir, 'shared');
    const all = await Promise.all([simulatedHierarchyIn(d), simulatedHierarchyIn(d), simulatedHierarchyIn(d)]);
    expect(all.filter((a) => a.created)).toHaveLength(1);
    for (const a of all) expect(a.material.anchors).toEqual(all[0]!.material.anchors);
    expect((await stat(join(d, SIM_HIERARCHY_FILE))).mode & 0o777).toBe(0o600);
    const later = await simulatedHierarchyIn(d);
    expect(later.created).toBe(false);
    expect(later.material.anchors).toEqual(all[0]!.material.anchors);
  });

  it('signs evidence that appraises against the saved roots: SNP and TDX CPUs, GPUs (every simulated vendor key)', async () => {
    const original = await simulatedPodMaterial();
    const loaded = await loadSimulatedHierarchy(JSON.parse(JSON.stringify(await saveSimulatedHierarchy(original))));
    expect(loaded.anchors).toEqual(original.anchors);
    for (const tee of ['snp', 'tdx'] as const) {
      const pod = await createSimulatedProvider({ tee, gpus: 1, material: loaded });
      const nonce = randomBytes(32);
      const bundle = encodeBundle(await pod.collect({ nonce, keyConfig: new Uint8Array([1, 0, 0x20]) }));
      const doc = await bundleAppraiser({ anchors: original.anchors, fetcher: undefined, allowUnpinnedMeasurements: true, policy: undefined })(bundle, nonce);
      const status = new Map(doc.checks.map((c) => [c.id, c.status]));
      const signed = tee === 'snp' ? ['snp.chain', 'snp.revocation', 'snp.signature'] : ['tdx.pck.chain', 'tdx.collateral.tcbInfo', 'tdx.quote.signature'];
      for (const id of [...signed, 'binding.reportData', 'gpu0.chain', 'gpu0.signature', 'gpu0.rim.driver.signature', 'gpu0.ocsp']) expect([id, status.get(id)]).toEqual([id, 'passed']);
      expect(doc.ok).toBe(true);
    }
  });

  it('refuses a file that is not a saved hierarchy: ERR_SIMULATOR_STATE', async () => {
    const good = await saveSimulatedHierarchy(await simulatedPodMaterial());
    const other = await saveSimulatedHierarchy({ ...(await simulatedPodMaterial()) });
    const cases: unknown[] = [
      null,
      [],
      { ...good, format: 'something-else/1' },
      { ...good, amd: { ...good.amd, product: 'Milan' } },
      { ...good, amd: { ...good.amd, arkDer: 'not base64 !' } },
      { ...good, amd: { ...good.amd, arkDer: good.amd.askDer } }, // the ARK key no longer belongs to its certificate
      { ...good, intel: { ...good.intel, root: { ...good.intel.root, kind: 'Ed25519' } } },
      { ...good, intel: { ...good.intel, root: { ...good.intel.root, pkcs8: good.intel.pckCa.pkcs8 } } }, // private half of another key
      { ...good, nvidia: { ...good.nvidia, rimCa: { ...good.nvidia.rimCa, der: other.amd.arkDer } } },
      { ...good, nvidia: { ...good.nvidia, identity: undefined } },
    ];
    for (const c of cases) await expectCode(loadSimulatedHierarchy(c), ConfigError, 'ERR_SIMULATOR_STATE');
    const bad = join(dir, 'bad');
    await simulatedHierarchyIn(bad);
    await writeFile(join(bad, SIM_HIERARCHY_FILE), '{ not json');
    await expectCode(simulatedHierarchyIn(bad), ConfigError, 'ERR_SIMULATOR_STATE');
    expect((await readFile(join(bad, SIM_HIERARCHY_FILE), 'utf8')).startsWith('{ not')).toBe(true);
  });
});
