/** The KBS resource response JWE: decrypts with an independent JOSE implementation; header in serde order. */
import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError, VerificationError, fromBase64Url, fromUtf8, utf8 } from '@ccinfer/core';
import { exportJWK, flattenedDecrypt, generateKeyPair } from 'jose';
import { jweToTeePubKey, openKbsResponse } from '../../src/trustee.js';
import { expectCode } from '../../../../test-support/helpers.js';

const sortedKeys = (o: Record<string, unknown>): string[] => Object.keys(o).slice().sort();

describe('jweToTeePubKey', () => {
  for (const crv of ['P-256', 'P-521'] as const) {
    it(`ECDH-ES+A256KW / A256GCM to an EC ${crv} tee-pubkey`, async () => {
      const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv });
      const j = await exportJWK(publicKey);
      const jwe = await jweToTeePubKey({ kty: 'EC', crv, alg: 'ECDH-ES+A256KW', x: j.x!, y: j.y! }, utf8('model key'));
      expect(fromUtf8((await flattenedDecrypt(jwe, privateKey)).plaintext)).toBe('model key');
      expect(fromUtf8(await openKbsResponse(privateKey, jwe))).toBe('model key');
      const header = JSON.parse(fromUtf8(fromBase64Url(jwe.protected))) as Record<string, unknown>;
      // guest-components recomputes the AAD from a re-serialized header: the member order must already be alg, enc, epk{sorted}.
      expect(Object.keys(header)).toEqual(['alg', 'enc', 'epk']);
      expect(Object.keys(header['epk'] as object)).toEqual(sortedKeys(header['epk'] as Record<string, unknown>));
    });
  }

  it('RSA-OAEP-256 / A256GCM to an RSA tee-pubkey', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048 });
    const j = await exportJWK(publicKey);
    const jwe = await jweToTeePubKey({ kty: 'RSA', alg: 'RSA-OAEP-256', n: j.n!, e: j.e! }, utf8('k'));
    expect(fromUtf8((await flattenedDecrypt(jwe, privateKey)).plaintext)).toBe('k');
    expect(fromUtf8(await openKbsResponse(privateKey, jwe))).toBe('k');
  });

  it('openKbsResponse refuses other algorithms and tampered ciphertexts', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
    const j = await exportJWK(publicKey);
    const jwe = await jweToTeePubKey({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: j.x!, y: j.y! }, utf8('k'));
    const hdr = (h: object) => btoa(JSON.stringify(h)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    await expectCode(openKbsResponse(privateKey, { ...jwe, protected: hdr({ alg: 'dir', enc: 'A256GCM' }) }), ParseError, 'ERR_TRUSTEE_JWE_MALFORMED');
    await expectCode(openKbsResponse(privateKey, { ...jwe, protected: hdr({ alg: 'ECDH-ES+A256KW', enc: 'A128GCM' }) }), ParseError, 'ERR_TRUSTEE_JWE_MALFORMED');
    await expectCode(openKbsResponse(privateKey, { ...jwe, protected: 'bm90IGpzb24' }), ParseError, 'ERR_TRUSTEE_JWE_MALFORMED');
    await expectCode(openKbsResponse(privateKey, { ...jwe, tag: jwe.tag.slice(0, -2) + (jwe.tag.endsWith('AA') ? 'AQ' : 'AA') }), VerificationError, 'ERR_TRUSTEE_JWE_DECRYPT');
    const other = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
    await expectCode(openKbsResponse(other.privateKey, jwe), VerificationError, 'ERR_TRUSTEE_JWE_DECRYPT');
  });

  it('refuses algorithms the KBS protocol client does not use', async () => {
    await expectCode(jweToTeePubKey({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES', x: 'a', y: 'b' }, utf8('k')), ConfigError, 'ERR_OPTIONS_INVALID');
    await expectCode(jweToTeePubKey({ kty: 'EC', crv: 'secp256k1', alg: 'ECDH-ES+A256KW', x: 'a', y: 'b' }, utf8('k')), ConfigError, 'ERR_OPTIONS_INVALID');
  });
});
