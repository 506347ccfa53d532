/** CORS on the gateway's attest / OHTTP endpoints: only configured origins, preflights answered. */
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
