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
 * The machine is shared: read the medians as a same-run comparison, not as absolute figures.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecureClient, decodeBundle, type AttestedDocument } from '@ccinfer/core';
import { nodeSessionCrypto } from '@ccinfer/node';
import { createGateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider } from '@ccinfer/node/simulator';
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
  ];
}
