/** Gateway HTTP surface: CORS only for configured origins (preflights answered), and bounded concurrent attests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createSimulatedProvider, startModelServer, type Gateway, type ModelServer } from '../../src/index.js';

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

describe('gateway CORS', () => {
  it('answers a preflight from an allowed origin', async () => {
    const res = await fetch(`${url}/.well-known/ccinfer/attest`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
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
