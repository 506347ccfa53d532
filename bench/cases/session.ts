/**
 * Encrypted sessions (docs/design-notes.md "Budgets": request overhead ≤ 0.3 ms per 1 KB request, ≤ 5 ms per MiB).
 *
 * The budgets name the CLIENT's cost per request, so the budgeted cases time only the client's steps:
 *
 * session.request1k / session.mib — method: each iteration runs a whole exchange, but only the client's two
 * steps are timed (tinybench `overriddenDuration` = the sum of the two): (1) BHTTP-encode the request with a
 * 1 KB (1 MiB) body and chunked-OHTTP-encapsulate it to the attested key config (fresh X25519 ephemeral key,
 * key schedule, AES-256-GCM per 16 KiB chunk); (2) decrypt the chunked response (head, content in 16 KiB
 * chunks, end) as a stream and BHTTP-decode it. The gateway opens that exact request and seals the response
 * for that exact context between the two steps, outside the timed region. Primitives: node:crypto (what
 * createSecureClient uses in Node); the `.webcrypto` variants use the WebCrypto backend (what browsers run).
 *
 * peer.ehbp.request1k / peer.ehbp.mib — EHBP (`ehbp` 0.1.7, Tinfoil's protocol) measured the same way: timed
 * = its client's `encryptRequestWithContext` + reading the encrypted body, and `decryptResponseWithContext` +
 * reading the plaintext; untimed = building the input Request and the server's sealing (EHBP ships no JS
 * server: the response is sealed from the same context's exporter, as its server would). Comparable: same
 * body sizes, same HPKE suite (X25519, HKDF-SHA256, AES-256-GCM), a fresh ephemeral key per request, 16 KiB
 * response chunks. Not comparable: EHBP encrypts the body only (method, path and headers travel in the clear)
 * and seals the request body as one message, where ccinfer encrypts the whole HTTP message (BHTTP) in 16 KiB
 * chunks; EHBP's API goes through Request/Response objects (part of its client cost), ccinfer's protocol
 * layer does not; EHBP's primitives are pure JS (@panva/hpke-noble), ours are OpenSSL / WebCrypto.
 *
 * session.exchange1k / session.exchangeMib — client AND gateway, all timed (both on node:crypto).
 * session.gateway1k — the gateway's half alone (open a 1 KB request, seal a 1 KB response).
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
  encodeRequest,
  generateGatewayKey,
  BhttpResponseDecoder,
  CHUNK_SIZE,
  decodeBundle,
  webCryptoSessionCrypto,
  type AttestedDocument,
  type GatewayKey,
  type SessionCrypto,
} from '@ccinfer/core';
import { encodeContentChunk, encodeResponseEnd, encodeResponseHead } from '@ccinfer/core/internal';
import { nodeSessionCrypto } from '@ccinfer/node';
import { createGateway } from '@ccinfer/node/gateway';
import { createSimulatedProvider } from '@ccinfer/node/simulator';
import { Identity, deriveResponseKeys, encryptChunk, EXPORT_LABEL, EXPORT_LENGTH, bytesToHex } from 'ehbp';
import type { BenchCase } from '../types.js';

const KIB = new Uint8Array(1024).fill(0x61);
const MIB = new Uint8Array(1024 * 1024).fill(0x62);
// Both protocols seal bulk data in the chunked-OHTTP draft's recommended 16 KiB pieces.
const BULK = CHUNK_SIZE;
const HEADERS: [string, string][] = [['content-type', 'application/json']];

/** What a tinybench iteration returns when it times only part of its work. */
type Timed = { overriddenDuration: number };

// ————— ccinfer —————

