/** Property tests: the quote, certification-data, collateral and event-log parsers only ever throw typed errors. */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcinferError, ParseError, utf8 } from '@ccinfer/core';
import { mintIntelPki, mintTdxCollateral, mintTdxQuote, sgxExtensionDer } from '../../src/testing/tdx.js';
import { parseTdxQuote } from '../../src/tdx/parse.js';
import { parsePckChain } from '../../src/tdx/verify.js';
import { parseSgxExtension } from '../../src/tdx/pck.js';
import { parseQeIdentityResponse, parseTcbInfoResponse, topLevelMembers } from '../../src/tdx/collateral.js';
import { parseCcel } from '../../src/tdx/eventlog.js';

function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CcinferError);
  }
}

let quote: Uint8Array;
let tcbInfo: Uint8Array;
let qeIdentity: Uint8Array;
beforeAll(async () => {
  const pki = await mintIntelPki();
  quote = (await mintTdxQuote(pki, { version: 5 })).quote;
  const c = await mintTdxCollateral(pki);
  tcbInfo = c.tcbInfo;
  qeIdentity = c.qeIdentity;
});

describe('TDX quote parser', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => onlyTyped(() => parsePckChain(parseTdxQuote(b)))));
  });

  it('random bytes behind a valid v4/v5 header prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 800 }), fc.uint8Array({ maxLength: 3000 }), (n, tail) => {
        const b = new Uint8Array(n + tail.length);
        b.set(quote.subarray(0, n));
        b.set(tail, n);
        onlyTyped(() => parsePckChain(parseTdxQuote(b)));
      }),
    );
  });

  it('bit flips: parse or typed error; the signed region never extends past the body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: quote.length - 1 }), fc.integer({ min: 0, max: 7 }), (off, bit) => {
        const b = quote.slice();
        b[off]! ^= 1 << bit;
        try {
          const q = parseTdxQuote(b);
          expect([632, 54 + 584, 702]).toContain(q.signedRegion.length);
          parsePckChain(q);
        } catch (e) {
          expect(e).toBeInstanceOf(CcinferError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every truncation is a ParseError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: quote.length - 1 }), (n) => {
        expect(() => parseTdxQuote(quote.subarray(0, n))).toThrow(ParseError);
      }),
    );
  });
});

describe('SGX extension parser', () => {
  const valid = sgxExtensionDer();
  it('random bytes and bit flips', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyTyped(() => parseSgxExtension(b))));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 7 }), (off, bit) => {
        const b = valid.slice();
        b[off]! ^= 1 << bit;
        onlyTyped(() => parseSgxExtension(b));
      }),
    );
  });
});

describe('collateral parsers', () => {
  it('random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        onlyTyped(() => topLevelMembers(utf8(s)));
        onlyTyped(() => parseTcbInfoResponse(utf8(s)));
        onlyTyped(() => parseQeIdentityResponse(utf8(s)));
      }),
    );
  });

  it('random JSON values in place of the members', () => {
    fc.assert(
      fc.property(fc.json(), fc.json(), (a, b) => {
        onlyTyped(() => parseTcbInfoResponse(utf8(`{"tcbInfo":${a},"signature":${b}}`)));
        onlyTyped(() => parseQeIdentityResponse(utf8(`{"enclaveIdentity":${a},"signature":${b}}`)));
      }),
    );
  });

  it('truncations and byte flips of real-shaped bodies', () => {
    for (const body of [tcbInfo, qeIdentity]) {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: body.length - 1 }), fc.integer({ min: 0, max: 127 }), (off, ch) => {
          onlyTyped(() => parseTcbInfoResponse(body.subarray(0, off)));
          const b = body.slice();
          b[off] = ch;
          onlyTyped(() => parseTcbInfoResponse(b));
          onlyTyped(() => parseQeIdentityResponse(b));
        }),
      );
    }
  });

  it('the signed member bytes are exactly the served bytes', () => {
    const text = new TextDecoder().decode(tcbInfo);
    const start = text.indexOf('{', 1);
    const end = text.lastIndexOf(',"signature"');
    expect(new TextDecoder().decode(parseTcbInfoResponse(tcbInfo).signedBytes)).toBe(text.slice(start, end));
  });

  it('duplicate top-level members are rejected', () => {
    expect(() => topLevelMembers(utf8('{"tcbInfo":{},"tcbInfo":{}}'))).toThrow(ParseError);
  });
});

describe('CCEL parser', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 800 }), (b) => onlyTyped(() => parseCcel(b))));
  });
});
