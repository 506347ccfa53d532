/**
 * The primitives an HPKE / OHTTP session needs (RFC 9180 §4.1, §5.2; RFC 9458 §4.4), behind one injectable
 * interface, so the protocol code (hpke.ts, ohttp.ts) is written once and a runtime with faster primitives can
 * plug them in: `@ccinfer/node` supplies one on node:crypto (synchronous AES-GCM and X25519), browsers use
 * {@link webCryptoSessionCrypto}, the default here.
 *
 * Why: in Node every WebCrypto call is an asynchronous trip to the thread pool (~30–100 µs of dispatch), and a
 * 1 KB exchange needs about eight of them; the budget for the client's whole request overhead is 0.3 ms
 * (docs/design-notes.md "Budgets").
 *
 * Contracts every backend keeps (the protocol code relies on them):
 *  - `x25519` returns the raw 32-byte shared secret; the caller rejects an all-zero result (RFC 9180 §7.1.4).
 *  - `open` returns plaintext only after the tag verified, and throws otherwise; tags are 16 bytes, never less.
 *  - returned bytes are plain `Uint8Array`s the caller owns (no views into pooled buffers).
 */
import { bs, subtle } from '../crypto.js';

/** An X25519 private key as the backend holds it (WebCrypto `CryptoKey`, a node:crypto `KeyObject`, …). */
export type PrivateKeyHandle = object;
/** An AES-GCM key imported once per context (never per chunk). */
export type AeadKeyHandle = object;

export interface X25519KeyPair {
  privateKey: PrivateKeyHandle;
  /** Raw 32-byte public key (SerializePublicKey, RFC 9180 §7.1.1). */
  publicKey: Uint8Array;
}

type MaybePromise<T> = T | Promise<T>;

export interface SessionCrypto {
  /** For diagnostics and bench titles. */
  readonly name: string;
  /** A fresh ephemeral X25519 key pair (GenerateKeyPair, RFC 9180 §4). */
  generateKeyPair(): MaybePromise<X25519KeyPair>;
  /** Imports a known raw X25519 private key: published examples and fixtures only. */
  importPrivateKey(privateKey: Uint8Array): MaybePromise<PrivateKeyHandle>;
  /**
   * X25519(sk, pk) as raw bytes. Must accept the `CryptoKey`s of {@link generateGatewayKey} (WebCrypto keys
   * are the gateway key's format) as well as its own handles.
   */
  x25519(privateKey: PrivateKeyHandle, publicKey: Uint8Array): MaybePromise<Uint8Array>;
  /** Imports an AES-128-GCM (16-byte) or AES-256-GCM (32-byte) key. */
  aeadKey(key: Uint8Array): MaybePromise<AeadKeyHandle>;
  /** AES-GCM with a 12-byte nonce: ciphertext || 16-byte tag. */
  seal(key: AeadKeyHandle, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): MaybePromise<Uint8Array>;
  /** Inverse of `seal`; throws (any error) when the tag does not verify. */
  open(key: AeadKeyHandle, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): MaybePromise<Uint8Array>;
  /** Optional synchronous HMAC-SHA-256 over the concatenation of `data`; absent → `@noble/hashes` (session/hkdf.ts). */
  hmacSha256?(key: Uint8Array, ...data: Uint8Array[]): Uint8Array;
}

/** PKCS #8 PrivateKeyInfo prefix for an X25519 key (RFC 8410 §7): WebCrypto cannot import raw private keys. */
export const X25519_PKCS8_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

const X25519 = { name: 'X25519' } as const;

/** The last recipient public key imported: a client encrypts every request to the same attested key. */
let lastPublic: { raw: Uint8Array; key: Promise<CryptoKey> } | undefined;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function publicKey(raw: Uint8Array): Promise<CryptoKey> {
  if (lastPublic && sameBytes(lastPublic.raw, raw)) return lastPublic.key;
  const key = subtle().importKey('raw', bs(raw), X25519, true, []);
  lastPublic = { raw: raw.slice(), key };
  key.catch(() => {
    if (lastPublic?.key === key) lastPublic = undefined;
  });
  return key;
}

/** The default: WebCrypto only (browsers, workers, Deno, Node). Ephemeral private keys are not extractable. */
export const webCryptoSessionCrypto: SessionCrypto = {
  name: 'webcrypto',
  async generateKeyPair() {
    const kp = (await subtle().generateKey(X25519, false, ['deriveBits'])) as CryptoKeyPair;
    return { privateKey: kp.privateKey, publicKey: new Uint8Array(await subtle().exportKey('raw', kp.publicKey)) };
  },
  async importPrivateKey(privateKey) {
    const pkcs8 = new Uint8Array(X25519_PKCS8_PREFIX.length + privateKey.length);
    pkcs8.set(X25519_PKCS8_PREFIX);
    pkcs8.set(privateKey, X25519_PKCS8_PREFIX.length);
    return subtle().importKey('pkcs8', pkcs8, X25519, false, ['deriveBits']);
  },
  async x25519(privateKey, pk) {
    return new Uint8Array(await subtle().deriveBits({ name: 'X25519', public: await publicKey(pk) }, privateKey as CryptoKey, 256));
  },
  aeadKey(key) {
    return subtle().importKey('raw', bs(key), 'AES-GCM', false, ['encrypt', 'decrypt']);
  },
  async seal(key, nonce, aad, plaintext) {
    return new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: bs(nonce), additionalData: bs(aad), tagLength: 128 }, key as CryptoKey, bs(plaintext)));
  },
  async open(key, nonce, aad, ciphertext) {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: bs(nonce), additionalData: bs(aad), tagLength: 128 }, key as CryptoKey, bs(ciphertext)));
  },
};
