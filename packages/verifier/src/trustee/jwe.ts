/**
 * The KBS protocol "Resource Response": a flattened JWE (RFC 7516 §7.2.2) to the guest's `tee-pubkey`,
 * `enc` A256GCM, `alg` from the key — ECDH-ES+A256KW (RFC 7518 §4.6, EC P-256 / P-384 / P-521) or RSA-OAEP-256
 * / RSA-OAEP (§4.3).
 *
 * Why not a general JOSE library here: guest-components (`kbs_types::ProtectedHeader::generate_aad`) does not
 * use the received `protected` string as the AAD; it re-serializes the parsed header with serde (`alg`, `enc`,
 * then the remaining members as a JSON map) and base64url-encodes that. The two agree only when the header's
 * own member order is that order, so the header is written here in canonical form — `alg`, `enc`, then
 * `epk` with its members sorted (`crv`, `kty`, `x`, `y`) — which is both the parse order and the sorted order.
 */
import { concat, fromBase64Url as fromB64u, toBase64Url, utf8, subtle, randomBytes, ConfigError, ParseError, VerificationError, type TeePubKey } from '@ccinfer/core';
import { bs } from '@ccinfer/core/internal';

export interface FlattenedJwe {
  protected: string;
  encrypted_key: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

const CURVES: Record<string, { bits: number }> = { 'P-256': { bits: 256 }, 'P-384': { bits: 384 }, 'P-521': { bits: 521 } };

/** RFC 7518 §4.6.2 Concat KDF (one SHA-256 round is enough for a 256-bit key) with empty PartyU/VInfo. */
async function concatKdf(z: Uint8Array, alg: string, keyBits: number): Promise<Uint8Array> {
  const u32 = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  const a = utf8(alg);
  const otherInfo = concat(u32(a.length), a, u32(0), u32(0), u32(keyBits));
  return new Uint8Array(await subtle().digest('SHA-256', bs(concat(u32(1), z, otherInfo))));
}

async function wrapEcdhEs(k: Extract<TeePubKey, { kty: 'EC' }>, cek: Uint8Array): Promise<{ header: string; encryptedKey: Uint8Array }> {
  const curve = CURVES[k.crv];
  if (!curve) throw new ConfigError('ERR_OPTIONS_INVALID', `tee-pubkey curve ${k.crv} is not supported`, { fields: ['tee-pubkey.crv'] });
  const params = { name: 'ECDH', namedCurve: k.crv };
  const recipient = await subtle().importKey('jwk', { kty: 'EC', crv: k.crv, x: k.x, y: k.y, ext: true }, params, false, []);
  const eph = (await subtle().generateKey(params, true, ['deriveBits'])) as CryptoKeyPair;
  const z = new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: recipient }, eph.privateKey, Math.ceil(curve.bits / 8) * 8));
  const kek = await subtle().importKey('raw', bs(await concatKdf(z, 'ECDH-ES+A256KW', 256)), 'AES-KW', false, ['wrapKey']);
  const cekKey = await subtle().importKey('raw', bs(cek), { name: 'AES-GCM' }, true, ['encrypt']);
  const encryptedKey = new Uint8Array(await subtle().wrapKey('raw', cekKey, kek, 'AES-KW'));
  const e = (await subtle().exportKey('jwk', eph.publicKey)) as JsonWebKey;
  const header = `{"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"crv":${JSON.stringify(k.crv)},"kty":"EC","x":${JSON.stringify(e.x)},"y":${JSON.stringify(e.y)}}}`;
  return { header, encryptedKey };
}

async function wrapRsaOaep(k: Extract<TeePubKey, { kty: 'RSA' }>, cek: Uint8Array): Promise<{ header: string; encryptedKey: Uint8Array }> {
  const hash = k.alg === 'RSA-OAEP-256' ? 'SHA-256' : 'SHA-1';
  const key = await subtle().importKey('jwk', { kty: 'RSA', n: k.n, e: k.e, ext: true }, { name: 'RSA-OAEP', hash }, false, ['encrypt']);
  return { header: `{"alg":${JSON.stringify(k.alg)},"enc":"A256GCM"}`, encryptedKey: new Uint8Array(await subtle().encrypt({ name: 'RSA-OAEP' }, key, bs(cek))) };
}

