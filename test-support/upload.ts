/**
 * The upload harness shared by the streamed-upload tests and the `gateway.upload1g` bench case: an upload
 * endpoint on loopback that hashes what it receives, the CLI gateway in a child process (so its memory is its
 * own), and a body source that produces a large body piece by piece without holding it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What the upstream saw of one request: bytes received, and whether it ended or was cut. */
export interface Received {
  bytes: number;
  ended: boolean;
  aborted: boolean;
}

export interface HashingUpstream {
  server: Server;
  url: string;
  seen: Received[];
  /** Resolves once one request has delivered at least `n` bytes. */
  progress(n: number): Promise<void>;
  close(): void;
}

/** `POST` anything: answers `{ sha256, bytes }` of the body it received, once it ended. */
export async function hashingUpstream(): Promise<HashingUpstream> {
  const seen: Received[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const r: Received = { bytes: 0, ended: false, aborted: false };
    seen.push(r);
    const h = createHash('sha256');
    req.on('data', (c: Buffer) => {
      h.update(c);
      r.bytes += c.length;
      if (waiters.length > 0) waiters = waiters.filter((w) => (r.bytes >= w.n ? (w.resolve(), false) : true));
    });
    req.on('close', () => (r.aborted ||= !req.complete));
    req.on('end', () => {
      r.ended = true;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sha256: h.digest('hex'), bytes: r.bytes }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    progress: (n) => new Promise((resolve) => waiters.push({ n, resolve })),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * `total` bytes in 256 KiB pieces, each a fresh buffer (a random block stamped with its index, so no two pieces
 * are equal); `sha256` holds the digest of what was produced once the source is exhausted.
 */
export function uploadSource(total: number): { body: AsyncGenerator<Uint8Array>; sha256: () => string } {
  const block = randomBytes(256 * 1024);
  const h = createHash('sha256');
  async function* body(): AsyncGenerator<Uint8Array> {
    for (let at = 0, i = 0; at < total; i++) {
      const n = Math.min(block.length, total - at);
      const piece = Buffer.allocUnsafe(n);
      block.copy(piece, 0, 0, n);
      piece.writeUInt32LE(i, 0);
      h.update(piece);
      at += n;
      yield piece;
    }
  }
  return { body: body(), sha256: () => h.digest('hex') };
}

export interface CliGateway {
  url: string;
  child: ChildProcess;
  /** The child's resident set now and at its peak (VmRSS, VmHWM from /proc: Linux), in bytes. */
  memory(): { rss: number; peakRss: number };
  close(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../packages/node/src/bin.ts', import.meta.url));

/** `ccinfer gateway --evidence simulated` in a child process (via tsx), listening on a loopback port of its own. */
export async function startCliGateway(upstream: string, flags: string[] = []): Promise<CliGateway> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, 'gateway', '--upstream', upstream, '--evidence', 'simulated', '--listen', '127.0.0.1:0', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()).length > 65536 && (err = err.slice(-32768)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${err.slice(-2000)}`)));
  });
  const kib = (status: string, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return {
    url,
    child,
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return { rss: kib(status, 'VmRSS'), peakRss: kib(status, 'VmHWM') };
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * Samples this process's memory until stopped: the peak RSS (every 20 ms), and the peak of live memory — heap
 * plus ArrayBuffers after full collections (every 250 ms or so). RSS includes garbage a lazy collector has not
 * reclaimed yet (a streamed upload makes about three buffers of garbage per chunk); live memory is what the
 * upload actually holds, so it is the figure that must not grow with the body.
 */
export function sampleMemory(options: { live?: boolean } = {}): { stop(): Promise<{ peakRss: number; peakLive: number }> } {
  let peakRss = process.memoryUsage().rss;
  let peakLive = 0;
  // Without `live` no collection is forced (a bench's timing must not pay for them); peakLive stays 0.
  let stopped = options.live === false;
  const fast = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const slow = (async () => {
    while (!stopped) {
      peakLive = Math.max(peakLive, await liveMemory());
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      stopped = true;
      clearInterval(fast);
      await slow;
      const last = options.live === false ? 0 : await liveMemory();
      return { peakRss: Math.max(peakRss, process.memoryUsage().rss), peakLive: Math.max(peakLive, last) };
    },
  };
}

/**
 * This process's live memory (heap plus ArrayBuffers) after full collections. ArrayBuffer backing stores are
 * released by a concurrent sweeper after the collection, so the count is read after a second collection that
 * follows a turn of the event loop (else freed buffers still count).
 */
export async function liveMemory(): Promise<number> {
  const gc = collector();
  gc();
  await new Promise((r) => setTimeout(r, 5));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let gcFn: (() => void) | undefined;
/** V8's `gc()` without starting Node with --expose-gc (the flag can be set at run time for new contexts). */
function collector(): () => void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  return gcFn;
}