/** Client step 1: BHTTP request + chunked OHTTP to the key config. */
async function clientEncapsulate(key: GatewayKey, body: Uint8Array, crypto: SessionCrypto): Promise<{ enc: ChunkedRequestEncoder; wire: Uint8Array }> {
  const enc = await ChunkedRequestEncoder.create(key.config, { crypto });
  const wire = await enc.encapsulateAll(encodeRequest({ method: 'POST', scheme: 'https', authority: 'pod', path: '/v1/chat/completions', headers: HEADERS, content: body, trailers: [] }), BULK);
  return { enc, wire };
}

/** The gateway: open the request, seal a response echoing its body (head, 16 KiB content chunks, end). */
async function gateway(key: GatewayKey, wire: Uint8Array, crypto: SessionCrypto): Promise<Uint8Array[]> {
  const dec = new ChunkedRequestDecoder((id) => (id === key.config.keyId ? key : undefined), { crypto });
  const plain = await dec.push(wire);
  plain.push(await dec.finish());
  const req = decodeRequest(concat(...plain));
  const res = await dec.responseEncoder();
  const parts = [res.header(), await res.seal(encodeResponseHead(200, HEADERS), false)];
  for (let at = 0; at < req.content.length; at += BULK) parts.push(await res.seal(encodeContentChunk(req.content.subarray(at, at + BULK)), false));
  parts.push(await res.seal(encodeResponseEnd(), true));
  return parts;
}

/** The network delivering the response, one sealed chunk per read. */
function network(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}

/** Client step 2: decrypt the streamed response and decode its BHTTP; returns the content length. */
async function clientDecapsulate(enc: ChunkedRequestEncoder, body: ReadableStream<Uint8Array>): Promise<number> {
  const bhttp = new BhttpResponseDecoder();
  let n = 0;
  for await (const p of decryptResponseStream(body, enc.responseDecoder()) as unknown as AsyncIterable<Uint8Array>) {
    for (const e of bhttp.push(p)) if (e.type === 'data') n += e.data.length;
  }
  bhttp.finish();
  return n;
}

/** Client steps only (the budget's definition); the gateway runs between them, untimed. */
async function ccinferClient(key: GatewayKey, body: Uint8Array, crypto: SessionCrypto): Promise<Timed> {
  const t0 = performance.now();
  const { enc, wire } = await clientEncapsulate(key, body, crypto);
  const t1 = performance.now();
  const stream = network(await gateway(key, wire, nodeSessionCrypto));
  const t2 = performance.now();
  const n = await clientDecapsulate(enc, stream);
  const t3 = performance.now();
  if (n !== body.length) throw new Error('ccinfer exchange lost bytes');
  return { overriddenDuration: t1 - t0 + (t3 - t2) };
}

/** Client and gateway, all timed. */
async function ccinferExchange(key: GatewayKey, body: Uint8Array): Promise<void> {
  const { enc, wire } = await clientEncapsulate(key, body, nodeSessionCrypto);
  const n = await clientDecapsulate(enc, network(await gateway(key, wire, nodeSessionCrypto)));
  if (n !== body.length) throw new Error('ccinfer exchange lost bytes');
}

// ————— EHBP —————

