/**
 * hpke.ts against an independent RFC 9180 implementation, `@hpke/core` (WebCrypto primitives), for both AEADs
 * we offer — the published OHTTP examples only cover AES-128-GCM. Messages sealed by one open with the other,
 * and the RFC 9458 §4.4 response key derived from `@hpke/core`'s exporter (with WebCrypto's own HKDF) opens
 * our gateway's response.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  KDF_HKDF_SHA256,
  SessionError,
  concat,
  decapsulateRequest,
  encapsulateRequest,
  generateGatewayKey,
  openSealed,
  sealToKeyConfig,
  utf8,
} from '@ccinfer/core';
import { expectCode } from '../../../../test-support/helpers.js';

const ab = (u: Uint8Array): ArrayBuffer => u.slice().buffer as ArrayBuffer;

for (const [aeadId, Aead, nk] of [
  [AEAD_AES_128_GCM, Aes128Gcm, 16],
  [AEAD_AES_256_GCM, Aes256Gcm, 32],
] as const) {
  const key = await generateGatewayKey(5, [{ kdfId: KDF_HKDF_SHA256, aeadId }]);
  describe(`HPKE interoperates with @hpke/core, AEAD 0x000${aeadId}`, () => {
    const lookup = (id: number) => (id === 5 ? key : undefined);
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aead() });
    const hdr = new Uint8Array([5, 0, 0x20, 0, 1, 0, aeadId]);
    const requestInfo = concat(utf8('message/bhttp request'), new Uint8Array([0]), hdr);
    const bodies = fc.uint8Array({ maxLength: 600 });

    it('our RFC 9458 request opens with @hpke/core', async () => {
      await fc.assert(
        fc.asyncProperty(bodies, async (msg) => {
          const { encapsulated } = await encapsulateRequest(key.config, msg);
          expect(encapsulated.subarray(0, 7)).toEqual(hdr);
          const ctx = await suite.createRecipientContext({ recipientKey: key.keyPair, enc: ab(encapsulated.subarray(7, 39)), info: ab(requestInfo) });
          expect(new Uint8Array(await ctx.open(ab(encapsulated.subarray(39))))).toEqual(msg);
        }),
        { numRuns: 20 },
      );
    });

    it("@hpke/core's request opens with ours, and our response opens with its exporter", async () => {
      await fc.assert(
        fc.asyncProperty(bodies, bodies, async (msg, reply) => {
          const ctx = await suite.createSenderContext({ recipientPublicKey: key.keyPair.publicKey, info: ab(requestInfo) });
          const enc = new Uint8Array(ctx.enc);
          const opened = await decapsulateRequest(lookup, concat(hdr, enc, new Uint8Array(await ctx.seal(ab(msg)))));
          expect(opened.request).toEqual(msg);
          const res = await opened.encapsulateResponse(reply);
          // RFC 9458 §4.4 with @hpke/core's Export and WebCrypto's HKDF (Extract+Expand in one deriveBits).
          const secret = await ctx.export(ab(utf8('message/bhttp response')), nk);
          const hkdf = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
          const salt = concat(enc, res.subarray(0, nk));
          const derive = async (label: string, n: number) =>
            new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: ab(salt), info: ab(utf8(label)) }, hkdf, n * 8));
          const aesKey = await crypto.subtle.importKey('raw', ab(await derive('key', nk)), 'AES-GCM', false, ['decrypt']);
          const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ab(await derive('nonce', 12)) }, aesKey, ab(res.subarray(nk)));
          expect(new Uint8Array(plain)).toEqual(reply);
        }),
        { numRuns: 20 },
      );
    });

    it('sealed secrets (single-shot, with AAD) cross both ways', async () => {
      const info = concat(utf8('ccinfer/1 sealed secret'), new Uint8Array([0]), hdr);
      const secret = utf8('model key');
      const sealed = await sealToKeyConfig(key.config, secret, 'label');
      const rctx = await suite.createRecipientContext({ recipientKey: key.keyPair, enc: ab(sealed.subarray(7, 39)), info: ab(info) });
      expect(new Uint8Array(await rctx.open(ab(sealed.subarray(39)), ab(utf8('label'))))).toEqual(secret);
      const sctx = await suite.createSenderContext({ recipientPublicKey: key.keyPair.publicKey, info: ab(info) });
      const theirs = concat(hdr, new Uint8Array(sctx.enc), new Uint8Array(await sctx.seal(ab(secret), ab(utf8('label')))));
      expect(await openSealed(key, theirs, 'label')).toEqual(secret);
      await expectCode(openSealed(key, theirs, 'other label'), SessionError, 'ERR_OHTTP_DECRYPT');
    });
  });
}
