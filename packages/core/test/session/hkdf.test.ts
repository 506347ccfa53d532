import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@ccinfer/core';
import { hkdfExpand, hkdfExtract, hmacSha256, sha256Sync } from '../../src/session/hkdf.js';
import { hex } from './hex.js';

describe('synchronous SHA-256 / HMAC (@noble/hashes) / HKDF', () => {
  it('matches WebCrypto SHA-256 on any input, across block boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.nat(300), async (m, cut) => {
        const c = Math.min(cut, m.length);
        expect(sha256Sync(m.subarray(0, c), m.subarray(c))).toEqual(await sha256(m));
      }),
      { numRuns: 300 },
    );
  });

  it('matches node:crypto HMAC-SHA-256, including keys longer than a block', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 200 }), (k, m) => {
        expect(hmacSha256(k, m)).toEqual(new Uint8Array(createHmac('sha256', k).update(m).digest()));
      }),
      { numRuns: 300 },
    );
  });

  it('RFC 5869 Appendix A.1 (HKDF-SHA256 test case 1)', () => {
    const prk = hkdfExtract(hex('000102030405060708090a0b0c'), hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'));
    expect(prk).toEqual(hex('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5'));
    expect(hkdfExpand(prk, hex('f0f1f2f3f4f5f6f7f8f9'), 42)).toEqual(hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865'));
    // The same with inputs in parts and with another HMAC (node:crypto's, as a session backend supplies it).
    const nodeHmac = (k: Uint8Array, ...m: Uint8Array[]) => {
      const h = createHmac('sha256', k);
      for (const x of m) h.update(x);
      return new Uint8Array(h.digest());
    };
    const prk2 = hkdfExtract(hex('000102030405060708090a0b0c'), [hex('0b0b0b0b0b'), hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b')], nodeHmac);
    expect(prk2).toEqual(prk);
    expect(hkdfExpand(prk2, [hex('f0f1f2f3'), hex('f4f5f6f7f8f9')], 42, nodeHmac)).toEqual(hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865'));
    expect(hkdfExpand(prk2, [hex('f0f1f2f3'), hex('f4f5f6f7f8f9')], 10)).toEqual(hex('3cb25f25faacd57a9043'));
  });
});
