/**
 * Streamed requests: the incremental Binary HTTP request decoder (RFC 9292) and a body encrypted as it is read
 * (chunked OHTTP draft §4), opened by the gateway's decoder piece by piece.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ChunkedRequestDecoder,
  ChunkedRequestEncoder,
  CcinferError,
  SessionError,
  concat,
  decodeRequest,
  encodeKeyConfig,
  encodeRequest,
  generateGatewayKey,
  parseKeyConfig,
  type BhttpRequest,
} from '../../src/index.js';
import { BhttpRequestDecoder, encodeRequestHead, encryptRequestStream, MAX_CONTENT_PER_CHUNK, type BhttpRequestEvent } from '../../src/internal.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';

const request: BhttpRequest = {
  method: 'POST',
  scheme: 'https',
  authority: 'pod.example',
  path: '/v1/files?purpose=x',
  headers: [['content-type', 'application/octet-stream'], ['x-a', 'b']],
  content: Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff),
  trailers: [['x-t', '1']],
};

/** Feeds `bytes` in pieces of `step` and folds the events back into a request. */
function decodeInPieces(bytes: Uint8Array, step: number): BhttpRequest {
  const d = new BhttpRequestDecoder();
  const events: BhttpRequestEvent[] = [];
  for (let at = 0; at < bytes.length; at += step) events.push(...d.push(bytes.subarray(at, at + step)));
  events.push(...d.finish());
  const out: BhttpRequest = { method: '', scheme: '', authority: '', path: '', headers: [], content: new Uint8Array(0), trailers: [] };
  const parts: Uint8Array[] = [];
  for (const e of events) {
    if (e.type === 'head') Object.assign(out, { method: e.method, scheme: e.scheme, authority: e.authority, path: e.path, headers: e.headers });
    else if (e.type === 'data') parts.push(e.data);
    else out.trailers = e.trailers;
  }
  out.content = concat(...parts);
  return out;
}

describe('BhttpRequestDecoder', () => {
  it('decodes known- and indeterminate-length requests fed in any pieces, like decodeRequest', () => {
    for (const indeterminate of [false, true]) {
      const bytes = encodeRequest(request, { indeterminate });
      for (const step of [1, 7, 1000, bytes.length]) expect(decodeInPieces(bytes, step)).toEqual(decodeRequest(bytes));
    }
  });

  it('emits content as it arrives, before the message ends', () => {
    const d = new BhttpRequestDecoder();
    const events = d.push(concat(encodeRequestHead(request), Uint8Array.of(0x44, 0x00), new Uint8Array(100)));
    expect(events.map((e) => e.type)).toEqual(['head', 'data']);
    expect((events[1] as { data: Uint8Array }).data.length).toBe(100);
  });

  it('a request may end after its control data (§3.8), not inside a section or before its terminator', () => {
    const controlOnly = encodeRequest({ ...request, headers: [], content: new Uint8Array(0), trailers: [] }).subarray(0, -3);
    expect(decodeInPieces(controlOnly, 3)).toMatchObject({ method: 'POST', path: request.path, headers: [] });
    const streamed = encodeRequest(request, { indeterminate: true });
    for (const cut of [2, 30, streamed.length - 5]) {
      const d = new BhttpRequestDecoder();
      d.push(streamed.subarray(0, cut));
      expectCodeSync(() => d.finish(), SessionError, 'ERR_BHTTP_TRUNCATED');
    }
  });

  it('refuses a response framing indicator and an oversized field section', () => {
    expectCodeSync(() => new BhttpRequestDecoder().push(Uint8Array.of(3)), SessionError, 'ERR_BHTTP_FRAMING');
    const huge = encodeRequestHead({ ...request, headers: [['x-big', 'v'.repeat(70_000)]] });
    expectCodeSync(() => new BhttpRequestDecoder().push(huge), SessionError, 'ERR_BHTTP_TOO_LARGE');
  });

  it('property: random bytes in random pieces only ever throw CcinferErrors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (bytes, step) => {
        try {
          decodeInPieces(bytes, step);
        } catch (e) {
          expect(e).toBeInstanceOf(CcinferError);
        }
      }),
    );
  });
});

async function gatewayKey(): Promise<{ key: Awaited<ReturnType<typeof generateGatewayKey>>; kc: ReturnType<typeof parseKeyConfig> }> {
  const key = await generateGatewayKey(9);
  return { key, kc: parseKeyConfig(encodeKeyConfig(key.config)) };
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of s as unknown as AsyncIterable<Uint8Array>) out.push(c);
  return out;
}

describe('encryptRequestStream', () => {
  it('seals the head, each content piece (split at MAX_CONTENT_PER_CHUNK) and the end as the final chunk; the gateway opens it to the same request', async () => {
    const { key, kc } = await gatewayKey();
    const pieces = [new Uint8Array(10).fill(1), new Uint8Array(MAX_CONTENT_PER_CHUNK * 2 + 3).fill(2), new Uint8Array(0), new Uint8Array(5).fill(3)];
    async function* source(): AsyncGenerator<Uint8Array> {
      yield* pieces;
    }
    const progress: number[] = [];
    let ended = 0;
    const wire = await readAll(encryptRequestStream(await ChunkedRequestEncoder.create(kc), request, source(), { onProgress: (n) => progress.push(n), onEnd: () => ended++ }));
    // header+head, 10 bytes, three pieces of the large one (the empty piece is skipped), 5 bytes, final.
    expect(wire).toHaveLength(7);
    expect(progress).toEqual([10, 10 + MAX_CONTENT_PER_CHUNK, 10 + 2 * MAX_CONTENT_PER_CHUNK, 10 + 2 * MAX_CONTENT_PER_CHUNK + 3, 18 + 2 * MAX_CONTENT_PER_CHUNK]);
    expect(ended).toBe(1);
    const dec = new ChunkedRequestDecoder((id) => (id === 9 ? key : undefined));
    const plain: Uint8Array[] = [];
    for (const w of wire) plain.push(...(await dec.push(w)));
    plain.push(await dec.finish());
    // Every chunk's plaintext fits the draft §3 size receivers must accept.
    expect(Math.max(...plain.map((p) => p.length))).toBeLessThanOrEqual(16384);
    expect(decodeRequest(concat(...plain))).toEqual({ ...request, content: concat(...pieces), trailers: [] });
  });

  it('without its final chunk the stream does not open (ERR_OHTTP_TRUNCATED)', async () => {
    const { key, kc } = await gatewayKey();
    const wire = await readAll(encryptRequestStream(await ChunkedRequestEncoder.create(kc), request, (async function* () { yield new Uint8Array(3); })()));
    const dec = new ChunkedRequestDecoder((id) => (id === 9 ? key : undefined));
    for (const w of wire.slice(0, -1)) await dec.push(w);
    await expectCode(dec.finish(), SessionError, 'ERR_OHTTP_TRUNCATED');
  });

  it('ERR_SESSION_BODY: a source that fails or yields something that is not bytes errors the stream', async () => {
    const { kc } = await gatewayKey();
    const failing = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('read failed')) });
    await expectCode(readAll(encryptRequestStream(await ChunkedRequestEncoder.create(kc), request, failing)), SessionError, 'ERR_SESSION_BODY');
    const text = (async function* () { yield 'text' as unknown as Uint8Array; })();
    await expectCode(readAll(encryptRequestStream(await ChunkedRequestEncoder.create(kc), request, text)), SessionError, 'ERR_SESSION_BODY');
  });
});


