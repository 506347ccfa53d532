/**
 * The node:crypto session backend: the published OHTTP examples byte for byte, byte-identical output to the
 * WebCrypto backend for the same keys and nonces, interoperation both ways (Node client ↔ WebCrypto gateway
 * and WebCrypto client ↔ Node gateway), and failures that stay failures (tampering, truncated tags, low-order
 * keys).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  ChunkedRequestDecoder,
  ChunkedRequestEncoder,
  KDF_HKDF_SHA256,
  SessionError,
  concat,
  decapsulateRequest,
  decryptResponseStream,
  encapsulateRequest,
  fromBase64Url,
  generateGatewayKey,
  openSealed,
  sealToKeyConfig,
  webCryptoSessionCrypto,
  type GatewayKey,
  type RawKeyPair,
  type SessionCrypto,
} from '@ccinfer/core';
import { nodeSessionCrypto } from '@ccinfer/node';
import { expectCode } from '../../../test-support/helpers.js';
import { ohttpExamples } from '../../../test-support/ohttp-examples.js';

ohttpExamples(nodeSessionCrypto);

const node = nodeSessionCrypto;
const web = webCryptoSessionCrypto;

function rawKeyPair(): RawKeyPair {
  const jwk = generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' });
  return { privateKey: fromBase64Url(jwk.d!), publicKey: fromBase64Url(jwk.x!) };
}

const keys: Record<number, GatewayKey> = {
  [AEAD_AES_128_GCM]: await generateGatewayKey(3, [{ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM }]),
  [AEAD_AES_256_GCM]: await generateGatewayKey(3, [{ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_256_GCM }]),
};
const aeadArb = fc.constantFrom(AEAD_AES_128_GCM, AEAD_AES_256_GCM);
const bodyArb = fc.uint8Array({ maxLength: 2500 });
const sizeArb = fc.integer({ min: 1, max: 900 });

async function sealChunked(enc: ChunkedRequestEncoder, body: Uint8Array, size: number): Promise<Uint8Array> {
  return enc.encapsulateAll(body, size);
}

/** One chunked exchange: client on `client`, gateway on `gateway`; returns both plaintexts as received. */
async function exchange(client: SessionCrypto, gateway: SessionCrypto, aeadId: number, body: Uint8Array, reply: Uint8Array, size: number): Promise<{ request: Uint8Array; response: Uint8Array }> {
  const key = keys[aeadId]!;
  const enc = await ChunkedRequestEncoder.create(key.config, { crypto: client });
  const wire = await sealChunked(enc, body, size);
  const dec = new ChunkedRequestDecoder((id) => (id === 3 ? key : undefined), { crypto: gateway });
  const got = await dec.push(wire);
  got.push(await dec.finish());
  const res = await dec.responseEncoder();
  const parts = [res.header()];
  for (let at = 0; at < reply.length; at += size) parts.push(await res.seal(reply.subarray(at, at + size), false));
  parts.push(await res.seal(new Uint8Array(0), true));
  const stream = decryptResponseStream(
    new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    }),
    enc.responseDecoder(),
  );
  const out: Uint8Array[] = [];
  for await (const p of stream as unknown as AsyncIterable<Uint8Array>) out.push(p);
  return { request: concat(...got), response: concat(...out) };
}

describe('node:crypto backend = WebCrypto backend', () => {
  it('AES-GCM seal is byte-identical and each opens the other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(16, 32), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 3000 }), async (nk, k, nonce, aad, pt) => {
          const kn = await node.aeadKey(k.subarray(0, nk));
          const kw = await web.aeadKey(k.subarray(0, nk));
          const a = await node.seal(kn, nonce, aad, pt);
          expect(a).toEqual(await web.seal(kw, nonce, aad, pt));
          expect(await web.open(kw, nonce, aad, a)).toEqual(pt);
          expect(await node.open(kn, nonce, aad, a)).toEqual(pt);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the same ephemeral key gives the same encapsulated request (chunked and RFC 9458), both AEADs', async () => {
    await fc.assert(
      fc.asyncProperty(aeadArb, bodyArb, sizeArb, async (aeadId, body, size) => {
        const kc = keys[aeadId]!.config;
        const ephemeralKeyPair = rawKeyPair();
        const a = await sealChunked(await ChunkedRequestEncoder.create(kc, { ephemeralKeyPair, crypto: node }), body, size);
        const b = await sealChunked(await ChunkedRequestEncoder.create(kc, { ephemeralKeyPair, crypto: web }), body, size);
        expect(a).toEqual(b);
        const s1 = await encapsulateRequest(kc, body, { ephemeralKeyPair, crypto: node });
        const s2 = await encapsulateRequest(kc, body, { ephemeralKeyPair, crypto: web });
        expect(s1.encapsulated).toEqual(s2.encapsulated);
      }),
      { numRuns: 25 },
    );
  });

  it('the same response nonce gives the same encapsulated response', async () => {
    const key = keys[AEAD_AES_256_GCM]!;
    const { encapsulated } = await encapsulateRequest(key.config, new Uint8Array([1, 2, 3]));
    const nonce = new Uint8Array(32).fill(9);
    const reply = new Uint8Array(5000).fill(7);
    const viaNode = await (await decapsulateRequest(() => key, encapsulated, { crypto: node })).encapsulateResponse(reply, nonce);
    const viaWeb = await (await decapsulateRequest(() => key, encapsulated, { crypto: web })).encapsulateResponse(reply, nonce);
    expect(viaNode).toEqual(viaWeb);
  });
});

