/** Quote structure errors, minted with the simulator. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError, VerificationError, utf8 } from '@ccinfer/core';
import { mintIntelPki, mintTdxQuote, type SimulatedIntelPki } from '../../src/testing/tdx.js';
import { parseTdxQuote, hasTdAttribute, TD_ATTR } from '../../src/tdx/parse.js';
import { parsePckChain } from '../../src/tdx/verify.js';
import { parseSgxExtension } from '../../src/tdx/pck.js';
import { expectCodeSync } from '../../../../test-support/helpers.js';

let pki: SimulatedIntelPki;
beforeAll(async () => {
  pki = await mintIntelPki();
});

describe('parseTdxQuote', () => {
  it('parses v4 and v5 (TD 1.0 and 1.5 bodies) with exact signed regions', async () => {
    const v4 = parseTdxQuote((await mintTdxQuote(pki, { version: 4 })).quote);
    expect(v4.signedRegion.length).toBe(632);
    expect(v4.body.bodyType).toBe(2);
    expect(v4.body.teeTcbSvn2).toBeUndefined();
    const v5 = parseTdxQuote((await mintTdxQuote(pki, { version: 5, teeTcbSvn2: [9, 1, 9] })).quote);
    expect(v5.signedRegion.length).toBe(702);
    expect(v5.body.teeTcbSvn2![0]).toBe(9);
    expect(v5.body.mrServiceTd!.length).toBe(48);
    const v5b2 = parseTdxQuote((await mintTdxQuote(pki, { version: 5, bodyType: 2 })).quote);
    expect(v5b2.signedRegion.length).toBe(54 + 584);
    expect(v5b2.body.bodyType).toBe(2);
  });

  it('counts trailing bytes and decodes TD attributes', async () => {
    const q = parseTdxQuote((await mintTdxQuote(pki, { trailing: utf8('\nextra bytes\n'), tdAttributes: 1n | (1n << 28n) })).quote);
    expect(q.trailingBytes).toBe(13);
    expect(hasTdAttribute(q.body, TD_ATTR.DEBUG)).toBe(true);
    expect(hasTdAttribute(q.body, TD_ATTR.SEPT_VE_DISABLE)).toBe(true);
    expect(hasTdAttribute(q.body, TD_ATTR.PKS)).toBe(false);
  });

  it('rejects each bad header field with its code', async () => {
    const cases: [Parameters<typeof mintTdxQuote>[1], string][] = [
      [{ attKeyType: 3 }, 'ERR_TDX_ATT_KEY_TYPE'],
      [{ teeType: 0 }, 'ERR_TDX_TEE_TYPE'],
      [{ qeVendorId: new Uint8Array(16) }, 'ERR_TDX_QE_VENDOR'],
      [{ version: 5, bodyType: 1 }, 'ERR_TDX_BODY_TYPE'],
      [{ version: 5, bodyType: 3, bodySize: 584 }, 'ERR_TDX_BODY_TYPE'],
      [{ certDataType: 5 }, 'ERR_TDX_CERT_DATA_TYPE'],
      [{ innerCertDataType: 4 }, 'ERR_TDX_CERT_DATA_TYPE'],
    ];
    for (const [spec, code] of cases) {
      const { quote } = await mintTdxQuote(pki, spec);
      expectCodeSync(() => parseTdxQuote(quote), ParseError, code);
    }
    const { quote } = await mintTdxQuote(pki);
    const v3 = quote.slice();
    v3[0] = 3;
    expectCodeSync(() => parseTdxQuote(v3), ParseError, 'ERR_TDX_QUOTE_VERSION');
  });

  it('rejects truncation anywhere and inconsistent certification data sizes', async () => {
    const { quote } = await mintTdxQuote(pki);
    for (const n of [0, 10, 47, 100, 631, 634, 700, 1200, quote.length - 1]) {
      const e = (() => {
        try {
          parseTdxQuote(quote.subarray(0, n));
          return undefined;
        } catch (err) {
          return err;
        }
      })();
      expect(e, `length ${n}`).toBeInstanceOf(ParseError);
      expect(['ERR_TDX_QUOTE_TRUNCATED', 'ERR_TDX_CERT_DATA_MALFORMED']).toContain((e as ParseError).code);
    }
    // Outer certification data size one larger than what follows.
    const bad = quote.slice();
    const sizeAt = 632 + 4 + 130;
    new DataView(bad.buffer).setUint32(sizeAt, new DataView(bad.buffer).getUint32(sizeAt, true) - 1, true);
    expectCodeSync(() => parseTdxQuote(bad), ParseError, 'ERR_TDX_CERT_DATA_MALFORMED');
  });
});

describe('PCK chain and SGX extension', () => {
  it('reads the extension values', async () => {
    const { quote } = await mintTdxQuote(pki, { pck: { fmspc: 'b0c06f000000', pceSvn: 13, sgxTcbComponents: [1, 2, 3, 4, 5, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], sgxType: 0 } });
    const c = parsePckChain(parseTdxQuote(quote));
    expect(c.extension.fmspc).toBe('b0c06f000000');
    expect(c.extension.pceSvn).toBe(13);
    expect(c.extension.sgxTcbComponents[5]).toBe(255);
    expect(c.extension.sgxTcbComponents[15]).toBe(9);
    expect(c.extension.sgxType).toBe('Standard');
  });

  it('rejects a missing or malformed SGX extension', async () => {
    const none = await mintTdxQuote(pki, { pck: { extension: null } });
    expectCodeSync(() => parsePckChain(parseTdxQuote(none.quote)), ParseError, 'ERR_TDX_PCK_EXTENSION');
    expectCodeSync(() => parseSgxExtension(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), ParseError, 'ERR_TDX_PCK_EXTENSION');
    expectCodeSync(() => parseSgxExtension(new Uint8Array([0x30, 0x00])), ParseError, 'ERR_TDX_PCK_EXTENSION');
  });

  it('rejects a leaf that is not an SGX PCK Certificate, or a chain of the wrong length', async () => {
    const wrongCn = await mintTdxQuote(pki, { pck: { cn: 'Intel SGX TCB Signing' } });
    expectCodeSync(() => parsePckChain(parseTdxQuote(wrongCn.quote)), VerificationError, 'ERR_TDX_PCK_CERT');
    const short = await mintTdxQuote(pki);
    const p = parseTdxQuote(short.quote);
    const pem = new TextDecoder().decode(p.pckChain);
    const two = pem.slice(0, pem.lastIndexOf('-----BEGIN CERTIFICATE-----'));
    const q2 = await mintTdxQuote(pki, { pckChain: utf8(two) });
    expectCodeSync(() => parsePckChain(parseTdxQuote(q2.quote)), VerificationError, 'ERR_TDX_PCK_CERT');
    const garbage = await mintTdxQuote(pki, { pckChain: utf8('not a chain') });
    expectCodeSync(() => parsePckChain(parseTdxQuote(garbage.quote)), ParseError, 'ERR_TDX_CERT_DATA_MALFORMED');
  });
});
