/**
 * A man-in-the-middle on loopback between a SecureClient and the gateway: it drops the final chunk of a
 * streamed response, replays a captured encapsulated request, and forges `key-config-mismatch` after
 * delivering a request. None of these may yield a short reply reported as complete, or a second execution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { AEAD_AES_256_GCM, SecureClient, SessionError, TransportError } from '@ccinfer/core';
import { readVarint } from '@ccinfer/core/internal';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { fakeAppraise } from './fake-appraiser.js';
import { expectCode } from '../../../../test-support/helpers.js';

type Tamper = (req: { path: string; body: Uint8Array }, forward: (body: Uint8Array) => Promise<Response>, res: ServerResponse) => Promise<void>;

let model: ModelServer;
let gateway: Gateway;
let gatewayUrl: string;

beforeAll(async () => {
  model = await startModelServer({ tokenDelayMs: 1 });
  gateway = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider() });
  ({ url: gatewayUrl } = await gateway.listen(0, '127.0.0.1'));
});
afterAll(async () => {
  await gateway.close();
  await model.close();
});

/** A proxy on 127.0.0.1 port 0 that hands every OHTTP exchange to `tamper`, and relays everything else. */
async function proxy(tamper: Tamper): Promise<{ url: string; server: Server }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const parts: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) parts.push(c);
      const body = new Uint8Array(Buffer.concat(parts));
      const path = req.url ?? '/';
      const forward = (b: Uint8Array): Promise<Response> =>
        fetch(gatewayUrl + path, { method: req.method ?? 'GET', headers: { 'content-type': req.headers['content-type'] ?? '' }, ...(req.method === 'POST' ? { body: b as Uint8Array<ArrayBuffer> } : {}) });
      if (path.endsWith('/ohttp')) return tamper({ path, body }, forward, res);
      const up = await forward(body);
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await up.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The gateway's sealed response up to (not including) its final chunk: draft §4 framing, nonce first. */
function withoutFinalChunk(body: Uint8Array): Uint8Array {
  // The client's first preference, AES-256-GCM: response nonce max(Nk, Nn) = max(32, 12) bytes (RFC 9458 §4.4).
  expect(gateway.key.config.algorithms[0]!.aeadId).toBe(AEAD_AES_256_GCM);
  let at = 32;
  for (;;) {
    const len = readVarint(body, at)!;
    if (len.value === 0) return body.subarray(0, at);
    at = len.next + len.value;
  }
}

const ask = (prompt: string, stream = false) => ({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: prompt }], stream });

