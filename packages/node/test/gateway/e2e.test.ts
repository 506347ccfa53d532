import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  SecureClient,
  SessionError,
  TransportError,
  VerificationError,
  decodeBundle,
  parseKeyConfigList,
  type AttestedDocument,
  type Fetcher,
} from '@ccinfer/core';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { fakeAppraise } from './fake-appraiser.js';
import { expectCode } from '../../../../test-support/helpers.js';

let model: ModelServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  model = await startModelServer({ tokenDelayMs: 15 });
  gateway = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider() });
  ({ url } = await gateway.listen(0, '127.0.0.1'));
});
afterAll(async () => {
  await gateway.close();
  await model.close();
});

const ask = (prompt: string, stream = false): { model: string; messages: { role: string; content: string }[]; stream: boolean } => ({
  model: 'ccinfer-demo-1',
  messages: [{ role: 'user', content: prompt }],
  stream,
});

describe('SecureClient ↔ gateway on loopback (simulated SNP pod)', () => {
  it('non-streaming infer returns the model JSON', async () => {
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
    const events: string[] = [];
    client.on('attesting', () => events.push('attesting')).on('attested', () => events.push('attested'));
    const out = (await client.infer(ask('what is 2+2?'))) as { choices: { message: { content: string } }[] };
    expect(out.choices[0]!.message.content).toBe(demoReply('what is 2+2?'));
    expect(events).toEqual(['attesting', 'attested']);
    const ev = client.exportEvidence()!;
    expect(decodeBundle(ev.bundle).nonce).toEqual(ev.nonce);
    expect(ev.document.ok).toBe(true);
  });

  it('streaming infer yields SSE events as the model produces them', async () => {
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
    await client.attest();
    const stream = (await client.infer(ask('stream please', true))) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>;
    const times: number[] = [];
    let text = '';
    for await (const e of stream) {
      times.push(Date.now());
      text += e.choices[0]!.delta.content ?? '';
    }
    expect(text).toBe(demoReply('stream please'));
    // ~20 tokens 15 ms apart: delivered over time, not all at the end.
    expect(times.length).toBeGreaterThan(10);
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(100);
  });

  it('the attested key is reused until maxEvidenceAgeSeconds, then re-attested', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise, maxEvidenceAgeSeconds: 60, clock: { now: () => new Date(now) } });
    const before = gateway.stats.attest;
    await client.infer(ask('a'));
    await client.infer(ask('b'));
    expect(gateway.stats.attest - before).toBe(1);
    now += 61_000;
    await client.infer(ask('c'));
    expect(gateway.stats.attest - before).toBe(2);
  });

  it('fail closed: when appraisal fails, the pod receives zero request bytes', async () => {
    const sent: { url: string; body: string }[] = [];
    const spy: Fetcher = async (u, init) => {
      sent.push({ url: u, body: init?.body ? Buffer.from(init.body as Uint8Array).toString('latin1') : '' });
      return fetch(u, init);
    };
    const refuse = async (b: Uint8Array, n: Uint8Array): Promise<AttestedDocument> => ({ ...(await fakeAppraise(b, n)), ok: false });
    const client = new SecureClient({ endpoint: url, appraise: refuse, fetch: spy });
    const rejected: string[] = [];
    client.on('rejected', (e) => rejected.push(e.error.code));
    const ohttpBefore = gateway.stats.ohttp;
    const receivedBefore = model.received.length;
    await expectCode(client.infer(ask('SECRET-PROMPT-4242')), VerificationError, 'ERR_SESSION_REJECTED');
    expect(rejected).toEqual(['ERR_SESSION_REJECTED']);
    expect(gateway.stats.ohttp - ohttpBefore).toBe(0);
    expect(model.received.length - receivedBefore).toBe(0);
    expect(sent.map((s) => new URL(s.url).pathname)).toEqual(['/.well-known/ccinfer/attest']);
    expect(sent.some((s) => s.body.includes('SECRET-PROMPT'))).toBe(false);
  });

  it('evidence not bound to this session (a replayed bundle) is refused before any request byte', async () => {
    let captured: Uint8Array | undefined;
    const replay: Fetcher = async (u, init) => {
      const res = await fetch(u, init);
      if (!u.endsWith('/attest')) return res;
      const body = new Uint8Array(await res.arrayBuffer());
      captured ??= body; // the first bundle, replayed to every later attest
      return new Response(captured.slice(), { status: 200, headers: { 'content-type': 'application/cbor' } });
    };
    await new SecureClient({ endpoint: url, appraise: fakeAppraise, fetch: replay }).attest();
    const ohttpBefore = gateway.stats.ohttp;
    await expectCode(new SecureClient({ endpoint: url, appraise: fakeAppraise, fetch: replay }).infer(ask('x')), VerificationError, 'ERR_SESSION_REJECTED');
    expect(gateway.stats.ohttp).toBe(ohttpBefore);
  });

  it('key rotation under concurrent requests: none lost, none answered to the wrong request', async () => {
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
    await client.attest();
    const rekeyed: number[] = [];
    client.on('rekeyed', (e) => rekeyed.push(e.keyId));
    const prompts = Array.from({ length: 16 }, (_, i) => `prompt number ${i}`);
    // Marked safe to repeat: a request that meets the rotated key is re-sent to the new one after re-attesting.
    const retry = { retryOnKeyChange: true };
    const all = Promise.all(prompts.map((p) => client.infer(ask(p), retry) as Promise<{ choices: { message: { content: string } }[] }>));
    await gateway.rotateKey();
    const outs = await all;
    outs.forEach((o, i) => expect(o.choices[0]!.message.content).toBe(demoReply(prompts[i]!)));
    // A request after rotation re-attests (key-config-mismatch) and succeeds.
    const after = (await client.infer(ask('after'), retry)) as { choices: { message: { content: string } }[] };
    expect(after.choices[0]!.message.content).toBe(demoReply('after'));
    expect(rekeyed).toEqual([gateway.key.config.keyId]);
  });

  it('keepPrevious rotation lets requests to the old key through without re-attesting', async () => {
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
    await client.attest();
    const before = gateway.stats.attest;
    await gateway.rotateKey({ keepPrevious: true });
    await client.infer(ask('old key'));
    expect(gateway.stats.attest).toBe(before);
  });

  it('upstream failures arrive as an inner 502, not a transport error on the outer hop', async () => {
    const dead = await startModelServer();
    await dead.close();
    const g = await createGateway({ upstream: dead.url, evidence: await createSimulatedProvider() });
    const { url: u } = await g.listen();
    try {
      const e = await expectCode(new SecureClient({ endpoint: u, appraise: fakeAppraise }).infer(ask('x')), TransportError, 'ERR_SESSION_UPSTREAM_STATUS');
      expect((e as TransportError).status).toBe(502);
    } finally {
      await g.close();
    }
  });

  it('an upstream that dies mid-stream gives the client an error, never a short reply', async () => {
    const flaky = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"partial"}}]}\n\n');
      setTimeout(() => res.socket?.destroy(), 30);
    });
    flaky.listen(0, '127.0.0.1');
    await once(flaky, 'listening');
    const g = await createGateway({ upstream: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`, evidence: await createSimulatedProvider() });
    const { url: u } = await g.listen();
    try {
      const stream = (await new SecureClient({ endpoint: u, appraise: fakeAppraise }).infer(ask('x', true))) as AsyncIterable<unknown>;
      const got: unknown[] = [];
      await expect(
        (async () => {
          for await (const e of stream) got.push(e);
        })(),
      ).rejects.toBeInstanceOf(SessionError);
      expect(got.length).toBe(1);
    } finally {
      await g.close();
      flaky.closeAllConnections();
      flaky.close();
    }
  });

  it('an upstream that never answers becomes an inner 504 after upstreamTimeoutMs', async () => {
    const silent = createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const g = await createGateway({ upstream: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, evidence: await createSimulatedProvider(), upstreamTimeoutMs: 150 });
    const { url: u } = await g.listen();
    try {
      const e = await expectCode(new SecureClient({ endpoint: u, appraise: fakeAppraise }).infer(ask('x')), TransportError, 'ERR_SESSION_UPSTREAM_STATUS');
      expect((e as TransportError).status).toBe(504);
    } finally {
      await g.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('ERR_SESSION_JSON when the model server answers something that is not JSON', async () => {
    const text = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('not json');
    });
    text.listen(0, '127.0.0.1');
    await once(text, 'listening');
    const g = await createGateway({ upstream: `http://127.0.0.1:${(text.address() as AddressInfo).port}`, evidence: await createSimulatedProvider() });
    const { url: u } = await g.listen();
    try {
      await expectCode(new SecureClient({ endpoint: u, appraise: fakeAppraise }).infer(ask('x')), SessionError, 'ERR_SESSION_JSON');
    } finally {
      await g.close();
      text.close();
    }
  });

  it('oversized requests are refused with 413 problem+json', async () => {
    const g = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider(), maxBodyBytes: 2048 });
    const { url: u } = await g.listen();
    try {
      const e = await expectCode(new SecureClient({ endpoint: u, appraise: fakeAppraise }).infer(ask('x'.repeat(5000))), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
      expect((e as TransportError).status).toBe(413);
    } finally {
      await g.close();
    }
  });

  it('malformed messages get problem+json, never a stack trace', async () => {
    const post = (path: string, type: string, body: Uint8Array): Promise<Response> => fetch(url + path, { method: 'POST', headers: { 'content-type': type }, body: body as Uint8Array<ArrayBuffer> });
    // Key ids are random: junk with any other id than the gateway's names no key it holds.
    const junk = await post('/.well-known/ccinfer/ohttp', 'message/ohttp-chunked-req', new Uint8Array(100).fill((gateway.key.config.keyId + 1) & 0xff));
    expect(junk.status).toBe(400);
    expect(junk.headers.get('content-type')).toBe('application/problem+json');
    expect(((await junk.json()) as { type: string }).type).toBe('urn:ccinfer:error:key-config-mismatch');
    const trunc = await post('/.well-known/ccinfer/ohttp', 'message/ohttp-chunked-req', Uint8Array.from([gateway.key.config.keyId, 0, 0x20, 0, 1, 0, 2, 1, 2]));
    expect(trunc.status).toBe(400);
    expect(((await trunc.json()) as { type: string }).type).toBe('urn:ccinfer:error:bad-request');
    expect((await post('/.well-known/ccinfer/ohttp', 'application/json', new Uint8Array(2))).status).toBe(415);
    expect((await post('/.well-known/ccinfer/attest', 'application/cbor', new Uint8Array(3))).status).toBe(400);
    expect((await fetch(url + '/.well-known/ccinfer/attest')).status).toBe(405);
    expect((await fetch(url + '/nope')).status).toBe(404);
    const text = await (await fetch(url + '/nope')).text();
    expect(text).not.toMatch(/at .*\.ts/);
  });

  it('serves ohttp-keys and healthz', async () => {
    const keys = parseKeyConfigList(new Uint8Array(await (await fetch(url + '/.well-known/ohttp-keys')).arrayBuffer()));
    expect(keys[0]!.publicKey).toEqual(gateway.key.config.publicKey);
    expect((await fetch(url + '/healthz')).status).toBe(200);
  });
});
