/**
 * The published OHTTP examples as a suite any session crypto backend must pass byte for byte: RFC 9458
 * Appendix A (one request/response, AES-128-GCM) and draft-ietf-ohai-chunked-ohttp-08 Appendix A (three request
 * chunks, three response chunks). The bytes are the documents' own; reproducing them needs the documents'
 * ephemeral keys and response nonces. Run by core (WebCrypto) and node (node:crypto).
 */
import { describe, expect, it } from 'vitest';
import {
  ChunkedRequestDecoder,
  ChunkedRequestEncoder,
  concat,
  decapsulateRequest,
  decodeRequest,
  decodeResponse,
  encapsulateRequest,
  importGatewayKey,
  parseKeyConfig,
  toHex,
  AEAD_AES_128_GCM,
  KDF_HKDF_SHA256,
  type RawKeyPair,
  type SessionCrypto,
} from '@ccinfer/core';

/** Hex as written in specifications (whitespace allowed). */
const hex = (s: string): Uint8Array => Uint8Array.from((s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
const keyPair = (sk: string, pk: string): RawKeyPair => ({ privateKey: hex(sk), publicKey: hex(pk) });
const AES128 = [{ kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM }];

export const RFC9458_A = {
  skR: '3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a',
  pkR: '31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155',
  keyConfig: '01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003',
  request: '00034745540568747470730b6578616d706c652e636f6d012f',
  skE: 'bc51d5e930bda26589890ac7032f70ad12e4ecb37abb1b65b1256c9c48999c73',
  pkE: '4b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472',
  encRequest:
    '010020000100014b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472' +
    '6374e469135906992e1268c594d2a10c695d858c40a026e7965e7d86b83dd440b2c0185204b4d63525',
  response: '0140c8',
  responseNonce: 'c789e7151fcba46158ca84b04464910d',
  encResponse: 'c789e7151fcba46158ca84b04464910d86f9013e404feea014e7be4a441f234f857fbd',
};

export const CHUNKED_08_A = {
  skR: '1c190d72acdbe4dbc69e680503bb781a932c70a12c8f3754434c67d8640d8698',
  keyConfig: '010020668eb21aace159803974a4c67f08b4152d29bed10735fd08f98ccdd6fe09570800080001000100010003',
  request: '00034745540568747470730b6578616d706c652e636f6d012f',
  skE: 'b26d565f3f875ed480d1abced3d665159650c99174fd0b124ac4bda0c64ae324',
  pkE: '8811eb457e100811c40a0aa71340a1b81d804bb986f736f2f566a7199761a032',
  encRequest: [
    '01002000010001',
    '8811eb457e100811c40a0aa71340a1b81d804bb986f736f2f566a7199761a032',
    '1c2ad24942d4d692563012f2980c8fef437a336b9b2fc938ef77a5834f',
    '1d2e33d8fd25577afe31bd1c79d094f76b6250ae6549b473ecd950501311',
    '001c6c1395d0ef7c1022297966307b8a7f',
  ],
  response: '0140c8',
  encResponse: ['bcce7f4cb921309ba5d62edf1769ef09', '1179bf1cc87fa0e2c02de4546945aa3d1e48', '12b348b5bd4c594c16b6170b07b475845d1f32', '00ed9d8a796617a5b27265f4d73247f639'],
};

/** Defines the example tests for one backend. */
export function ohttpExamples(crypto: SessionCrypto): void {
  describe(`RFC 9458 Appendix A (${crypto.name})`, () => {
    const v = RFC9458_A;
    it('client: reproduces the encapsulated request and opens the encapsulated response', async () => {
      const kc = parseKeyConfig(hex(v.keyConfig));
      const { encapsulated, openResponse } = await encapsulateRequest(kc, hex(v.request), { algorithms: AES128, ephemeralKeyPair: keyPair(v.skE, v.pkE), crypto });
      expect(toHex(encapsulated)).toBe(v.encRequest);
      expect(toHex(await openResponse(hex(v.encResponse)))).toBe(v.response);
    });

    it('gateway: opens the request, decodes its Binary HTTP and reproduces the encapsulated response', async () => {
      const key = await importGatewayKey(1, hex(v.skR), hex(v.pkR), AES128);
      const { request: got, encapsulateResponse } = await decapsulateRequest((id) => (id === 1 ? key : undefined), hex(v.encRequest), { crypto });
      expect(toHex(got)).toBe(v.request);
      const req = decodeRequest(got);
      expect([req.method, req.scheme, req.authority, req.path]).toEqual(['GET', 'https', 'example.com', '/']);
      expect(toHex(await encapsulateResponse(hex(v.response), hex(v.responseNonce)))).toBe(v.encResponse);
      expect(decodeResponse(hex(v.response)).status).toBe(200);
    });
  });

  describe(`draft-ietf-ohai-chunked-ohttp-08 Appendix A (${crypto.name})`, () => {
    const v = CHUNKED_08_A;
    it('client: reproduces the three request chunks and opens the three response chunks', async () => {
      const kc = parseKeyConfig(hex(v.keyConfig));
      const enc = await ChunkedRequestEncoder.create(kc, { algorithms: AES128, ephemeralKeyPair: keyPair(v.skE, v.pkE), crypto });
      const req = hex(v.request);
      const parts = [enc.header(), await enc.seal(req.subarray(0, 12), false), await enc.seal(req.subarray(12), false), await enc.seal(new Uint8Array(0), true)];
      expect(toHex(concat(...parts))).toBe(v.encRequest.join(''));
      const dec = enc.responseDecoder();
      const body: Uint8Array[] = [];
      for (const piece of v.encResponse) body.push(...(await dec.push(hex(piece))));
      body.push(await dec.finish());
      expect(toHex(concat(...body))).toBe(v.response);
    });

    it('gateway: opens the chunked request and reproduces the chunked response', async () => {
      const kc = parseKeyConfig(hex(v.keyConfig));
      const key = await importGatewayKey(1, hex(v.skR), kc.publicKey, kc.algorithms);
      const dec = new ChunkedRequestDecoder((id) => (id === 1 ? key : undefined), { crypto });
      const got = [...(await dec.push(hex(v.encRequest.join(''))))];
      got.push(await dec.finish());
      expect(toHex(concat(...got))).toBe(v.request);
      const res = await dec.responseEncoder(hex(v.encResponse[0]!));
      const r = hex(v.response);
      const out = [res.header(), await res.seal(r.subarray(0, 1), false), await res.seal(r.subarray(1), false), await res.seal(new Uint8Array(0), true)];
      expect(toHex(concat(...out))).toBe(v.encResponse.join(''));
    });
  });
}
