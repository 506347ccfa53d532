/**
 * The gateway under load, with the direct path measured in the same run (issue 13's harness): a streaming
 * OpenAI-style upstream on loopback, reached directly (undici fetch, keep-alive) and through the CLI's gateway
 * (simulated evidence) with a SecureClient on node:crypto. The appraisal is a pass-through here: attestation is
 * done once before timing, and only the request path is measured.
 *  - `gateway.direct.ttft1`: median time to the first streamed bytes, direct, one stream at a time;
 *    `gateway.ttft1`: the added time to first token through the gateway (median through it minus median direct,
 *    the two interleaved, 40 streams each);
 *  - `gateway.rps64` / `gateway.direct.rps64`: 64 concurrent 1 KB requests (one batch per sample); the ratio
 *    is batch time through the gateway over direct time, so the request-rate ratio is its inverse.
 *  - `gateway.direct.upload1g` / `gateway.upload1g`: one 1 GiB upload (`CCINFER_UPLOAD_MIB` to change it),
 *    direct and through the CLI gateway in its own process, hashed by the upstream; the value is the time
 *    ratio (target ≤ 2×), `details` hold both times and the peak RSS of the client (this process, which also
 *    runs the upstream) and of the gateway.
 * The machine is shared: read the medians as a same-run comparison, not as absolute figures.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecureClient, decodeBundle, type AttestedDocument } from '@ccinfer/core';
import { nodeSessionCrypto } from '@ccinfer/node';
import { createGateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider } from '@ccinfer/node/simulator';
import { hashingUpstream, sampleMemory, startCliGateway, uploadSource } from '../../test-support/upload.js';
import type { BenchCase } from '../types.js';

const TOKENS = 16;
const KIB = 'x'.repeat(1024);

/** Streams TOKENS SSE events 1 ms apart for `stream: true`, else answers a 1 KB JSON body at once. */
function upstreamServer(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (!body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echo: KIB }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const tick = (): void => {
        if (i++ === TOKENS) return void res.end('data: [DONE]\n\n');
        res.write(`data: {"choices":[{"delta":{"content":"t${i} "}}]}\n\n`);
        setTimeout(tick, 1);
      };
      tick();
    });
  });
}

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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function cases(): Promise<BenchCase[]> {
  const upstream = upstreamServer();
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstream.unref();
  const direct = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const gw = await createGateway({ upstream: direct, evidence: await createSimulatedProvider() });
  const { url } = await gw.listen(0, '127.0.0.1');
  gw.server.unref();
  const appraise = async (b: Uint8Array): Promise<AttestedDocument> => ({ ok: true, tee: 'bundle', verifiedAt: '', claims: {}, checks: [], errors: [], warnings: [], keyConfig: decodeBundle(b).keyConfig });
  const client = new SecureClient({ endpoint: url, appraise, crypto: nodeSessionCrypto });
  await client.attest();

  const post = (f: typeof fetch, stream: boolean): Promise<Response> =>
    f(`${direct}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: KIB }] }) });
  const viaGateway = client.fetch as typeof fetch;
  const batch = async (f: typeof fetch): Promise<void> => {
    const all = await Promise.all(Array.from({ length: 64 }, () => post(f, false).then(async (r) => (await r.json()) as { echo?: string })));
    if (all.some((r) => r.echo !== KIB)) throw new Error('a request failed');
  };
  // One pass each before timing, so that a broken path fails here rather than as a fast number.
  await firstBytes(() => post(fetch, true));
  await firstBytes(() => post(viaGateway, true));
  let ttft: { direct: number; gateway: number } | undefined;
  const measureTtft = async (): Promise<{ direct: number; gateway: number }> => {
    if (ttft) return ttft;
    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < 40; i++) {
      d.push(await firstBytes(() => post(fetch, true)));
      g.push(await firstBytes(() => post(viaGateway, true)));
    }
    return (ttft = { direct: median(d), gateway: median(g) });
  };
  await batch(fetch);
  await batch(viaGateway);

  return [
    { name: 'gateway.direct.ttft1', title: 'median time to first streamed token, direct to the upstream', measure: async () => ({ value: Number((await measureTtft()).direct.toFixed(2)), unit: 'ms' }) },
    {
      name: 'gateway.ttft1',
      title: 'added time to first streamed token through the gateway (median minus direct median, same run)',
      measure: async () => {
        const t = await measureTtft();
        return { value: Number((t.gateway - t.direct).toFixed(2)), unit: 'ms' };
      },
    },
    { name: 'gateway.direct.rps64', title: '64 concurrent 1 KB requests, direct (one batch)', fn: () => batch(fetch) },
    { name: 'gateway.rps64', title: '64 concurrent 1 KB requests through the gateway (ratio: batch time to direct)', fn: () => batch(viaGateway), compareTo: ['gateway.direct.rps64'] },
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
