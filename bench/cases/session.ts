/**
 * Encrypted sessions (DESIGN.md §9 budgets: ≤ 0.3 ms per 1 KB request, ≤ 5 ms per MiB).
 *
 * session.request1k / session.mib — one whole exchange with a 1 KB (1 MiB) request body and a 1 KB (1 MiB)
 * response: client BHTTP + chunked-OHTTP encapsulation, the gateway's decapsulation and response sealing,
 * and the client's decryption of the streamed response. This includes the gateway's X25519 and AEAD work,
 * so it is an upper bound on the client's cost.
 * peer.ehbp.* — EHBP (the encryption Tinfoil uses, `ehbp` 0.1.7) on the same sizes: request encryption and
 * response decryption by its client; the response is sealed from the client's own HPKE context (EHBP ships
 * no server in JS), so the peer is *not* charged a server-side X25519: the ratio favours the peer.
 * session.gateway1k — the gateway's half of request1k alone, so request1k − gateway1k estimates the client's.
 * session.chunksPerSecond — SSE chunks per second streamed through a real gateway on 127.0.0.1.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  ChunkedRequestDecoder,
  ChunkedRequestEncoder,
  SecureClient,
  concat,
  decodeRequest,
  decryptResponseStream,
  encodeContentChunk,
  encodeRequest,
  encodeResponseEnd,
  encodeResponseHead,
  generateGatewayKey,
  BhttpResponseDecoder,
  CHUNK_SIZE,
  decodeBundle,
  type AttestedDocument,
} from '@ccinfer/core';
import { createGateway, createSimulatedProvider } from '@ccinfer/node';
import { Identity, deriveResponseKeys, encryptChunk, EXPORT_LABEL, EXPORT_LENGTH, bytesToHex } from 'ehbp';
import type { BenchCase } from '../types.js';

const KIB = new Uint8Array(1024).fill(0x61);
const MIB = new Uint8Array(1024 * 1024).fill(0x62);
// Both protocols seal bulk data in the chunked-OHTTP draft's recommended 16 KiB pieces.
const BULK = CHUNK_SIZE;

async function ccinferExchange(key: Awaited<ReturnType<typeof generateGatewayKey>>, body: Uint8Array): Promise<void> {
  // Client: BHTTP request, chunked OHTTP.
  const enc = await ChunkedRequestEncoder.create(key.config);
  const wire = await enc.encapsulateAll(encodeRequest({ method: 'POST', scheme: 'https', authority: 'pod', path: '/v1/chat/completions', headers: [['content-type', 'application/json']], content: body, trailers: [] }), BULK);
  // Gateway: open, decode, seal the response chunk by chunk.
  const dec = new ChunkedRequestDecoder((id) => (id === key.config.keyId ? key : undefined));
  const plain = await dec.push(wire);
  plain.push(await dec.finish());
  const req = decodeRequest(concat(...plain));
  const res = await dec.responseEncoder();
  const parts = [res.header(), await res.seal(encodeResponseHead(200, [['content-type', 'application/json']]), false)];
  for (let at = 0; at < req.content.length; at += BULK) parts.push(await res.seal(encodeContentChunk(req.content.subarray(at, at + BULK)), false));
  parts.push(await res.seal(encodeResponseEnd(), true));
  // Client: decrypt the stream and decode the BHTTP response.
  const stream = decryptResponseStream(
    new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    }),
    enc.responseDecoder(),
  );
  const bhttp = new BhttpResponseDecoder();
  let n = 0;
  for await (const p of stream as unknown as AsyncIterable<Uint8Array>) for (const e of bhttp.push(p)) if (e.type === 'data') n += e.data.length;
  bhttp.finish();
  if (n !== body.length) throw new Error('ccinfer exchange lost bytes');
}

/** The gateway's half alone (open a fixed 1 KB request, seal the response): request1k minus this ≈ the client's cost. */
async function gatewayHalf(key: Awaited<ReturnType<typeof generateGatewayKey>>, wire: Uint8Array): Promise<void> {
  const dec = new ChunkedRequestDecoder((id) => (id === key.config.keyId ? key : undefined));
  const plain = await dec.push(wire);
  plain.push(await dec.finish());
  const req = decodeRequest(concat(...plain));
  const res = await dec.responseEncoder();
  await res.seal(encodeResponseHead(200, [['content-type', 'application/json']]), false);
  await res.seal(encodeContentChunk(req.content), false);
  await res.seal(encodeResponseEnd(), true);
}

