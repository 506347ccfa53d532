/**
 * The session crypto backend for Node (`SessionCrypto`, core session/backend.ts) on node:crypto: X25519 and
 * AES-GCM run synchronously in OpenSSL instead of one asynchronous WebCrypto round trip each (~30–100 µs of
 * thread-pool dispatch per call on Node). createSecureClient and the gateway use it by default.
 *
 * Key formats: X25519 keys cross node:crypto as JWK (`{kty: "OKP", crv: "X25519", x}`), because its DER
 * encoder/decoder costs ~80 µs per call where JWK costs ~2–8 µs. The gateway's key is a WebCrypto `CryptoKey`
 * (non-extractable); `KeyObject.from` wraps it without exporting it.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  KeyObject,
} from 'node:crypto';
import { fromBase64Url, toBase64Url, type AeadKeyHandle, type PrivateKeyHandle, type SessionCrypto } from '@ccinfer/core';

const TAG = 16;
const NONCE = 12;

/** KeyObjects for WebCrypto private keys (the gateway's), converted once. */
const fromCryptoKey = new WeakMap<object, KeyObject>();

function privateKeyObject(k: PrivateKeyHandle): KeyObject {
  if (k instanceof KeyObject) return k;
  let ko = fromCryptoKey.get(k);
  if (!ko) {
    ko = KeyObject.from(k as CryptoKey);
    fromCryptoKey.set(k, ko);
  }
  if (ko.type !== 'private' || ko.asymmetricKeyType !== 'x25519') throw new TypeError('not an X25519 private key');
  return ko;
}

/** The last recipient public key: a client encrypts every request of a session to the same attested key. */
let lastPublic: { raw: Buffer; key: KeyObject } | undefined;

function publicKeyObject(raw: Uint8Array): KeyObject {
  if (lastPublic && lastPublic.raw.equals(raw)) return lastPublic.key;
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(raw) }, format: 'jwk' });
  lastPublic = { raw: Buffer.from(raw), key };
  return key;
}

function rawPublic(key: KeyObject): Uint8Array {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new TypeError('X25519 key without a public value');
  return fromBase64Url(x);
}

function cipherName(key: KeyObject): 'aes-128-gcm' | 'aes-256-gcm' {
  const n = key.symmetricKeySize;
  if (n === 16) return 'aes-128-gcm';
  if (n === 32) return 'aes-256-gcm';
  throw new RangeError(`AES-GCM key of ${n} bytes`);
}

export const nodeSessionCrypto: SessionCrypto = {
  name: 'node:crypto',
  generateKeyPair() {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    return { privateKey, publicKey: rawPublic(publicKey) };
  },
  importPrivateKey(raw) {
    // PKCS #8 (RFC 8410 §7) because a JWK private key must carry its public half; fixtures only, so speed is moot.
    const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  },
  x25519(privateKey, publicKey) {
    return new Uint8Array(diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) }));
  },
  aeadKey(key): AeadKeyHandle {
    if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES-GCM key of ${key.length} bytes`);
    return createSecretKey(key);
  },
  seal(key, nonce, aad, plaintext) {
    if (nonce.length !== NONCE) throw new RangeError('AES-GCM nonce must be 12 bytes');
    const k = key as KeyObject;
    const c = createCipheriv(cipherName(k), k, nonce, { authTagLength: TAG });
    if (aad.length > 0) c.setAAD(aad);
    const out = new Uint8Array(plaintext.length + TAG);
    let at = 0;
    for (const part of [c.update(plaintext), c.final()]) {
      out.set(part, at);
      at += part.length;
    }
    out.set(c.getAuthTag(), at);
    return out;
  },
  open(key, nonce, aad, ciphertext) {
    if (nonce.length !== NONCE) throw new RangeError('AES-GCM nonce must be 12 bytes');
    if (ciphertext.length < TAG) throw new RangeError('AES-GCM ciphertext shorter than its tag');
    const k = key as KeyObject;
    const n = ciphertext.length - TAG;
    // authTagLength pins the tag at 16 bytes: without it OpenSSL would also accept truncated tags.
    const d = createDecipheriv(cipherName(k), k, nonce, { authTagLength: TAG });
    d.setAuthTag(ciphertext.subarray(n));
    if (aad.length > 0) d.setAAD(aad);
    const out = new Uint8Array(n);
    out.set(d.update(ciphertext.subarray(0, n)));
    // final() throws when the tag does not verify; `out` is then dropped, never returned.
    if (d.final().length !== 0) throw new Error('unexpected AES-GCM output');
    return out;
  },
  hmacSha256(key, ...data) {
    const h = createHmac('sha256', key);
    for (const d of data) h.update(d);
    return new Uint8Array(h.digest());
  },
};