describe('interoperation across backends', () => {
  for (const [client, gateway] of [
    [node, web],
    [web, node],
    [node, node],
  ] as const) {
    it(`${client.name} client ↔ ${gateway.name} gateway, chunked, both AEADs`, async () => {
      await fc.assert(
        fc.asyncProperty(aeadArb, bodyArb, bodyArb, sizeArb, async (aeadId, body, reply, size) => {
          const r = await exchange(client, gateway, aeadId, body, reply, size);
          expect(r.request).toEqual(body);
          expect(r.response).toEqual(reply);
        }),
        { numRuns: 15 },
      );
    });
  }

  it('RFC 9458 single messages and sealed secrets cross both ways', async () => {
    const key = keys[AEAD_AES_256_GCM]!;
    for (const [a, b] of [
      [node, web],
      [web, node],
    ] as const) {
      const c = await encapsulateRequest(key.config, new Uint8Array([4, 5]), { crypto: a });
      const g = await decapsulateRequest(() => key, c.encapsulated, { crypto: b });
      expect(g.request).toEqual(new Uint8Array([4, 5]));
      expect(await c.openResponse(await g.encapsulateResponse(new Uint8Array([6])))).toEqual(new Uint8Array([6]));
      const sealed = await sealToKeyConfig(key.config, new Uint8Array([8]), 'l', { crypto: a });
      expect(await openSealed(key, sealed, 'l', { crypto: b })).toEqual(new Uint8Array([8]));
    }
  });
});

describe('node:crypto backend failures', () => {
  it('AES-GCM open refuses a flipped bit anywhere, a truncated tag and a wrong AAD', async () => {
    const k = await node.aeadKey(new Uint8Array(32).fill(1));
    const nonce = new Uint8Array(12);
    const ct = await node.seal(k, nonce, new Uint8Array([1]), new Uint8Array(40).fill(2));
    for (let i = 0; i < ct.length * 8; i++) {
      const bad = ct.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(() => node.open(k, nonce, new Uint8Array([1]), bad)).toThrow();
    }
    expect(() => node.open(k, nonce, new Uint8Array([1]), ct.subarray(0, ct.length - 4))).toThrow();
    expect(() => node.open(k, nonce, new Uint8Array([1]), ct.subarray(0, 8))).toThrow();
    expect(() => node.open(k, nonce, new Uint8Array([2]), ct)).toThrow();
    expect(node.open(k, nonce, new Uint8Array([1]), ct)).toEqual(new Uint8Array(40).fill(2));
  });

  it('a tampered response chunk is ERR_OHTTP_DECRYPT, a low-order encapsulated key ERR_OHTTP_ENCAPSULATION', async () => {
    const key = keys[AEAD_AES_256_GCM]!;
    const enc = await ChunkedRequestEncoder.create(key.config, { crypto: node });
    const wire = await enc.encapsulateAll(new Uint8Array(10));
    const dec = new ChunkedRequestDecoder(() => key, { crypto: node });
    await dec.push(wire);
    await dec.finish();
    const res = await dec.responseEncoder();
    const chunk = await res.seal(new Uint8Array(20), false);
    chunk[5]! ^= 1;
    const rd = enc.responseDecoder();
    await expectCode(rd.push(concat(res.header(), chunk)), SessionError, 'ERR_OHTTP_DECRYPT');
    const lowOrder = wire.slice();
    lowOrder.fill(0, 7, 39);
    await expectCode((async () => {
      const d = new ChunkedRequestDecoder(() => key, { crypto: node });
      await d.push(lowOrder);
      await d.finish();
    })(), SessionError, 'ERR_OHTTP_ENCAPSULATION');
    // A key config whose public key is a low-order point: refused by the client too.
    const bad = { ...key.config, publicKey: new Uint8Array(32) };
    await expectCode(ChunkedRequestEncoder.create(bad, { crypto: node }), SessionError, 'ERR_OHTTP_ENCAPSULATION');
  });
});
