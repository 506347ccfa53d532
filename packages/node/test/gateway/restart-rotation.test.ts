import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChunkedRequestEncoder,
  SecureClient,
  TransportError,
  encodeRequest,
  generateGatewayKey,
  MEDIA_TYPE_CHUNKED_REQUEST,
  type Fetcher,
} from '@ccinfer/core';
import { keyConfigDigest, KEY_CONFIG_HEADER } from '@ccinfer/core/internal';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { KeyRing } from '../../src/gateway/key-ring.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { demoReply, startModelServer, type ModelServer } from '../../src/demo/model-server.js';
import { fakeAppraise } from './fake-appraiser.js';
import { ConfigError } from '@ccinfer/core';
import { expectCode } from '../../../../test-support/helpers.js';

let model: ModelServer;
beforeAll(async () => {
  model = await startModelServer({ tokenDelayMs: 5 });
});
afterAll(async () => {
  await model.close();
});

const ask = (prompt: string, stream = false) => ({ model: 'ccinfer-demo-1', messages: [{ role: 'user', content: prompt }], stream });
type Reply = { choices: { message: { content: string } }[] };
/** These tests' requests may run twice (the demo model is stateless), so they are marked safe to resend. */
const R = { retryOnKeyChange: true };

async function streamText(client: SecureClient, prompt: string): Promise<string> {
  let text = '';
  for await (const e of (await client.infer(ask(prompt, true), R)) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>) text += e.choices[0]!.delta.content ?? '';
  return text;
}

describe('gateway restarts: key identity cannot collide', () => {
  it('a gateway restarted on the same port costs the client one re-attestation and no failed request', async () => {
    const evidence = await createSimulatedProvider();
    const first = await createGateway({ upstream: model.url, evidence });
    const { port, url } = await first.listen(0, '127.0.0.1');
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
    const rekeyed: number[] = [];
    client.on('rekeyed', (e) => rekeyed.push(e.keyId));
    expect(((await client.infer(ask('before'), R)) as Reply).choices[0]!.message.content).toBe(demoReply('before'));
    await first.close();

    const second = await createGateway({ upstream: model.url, evidence });
    await second.listen(port, '127.0.0.1');
    try {
      const prompts = Array.from({ length: 12 }, (_, i) => `after restart ${i}`);
      const outs = await Promise.all(prompts.map((p, i) => (i % 2 ? streamText(client, p) : (client.infer(ask(p), R) as Promise<Reply>).then((r) => r.choices[0]!.message.content))));
      outs.forEach((o, i) => expect(o).toBe(demoReply(prompts[i]!)));
      expect(second.stats.attest).toBe(1);
      expect(rekeyed).toEqual([second.key.config.keyId]);
    } finally {
      await second.close();
    }
  });

  it('a restarted key that reuses the old key id is still recognised as another key (no decrypt failure)', async () => {
    const evidence = await createSimulatedProvider();
    const g = await createGateway({ upstream: model.url, evidence });
    const { url } = await g.listen();
    try {
      const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
      await client.attest();
      const oldId = g.key.config.keyId;
      const oldKey = g.key.config.publicKey;
      // Rotate (forgetting the old key) until the new key has the old one's id: a one-byte id collides.
      for (let i = 0; i < 5000 && (g.key.config.keyId !== oldId || g.key.config.publicKey === oldKey); i++) await g.rotateKey();
      expect(g.key.config.keyId).toBe(oldId);
      const before = g.stats.attest;
      expect(((await client.infer(ask('same id'), R)) as Reply).choices[0]!.message.content).toBe(demoReply('same id'));
      expect(g.stats.attest - before).toBe(1);
    } finally {
      await g.close();
    }
  });

  it('a request naming a key config the gateway does not hold gets key-config-mismatch before decryption', async () => {
    const g = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider() });
    const { url } = await g.listen();
    try {
      const stranger = await generateGatewayKey(g.key.config.keyId);
      const message = encodeRequest({ method: 'POST', scheme: 'https', authority: 'pod', path: '/v1/chat/completions', headers: [], content: new Uint8Array(4), trailers: [] });
      const send = async (kc: typeof stranger, header: Record<string, string>): Promise<Response> => {
        const body = await (await ChunkedRequestEncoder.create(kc.config)).encapsulateAll(message);
        return fetch(url + '/.well-known/ccinfer/ohttp', { method: 'POST', headers: { 'content-type': MEDIA_TYPE_CHUNKED_REQUEST, ...header }, body: body as Uint8Array<ArrayBuffer> });
      };
      const named = await send(stranger, { [KEY_CONFIG_HEADER]: keyConfigDigest(stranger.encoded) });
      expect(named.status).toBe(400);
      expect(((await named.json()) as { type: string }).type).toBe('urn:ccinfer:error:key-config-mismatch');
      // A digest of the right key config but a body encrypted to another key with that id does not open.
      const wrong = await send(stranger, { [KEY_CONFIG_HEADER]: keyConfigDigest(g.key.encoded) });
      expect(((await wrong.json()) as { type: string }).type).toBe('urn:ccinfer:error:bad-request');
      const received = model.received.length;
      expect(g.stats.rejected).toBe(2);
      expect(model.received.length).toBe(received);
    } finally {
      await g.close();
    }
  });

  it('key ids are random and a rotation never gives the new key the id of the key kept for grace', async () => {
    const ring = await KeyRing.create();
    const ids = new Set<number>();
    for (let i = 0; i < 600; i++) {
      const prev = ring.current;
      const next = await ring.rotate(true);
      expect(next.config.keyId).not.toBe(prev.config.keyId);
      ids.add(next.config.keyId);
      // Both keys held; each opens only under its own id and digest.
      expect(ring.lookupFor(keyConfigDigest(prev.encoded))!(prev.config.keyId)).toBe(prev);
      expect(ring.lookupFor(keyConfigDigest(prev.encoded))!(next.config.keyId)).toBeUndefined();
    }
    // Not a counter: 600 rotations of a random one-byte id cover most ids, in no fixed order.
    expect(ids.size).toBeGreaterThan(200);
    const dropped = ring.held[1]!;
    ring.dropPrevious();
    expect(ring.lookupFor(keyConfigDigest(dropped.encoded))).toBeUndefined();
    expect(ring.held).toEqual([ring.current]);
  });
});

