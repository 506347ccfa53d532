/** Property tests: truncated, bit-flipped and random input only ever throws the SDK's typed errors. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcinferError, ParseError } from '@ccinfer/core';
import { parseSnpReport, parseCertificate, parseCrl, parseEndorsementKey } from '../../src/index.js';
import { parseCertTable } from '../../src/internal.js';
import { encodeReport, simulatedAmd } from '../../src/testing.js';

function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CcinferError);
  }
}

describe('SNP report parser', () => {
  const valid = encodeReport({}, 'Genoa');

  it('random bytes of any length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1300 }), (b) => onlyTyped(() => parseSnpReport(b))));
  });

  it('valid report with flipped bits: parses or throws a ParseError, and round-trips what it reads', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 7 }), (off, bit) => {
        const b = valid.slice();
        b[off]! ^= 1 << bit;
        try {
          const r = parseSnpReport(b);
          expect(r.bytes).toEqual(b);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
    );
  });

  it('truncations are ERR_SNP_REPORT_SIZE', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), (n) => {
        try {
          parseSnpReport(valid.subarray(0, n));
          expect.unreachable();
        } catch (e) {
          expect((e as CcinferError).code).toBe('ERR_SNP_REPORT_SIZE');
        }
      }),
    );
  });
});

describe('X.509 / CRL / cert-table parsers', () => {
  it('certificates: random, truncated and bit-flipped DER', async () => {
    const sim = await simulatedAmd('Genoa');
    const leaf = (await sim.mintLeaf({})).der;
    const crl = await sim.mintCrl({ revokedSerials: [5] });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyTyped(() => parseCertificate(b))));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: leaf.length }), (n) => onlyTyped(() => parseEndorsementKey(parseCertificate(leaf.subarray(0, n))))),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: leaf.length - 1 }), fc.integer({ min: 0, max: 7 }), (off, bit) => {
        const b = leaf.slice();
        b[off]! ^= 1 << bit;
        onlyTyped(() => parseEndorsementKey(parseCertificate(b)));
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: crl.length - 1 }), fc.integer({ min: 0, max: 7 }), (off, bit) => {
        const b = crl.slice();
        b[off]! ^= 1 << bit;
        onlyTyped(() => parseCrl(b));
      }),
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTyped(() => parseCrl(b))));
  });

  it('certificate tables', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => onlyTyped(() => parseCertTable(b))));
  });
});
