/** `ccinfer gateway --peers URL,... | --peers-dns NAME[:PORT]` and `--sim-hierarchy DIR` (docs/cli.md), and `pod simulate --sim-hierarchy`. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_HIERARCHY_FILE } from '../../src/gateway/evidence/sim-hierarchy.js';
import { cli, start, waitFor } from './io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ccinfer-gateway-replicas-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = ['gateway', '--upstream', 'http://127.0.0.1:9', '--evidence', 'simulated', '--listen', '127.0.0.1:0'];

describe('ccinfer gateway: replicas flags', () => {
  it('refuses peers that are not origins, a bad DNS name or port, both flags at once, and --sim-hierarchy without simulated evidence (exit 2)', async () => {
    for (const extra of [
      ['--peers', 'not a url'],
      ['--peers', 'ftp://10.0.0.7:21'],
      ['--peers', 'http://10.0.0.7:8443/path'],
      ['--peers', ','],
      ['--peers-dns', 'bad_name!'],
      ['--peers-dns', 'peers.svc:99999'],
      ['--peers', 'http://10.0.0.7:8443', '--peers-dns', 'peers'],
    ]) {
      expect([extra, (await cli([...base, ...extra])).code]).toEqual([extra, 2]);
    }
    expect((await cli(['gateway', '--upstream', 'http://127.0.0.1:9', '--evidence', 'configfs', '--sim-hierarchy', dir])).code).toBe(2);
  });

  it('--sim-hierarchy: the first start writes the roots, a restart loads them (same anchors); a malformed file exits 2', async () => {
    const state = join(dir, 'state');
    const anchors: string[] = [];
    for (let i = 0; i < 2; i++) {
      const out = join(dir, `anchors-${i}.json`);
      const g = start([...base, '--sim-hierarchy', state, '--anchors-out', out, '--peers-dns', 'ccinfer-model-peers:8443']);
      await waitFor(() => (/listening on/.test(g.out()) ? 'up' : undefined));
      expect(g.err()).toContain(i === 0 ? `simulated roots written to ${state}` : `simulated roots loaded from ${state}`);
      g.stop();
      expect(await g.done).toBe(0);
      anchors.push(await readFile(out, 'utf8'));
    }
    expect(anchors[1]).toBe(anchors[0]);

    const bad = join(dir, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, SIM_HIERARCHY_FILE), JSON.stringify({ format: 'ccinfer-simulated-hierarchy/1' }));
    const r = await cli([...base, '--sim-hierarchy', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--sim-hierarchy');
  });

  it('pod simulate --sim-hierarchy: a restarted simulated pod keeps its roots', async () => {
    const state = join(dir, 'pod');
    const anchors: string[] = [];
    for (let i = 0; i < 2; i++) {
      const out = join(dir, `pod-anchors-${i}.json`);
      const p = start(['pod', 'simulate', '--listen', '127.0.0.1:0', '--gpus', '0', '--anchors-out', out, '--sim-hierarchy', state]);
      await waitFor(() => (/pod URL/.test(p.out()) ? 'up' : undefined));
      // In one process the roots would match anyway (one simulated hierarchy per process): the log says which.
      expect(p.err()).toContain(i === 0 ? `simulated roots written to ${state}` : `simulated roots loaded from ${state}`);
      p.stop();
      expect(await p.done).toBe(0);
      anchors.push(await readFile(out, 'utf8'));
    }
    expect(anchors[1]).toBe(anchors[0]);
  });
});
