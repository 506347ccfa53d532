/**
 * Synchronous SHA-256 and HMAC-SHA-256 (FIPS 180-4 §6.2, RFC 2104) for the HPKE and OHTTP key schedules.
 *
 * Why not WebCrypto: a session derives about a dozen HMACs over a few dozen bytes each, and every WebCrypto
 * call is an asynchronous round trip (an importKey and a sign on Node's thread pool, ~70 µs together); here an
 * HMAC over such inputs is a few µs. Bulk data is never hashed here (AEAD is the session backend's, and a
 * backend may bring its own HMAC: session/backend.ts). Tested against WebCrypto's SHA-256 and HMAC on random
 * inputs.
 */

// Round constants and initial hash value: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes and of the square roots of the first 8 primes (FIPS 180-4 §4.2.2, §5.3.3).
const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);
const frac32 = (x: number): number => ((x - Math.floor(x)) * 0x100000000) >>> 0;
const K = Uint32Array.from(PRIMES, (p) => frac32(Math.cbrt(p)));
const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => frac32(Math.sqrt(p)));

const W = new Uint32Array(64);

function compress(h: Uint32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) W[i] = (block[at + 4 * i]! << 24) | (block[at + 4 * i + 1]! << 16) | (block[at + 4 * i + 2]! << 8) | block[at + 4 * i + 3]!;
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15]!;
    const b = W[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, k = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

/** SHA-256 over the concatenation of `parts`. */
export function sha256Sync(...parts: Uint8Array[]): Uint8Array {
  const h = H0.slice();
  let total = 0;
  for (const p of parts) total += p.length;
  // Message, 0x80, zero padding and the 64-bit bit length (§5.1.1), processed in 64-byte blocks.
  const padded = new Uint8Array((((total + 8) >> 6) + 1) << 6);
  let o = 0;
  for (const p of parts) {
    padded.set(p, o);
    o += p.length;
  }
  padded[total] = 0x80;
  const bits = total * 8;
  const v = new DataView(padded.buffer);
  v.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  v.setUint32(padded.length - 4, bits >>> 0);
  for (let at = 0; at < padded.length; at += 64) compress(h, padded, at);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]!);
  return out;
}

/** HMAC-SHA-256 (RFC 2104): H((K ⊕ opad) || H((K ⊕ ipad) || message)). */
export function hmacSha256(key: Uint8Array, ...message: Uint8Array[]): Uint8Array {
  const k = new Uint8Array(64);
  k.set(key.length > 64 ? sha256Sync(key) : key);
  const ipad = k.map((x) => x ^ 0x36);
  const opad = k.map((x) => x ^ 0x5c);
  return sha256Sync(opad, sha256Sync(ipad, ...message));
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
