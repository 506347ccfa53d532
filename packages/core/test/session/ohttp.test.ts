import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ChunkedRequestDecoder,
  ChunkedRequestEncoder,
  SessionError,
  CcinferError,
  concat,
  decapsulateRequest,
  decryptResponseStream,
  encapsulateRequest,
  generateGatewayKey,
  type GatewayKey,
  type KeyConfig,
  type RawKeyPair,
} from '@ccinfer/core';
import { expectCode } from '../../../../test-support/helpers.js';
import { CHUNKED_08_A } from '../../../../test-support/ohttp-examples.js';
import { hex } from './hex.js';

const key: GatewayKey = await generateGatewayKey(7);
const lookup = (id: number): GatewayKey | undefined => (id === 7 ? key : undefined);

/** Splits `bytes` at the given cut points (a network delivering in arbitrary pieces). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

interface Framed {
  header: Uint8Array;
  chunks: Uint8Array[]; // framed non-final chunks, then the framed final chunk last
}

async function chunkedRequest(body: Uint8Array, size: number, kc: KeyConfig = key.config, ephemeralKeyPair?: RawKeyPair): Promise<{ enc: ChunkedRequestEncoder; framed: Framed }> {
  const enc = await ChunkedRequestEncoder.create(kc, ephemeralKeyPair ? { ephemeralKeyPair } : {});
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (body.length - at > size) {
    chunks.push(await enc.seal(body.subarray(at, at + size), false));
    at += size;
  }
  chunks.push(await enc.seal(body.subarray(at), true));
  return { enc, framed: { header: enc.header(), chunks } };
}

async function openRequest(pieces: Uint8Array[], opts?: { maxChunk?: number; maxChunks?: number }): Promise<{ body: Uint8Array; dec: ChunkedRequestDecoder }> {
  const dec = new ChunkedRequestDecoder(lookup, opts);
  const out: Uint8Array[] = [];
  for (const p of pieces) out.push(...(await dec.push(p)));
  out.push(await dec.finish());
  return { body: concat(...out), dec };
}

async function respond(dec: ChunkedRequestDecoder, body: Uint8Array, size: number): Promise<Framed> {
  const res = await dec.responseEncoder();
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (body.length - at > size) {
    chunks.push(await res.seal(body.subarray(at, at + size), false));
    at += size;
  }
  chunks.push(await res.seal(body.subarray(at), true));
  return { header: res.header(), chunks };
}

function streamOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of pieces) c.enqueue(p);
      c.close();
    },
  });
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return concat(...parts);
}

const bodyArb = fc.uint8Array({ minLength: 0, maxLength: 3000 });
const sizeArb = fc.integer({ min: 1, max: 700 });
const cutsArb = fc.array(fc.nat(), { maxLength: 6 });

describe('chunked OHTTP round trips', () => {
  it('request and streamed response survive any chunking and any network split', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sizeArb, cutsArb, bodyArb, sizeArb, cutsArb, async (reqBody, reqSize, reqCuts, resBody, resSize, resCuts) => {
        const { enc, framed } = await chunkedRequest(reqBody, reqSize);
        const { body, dec } = await openRequest(split(concat(framed.header, ...framed.chunks), reqCuts));
        expect(body).toEqual(reqBody);
        const res = await respond(dec, resBody, resSize);
        const plain = await readAll(decryptResponseStream(streamOf(split(concat(res.header, ...res.chunks), resCuts)), enc.responseDecoder()));
        expect(plain).toEqual(resBody);
      }),
      { numRuns: 60 },
    );
  });

  it('encapsulateAll matches chunk-by-chunk sealing in what the gateway opens', async () => {
    const body = new Uint8Array(40000).map((_, i) => i);
    const enc = await ChunkedRequestEncoder.create(key.config);
    const { body: got } = await openRequest([await enc.encapsulateAll(body)]);
    expect(got).toEqual(body);
  });

  it('encapsulateAll writes exactly the bytes of header() + seal() chunk by chunk', async () => {
    // The same ephemeral key on both sides makes the two encodings comparable byte for byte.
    const ephemeralKeyPair = { privateKey: hex(CHUNKED_08_A.skE), publicKey: hex(CHUNKED_08_A.pkE) };
    await fc.assert(
      fc.asyncProperty(bodyArb, sizeArb, async (body, size) => {
        const all = await (await ChunkedRequestEncoder.create(key.config, { ephemeralKeyPair })).encapsulateAll(body, size);
        const { framed } = await chunkedRequest(body, size, key.config, ephemeralKeyPair);
        expect(all).toEqual(concat(framed.header, ...framed.chunks));
      }),
      { numRuns: 40 },
    );
  });

  it('RFC 9458 non-chunked messages round-trip', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, bodyArb, async (req, res) => {
        const c = await encapsulateRequest(key.config, req);
        const g = await decapsulateRequest(lookup, c.encapsulated);
        expect(g.request).toEqual(req);
        expect(await c.openResponse(await g.encapsulateResponse(res))).toEqual(res);
      }),
      { numRuns: 20 },
    );
  });
});

describe('chunked OHTTP tampering', () => {
  const threeChunks = async (): Promise<Awaited<ReturnType<typeof chunkedRequest>>> => chunkedRequest(new Uint8Array(300).fill(0x61), 100);

  it('a request cut anywhere is rejected: before the final chunk truncated, inside it undecryptable', async () => {
    const { framed } = await threeChunks();
    const whole = concat(framed.header, ...framed.chunks);
    const finalAt = whole.length - framed.chunks[2]!.length; // offset of the zero length of the final chunk
    for (let cut = 0; cut < whole.length; cut += 3) {
      await expectCode(openRequest([whole.subarray(0, cut)]), SessionError, cut <= finalAt ? 'ERR_OHTTP_TRUNCATED' : 'ERR_OHTTP_DECRYPT');
    }
  });

  it('a request without its final chunk is ERR_OHTTP_TRUNCATED', async () => {
    const { framed } = await threeChunks();
    await expectCode(openRequest([framed.header, ...framed.chunks.slice(0, -1)]), SessionError, 'ERR_OHTTP_TRUNCATED');
  });

  it('reordered and replayed request chunks are ERR_OHTTP_DECRYPT', async () => {
    const { framed } = await threeChunks();
    const [a, b, fin] = framed.chunks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    await expectCode(openRequest([framed.header, b, a, fin]), SessionError, 'ERR_OHTTP_DECRYPT');
    await expectCode(openRequest([framed.header, a, a, b, fin]), SessionError, 'ERR_OHTTP_DECRYPT');
    // A non-final chunk presented as the final one (length 0 prefix) fails: its AAD is not "final".
    await expectCode(openRequest([framed.header, concat(new Uint8Array([0]), a.subarray(2))]), SessionError, 'ERR_OHTTP_DECRYPT');
  });

  it('every bit flip in a chunked request or response is rejected', async () => {
    const { enc, framed } = await chunkedRequest(new Uint8Array(50).fill(1), 20);
    const whole = concat(framed.header, ...framed.chunks);
    const { dec } = await openRequest([whole]);
    const res = await respond(dec, new Uint8Array(50).fill(2), 20);
    const resWhole = concat(res.header, ...res.chunks);
    await fc.assert(
      fc.asyncProperty(fc.nat(whole.length * 8 - 1), async (bit) => {
        const t = whole.slice();
        t[bit >> 3]! ^= 1 << (bit & 7);
        const err = await openRequest([t]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(SessionError);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(resWhole.length * 8 - 1), async (bit) => {
        const t = resWhole.slice();
        t[bit >> 3]! ^= 1 << (bit & 7);
        const d = enc.responseDecoder();
        await expect(readAll(decryptResponseStream(streamOf([t]), d))).rejects.toBeInstanceOf(SessionError);
      }),
      { numRuns: 150 },
    );
  });

  it('a response truncated before its final chunk errors the stream, never a short body', async () => {
    const { enc, framed } = await chunkedRequest(new Uint8Array([1]), 10);
    const { dec } = await openRequest([concat(framed.header, ...framed.chunks)]);
    const res = await respond(dec, new Uint8Array(100).fill(3), 30);
    // Exactly at chunk boundaries (the strongest truncation: every delivered chunk is genuine).
    for (let k = 0; k < res.chunks.length; k++) {
      const pieces = [res.header, ...res.chunks.slice(0, k)];
      await expectCode(readAll(decryptResponseStream(streamOf(pieces), enc.responseDecoder())), SessionError, 'ERR_OHTTP_TRUNCATED');
    }
    // Anywhere at all.
    const whole = concat(res.header, ...res.chunks);
    for (let cut = 0; cut < whole.length; cut++) {
      await expect(readAll(decryptResponseStream(streamOf([whole.subarray(0, cut)]), enc.responseDecoder()))).rejects.toBeInstanceOf(SessionError);
    }
  });

  it('reordered and replayed response chunks are ERR_OHTTP_DECRYPT', async () => {
    const { enc, framed } = await chunkedRequest(new Uint8Array([1]), 10);
    const { dec } = await openRequest([concat(framed.header, ...framed.chunks)]);
    const res = await respond(dec, new Uint8Array(90).fill(4), 30);
    const [a, b, c, fin] = res.chunks as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    await expectCode(readAll(decryptResponseStream(streamOf([res.header, b, a, c, fin]), enc.responseDecoder())), SessionError, 'ERR_OHTTP_DECRYPT');
    await expectCode(readAll(decryptResponseStream(streamOf([res.header, a, a, b, c, fin]), enc.responseDecoder())), SessionError, 'ERR_OHTTP_DECRYPT');
  });
});

describe('OHTTP error codes', () => {
  it('ERR_OHTTP_KEY_ID and ERR_OHTTP_SUITE before any decryption', async () => {
    const { framed } = await chunkedRequest(new Uint8Array([1, 2]), 10);
    const h = framed.header.slice();
    h[0] = 8;
    await expectCode(openRequest([h, ...framed.chunks]), SessionError, 'ERR_OHTTP_KEY_ID');
    const s = framed.header.slice();
    s[6] = 3; // ChaCha20-Poly1305: not offered by the key config
    await expectCode(openRequest([s, ...framed.chunks]), SessionError, 'ERR_OHTTP_SUITE');
  });

  it('ERR_OHTTP_ENCAPSULATION for a low-order encapsulated key', async () => {
    const { framed } = await chunkedRequest(new Uint8Array([1, 2]), 10);
    const h = framed.header.slice();
    h.fill(0, 7);
    await expectCode(openRequest([h, ...framed.chunks]), SessionError, 'ERR_OHTTP_ENCAPSULATION');
  });

  it('ERR_OHTTP_EMPTY_CHUNK: senders refuse and receivers reject empty non-final chunks', async () => {
    const enc = await ChunkedRequestEncoder.create(key.config);
    await expectCode(enc.seal(new Uint8Array(0), false), SessionError, 'ERR_OHTTP_EMPTY_CHUNK');
    // Mint one by sealing through the HPKE context directly.
    const ctx = (enc as unknown as { s: { ctx: { seal(p: Uint8Array): Promise<Uint8Array> } } }).s.ctx;
    const sealed = await ctx.seal(new Uint8Array(0));
    await expectCode(openRequest([enc.header(), new Uint8Array([sealed.length]), sealed]), SessionError, 'ERR_OHTTP_EMPTY_CHUNK');
  });

  it('ERR_OHTTP_CHUNK_TOO_LARGE and ERR_OHTTP_TOO_MANY_CHUNKS', async () => {
    const { framed } = await chunkedRequest(new Uint8Array(300), 100);
    await expectCode(openRequest([framed.header, ...framed.chunks], { maxChunk: 64 }), SessionError, 'ERR_OHTTP_CHUNK_TOO_LARGE');
    await expectCode(openRequest([framed.header, ...framed.chunks], { maxChunks: 2 }), SessionError, 'ERR_OHTTP_TOO_MANY_CHUNKS');
  });

  it('ERR_OHTTP_VARINT for a chunk length beyond 2^53', async () => {
    const { framed } = await chunkedRequest(new Uint8Array(3), 100);
    await expectCode(openRequest([framed.header, new Uint8Array(8).fill(0xff)]), SessionError, 'ERR_OHTTP_VARINT');
  });

  it('ERR_OHTTP_STATE: no sealing after the final chunk, no response before the request completes', async () => {
    const { enc, framed } = await chunkedRequest(new Uint8Array(3), 100);
    await expectCode(enc.seal(new Uint8Array(1), true), SessionError, 'ERR_OHTTP_STATE');
    const dec = new ChunkedRequestDecoder(lookup);
    await dec.push(framed.header);
    await expectCode(dec.responseEncoder(), SessionError, 'ERR_OHTTP_STATE');
  });

  it('ERR_OHTTP_TRUNCATED for short RFC 9458 messages', async () => {
    await expectCode(decapsulateRequest(lookup, new Uint8Array(20)), SessionError, 'ERR_OHTTP_TRUNCATED');
    const c = await encapsulateRequest(key.config, new Uint8Array(3));
    await expectCode(c.openResponse(new Uint8Array(40)), SessionError, 'ERR_OHTTP_TRUNCATED');
  });

  it('random bytes only ever produce CcinferErrors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (junk) => {
        const bytes = concat(new Uint8Array([7, 0, 0x20, 0, 1, 0, 2]), junk);
        await openRequest([bytes]).then(
          () => expect.unreachable(),
          (e: unknown) => expect(e).toBeInstanceOf(CcinferError),
        );
      }),
      { numRuns: 100 },
    );
  });
});
