/**
 * Streamed request bodies end to end (docs/wire-protocol.md "Streamed requests"): SecureClient encrypts a large
 * or streamed body chunk by chunk, the gateway forwards each decrypted chunk to the upstream as it arrives, and
 * completes the upstream request only after the authenticated final chunk.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch as undiciFetch } from 'undici';
import { ChunkedRequestEncoder, MEDIA_TYPE_CHUNKED_REQUEST, SecureClient, SessionError, TransportError, parseKeyConfig } from '@ccinfer/core';
import { encodeContentChunk, encodeMessageEnd, encodeRequestHead, KEY_CONFIG_HEADER, keyConfigDigest } from '@ccinfer/core/internal';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createSimulatedProvider } from '../../src/simulator.js';
import { nodeSessionCrypto } from '../../src/session-crypto.js';
import { fakeAppraise } from './fake-appraiser.js';
import { expectCode } from '../../../../test-support/helpers.js';
import { hashingUpstream, type HashingUpstream } from '../../../../test-support/upload.js';

let up: HashingUpstream;
let upstreamUrl: string;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  up = await hashingUpstream();
  upstreamUrl = up.url;
  gateway = await createGateway({ upstream: upstreamUrl, evidence: await createSimulatedProvider(), maxBodyBytes: 64 * 1024 * 1024 });
  ({ url } = await gateway.listen(0, '127.0.0.1'));
});
afterAll(async () => {
  await gateway.close();
  up.close();
});

const client = (): SecureClient => new SecureClient({ endpoint: url, appraise: fakeAppraise, crypto: nodeSessionCrypto, fetch: undiciFetch as never });

/** Deterministic pseudo-random bytes (a counter under SHA-256), produced piece by piece. */
function piece(i: number, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let o = 0; o < size; o += 32) out.set(createHash('sha256').update(`${i}:${o}`).digest().subarray(0, Math.min(32, size - o)), o);
  return out;
}

