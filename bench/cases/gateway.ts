/**
 * The gateway under load, with the direct path measured in the same run (issue 13's harness): a streaming
 * OpenAI-style upstream on loopback (bench/sse-upstream.ts), reached directly (fetch, keep-alive) and through
 * the CLI's gateway (`ccinfer gateway --evidence simulated`) with a SecureClient on node:crypto. As deployed,
 * the three run in their own processes: the upstream and the gateway are child processes, the bench process is
 * the client. `BENCH_GATEWAY_IN_PROCESS=1` runs all three on the bench's one thread instead (their CPU then adds
 * up on one core). `BENCH_CHILD_NODE_FLAGS` passes flags to the children's Node (`--cpu-prof
 * --cpu-prof-dir=DIR` profiles the gateway). The appraisal is a pass-through: attestation is done once before
 * timing, and only the request path is measured. Each gateway figure is taken interleaved with its direct one
 * (direct, gateway, direct, …), so that load from other work on the machine hits both alike.
 *  - `gateway.direct.ttft1`: median time to the first streamed bytes, direct, one stream at a time;
 *    `gateway.ttft1`: the added time to first token through the gateway (median through it minus median
 *    direct, 40 streams each);
 *  - `gateway.direct.rps64` / `gateway.rps64`: 1 KB requests per second, 64 at once (median of 15 batches
 *    each), and the ratio of the gateway's rate to the direct one; `gateway.cpu.client1k`: the client's CPU per
 *    request through the gateway (ratio: to a direct request's), `gateway.cpu.gateway1k`: the gateway process's;
 *  - `gateway.direct.tokensPerSecond64` / `gateway.tokensPerSecond64`: 64 concurrent streams of STREAM_TOKENS
 *    SSE events each, paced 1 ms apart by the upstream; tokens per second over the whole batch (median of 9
 *    batches each), and the ratio of the gateway's token rate to the direct one;
 *  - `gateway.direct.upload1g` / `gateway.upload1g`: one 1 GiB upload (`CCINFER_UPLOAD_MIB` to change it),
 *    direct and through the CLI gateway in its own process, hashed by the upstream; the value is the time
 *    ratio (target ≤ 2×), `details` hold both times and the peak RSS of the client (this process, which also
 *    runs the upstream) and of the gateway.
 * The machine is shared: read the figures as a same-run comparison, not as absolute ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecureClient, decodeBundle, type AttestedDocument } from '@ccinfer/core';
import { nodeSessionCrypto } from '@ccinfer/node';
import { createGateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider } from '@ccinfer/node/simulator';
import { hashingUpstream, sampleMemory, startCliGateway, uploadSource } from '../../test-support/upload.js';
import { relayServer } from '../relay-floor.js';
import { KIB, listenUpstream, streamLength, upstreamServer } from '../sse-upstream.js';
import type { BenchCase } from '../types.js';

const STREAM_TOKENS = 64;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts a TypeScript entry point in its own Node process (sources, as `pnpm bench` runs) and resolves with the
 * URL it prints (`listening on URL`). The child is killed when the bench process exits; its stdin is a pipe,
 * so the upstream also ends itself if the bench dies without running exit handlers.
 */
