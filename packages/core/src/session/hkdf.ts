/**
 * HKDF (RFC 5869) over a synchronous HMAC-SHA-256, for the HPKE and OHTTP key schedules.
 *
 * SHA-256 and HMAC come from `@noble/hashes` (audited, synchronous, no dependencies). Why synchronous rather than
 * WebCrypto: a session derives about a dozen HMACs over a few dozen bytes each, and every WebCrypto call is an
 * asynchronous round trip (an importKey and a sign on Node's thread pool, ~70 µs together); a synchronous HMAC
 * over such inputs is a few µs. Bulk data is never hashed here (AEAD is the session backend's, and a backend
 * may bring its own HMAC: session/backend.ts).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** SHA-256 (FIPS 180-4) over the concatenation of `parts`. */
export function sha256Sync(...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC-SHA-256 (RFC 2104) over the concatenation of `message`. */
export function hmacSha256(key: Uint8Array, ...message: Uint8Array[]): Uint8Array {
  const h = hmac.create(sha256, key);
  for (const m of message) h.update(m);
  return h.digest();
}

/** An HMAC-SHA-256 over the concatenation of `message`: {@link hmacSha256} or a session backend's. */
export type Hmac = (key: Uint8Array, ...message: Uint8Array[]) => Uint8Array;

const parts = (x: Uint8Array | Uint8Array[]): Uint8Array[] => (x instanceof Uint8Array ? [x] : x);

/** HKDF-Extract (RFC 5869 §2.2); an empty salt is HashLen zero bytes. `ikm` may be given in parts. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array | Uint8Array[], hmac: Hmac = hmacSha256): Uint8Array {
  return hmac(salt.length === 0 ? new Uint8Array(32) : salt, ...parts(ikm));
}

/** HKDF-Expand (RFC 5869 §2.3). `info` may be given in parts. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array | Uint8Array[], length: number, hmac: Hmac = hmacSha256): Uint8Array {
  if (length > 255 * 32) throw new RangeError('HKDF-Expand length exceeds 255 * HashLen');
  const i = parts(info);
  if (length <= 32) {
    const t = hmac(prk, ...i, new Uint8Array([1]));
    return length === 32 ? t : t.slice(0, length);
  }
  const out = new Uint8Array(length);
  let t = new Uint8Array(0);
  for (let n = 1, at = 0; at < length; n++, at += 32) {
    t = hmac(prk, t, ...i, new Uint8Array([n])) as Uint8Array<ArrayBuffer>;
    out.set(t.subarray(0, Math.min(32, length - at)), at);
  }
  return out;
}