/** Encrypts `plaintext` to a KBS `tee-pubkey` as a flattened JWE. */
export async function jweToTeePubKey(teePubkey: TeePubKey, plaintext: Uint8Array): Promise<FlattenedJwe> {
  const cek = randomBytes(32);
  let wrapped: { header: string; encryptedKey: Uint8Array };
  if (teePubkey.kty === 'EC' && teePubkey.alg === 'ECDH-ES+A256KW') wrapped = await wrapEcdhEs(teePubkey, cek);
  else if (teePubkey.kty === 'RSA' && (teePubkey.alg === 'RSA-OAEP-256' || teePubkey.alg === 'RSA-OAEP')) wrapped = await wrapRsaOaep(teePubkey, cek);
  else throw new ConfigError('ERR_OPTIONS_INVALID', `tee-pubkey ${teePubkey.kty} with alg ${teePubkey.alg} is not supported`, { fields: ['tee-pubkey.alg'] });
  const protectedB64 = toBase64Url(utf8(wrapped.header));
  const iv = randomBytes(12);
  const key = await subtle().importKey('raw', bs(cek), { name: 'AES-GCM' }, false, ['encrypt']);
  // RFC 7516 §5.1 step 14: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
  const sealed = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: bs(iv), additionalData: bs(utf8(protectedB64)), tagLength: 128 }, key, bs(plaintext)));
  return {
    protected: protectedB64,
    encrypted_key: toBase64Url(wrapped.encryptedKey),
    iv: toBase64Url(iv),
    ciphertext: toBase64Url(sealed.subarray(0, sealed.length - 16)),
    tag: toBase64Url(sealed.subarray(sealed.length - 16)),
  };
}

/**
 * The guest side (what a Confidential Data Hub does with a resource response): opens a flattened JWE made for
 * this `tee-pubkey` with its private key (ECDH P-256/384/521 `deriveBits`, or RSA-OAEP `decrypt`).
 */
export async function openKbsResponse(privateKey: CryptoKey, jwe: FlattenedJwe): Promise<Uint8Array> {
  const fail = (msg: string, cause?: unknown): ParseError => new ParseError('ERR_TRUSTEE_JWE_MALFORMED', msg, cause === undefined ? undefined : { cause });
  let header: { alg?: string; enc?: string; epk?: JsonWebKey };
  try {
    header = JSON.parse(new TextDecoder().decode(fromB64u(jwe.protected))) as typeof header;
  } catch (cause) {
    throw fail('the JWE protected header is not JSON', cause);
  }
  if (header.enc !== 'A256GCM') throw fail(`JWE enc ${String(header.enc)} is not A256GCM`);
  const crv = header.epk?.crv;
  const ecdh = header.alg === 'ECDH-ES+A256KW' && crv !== undefined && CURVES[crv] !== undefined;
  if (!ecdh && header.alg !== 'RSA-OAEP-256' && header.alg !== 'RSA-OAEP') throw fail(`JWE alg ${String(header.alg)} is not supported`);
  try {
    let cek: CryptoKey;
    if (ecdh) {
      const params = { name: 'ECDH', namedCurve: crv };
      const epk = await subtle().importKey('jwk', { kty: 'EC', crv, x: header.epk!.x!, y: header.epk!.y!, ext: true }, params, false, []);
      const z = new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: epk }, privateKey, Math.ceil(CURVES[crv]!.bits / 8) * 8));
      const kek = await subtle().importKey('raw', bs(await concatKdf(z, 'ECDH-ES+A256KW', 256)), 'AES-KW', false, ['unwrapKey']);
      cek = await subtle().unwrapKey('raw', bs(fromB64u(jwe.encrypted_key)), kek, 'AES-KW', { name: 'AES-GCM' }, false, ['decrypt']);
    } else {
      const raw = new Uint8Array(await subtle().decrypt({ name: 'RSA-OAEP' }, privateKey, bs(fromB64u(jwe.encrypted_key))));
      cek = await subtle().importKey('raw', bs(raw), { name: 'AES-GCM' }, false, ['decrypt']);
    }
    const sealed = concat(fromB64u(jwe.ciphertext), fromB64u(jwe.tag));
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: bs(fromB64u(jwe.iv)), additionalData: bs(utf8(jwe.protected)), tagLength: 128 }, cek, bs(sealed)));
  } catch (cause) {
    if (cause instanceof ParseError) throw cause;
    throw new VerificationError('ERR_TRUSTEE_JWE_DECRYPT', 'the resource response does not open with this key', { cause });
  }
}