async function ehbpClient(server: Identity, body: Uint8Array): Promise<Timed> {
  const input = new Request('https://pod/v1/chat/completions', { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/json' } });
  const t0 = performance.now();
  const { request, context } = await server.encryptRequestWithContext(input);
  await request.arrayBuffer(); // the encrypted request body, as a transport would send it
  const t1 = performance.now();
  // The server: seal a same-size response from the request context's exporter, 16 KiB chunks, 4-byte lengths.
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
  const response = new Response(network(frames), { status: 200, headers: { 'ehbp-response-nonce': bytesToHex(nonce), 'content-type': 'application/json' } });
  const t2 = performance.now();
  const plain = await (await server.decryptResponseWithContext(response, context!)).arrayBuffer();
  const t3 = performance.now();
  if (plain.byteLength !== body.length) throw new Error('ehbp exchange lost bytes');
  return { overriddenDuration: t1 - t0 + (t3 - t2) };
}

// ————— streaming through a real gateway —————

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
  const gw = await createGateway({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, evidence: await createSimulatedProvider() });
  const { url } = await gw.listen(0, '127.0.0.1');
  const appraise = async (b: Uint8Array): Promise<AttestedDocument> => ({ ok: true, tee: 'bundle', verifiedAt: '', claims: {}, checks: [], errors: [], warnings: [], keyConfig: decodeBundle(b).keyConfig });
  try {
    const client = new SecureClient({ endpoint: url, appraise, crypto: nodeSessionCrypto });
    await client.attest();
    const t0 = performance.now();
    let n = 0;
    for await (const _e of (await client.infer({ model: 'x', stream: true, messages: [] })) as AsyncIterable<unknown>) n++;
    const s = (performance.now() - t0) / 1000;
    if (n !== chunks) throw new Error(`received ${n} of ${chunks} chunks`);
    return { value: Math.round(n / s), unit: 'chunks/s' };
  } finally {
    await gw.close();
    upstream.closeAllConnections();
    upstream.close();
  }
}

export async function cases(): Promise<BenchCase[]> {
  const key = await generateGatewayKey(1);
  const ehbpServer = await Identity.generate();
  const web = webCryptoSessionCrypto;
  const node = nodeSessionCrypto;
  // One exchange each before timing, so that a broken path fails here rather than as a fast number.
  await ccinferClient(key, KIB, node);
  await ccinferClient(key, KIB, web);
  await ehbpClient(ehbpServer, KIB);
  const wire1k = (await clientEncapsulate(key, KIB, node)).wire;
  const client = 'client only: encapsulate + decapsulate timed, gateway untimed';
  return [
    { name: 'peer.ehbp.request1k', title: `EHBP 0.1.7 ${client}; 1 KB body-only request + 1 KB response, Request/Response API, pure-JS crypto`, fn: () => ehbpClient(ehbpServer, KIB) },
    { name: 'session.request1k', title: `ccinfer ${client}; 1 KB request + 1 KB response, whole message (BHTTP) in chunked OHTTP, node:crypto`, fn: () => ccinferClient(key, KIB, node), budgetMs: 0.3, compareTo: ['peer.ehbp.request1k'] },
    { name: 'session.request1k.webcrypto', title: `as session.request1k with the WebCrypto backend (browsers)`, fn: () => ccinferClient(key, KIB, web), compareTo: ['peer.ehbp.request1k', 'session.request1k'] },
    { name: 'session.exchange1k', title: 'ccinfer 1 KB request + 1 KB response, client AND gateway all timed (node:crypto both)', fn: () => ccinferExchange(key, KIB) },
    { name: 'session.gateway1k', title: 'ccinfer gateway alone: open a 1 KB chunked request, seal a 1 KB response (node:crypto)', fn: () => gateway(key, wire1k, node) },
    { name: 'peer.ehbp.mib', title: `EHBP 0.1.7 ${client}; 1 MiB body-only request (one AEAD message) + 1 MiB response in 16 KiB chunks`, fn: () => ehbpClient(ehbpServer, MIB) },
    { name: 'session.mib', title: `ccinfer ${client}; 1 MiB request + 1 MiB response, 16 KiB chunks both ways, node:crypto`, fn: () => ccinferClient(key, MIB, node), budgetMs: 5, compareTo: ['peer.ehbp.mib'] },
    { name: 'session.mib.webcrypto', title: 'as session.mib with the WebCrypto backend (browsers)', fn: () => ccinferClient(key, MIB, web), compareTo: ['peer.ehbp.mib', 'session.mib'] },
    { name: 'session.exchangeMib', title: 'ccinfer 1 MiB request + 1 MiB response, client AND gateway all timed (node:crypto both)', fn: () => ccinferExchange(key, MIB) },
    { name: 'session.chunksPerSecond', title: '5000 SSE chunks streamed upstream → gateway (sealed one by one) → client on 127.0.0.1', measure: chunksPerSecond },
  ];
}