async function ehbpExchange(server: Identity, body: Uint8Array): Promise<void> {
  const { request, context } = await server.encryptRequestWithContext(new Request('https://pod/v1/chat/completions', { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/json' } }));
  await request.arrayBuffer(); // the encrypted request body, as a transport would send it
  // The response a server would send, sealed from the same HPKE context's exporter.
  const secret = new Uint8Array(await context!.senderContext.Export(new TextEncoder().encode(EXPORT_LABEL), EXPORT_LENGTH));
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const km = await deriveResponseKeys(secret, context!.requestEnc, nonce);
  const frames: Uint8Array[] = [];
  for (let at = 0, seq = 0; at < body.length; at += BULK, seq++) {
    const ct = await encryptChunk(km, seq, body.subarray(at, at + BULK));
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, ct.length);
    frames.push(len, ct);
  }
  const response = new Response(concat(...frames) as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'ehbp-response-nonce': bytesToHex(nonce), 'content-type': 'application/json' } });
  const plain = await (await server.decryptResponseWithContext(response, context!)).arrayBuffer();
  if (plain.byteLength !== body.length) throw new Error('ehbp exchange lost bytes');
}

async function chunksPerSecond(): Promise<{ value: number; unit: string }> {
  const chunks = 5000;
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const pump = (): void => {
      while (i < chunks) {
        i++;
        if (!res.write(`data: {"choices":[{"delta":{"content":"tok${i} "}}]}\n\n`)) return void res.once('drain', pump);
      }
      res.end('data: [DONE]\n\n');
    };
    pump();
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const gateway = await createGateway({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, evidence: await createSimulatedProvider() });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const appraise = async (b: Uint8Array): Promise<AttestedDocument> => ({ ok: true, tee: 'bundle', verifiedAt: '', claims: {}, checks: [], errors: [], warnings: [], keyConfig: decodeBundle(b).keyConfig });
  try {
    const client = new SecureClient({ endpoint: url, appraise });
    await client.attest();
    const t0 = performance.now();
    let n = 0;
    for await (const _e of (await client.infer({ model: 'x', stream: true, messages: [] })) as AsyncIterable<unknown>) n++;
    const s = (performance.now() - t0) / 1000;
    if (n !== chunks) throw new Error(`received ${n} of ${chunks} chunks`);
    return { value: Math.round(n / s), unit: 'chunks/s' };
  } finally {
    await gateway.close();
    upstream.closeAllConnections();
    upstream.close();
  }
}

export async function cases(): Promise<BenchCase[]> {
  const key = await generateGatewayKey(1);
  const ehbpServer = await Identity.generate();
  await ccinferExchange(key, KIB);
  await ehbpExchange(ehbpServer, KIB);
  const wire1k = await (await ChunkedRequestEncoder.create(key.config)).encapsulateAll(
    encodeRequest({ method: 'POST', scheme: 'https', authority: 'pod', path: '/v1/chat/completions', headers: [['content-type', 'application/json']], content: KIB, trailers: [] }),
  );
  return [
    { name: 'peer.ehbp.request1k', title: 'EHBP 0.1.7 client: 1 KB request encrypt + 1 KB response decrypt (no server X25519 charged)', fn: () => ehbpExchange(ehbpServer, KIB) },
    { name: 'session.request1k', title: 'ccinfer: 1 KB request + 1 KB response, client AND gateway (BHTTP + chunked OHTTP, X25519/AES-256-GCM)', fn: () => ccinferExchange(key, KIB), budgetMs: 0.3, compareTo: ['peer.ehbp.request1k'] },
    { name: 'session.gateway1k', title: 'ccinfer gateway half of session.request1k (open 1 KB request, seal 1 KB response)', fn: () => gatewayHalf(key, wire1k) },
    { name: 'peer.ehbp.mib', title: 'EHBP 0.1.7 client: 1 MiB request + 1 MiB response', fn: () => ehbpExchange(ehbpServer, MIB) },
    { name: 'session.mib', title: 'ccinfer: 1 MiB request + 1 MiB streamed response, client AND gateway', fn: () => ccinferExchange(key, MIB), budgetMs: 5, compareTo: ['peer.ehbp.mib'] },
    { name: 'session.chunksPerSecond', title: '5000 SSE chunks streamed upstream → gateway (sealed one by one) → client on 127.0.0.1', measure: chunksPerSecond },
  ];
}