describe('man-in-the-middle on loopback', () => {
  it('a streamed response cut before its final chunk: every event delivered, then ERR_OHTTP_TRUNCATED', async () => {
    const p = await proxy(async ({ body }, forward, res) => {
      const up = await forward(body);
      const sealed = new Uint8Array(await up.arrayBuffer());
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '' });
      res.end(Buffer.from(withoutFinalChunk(sealed)));
    });
    try {
      const client = new SecureClient({ endpoint: p.url, appraise: fakeAppraise });
      const stream = (await client.infer(ask('cut me', true))) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>;
      let text = '';
      const err = await (async () => {
        try {
          for await (const e of stream) text += e.choices[0]!.delta.content ?? '';
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      await expectCode(Promise.reject(err), SessionError, 'ERR_OHTTP_TRUNCATED');
      // The data before the cut was delivered (the demo model's whole reply and its [DONE] precede the final chunk).
      expect(text).toBe(demoReply('cut me'));
    } finally {
      p.server.close();
    }
  });

  it('the same stream through an honest relay ends cleanly (the check above is not always failing)', async () => {
    const p = await proxy(async ({ body }, forward, res) => {
      const up = await forward(body);
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await up.arrayBuffer()));
    });
    try {
      const stream = (await new SecureClient({ endpoint: p.url, appraise: fakeAppraise }).infer(ask('whole', true))) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>;
      let text = '';
      for await (const e of stream) text += e.choices[0]!.delta.content ?? '';
      expect(text).toBe(demoReply('whole'));
    } finally {
      p.server.close();
    }
  });

  it('a replayed encapsulated request is refused (replayed-request) and never reaches the model again', async () => {
    let captured: Uint8Array | undefined;
    const p = await proxy(async ({ body }, forward, res) => {
      captured ??= body.slice();
      const up = await forward(body);
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await up.arrayBuffer()));
    });
    try {
      await new SecureClient({ endpoint: p.url, appraise: fakeAppraise }).infer(ask('pay 100 once'));
      const received = model.received.length;
      const replayedBefore = gateway.stats.replayed;
      const again = await fetch(gatewayUrl + '/.well-known/ccinfer/ohttp', { method: 'POST', headers: { 'content-type': 'message/ohttp-chunked-req' }, body: captured! as Uint8Array<ArrayBuffer> });
      expect(again.status).toBe(400);
      expect(((await again.json()) as { type: string }).type).toBe('urn:ccinfer:error:replayed-request');
      expect(model.received.length).toBe(received);
      expect(gateway.stats.replayed).toBe(replayedBefore + 1);
    } finally {
      p.server.close();
    }
  });

  it('a replayed non-chunked (RFC 9458) request is refused too', async () => {
    const { encapsulateRequest, encodeRequest, utf8 } = await import('@ccinfer/core');
    const inner = encodeRequest({ method: 'POST', scheme: 'http', authority: 'pod', path: '/v1/chat/completions', headers: [['content-type', 'application/json']], content: utf8(JSON.stringify(ask('single'))), trailers: [] });
    const { encapsulated } = await encapsulateRequest(gateway.key.config, inner);
    const send = (): Promise<Response> => fetch(gatewayUrl + '/.well-known/ccinfer/ohttp', { method: 'POST', headers: { 'content-type': 'message/ohttp-req' }, body: encapsulated as Uint8Array<ArrayBuffer> });
    const received = model.received.length;
    expect((await send()).status).toBe(200);
    const again = await send();
    expect(((await again.json()) as { type: string }).type).toBe('urn:ccinfer:error:replayed-request');
    expect(model.received.length).toBe(received + 1);
  });

  it('a forged key-config-mismatch after delivering the request does not make the model run it twice', async () => {
    const p = await proxy(async ({ body }, forward, res) => {
      await (await forward(body)).arrayBuffer(); // delivered and executed…
      res.writeHead(400, { 'content-type': 'application/problem+json' }); // …then answered with a forgery
      res.end(JSON.stringify({ type: 'urn:ccinfer:error:key-config-mismatch' }));
    });
    try {
      const client = new SecureClient({ endpoint: p.url, appraise: fakeAppraise });
      const received = model.received.length;
      const attests = gateway.stats.attest;
      await expectCode(client.infer(ask('transfer 100')), TransportError, 'ERR_SESSION_NOT_RETRIED');
      expect(model.received.length).toBe(received + 1);
      expect(gateway.stats.attest).toBe(attests + 2); // re-attested, so the next request reaches a new key
    } finally {
      p.server.close();
    }
  });

  it('maxRequestsPerKey bounds the replay memory: a full key rotates, and its late requests get key-config-mismatch', async () => {
    const g = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider(), maxRequestsPerKey: 2 });
    const { url } = await g.listen();
    try {
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
      const first = g.key.config.keyId;
      await client.infer(ask('one'));
      await client.infer(ask('two'));
      await new Promise((r) => setTimeout(r, 50)); // the rotation runs in the background
      expect(g.key.config.keyId).not.toBe(first);
      // The client still holds the full key: refused without reaching the model, re-attested, not resent.
      const received = model.received.length;
      await expectCode(client.infer(ask('three')), TransportError, 'ERR_SESSION_NOT_RETRIED');
      expect(model.received.length).toBe(received);
      const out = (await client.infer(ask('four'))) as { choices: { message: { content: string } }[] };
      expect(out.choices[0]!.message.content).toBe(demoReply('four'));
    } finally {
      await g.close();
    }
  });
});