describe('rotation', () => {
  let g: Gateway;
  let url: string;
  beforeAll(async () => {
    g = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider() });
    ({ url } = await g.listen());
  });
  afterAll(async () => g.close());

  it('rotation with a grace period under concurrent streams: none fails, then one re-attestation', async () => {
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise });
    await client.attest();
    const before = g.stats.attest;
    const prompts = Array.from({ length: 16 }, (_, i) => `stream ${i}`);
    const all = Promise.all(prompts.map((p) => streamText(client, p)));
    await g.rotateKey({ keepPrevious: true, graceMs: 20_000 });
    (await all).forEach((t, i) => expect(t).toBe(demoReply(prompts[i]!)));
    expect(g.stats.attest).toBe(before); // the grace key served them
    await g.rotateKey({ keepPrevious: true, graceMs: 0 });
    await new Promise((r) => setTimeout(r, 20));
    const after = await Promise.all(prompts.map((p) => client.infer(ask(p), R) as Promise<Reply>));
    after.forEach((o, i) => expect(o.choices[0]!.message.content).toBe(demoReply(prompts[i]!)));
    expect(g.stats.attest - before).toBe(1);
  });

  it('rotateEveryMs rotates on its own and keeps the previous key for rotationGraceMs', async () => {
    const r = await createGateway({ upstream: model.url, evidence: await createSimulatedProvider(), rotateEveryMs: 60, rotationGraceMs: 1_000 });
    const { url: u } = await r.listen();
    try {
      const first = r.key;
      await new Promise((res) => setTimeout(res, 150));
      expect(r.key).not.toBe(first);
      const client = new SecureClient({ endpoint: u, appraise: fakeAppraise });
      for (let i = 0; i < 5; i++) expect(((await client.infer(ask(`tick ${i}`), R)) as Reply).choices[0]!.message.content).toBe(demoReply(`tick ${i}`));
    } finally {
      await r.close();
    }
  });

  it('ERR_SESSION_KEY_CONFIG_MISMATCH, and no resend, when the pod still attests the refused key (a forged refusal)', async () => {
    // A man-in-the-middle delivers the request and answers key-config-mismatch in the gateway's place.
    const forge: Fetcher = async (u, init) => {
      const res = await fetch(u, init);
      if (!u.endsWith('/ohttp')) return res;
      await res.body?.cancel();
      return new Response(JSON.stringify({ type: 'urn:ccinfer:error:key-config-mismatch', status: 400 }), { status: 400, headers: { 'content-type': 'application/problem+json' } });
    };
    const client = new SecureClient({ endpoint: url, appraise: fakeAppraise, fetch: forge });
    await client.attest();
    const received = model.received.length;
    const e = await expectCode(client.infer(ask('run me once'), R), TransportError, 'ERR_SESSION_KEY_CONFIG_MISMATCH');
    expect((e as TransportError).status).toBe(400);
    await new Promise((r) => setTimeout(r, 50));
    expect(model.received.length - received).toBe(1);
  });

  it('ERR_GATEWAY_OPTIONS for a rotation period, grace, limit or timeout out of range', async () => {
    const evidence = await createSimulatedProvider();
    for (const bad of [{ rotateEveryMs: 0 }, { rotationGraceMs: -1 }, { maxConcurrentRequests: -1 }, { maxConcurrentAttests: 1.5 }, { upstreamTimeoutMs: 2 ** 31 }, { requestTimeoutMs: Number.NaN }]) {
      await expectCode(createGateway({ upstream: model.url, evidence, ...bad }), ConfigError, 'ERR_GATEWAY_OPTIONS');
    }
  });
});
