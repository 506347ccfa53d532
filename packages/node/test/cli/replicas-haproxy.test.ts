/**
 * Replicas for real (docs/architecture.md "Replicas"): three `ccinfer gateway` processes (simulated evidence
 * sharing one saved hierarchy, each its own demo model) peers of each other, behind HAProxy from Debian's package
 * (round-robin, no affinity), 64 clients appraising with the real verifier against the one simulated anchors
 * file, a few thousand requests (streams included); one replica is killed (SIGKILL) and restarted mid-run.
 *
 * Passes when: every reply is the model's (nothing lost or misdelivered); the only failed requests are ones in
 * flight when the replica was killed, each with a typed error; every client attested each replica key it met
 * at most once. HAProxy missing is a failure that says how to install it (`apt-get install -y haproxy`, which
 * scripts/bootstrap.sh does), or a skip reported as such outside CI with CCINFER_SKIP_HAPROXY=1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CcinferError, toHex } from '@ccinfer/core';
import { parsePolicy, type TrustAnchors } from '@ccinfer/verifier';
import { createSecureClient } from '../../src/client.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';

const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
const haveHaproxy = haproxy.status === 0;
const skip = !haveHaproxy && !process.env['CI'] && process.env['CCINFER_SKIP_HAPROXY'] === '1';
if (skip) console.warn('replicas-haproxy: SKIPPED (CCINFER_SKIP_HAPROXY=1 and no haproxy): install it with `apt-get install -y haproxy`');

const CLIENTS = 64;
const REQUESTS = 2000;
const KILL_AFTER = 600;
/** Requests still to complete once the restarted replica serves, so it takes part in the run. */
const AFTER_RESTART = 300;
const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../..', import.meta.url));