describe('streamed uploads through the gateway', () => {
  it('a ReadableStream body reaches the upstream while it is still being produced, and arrives intact', async () => {
    const pieces = 48;
    const size = 64 * 1024;
    const expected = createHash('sha256');
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // Half-way, wait until the upstream has received the first half: a client or gateway that buffered
        // the whole body before forwarding would never get there (the test would time out).
        if (i === pieces / 2) await up.progress((pieces / 2) * size);
        if (i === pieces) return controller.close();
        const p = piece(i++, size);
        expected.update(p);
        controller.enqueue(p);
      },
    });
    const res = await client().fetch(`${url}/v1/files`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sha256: expected.digest('hex'), bytes: pieces * size });
    expect(up.seen.at(-1)).toMatchObject({ ended: true, aborted: false });
  });

  it('a large Uint8Array and a Blob are streamed; small bodies are still sent whole', async () => {
    const c = client();
    const big = piece(7, 3 * 1024 * 1024 + 5);
    const sha = createHash('sha256').update(big).digest('hex');
    for (const body of [big, new Blob([big])]) {
      const res = await c.fetch(`${url}/v1/files`, { method: 'POST', body });
      expect(await res.json()).toEqual({ sha256: sha, bytes: big.length });
    }
    const small = await c.fetch(`${url}/v1/files`, { method: 'POST', body: 'hello' });
    expect(await small.json()).toEqual({ sha256: createHash('sha256').update('hello').digest('hex'), bytes: 5 });
  });

  it('an AsyncIterable body (a Node stream) is streamed', async () => {
    async function* gen(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 10; i++) yield piece(i, 100_000);
    }
    const h = createHash('sha256');
    for (let i = 0; i < 10; i++) h.update(piece(i, 100_000));
    const res = await client().fetch(`${url}/v1/files`, { method: 'POST', body: gen() as never });
    expect(await res.json()).toEqual({ sha256: h.digest('hex'), bytes: 1_000_000 });
  });

  it('a body source that fails is ERR_SESSION_BODY, and the upstream request is aborted, never completed', async () => {
    const before = up.seen.length;
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (n++ < 8) return controller.enqueue(piece(n, 64 * 1024));
        await up.progress(4 * 64 * 1024);
        controller.error(new Error('disk read failed'));
      },
    });
    await expectCode(client().fetch(`${url}/v1/files`, { method: 'POST', body }), SessionError, 'ERR_SESSION_BODY');
    const bad = new ReadableStream({ start: (c) => (c.enqueue('not bytes'), c.close()) });
    await expectCode(client().fetch(`${url}/v1/files`, { method: 'POST', body: bad as ReadableStream<Uint8Array> }), SessionError, 'ERR_SESSION_BODY');
    await until(() => up.seen.slice(before).every((r) => r.aborted || !r.ended) && up.seen.length > before);
    expect(up.seen.slice(before).some((r) => r.ended)).toBe(false);
  });

  it('a request cut before its authenticated final chunk is refused and its upstream request aborted', async () => {
    const c = client();
    const kc = (await c.attest()).keyConfig;
    const encoder = await ChunkedRequestEncoder.create(parseKeyConfig(kc), { crypto: nodeSessionCrypto });
    const parts = [
      encoder.header(),
      await encoder.seal(encodeRequestHead({ method: 'POST', scheme: 'http', authority: 'x', path: '/v1/files', headers: [] }), false),
    ];
    for (let i = 0; i < 4; i++) parts.push(await encoder.seal(encodeContentChunk(piece(i, 16_000)), false));
    const before = up.seen.length;
    // Everything but the final chunk, then a clean end of the HTTP body once the upstream has received
    // content: the message is truncated after its forwarding began.
    let sent = false;
    const res = await undiciFetch(`${url}/.well-known/ccinfer/ohttp`, {
      method: 'POST',
      headers: { 'content-type': MEDIA_TYPE_CHUNKED_REQUEST, [KEY_CONFIG_HEADER]: keyConfigDigest(kc) },
      body: new ReadableStream<Uint8Array<ArrayBuffer>>({
        async pull(ctl) {
          if (sent) {
            await up.progress(16_000);
            return ctl.close();
          }
          sent = true;
          ctl.enqueue(Buffer.concat(parts));
        },
      }) as never,
      duplex: 'half',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { type: string }).type).toBe('urn:ccinfer:error:bad-request');
    await until(() => up.seen.length > before && up.seen.at(-1)!.aborted);
    expect(up.seen.at(-1)).toMatchObject({ ended: false, aborted: true });
    // The same chunks with the final one: complete, forwarded, and answered.
    const final = await encoder.seal(encodeMessageEnd(), true);
    const whole = await undiciFetch(`${url}/.well-known/ccinfer/ohttp`, {
      method: 'POST',
      headers: { 'content-type': MEDIA_TYPE_CHUNKED_REQUEST, [KEY_CONFIG_HEADER]: keyConfigDigest(kc) },
      body: Buffer.concat([...parts, final]),
    });
    // Its `enc` was admitted with the truncated attempt: the same encapsulation again is a replay.
    expect(((await whole.json()) as { type: string }).type).toBe('urn:ccinfer:error:replayed-request');
  });

  it('a streamed request over maxBodyBytes gets 413 too-large and its upstream request is aborted', async () => {
    const g = await createGateway({ upstream: upstreamUrl, evidence: await createSimulatedProvider(), maxBodyBytes: 1024 * 1024 });
    const { url: u } = await g.listen(0, '127.0.0.1');
    const before = up.seen.length;
    try {
      const c = new SecureClient({ endpoint: u, appraise: fakeAppraise, crypto: nodeSessionCrypto, fetch: undiciFetch as never });
      const e = await expectCode(c.fetch(`${u}/v1/files`, { method: 'POST', body: piece(1, 4 * 1024 * 1024) }), TransportError, 'ERR_SESSION_GATEWAY_HTTP');
      expect((e as TransportError).status).toBe(413);
      await until(() => up.seen.length > before && up.seen.at(-1)!.aborted);
      expect(up.seen.at(-1)!.ended).toBe(false);
    } finally {
      await g.close();
    }
  });

  it('after a key change a replayable body is encrypted again to the new key; a one-shot stream is not resent', async () => {
    const c = client();
    await c.attest();
    await gateway.rotateKey();
    const big = piece(3, 2 * 1024 * 1024);
    const res = await c.fetch(`${url}/v1/files`, { method: 'PUT', headers: { 'idempotency-key': 'k1' }, body: big });
    expect(((await res.json()) as { bytes: number }).bytes).toBe(big.length);
    await gateway.rotateKey();
    const once = new ReadableStream<Uint8Array>({ start: (ctl) => (ctl.enqueue(big), ctl.close()) });
    await expectCode(c.fetch(`${url}/v1/files`, { method: 'PUT', headers: { 'idempotency-key': 'k2' }, body: once }), TransportError, 'ERR_SESSION_NOT_RETRIED');
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