async function child(args: string[]): Promise<{ url: string; pid: number }> {
  const flags = process.env['BENCH_CHILD_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [];
  const p: ChildProcess = spawn(process.execPath, [...flags, '--conditions=source', '--import', 'tsx', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  process.once('exit', () => p.kill());
  let out = '';
  return new Promise((resolve, reject) => {
    p.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}) before listening: ${out}`)));
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      p.stdout!.removeAllListeners('data').resume();
      p.removeAllListeners('exit');
      // Neither the child nor its pipes (net.Sockets) keep the bench process alive.
      p.unref();
      for (const s of [p.stdin, p.stdout]) (s as unknown as Socket).unref();
      resolve({ url: m[1]!, pid: p.pid! });
    });
  });
}

interface Paths {
  /** The upstream. */
  direct: string;
  /** A bare HTTP relay to it (bench/relay-floor.ts): the floor of any hop. */
  relay: string;
  gateway: string;
  /** Process ids of the relay and the gateway when they run in their own processes. */
  pids?: { relay: number; gateway: number };
}

/** Starts the upstream, the relay and the gateway: child processes, or (BENCH_GATEWAY_IN_PROCESS=1) in here. */
async function startPaths(): Promise<Paths> {
  if (process.env['BENCH_GATEWAY_IN_PROCESS'] === '1') {
    const upstream = upstreamServer();
    const direct = await listenUpstream(upstream);
    const relayer = relayServer(direct);
    const relay = await listenUpstream(relayer);
    const gw = await createGateway({ upstream: direct, evidence: await createSimulatedProvider() });
    const { url } = await gw.listen(0, '127.0.0.1');
    for (const s of [upstream, relayer, gw.server]) s.unref();
    return { direct, relay, gateway: url };
  }
  const direct = (await child(['bench/sse-upstream.ts'])).url;
  const relay = await child(['bench/relay-floor.ts', direct]);
  const gw = await child(['packages/node/src/bin.ts', 'gateway', '--upstream', direct, '--evidence', 'simulated', '--listen', '127.0.0.1:0']);
  return { direct, relay: relay.url, gateway: gw.url, pids: { relay: relay.pid, gateway: gw.pid } };
}

/** CPU time (user + system, µs) a process has used so far, from /proc (Linux); undefined elsewhere. */
function processCpuUs(pid: number): number | undefined {
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised command name (proc(5)).
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/** This process's CPU time (user + system, µs). */
const ownCpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** Time from sending to the first body bytes (ms); the rest is drained afterwards, so the connection is reused. */
async function firstBytes(send: () => Promise<Response>): Promise<number> {
  const t0 = performance.now();
  const reader = (await send()).body!.getReader();
  const first = await reader.read();
  const ms = performance.now() - t0;
  if (first.done || first.value.length === 0) throw new Error('empty stream');
  while (!(await reader.read()).done);
  return ms;
}

/** Reads a whole response body; returns its length in bytes. */
async function drain(res: Response): Promise<number> {
  const reader = res.body!.getReader();
  let n = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.length;
  return n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

type Path = 'direct' | 'relay' | 'gateway';
const PATHS: readonly Path[] = ['direct', 'relay', 'gateway'];

/** Medians of `n` interleaved samples of each path (direct, relay, gateway, direct, …), so that load from others hits all alike. */
async function interleaved(n: number, sample: (path: Path) => Promise<number>): Promise<Record<Path, number>> {
  const xs: Record<Path, number[]> = { direct: [], relay: [], gateway: [] };
  for (let i = 0; i < n; i++) for (const p of PATHS) xs[p].push(await sample(p));
  return { direct: median(xs.direct), relay: median(xs.relay), gateway: median(xs.gateway) };
}

/** Memoises a measurement that several cases report. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

const BATCH = 64;
const RPS_BATCHES = 15;

export async function cases(): Promise<BenchCase[]> {
  const paths = await startPaths();
  const appraise = async (b: Uint8Array): Promise<AttestedDocument> => ({ ok: true, tee: 'bundle', verifiedAt: '', claims: {}, checks: [], errors: [], warnings: [], keyConfig: decodeBundle(b).keyConfig });
  const client = new SecureClient({ endpoint: paths.gateway, appraise, crypto: nodeSessionCrypto });
  await client.attest();

  /** A chat completion request on `path`: direct and relayed with fetch, through the gateway with the SecureClient. */
  const post = (path: Path, stream: boolean, maxTokens?: number): Promise<Response> => {
    const f = path === 'gateway' ? (client.fetch as typeof fetch) : fetch;
    // The SecureClient sends the request to its gateway whatever the origin: the inner request names the upstream.
    return f(`${path === 'relay' ? paths.relay : paths.direct}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: KIB }], ...(maxTokens ? { max_tokens: maxTokens } : {}) }),
    });
  };
  /** Milliseconds for BATCH concurrent 1 KB requests, every answer checked. */
  const batch = async (path: Path): Promise<number> => {
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: BATCH }, () => post(path, false).then(async (r) => (await r.json()) as { echo?: string })));
    const ms = performance.now() - t0;
    if (all.some((r) => r.echo !== KIB)) throw new Error('a request failed');
    return ms;
  };
  /** Milliseconds for BATCH concurrent streams of STREAM_TOKENS tokens, every stream read to its end and checked. */
  const streams = async (path: Path): Promise<number> => {
    const t0 = performance.now();
    const lengths = await Promise.all(Array.from({ length: BATCH }, () => post(path, true, STREAM_TOKENS).then(drain)));
    const ms = performance.now() - t0;
    if (lengths.some((n) => n !== streamLength(STREAM_TOKENS))) throw new Error('a stream was cut short');
    return ms;
  };
  // One pass each before timing, so that a broken path fails here rather than as a fast number.
  for (const p of PATHS) {
    await firstBytes(() => post(p, true));
    await batch(p);
    await streams(p);
  }

  const ttft = once(() => interleaved(40, (p) => firstBytes(() => post(p, true))));
  /** Batch medians, and CPU per request: this process (the client) on each path, the relay's and the gateway's processes. */
  const rps = once(async () => {
    const cpu = { direct: 0, relay: 0, gateway: 0, relayProcess: 0, gatewayProcess: 0 };
    const pid = (p: Path): number | undefined => (p === 'direct' ? undefined : paths.pids?.[p]);
    const ms = await interleaved(RPS_BATCHES, async (p) => {
      const c0 = ownCpuUs();
      const other = pid(p);
      const o0 = other !== undefined ? processCpuUs(other) : undefined;
      const ms = await batch(p);
      cpu[p] += ownCpuUs() - c0;
      if (o0 !== undefined) cpu[p === 'relay' ? 'relayProcess' : 'gatewayProcess'] += processCpuUs(other!)! - o0;
      return ms;
    });
    const perRequest = (us: number): number => Math.round(us / (RPS_BATCHES * BATCH));
    return { ms, cpu: { direct: perRequest(cpu.direct), gateway: perRequest(cpu.gateway), relayProcess: perRequest(cpu.relayProcess), gatewayProcess: perRequest(cpu.gatewayProcess) } };
  });
  const tokens = once(async () => {
    const t = await interleaved(9, streams);
    const rate = (ms: number): number => Math.round((BATCH * STREAM_TOKENS * 1000) / ms);
    return { direct: rate(t.direct), relay: rate(t.relay), gateway: rate(t.gateway) };
  });
  const rate = (ms: number): number => Math.round((BATCH * 1000) / ms);
  const ratio = (x: number): number => Number(x.toFixed(3));
  const ms2 = (x: number): number => Number(x.toFixed(2));
  const inOwnProcesses = paths.pids !== undefined;

  return [
    { name: 'gateway.direct.ttft1', title: 'median time to first streamed token, direct to the upstream', measure: async () => ({ value: ms2((await ttft()).direct), unit: 'ms' }) },
    { name: 'gateway.floor.ttft1', title: 'added time to first streamed token through a bare HTTP relay (the floor of a hop; median minus direct median)', measure: async () => ({ value: ms2((await ttft()).relay - (await ttft()).direct), unit: 'ms' }) },
    {
      name: 'gateway.ttft1',
      title: 'added time to first streamed token through the gateway (median minus direct median, same run)',
      measure: async () => {
        const t = await ttft();
        return { value: ms2(t.gateway - t.direct), unit: 'ms' };
      },
    },
    {
      name: 'gateway.direct.rps64',
      title: `1 KB requests per second, ${BATCH} at once, direct (median of ${RPS_BATCHES} batches, interleaved with the relay's and the gateway's)`,
      measure: async () => ({ value: rate((await rps()).ms.direct), unit: 'requests/s' }),
    },
    {
      name: 'gateway.floor.rps64',
      title: `1 KB requests per second, ${BATCH} at once, through a bare HTTP relay (ratio: request rate to direct)`,
      measure: async () => {
        const { ms } = await rps();
        return { value: rate(ms.relay), unit: 'requests/s', ratios: { 'gateway.direct.rps64': ratio(ms.direct / ms.relay) } };
      },
    },
    {
      name: 'gateway.rps64',
      title: `1 KB requests per second, ${BATCH} at once, through the gateway (ratio: request rate to direct)`,
      measure: async () => {
        const { ms } = await rps();
        return { value: rate(ms.gateway), unit: 'requests/s', ratios: { 'gateway.direct.rps64': ratio(ms.direct / ms.gateway) } };
      },
    },
    {
      name: 'gateway.cpu.client1k',
      title: "client CPU per 1 KB request through the gateway (this process; ratio: to a direct request's)",
      measure: async () => {
        const { cpu } = await rps();
        return { value: cpu.gateway, unit: 'µs', ratios: { direct: ratio(cpu.gateway / cpu.direct) } };
      },
    },
    ...(inOwnProcesses
      ? [
          { name: 'gateway.floor.cpu1k', title: 'bare HTTP relay process CPU per 1 KB request (/proc)', measure: async () => ({ value: (await rps()).cpu.relayProcess, unit: 'µs' }) },
          {
            name: 'gateway.cpu.gateway1k',
            title: 'gateway process CPU per 1 KB request (/proc; ratio: to the bare relay\'s)',
            measure: async () => {
              const { cpu } = await rps();
              return { value: cpu.gatewayProcess, unit: 'µs', ratios: { 'gateway.floor.cpu1k': ratio(cpu.gatewayProcess / cpu.relayProcess) } };
            },
          },
        ]
      : []),
    {
      name: 'gateway.direct.tokensPerSecond64',
      title: `tokens per second over ${BATCH} concurrent streams of ${STREAM_TOKENS} tokens, direct`,
      measure: async () => ({ value: (await tokens()).direct, unit: 'tokens/s' }),
    },
    {
      name: 'gateway.floor.tokensPerSecond64',
      title: `tokens per second over ${BATCH} concurrent streams of ${STREAM_TOKENS} tokens through a bare HTTP relay (ratio: token rate to direct)`,
      measure: async () => {
        const t = await tokens();
        return { value: t.relay, unit: 'tokens/s', ratios: { 'gateway.direct.tokensPerSecond64': ratio(t.relay / t.direct) } };
      },
    },
    {
      name: 'gateway.tokensPerSecond64',
      title: `tokens per second over ${BATCH} concurrent streams of ${STREAM_TOKENS} tokens through the gateway (ratio: token rate to direct)`,
      measure: async () => {
        const t = await tokens();
        return { value: t.gateway, unit: 'tokens/s', ratios: { 'gateway.direct.tokensPerSecond64': ratio(t.gateway / t.direct) } };
      },
    },
    {
      name: 'gateway.direct.upload1g',
      title: 'one 1 GiB upload straight to the upstream (seconds; details: client peak RSS)',
      measure: async () => {
        const u = await measureUploads();
        return { value: u.direct.seconds, unit: 's', details: { bytes: u.bytes, client: u.direct.client } };
      },
    },
    {
      name: 'gateway.upload1g',
      title: 'one 1 GiB upload through the CLI gateway, time ratio to direct (target ≤ 2×; details: times, peak RSS of both sides)',
      measure: async () => {
        const u = await measureUploads();
        const ratio = Number((u.gateway.seconds / u.direct.seconds).toFixed(2));
        return { value: ratio, unit: '× direct time', details: { bytes: u.bytes, seconds: u.gateway.seconds, directSeconds: u.direct.seconds, targetRatio: 2, withinTarget: ratio <= 2, client: u.gateway.client, gateway: u.gateway.gateway } };
      },
    },
  ];
}

