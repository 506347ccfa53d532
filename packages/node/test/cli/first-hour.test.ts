/**
 * What a new user meets in the first hour, through the in-process CLI runner on loopback: failures that say
 * what happened (exit 3 for a pod that is not there or not a pod, the cause chain, `--json` errors,
 * `--timeout`), interrupts (exit 130, never a truncation code), help and version, the proxy's edges, and the
 * README's first contact against `ccinfer pod simulate`.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { vectorsDir } from '../../../../test-support/vectors.js';
import { demoReply } from '../../src/demo/model-server.js';
import { cli, start, waitFor, type Running } from './io.js';

const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-cli-first-hour-'));

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<string> {
  const { server, url } = await listen(() => undefined);
  await new Promise((r) => server.close(r));
  return url;
}

const close = (s: Server): Promise<void> => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); });

describe('failures that say what happened', () => {
  it('a refused connection is ERR_SESSION_UNREACHABLE, exit 3, with its cause chain down to the socket error', async () => {
    const r = await cli(['attest', await closedPort(), '--offline', '--timeout', '5']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/ERR_SESSION_UNREACHABLE/);
    expect(r.err).toMatch(/caused by: .*ECONNREFUSED/);
  });

  it('a server that is not a ccinfer gateway is ERR_SESSION_NOT_A_POD, exit 3; --json prints the error object', async () => {
    const { server, url } = await listen((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'));
    try {
      const r = await cli(['attest', url, '--offline']);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/ERR_SESSION_NOT_A_POD/);
      const j = await cli(['attest', url, '--offline', '--json']);
      expect(j.code).toBe(3);
      const e = JSON.parse(j.out).error;
      expect(e.code).toBe('ERR_SESSION_NOT_A_POD');
      expect(e.status).toBe(404);
      expect(e.causes.map((c: { code?: string }) => c.code)).toContain('ERR_FETCH_HTTP_STATUS');
    } finally {
      await close(server);
    }
  });

  it('a silent server: --timeout bounds the whole wait (retry included) and a "waiting for" line appears', async () => {
    const { server, url } = await listen(() => undefined); // never answers
    try {
      const t0 = Date.now();
      const r = await cli(['attest', url, '--offline', '--timeout', '1.5']);
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/waiting for http:\/\/127\.0\.0\.1/);
      expect(r.err).toMatch(/ERR_SESSION_UNREACHABLE/);
      expect((await cli(['attest', url, '--timeout', 'soon'])).code).toBe(2);
    } finally {
      await close(server);
    }
  });

  it('Ctrl-C while attesting: exit 130 "interrupted"', async () => {
    const { server, url } = await listen(() => undefined);
    try {
      const r = start(['attest', url, '--offline']);
      setTimeout(() => r.stop(), 200);
      expect(await r.done).toBe(130);
      expect(r.err()).toMatch(/interrupted/);
    } finally {
      await close(server);
    }
  });

  it('a malformed policy file shows the syntax error and position; an unknown field its nearest name (exit 2)', async () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"version": 1, "snp": {},}');
    const r = await cli(['verify', 'bundle', bad, '--policy', bad, '--offline']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not JSON: .*position \d+/);
    const typo = join(tmp, 'typo.json');
    writeFileSync(typo, JSON.stringify({ version: 1, snp: { measurement: ['00'.repeat(48)] } }));
    const t = await cli(['verify', 'bundle', bad, '--policy', typo, '--offline']);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/did you mean "measurements"/);
  });

  it('verify bundle on a policy file: ERR_BUNDLE_NOT_A_BUNDLE (exit 1), not a CBOR detail', async () => {
    const policy = join(tmp, 'policy-as-bundle.json');
    writeFileSync(policy, JSON.stringify({ version: 1 }));
    const r = await cli(['verify', 'bundle', policy, '--offline', '--no-cache']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/ERR_BUNDLE_NOT_A_BUNDLE/);
  });

  const tdx = vectorsDir('tdx');
  it.skipIf(!tdx)("verify tdx with another platform's collateral names the mismatch; expired collateral shows its window and --at", async () => {
    const quote = join(tdx!, 's1-spr-50806f-2023', 'quote_gotdx_spr_e4.bin');
    const other = join(tdx!, 's2-b0c06f-2025-06');
    const at = await cli(['verify', 'tdx', '--quote', quote, '--collateral', other, '--offline', '--no-cache', '--at', '2025-07-01T00:00:00Z']);
    expect(at.code).toBe(1);
    expect(at.out).toMatch(/FAIL {2}tdx\.collateral\.tcbInfo +ERR_TDX_TCB_INFO_MISMATCH: .*FMSPC/);
    // Without --at the PCK CRL beside that TCB Info has aged out too: the platform mismatch is still what is named.
    const wrong = await cli(['verify', 'tdx', '--quote', quote, '--collateral', other, '--offline', '--no-cache']);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/FAIL {2}tdx\.collateral\.tcbInfo +ERR_TDX_TCB_INFO_MISMATCH: .*FMSPC/);
    expect(wrong.out).not.toMatch(/ERR_TDX_COLLATERAL_EXPIRED/);
    const now = await cli(['verify', 'tdx', '--quote', quote, '--collateral', join(tdx!, 's1-spr-50806f-2023'), '--offline', '--no-cache']);
    expect(now.code).toBe(1);
    // The 2023 collateral's TCB Signing certificate expired in 2025: named with its date, and the --at hint.
    expect(now.out).toMatch(/FAIL {2}tdx\.collateral\.tcbInfo +ERR_X509_EXPIRED: .*expired \d{4}-\d\d-\d\dT/);
    expect(now.out).toMatch(/hint: .*--at ISO/);
  });

  it('--version, group commands without a subcommand, <command> --help from the option table', async () => {
    const v = await cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^ccinfer \d+\.\d+\.\d+/);
    for (const group of ['verify', 'policy', 'pod']) {
      const g = await cli([group]);
      expect(g.code).toBe(2);
      expect(g.err).toMatch(/needs a subcommand/);
      expect(g.err).toMatch(new RegExp(`${group} \\w+`));
    }
    const h = await cli(['attest', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/--timeout SECONDS +.*\(default: 30\)/);
    expect(h.out).toMatch(/--save FILE +\S/);
    expect(h.out).toMatch(/example:\n {2}ccinfer attest /);
  });

  it('every command documents every flag it parses, with an example', async () => {
    for (const c of commands) {
      expect(c.options, c.name).toBeDefined();
      const h = await cli([...c.name.split(' '), '--help']);
      expect(h.code).toBe(0);
      for (const [flag, f] of Object.entries(c.options!)) {
        expect(f.help.length, `${c.name} --${flag}`).toBeGreaterThan(0);
        expect(h.out).toContain(`--${flag}`);
      }
      expect(h.out, c.name).toMatch(/\nexample:\n {2}ccinfer /);
    }
  });

  it('demo --switches alone is a usage error (exit 2), not a refusal at the end', async () => {
    expect((await cli(['demo', '--switches', '4'])).code).toBe(2);
  });
});

describe('a pod to try against: ccinfer pod simulate, and the first contact word for word', () => {
  const anchors = join(tmp, 'sim-anchors.json');
  let pod: Running;
  let url: string;
  beforeAll(async () => {
    pod = start(['pod', 'simulate', '--listen', '127.0.0.1:0', '--anchors-out', anchors, '--token-delay', '150']);
    url = await waitFor(() => /pod URL +(\S+)/.exec(pod.out())?.[1]);
  });
  afterAll(async () => {
    pod.stop();
    expect(await pod.done).toBe(0);
  });

  it('prints its URL, the anchors file and the commands; attest --save, policy init, infer work as printed', async () => {
    expect(JSON.parse(readFileSync(anchors, 'utf8'))).toBeTypeOf('object');
    // The printed commands, run as printed (paths made absolute in the temporary directory).
    const printed = pod.out().split('\n').filter((l) => l.startsWith('  ccinfer ')).map((l) => l.trim().replace(/\s+#.*$/, ''));
    expect(printed).toHaveLength(3);
    const argv = (line: string): string[] =>
      (line.match(/"[^"]*"|\S+/g) ?? []).slice(1).map((a) => a.replace(/^"|"$/g, '')).map((a) => (a === 'pod.cbor' || a === 'policy.json' ? join(tmp, a) : a));

    const attest = await cli(argv(printed[0]!));
    expect(attest.code).toBe(1); // unpinned: refused, saved
    expect(attest.out).toMatch(/ERR_POLICY_UNPINNED/);
    expect(attest.out).toContain(`saved the evidence bundle`);
    expect(attest.out).toContain(join(tmp, 'pod.cbor'));

    const init = await cli(argv(printed[1]!));
    expect(init.code).toBe(0);
    expect(init.out).toMatch(/snp\.measurements = \["[0-9a-f]{96}"\]/);
    expect(init.out).toMatch(/gpu\.count = /);

    const infer = await cli(argv(printed[2]!));
    expect(infer.code).toBe(0);
    expect(infer.out).toBe(demoReply('hello') + '\n');
  });

  it('forgetting --anchors: the refusal names the untrusted root as its cause and says to pass the anchors file', async () => {
    const inf = await cli(['infer', url, '--offline', '--allow-unpinned', '--model', 'ccinfer-demo-1', 'hi']);
    expect(inf.code).toBe(1);
    expect(inf.err).toMatch(/ERR_SESSION_REJECTED/);
    expect(inf.err).toMatch(/caused by: ERR_X509_UNTRUSTED_ROOT: /);
    expect(inf.err).not.toMatch(/\[object Object\]/);
    expect(inf.err).toMatch(/hint: .*--anchors/);
    const att = await cli(['attest', url, '--offline', '--allow-unpinned']);
    expect(att.code).toBe(1);
    expect(att.out).toMatch(/FAIL {2}snp\.chain +ERR_X509_UNTRUSTED_ROOT/);
    expect(att.out).toMatch(/hint: .*--anchors/);
  });

  it('Ctrl-C in the middle of a streamed reply: exit 130 "interrupted", never ERR_OHTTP_TRUNCATED', async () => {
    const r = start(['infer', url, '--anchors', anchors, '--offline', '--allow-unpinned', '--model', 'ccinfer-demo-1', 'a long question']);
    await waitFor(() => (r.out().length > 0 ? 'streaming' : undefined), 20_000);
    r.stop();
    expect(await r.done).toBe(130);
    expect(r.err()).toMatch(/interrupted/);
    expect(r.err()).not.toMatch(/ERR_OHTTP_TRUNCATED/);
  });

  it('proxy: /healthz, request log lines, a typed 502 when the pod goes away, a busy port is exit 2 without a stack', async () => {
    const proxy = start(['proxy', '--endpoint', url, '--listen', '127.0.0.1:0', '--anchors', anchors, '--offline', '--allow-unpinned']);
    const base = await waitFor(() => /(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(proxy.out())?.[1]);
    try {
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect((await health.json()).status).toBe('ok');
      const models = await fetch(`${base}/v1/models`);
      expect(models.status).toBe(200);
      await models.arrayBuffer();
      expect(proxy.err()).toMatch(/GET \/v1\/models 200/);
      // The demo model accepts the browser-upload example's route.
      const upload = await fetch(`${base}/v1/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(1000) });
      expect(upload.status).toBe(201);
      expect(await upload.json()).toMatchObject({ object: 'file', bytes: 1000, type: 'text/plain' });

      const port = /:(\d+)$/.exec(base)![1]!;
      const busy = await cli(['proxy', '--endpoint', url, '--listen', `127.0.0.1:${port}`, '--anchors', anchors, '--offline', '--allow-unpinned']);
      expect(busy.code).toBe(2);
      expect(busy.err).toMatch(/in use/);
      expect(busy.err).not.toMatch(/\n\s+at /);
    } finally {
      proxy.stop();
      expect(await proxy.done).toBe(0);
    }
  });
});

describe('proxy with the gateway down', () => {
  it('answers a typed 502 problem (ERR_SESSION_UNREACHABLE), not ERR_INTERNAL', async () => {
    const anchors = join(tmp, 'down-anchors.json');
    const pod = start(['pod', 'simulate', '--listen', '127.0.0.1:0', '--anchors-out', anchors]);
    const url = await waitFor(() => /pod URL +(\S+)/.exec(pod.out())?.[1]);
    const proxy = start(['proxy', '--endpoint', url, '--listen', '127.0.0.1:0', '--anchors', anchors, '--offline', '--allow-unpinned']);
    const base = await waitFor(() => /(http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(proxy.out())?.[1]);
    try {
      pod.stop();
      expect(await pod.done).toBe(0);
      const res = await fetch(`${base}/v1/models`);
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const p = await res.json();
      expect(p.code).toBe('ERR_SESSION_UNREACHABLE');
      expect(p.error.code).toBe('ERR_SESSION_UNREACHABLE');
      expect(proxy.err()).toMatch(/GET \/v1\/models 502 ERR_SESSION_UNREACHABLE/);
    } finally {
      proxy.stop();
      await proxy.done;
    }
  });
});
