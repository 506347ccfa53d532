import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcinferError, ParseError, fromHex } from '../src/index.js';
import { der, decodeDer, children, readOid, readUnsigned, readTime, readBitFlags } from '../src/internal.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return (e as CcinferError).code;
  }
  return undefined;
}

describe('DER', () => {
  it('round-trips OIDs, integers and times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 31 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), (rest, a, b) => {
        const oid = [a, b, ...rest].join('.');
        expect(readOid(decodeDer(der.oid(oid)))).toBe(oid);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 200n }), (n) => {
        const m = readUnsigned(decodeDer(der.int(n)));
        expect(BigInt('0x' + ([...m].map((x) => x.toString(16).padStart(2, '0')).join('') || '0'))).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.date({ min: new Date('1950-01-01Z'), max: new Date('2200-01-01Z'), noInvalidDate: true }), (d) => {
        const t = new Date(Math.floor(d.getTime() / 1000) * 1000);
        expect(readTime(decodeDer(der.time(t))).getTime()).toBe(t.getTime());
      }),
    );
  });

  it.each([
    ['indefinite length', '3080'],
    ['non-minimal long length', '30810100'],
    ['leading zero length octet', '3082000100'],
    ['length past the end', '3005020101'],
    ['trailing bytes', '300002'],
    ['missing identifier', ''],
  ])('rejects %s', (_, hex) => {
    expect(code(() => decodeDer(fromHex(hex)))).toBe('ERR_DER_MALFORMED');
  });

  it('rejects non-minimal and negative INTEGERs, malformed OIDs and times', () => {
    expect(code(() => readUnsigned(decodeDer(fromHex('020200 01'.replace(' ', '')))))).toBe('ERR_DER_MALFORMED');
    expect(code(() => readUnsigned(decodeDer(fromHex('020180'))))).toBe('ERR_DER_MALFORMED');
    expect(code(() => readOid(decodeDer(fromHex('060180'))))).toBe('ERR_DER_MALFORMED');
    expect(code(() => readTime(decodeDer(der.printable('20240101000000Z'))))).toBe('ERR_DER_MALFORMED');
    expect(code(() => readTime(decodeDer(fromHex('170d3234313333313030303030305a'))))).toBe('ERR_DER_MALFORMED'); // month 13
  });

  it('reads nested structures as views of the input', () => {
    const enc = der.seq(der.int(5), der.seq(der.octets(Uint8Array.of(1, 2))), der.bits(Uint8Array.of(0x80), 7));
    const top = decodeDer(enc);
    const [a, b, c] = children(top);
    expect(readUnsigned(a)).toEqual(Uint8Array.of(5));
    expect(children(b!)[0]!.value).toEqual(Uint8Array.of(1, 2));
    expect(readBitFlags(c)).toEqual([true]);
    expect(top.raw.buffer).toBe(enc.buffer);
  });

  it('random input only throws ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          const n = decodeDer(b);
          if (n.constructed) children(n);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});