const children: ChildProcess[] = [];
const models: ModelServer[] = [];
let dir: string | undefined;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(models.map((m) => m.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A port nothing listens on now (listening on port 0 first: other engineers' tests run at the same time). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function launch(command: string, args: string[]): Proc {
  const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until<T>(f: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function gatewayArgs(port: number, model: string, peers: string[], state: string): string[] {
  return [
    '--conditions=source', '--import', 'tsx', BIN,
    'gateway', '--upstream', model, '--evidence', 'simulated', '--listen', `127.0.0.1:${port}`,
    '--sim-hierarchy', state, '--anchors-out', join(state, `anchors-${port}.json`), '--peers', peers.join(','),
  ];
}

function haproxyConfig(front: number, ports: number[]): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // A refused connection (the killed replica, before the health check notices) goes to another server. A new
    // server connection per request: a request sent on an idle kept-alive connection to a replica killed
    // meanwhile would be dropped (HAProxy closes the client side, as for a keep-alive race), never redispatched.
    '  retries 3',
    '  option redispatch',
    '  option http-server-close',
    'frontend ccinfer',
    `  bind 127.0.0.1:${front}`,
    '  default_backend replicas',
    'backend replicas',
    // Round-robin per request, no stickiness of any kind.
    '  balance roundrobin',
    ...ports.map((p, i) => `  server r${i} 127.0.0.1:${p} check inter 250ms fall 1 rise 1`),
    '',
  ].join('\n');
}

type Outcome = { ok: true } | { ok: false; started: number; code: string; cls: string; detail: string };

describe.skipIf(skip)('three gateway replicas behind HAProxy (round-robin, no affinity)', () => {
  it('64 clients, thousands of requests and streams, a replica killed and restarted: only its in-flight requests fail', { timeout: 120_000 }, async () => {
    if (!haveHaproxy) throw new Error('haproxy is not installed: run `apt-get install -y haproxy` (scripts/bootstrap.sh installs it; outside CI, CCINFER_SKIP_HAPROXY=1 skips this test)');
    dir = await mkdtemp(join(tmpdir(), 'ccinfer-replicas-'));
    const state = join(dir, 'sim');
    for (let i = 0; i < 3; i++) models.push(await startModelServer({ tokenDelayMs: 1 }));
    const ports = [await freePort(), await freePort(), await freePort()];
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    // Started together: they agree on one simulated hierarchy through the state directory.
    const gateways = ports.map((p, i) => launch(process.execPath, gatewayArgs(p, models[i]!.url, urls, state)));
    await Promise.all(gateways.map((g, i) => until(() => (/listening on/.test(g.out()) ? true : undefined), `replica ${i}: ${g.err()}`)));
    const anchorsFiles = await Promise.all(ports.map((p) => readFile(join(state, `anchors-${p}.json`), 'utf8')));
    expect(new Set(anchorsFiles).size).toBe(1); // one set of simulated roots for every replica
    const anchors = JSON.parse(anchorsFiles[0]!) as TrustAnchors;

    const front = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, haproxyConfig(front, ports));
    const lb = launch('haproxy', ['-f', cfg, '-db']);
    const endpoint = `http://127.0.0.1:${front}`;
    // HAProxy is up once it answers on the frontend.
    const up = async (): Promise<boolean> => fetch(endpoint + '/healthz').then((r) => r.ok, () => false);
    for (let i = 0; i < 200 && !(await up()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await up()).toBe(true);

    const policy = parsePolicy({ version: 1, gpu: { count: { min: 0 } } });
    let completed = 0;
    let killedAt = Infinity;
    let diedAt = Infinity;
    let restartedAt = Infinity;
    let completedAtRestart = Infinity;
    let streams = 0;
    const outcomes: Outcome[] = [];
    const attestsPerKey: Map<string, number>[] = [];
    const finished = (): boolean => completed >= REQUESTS && completed - completedAtRestart >= AFTER_RESTART;

    async function runClient(c: number): Promise<void> {
      const client = createSecureClient({ endpoint, anchors, policy, allowUnpinnedMeasurements: true, fetcher: undefined, cache: undefined, requestTimeoutMs: 30_000, attestTimeoutMs: 30_000 });
      const seen = new Map<string, number>();
      attestsPerKey.push(seen);
      client.on('attested', (e) => {
        const k = toHex(e.document.keyConfig);
        seen.set(k, (seen.get(k) ?? 0) + 1);
      });
      for (let n = 0; !finished(); n++) {
        const prompt = `client ${c} request ${n}`;
        const stream = n % 4 === 3;
        const started = Date.now();
        try {
          // The test's requests may run twice (the demo model is stateless): marked safe to resend.
          const body = { model: 'ccinfer-demo-1', messages: [{ role: 'user' as const, content: prompt }] };
          let text = '';
          if (stream) {
            for await (const e of await client.infer({ ...body, stream: true }, { retryOnKeyChange: true })) text += e.choices[0]?.delta?.content ?? '';
            streams++;
          } else {
            text = (await client.infer(body, { retryOnKeyChange: true })).choices[0]!.message!.content as string;
          }
          expect(text).toBe(demoReply(prompt));
          outcomes.push({ ok: true });
        } catch (err) {
          if (!(err instanceof CcinferError)) throw err;
          const cause = err.cause instanceof Error ? `${err.cause.message} ${(err.cause.cause as Error | undefined)?.message ?? ''}` : '';
          outcomes.push({ ok: false, started, code: err.code, cls: err.constructor.name, detail: `${err.message} | ${cause}` });
        }
        completed++;
      }
    }

    const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => runClient(c)));
    await until(() => (completed >= KILL_AFTER ? true : undefined), `${KILL_AFTER} requests`, 60_000);
    killedAt = Date.now();
    gateways[1]!.child.kill('SIGKILL');
    await gateways[1]!.exited;
    // Until the process is gone its sockets still accept connections: a request sent then is in flight on it.
    diedAt = Date.now();
    const restarted = launch(process.execPath, gatewayArgs(ports[1]!, models[1]!.url, urls, state));
    await until(() => (/listening on/.test(restarted.out()) ? true : undefined), `restarted replica: ${restarted.err()}`);
    restartedAt = Date.now();
    completedAtRestart = completed;
    await load;

    const failed = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    const byCode = new Map<string, number>();
    for (const f of failed) byCode.set(`${f.cls}/${f.code}`, (byCode.get(`${f.cls}/${f.code}`) ?? 0) + 1);
    const summary = `${outcomes.length} requests (${streams} streams), ${failed.length} failed: ${JSON.stringify(Object.fromEntries(byCode))}`;
    console.log(`replicas-haproxy: ${summary}; killed at +0, gone at +${diedAt - killedAt} ms, restarted after ${restartedAt - killedAt} ms`);
    for (const f of failed) console.log(`  +${f.started - killedAt} ms ${f.code}: ${f.detail}`);
    expect(outcomes.length).toBeGreaterThanOrEqual(REQUESTS);
    expect(streams).toBeGreaterThan(REQUESTS / 8);
    // Only requests in flight on the killed replica may fail — sent before its process was gone — each with a
    // typed transport or truncation error.
    for (const f of failed) {
      expect(f.started, summary).toBeLessThanOrEqual(diedAt);
      expect(['ERR_SESSION_GATEWAY_HTTP', 'ERR_SESSION_UNREACHABLE', 'ERR_OHTTP_TRUNCATED', 'ERR_BHTTP_TRUNCATED'], summary).toContain(f.code);
    }
    expect(failed.length).toBeLessThanOrEqual(CLIENTS);
    // Every client attested each replica key it met at most once.
    for (const seen of attestsPerKey) for (const n of seen.values()) expect(n).toBe(1);
    // Requests were spread and forwarded: every replica (the restarted one included) forwarded or opened some.
    for (const g of [gateways[0]!, gateways[2]!, restarted]) expect(g.err()).toMatch(/request-forwarded/);
    lb.child.kill('SIGTERM');
    restarted.child.kill('SIGTERM');
    for (const g of [gateways[0]!, gateways[2]!]) g.child.kill('SIGTERM');
  });
});
