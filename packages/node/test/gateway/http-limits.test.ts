/** Gateway HTTP surface: CORS only for configured origins (preflights answered), and bounded concurrent attests. */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedRequestEncoder, encodeRequest } from '@ccinfer/core';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createSimulatedProvider, startModelServer, type ModelServer } from '../../src/simulator.js';

let model: ModelServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  model = await startModelServer();
  gateway = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider(), corsOrigins: ['https://app.example'] });
  ({ url } = await gateway.listen(0, '127.0.0.1'));
});
afterAll(async () => {
  await gateway.close();
  await model.close();
});

/** Sends one encapsulated request over a raw socket (so a test can stop reading, or vanish) and returns the socket. */
async function sendRawRequest(g: Gateway, port: number): Promise<Socket> {
  const enc = await ChunkedRequestEncoder.create(g.key.config);
  const body = await enc.encapsulateAll(encodeRequest({ method: 'POST', scheme: 'http', authority: 'x', path: '/v1/x', headers: [], content: new Uint8Array(10), trailers: [] }));
  const s = connect(port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.write(`POST /.well-known/ccinfer/ohttp HTTP/1.1\r\nhost: x\r\ncontent-type: message/ohttp-chunked-req\r\ncontent-length: ${body.length}\r\n\r\n`);
  s.write(body);
  return s;
}

describe('gateway CORS', () => {
  it('answers a preflight from an allowed origin', async () => {
    const res = await fetch(`${url}/.well-known/ccinfer/attest`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
    // The client's streamed OHTTP request carries `incremental: ?1` (draft-ietf-httpbis-incremental).
    expect(res.headers.get('access-control-allow-headers')).toContain('incremental');
    expect(res.headers.get('access-control-allow-headers')).toContain('ccinfer-key-config'); // sent with every sealed request
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('labels responses for an allowed origin, and only for it', async () => {
    const keys = await fetch(`${url}/.well-known/ohttp-keys`, { headers: { origin: 'https://app.example' } });
    expect(keys.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${url}/.well-known/ohttp-keys`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${url}/.well-known/ccinfer/ohttp`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(pre.status).toBe(405);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never on other paths', async () => {
    const res = await fetch(`${url}/healthz`, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('gateway attest concurrency', () => {
  it('answers 503 with Retry-After beyond maxConcurrentAttests, then serves again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inner = await createSimulatedProvider();
    const slow = { ...inner, name: 'slow', collect: async (r: Parameters<typeof inner.collect>[0]) => (await gate, inner.collect(r)) };
    const g = await createGateway({ upstream: model.url, evidence: slow, maxConcurrentAttests: 1 });
    const { url: u } = await g.listen(0, '127.0.0.1');
    try {
      const { encodeAttestRequest, randomBytes } = await import('@ccinfer/core');
      const post = () => fetch(`${u}/.well-known/ccinfer/attest`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: encodeAttestRequest({ v: 1, nonce: randomBytes(32) }) as Uint8Array<ArrayBuffer> });
      const first = post();
      await new Promise((r) => setTimeout(r, 50));
      const second = await post();
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      release();
      expect((await first).status).toBe(200);
      expect((await post()).status).toBe(200);
    } finally {
      await g.close();
    }
  });
});

describe('gateway resource bounds (review findings)', () => {
  it('a client that sends attest headers and no body holds no evidence slot', async () => {
    const g = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider(), maxConcurrentAttests: 1 });
    const { url: u, port } = await g.listen(0, '127.0.0.1');
    const idle = connect(port, '127.0.0.1');
    await new Promise((r) => idle.on('connect', r));
    idle.write('POST /.well-known/ccinfer/attest HTTP/1.1\r\nhost: x\r\ncontent-type: application/cbor\r\ncontent-length: 40\r\n\r\n');
    try {
      await new Promise((r) => setTimeout(r, 50));
      const { encodeAttestRequest, randomBytes } = await import('@ccinfer/core');
      const res = await fetch(`${u}/.well-known/ccinfer/attest`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: encodeAttestRequest({ v: 1, nonce: randomBytes(32) }) as Uint8Array<ArrayBuffer> });
      expect(res.status).toBe(200);
    } finally {
      idle.destroy();
      await g.close();
    }
  });

  it('a client that disconnects mid-stream ends the handler (no wait for a drain that never comes)', async () => {
    const http = await import('node:http');
    const flood = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const t = setInterval(() => res.write(Buffer.alloc(64 * 1024, 0x61)), 2);
      res.on('close', () => clearInterval(t));
    });
    flood.listen(0, '127.0.0.1');
    await new Promise((r) => flood.on('listening', r));
    const events: string[] = [];
    const g = await createGateway({ upstream: `http://127.0.0.1:${(flood.address() as { port: number }).port}`, evidence: await createSimulatedProvider(), log: (e) => events.push(e) });
    const { port } = await g.listen(0, '127.0.0.1');
    try {
      const s = await sendRawRequest(g, port);
      s.pause();
      await new Promise((r) => setTimeout(r, 400));
      s.destroy();
      const end = Date.now() + 3000;
      while (!events.includes('stream-failed') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(events).toContain('stream-failed');
    } finally {
      await g.close();
      flood.close();
    }
  });

  it('a client that goes away before the upstream answers cancels the upstream request (not left to upstreamTimeoutMs)', async () => {
    const http = await import('node:http');
    let upstreamClosed: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    let arrived: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    // An upstream that takes the request and never answers it.
    const silent = http.createServer((req, res) => {
      req.resume();
      arrived();
      res.on('close', () => upstreamClosed());
    });
    silent.listen(0, '127.0.0.1');
    await new Promise((r) => silent.on('listening', r));
    const g = await createGateway({ upstream: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, evidence: await createSimulatedProvider(), upstreamTimeoutMs: 60_000 });
    const { port } = await g.listen(0, '127.0.0.1');
    try {
      const s = await sendRawRequest(g, port);
      await reached;
      const t0 = Date.now();
      s.destroy();
      await closed;
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await g.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('OHTTP requests beyond maxConcurrentRequests get 503 with Retry-After', async () => {
    const g = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider(), maxConcurrentRequests: 0 });
    const { url: u } = await g.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${u}/.well-known/ccinfer/ohttp`, { method: 'POST', headers: { 'content-type': 'message/ohttp-chunked-req' }, body: new Uint8Array(10) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      // The gateway's own limit, not the upstream's.
      expect(((await res.json()) as { type: string }).type).toBe('urn:ccinfer:error:gateway-busy');
    } finally {
      await g.close();
    }
  });
});

describe('gateway path allowlist', () => {
  it('forwards only allowed path prefixes (default /v1/); others get an inner 404 without reaching the upstream', async () => {
    const { createSecureClient } = await import('../../src/index.js');
    const provider = await createSimulatedProvider();
    const g = await createGateway({ upstream: model.url, evidence: provider });
    const { url: u } = await g.listen(0, '127.0.0.1');
    try {
      const client = createSecureClient({ endpoint: u, anchors: provider.anchors, policy: await provider.referencePolicy(), fetcher: undefined });
      expect((await client.fetch(`${u}/v1/models`)).status).toBe(200);
      const blocked = await client.fetch(`${u}/metrics`);
      expect(blocked.status).toBe(404);
      expect(await blocked.text()).toMatch(/urn:ccinfer:error:not-found/);
    } finally {
      await g.close();
    }
  });
});