const MIB = 1024 * 1024;
const mib = (n: number): number => Math.round(n / MIB);
interface UploadRun {
  seconds: number;
  client: { peakRssMiB: number; rssGrowthMiB: number };
  gateway?: { peakRssMiB: number; rssGrowthMiB: number };
}
let uploads: Promise<{ bytes: number; direct: UploadRun; gateway: UploadRun }> | undefined;

/**
 * The upload pair, run once for both cases: the same hashing upstream reached directly (fetch, a
 * streamed body) and through `ccinfer gateway` in a child process (SecureClient on node:crypto). Each side is
 * warmed up with 64 MiB first; the digest the upstream answers must match what was sent.
 */
function measureUploads(): Promise<{ bytes: number; direct: UploadRun; gateway: UploadRun }> {
  return (uploads ??= (async () => {
    const bytes = Number(process.env['CCINFER_UPLOAD_MIB'] ?? 1024) * MIB;
    const up = await hashingUpstream();
    const gw = await startCliGateway(up.url);
    try {
      const appraise = async (b: Uint8Array): Promise<AttestedDocument> => ({ ok: true, tee: 'bundle', verifiedAt: '', claims: {}, checks: [], errors: [], warnings: [], keyConfig: decodeBundle(b).keyConfig });
      const client = new SecureClient({ endpoint: gw.url, appraise, crypto: nodeSessionCrypto });
      const direct = (body: AsyncIterable<Uint8Array>): Promise<Response> =>
        fetch(`${up.url}/v1/files`, { method: 'POST', body: body as never, duplex: 'half', redirect: 'error' } as RequestInit);
      const gateway = (body: AsyncIterable<Uint8Array>): Promise<Response> => client.fetch(`${gw.url}/v1/files`, { method: 'POST', body: body as never });
      const run = async (send: (body: AsyncIterable<Uint8Array>) => Promise<Response>, size: number): Promise<UploadRun> => {
        const src = uploadSource(size);
        const rssBefore = process.memoryUsage().rss;
        const gwBefore = gw.memory().rss;
        const memory = sampleMemory({ live: false });
        const t0 = performance.now();
        const answer = (await (await send(src.body)).json()) as { sha256?: string; bytes?: number };
        const seconds = (performance.now() - t0) / 1000;
        const { peakRss } = await memory.stop();
        if (answer.sha256 !== src.sha256() || answer.bytes !== size) throw new Error('the upload did not arrive intact');
        const g = gw.memory();
        return {
          seconds: Number(seconds.toFixed(2)),
          client: { peakRssMiB: mib(peakRss), rssGrowthMiB: mib(peakRss - rssBefore) },
          ...(send === gateway ? { gateway: { peakRssMiB: mib(g.peakRss), rssGrowthMiB: mib(g.peakRss - gwBefore) } } : {}),
        };
      };
      await run(direct, 64 * MIB);
      await run(gateway, 64 * MIB);
      return { bytes, direct: await run(direct, bytes), gateway: await run(gateway, bytes) };
    } finally {
      await gw.close();
      up.close();
    }
  })());
}
