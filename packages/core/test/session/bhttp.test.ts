import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BhttpResponseDecoder,
  CcinferError,
  SessionError,
  concat,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  utf8,
  type BhttpRequest,
  type BhttpResponse,
  type Fields,
} from '@ccinfer/core';
import { encodeContentChunk, encodeResponseEnd, encodeResponseHead } from '@ccinfer/core/internal';
import { expectCode } from '../../../../test-support/helpers.js';
import { hex } from './hex.js';

const token = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const fieldsArb: fc.Arbitrary<Fields> = fc.array(fc.tuple(token, fc.stringMatching(/^[ -~]{0,20}$/)), { maxLength: 5 });
const requestArb: fc.Arbitrary<BhttpRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  scheme: fc.constantFrom('https', 'http'),
  authority: fc.stringMatching(/^[a-z0-9.:]{0,20}$/),
  path: fc.stringMatching(/^\/[ -~]{0,30}$/),
  headers: fieldsArb,
  content: fc.uint8Array({ maxLength: 300 }),
  trailers: fieldsArb,
});
const responseArb: fc.Arbitrary<BhttpResponse> = fc.record({
  informational: fc.array(fc.record({ status: fc.integer({ min: 100, max: 199 }), headers: fieldsArb }), { maxLength: 2 }),
  status: fc.integer({ min: 200, max: 599 }),
  headers: fieldsArb,
  content: fc.uint8Array({ maxLength: 300 }),
  trailers: fieldsArb,
});

describe('Binary HTTP round trips', () => {
  it('requests, known and indeterminate length', () => {
    fc.assert(
      fc.property(requestArb, fc.boolean(), (r, indeterminate) => {
        expect(decodeRequest(encodeRequest(r, { indeterminate }))).toEqual(r);
      }),
    );
  });

  it('responses, known and indeterminate length, fed to the streaming decoder in any pieces', () => {
    fc.assert(
      fc.property(responseArb, fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (r, indeterminate, cuts) => {
        const bytes = encodeResponse(r, { indeterminate });
        expect(decodeResponse(bytes)).toEqual(r);
        const d = new BhttpResponseDecoder();
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1))), bytes.length].sort((a, b) => a - b);
        const data: Uint8Array[] = [];
        let prev = 0;
        let ended = 0;
        for (const p of points) {
          for (const e of d.push(bytes.subarray(prev, p))) {
            if (e.type === 'data') data.push(e.data);
            if (e.type === 'end') ended++;
          }
          prev = p;
        }
        for (const e of d.finish()) if (e.type === 'end') ended++;
        expect(concat(...data)).toEqual(r.content);
        expect(ended).toBe(1);
      }),
    );
  });

  it('a streamed response: head, chunks, end', () => {
    const bytes = concat(encodeResponseHead(200, [['content-type', 'text/event-stream']]), encodeContentChunk(utf8('data: 1\n\n')), encodeContentChunk(utf8('data: 2\n\n')), encodeResponseEnd());
    const r = decodeResponse(bytes);
    expect(r.status).toBe(200);
    expect(r.headers).toEqual([['content-type', 'text/event-stream']]);
    expect(new TextDecoder().decode(r.content)).toBe('data: 1\n\ndata: 2\n\n');
  });

  it('RFC 9292 §3.8: sections after the control data may be truncated away; zero padding is allowed', () => {
    expect(decodeRequest(hex('00034745540568747470730b6578616d706c652e636f6d012f')).headers).toEqual([]);
    expect(decodeResponse(hex('0140c8')).status).toBe(200);
    expect(decodeResponse(hex('0140c800000000')).status).toBe(200);
  });
});

describe('Binary HTTP error codes', () => {
  const ok = encodeResponse({ informational: [], status: 200, headers: [['a', 'b']], content: utf8('hi'), trailers: [] });

  it('ERR_BHTTP_TRUNCATED inside a section', async () => {
    await expectCode(() => decodeResponse(ok.subarray(0, 4)), SessionError, 'ERR_BHTTP_TRUNCATED');
    await expectCode(() => decodeResponse(hex('01')), SessionError, 'ERR_BHTTP_TRUNCATED');
    await expectCode(() => decodeRequest(hex('000347')), SessionError, 'ERR_BHTTP_TRUNCATED');
    const streamed = concat(encodeResponseHead(200, []), encodeContentChunk(utf8('abc')));
    await expectCode(() => decodeResponse(streamed), SessionError, 'ERR_BHTTP_TRUNCATED');
    await expectCode(() => decodeResponse(streamed.subarray(0, streamed.length - 1)), SessionError, 'ERR_BHTTP_TRUNCATED');
  });

  it('ERR_BHTTP_FRAMING', async () => {
    await expectCode(() => decodeResponse(hex('05')), SessionError, 'ERR_BHTTP_FRAMING');
    await expectCode(() => decodeRequest(ok), SessionError, 'ERR_BHTTP_FRAMING');
    await expectCode(() => encodeContentChunk(new Uint8Array(0)), SessionError, 'ERR_BHTTP_FRAMING');
  });

  it('ERR_BHTTP_STATUS', async () => {
    await expectCode(() => decodeResponse(hex('01 40 63')), SessionError, 'ERR_BHTTP_STATUS');
    await expectCode(() => decodeResponse(hex('01 42 58')), SessionError, 'ERR_BHTTP_STATUS');
    await expectCode(() => encodeResponse({ informational: [{ status: 200, headers: [] }], status: 200, headers: [], content: new Uint8Array(0), trailers: [] }), SessionError, 'ERR_BHTTP_STATUS');
  });

  it('ERR_BHTTP_FIELD', async () => {
    // "A: b" — field names are lowercase on the wire.
    await expectCode(() => decodeResponse(hex('01 40c8 04 01 41 01 62')), SessionError, 'ERR_BHTTP_FIELD');
    await expectCode(() => decodeResponse(hex('01 40c8 04 01 61 01 0a')), SessionError, 'ERR_BHTTP_FIELD');
    await expectCode(() => decodeResponse(hex('01 40c8 03 01 61 05')), SessionError, 'ERR_BHTTP_FIELD');
    await expectCode(() => encodeRequest({ method: 'G T', scheme: 'https', authority: '', path: '/', headers: [], content: new Uint8Array(0), trailers: [] }), SessionError, 'ERR_BHTTP_FIELD');
    await expectCode(() => encodeResponseHead(200, [['x', 'a\r\nb']]), SessionError, 'ERR_BHTTP_FIELD');
  });

  it('ERR_BHTTP_PADDING', async () => {
    await expectCode(() => decodeResponse(concat(ok, hex('0001'))), SessionError, 'ERR_BHTTP_PADDING');
  });

  it('ERR_BHTTP_TOO_LARGE', async () => {
    await expectCode(() => decodeResponse(hex('01 40c8 80 02 00 00')), SessionError, 'ERR_BHTTP_TOO_LARGE');
  });

  it('random and bit-flipped input only ever produces CcinferErrors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        for (const f of [decodeRequest, decodeResponse]) {
          try {
            f(b);
          } catch (e) {
            expect(e).toBeInstanceOf(CcinferError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
