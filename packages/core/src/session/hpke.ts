/**
 * HPKE (RFC 9180), base mode, for the one KEM and KDF we use — DHKEM(X25519, HKDF-SHA256) 0x0020 and
 * HKDF-SHA256 0x0001 — with AES-128-GCM 0x0001 (the RFC 9458 and chunked-OHTTP examples use it) or AES-256-GCM
 * 0x0002 (our default, docs/wire-protocol.md "Key configs"). ChaCha20-Poly1305 is not in WebCrypto, so not offered.
 *
 * The key schedule is written here over an injectable {@link SessionCrypto} (backend.ts) rather than taken
 * from `@hpke/core`, whose primitives are fixed to WebCrypto: the protocol stays in one place while Node
 * runs X25519 and AES-GCM synchronously on node:crypto. HKDF is synchronous either way (hkdf.ts on @noble/hashes, or the
 * backend's HMAC). Checked byte for byte against the RFC 9458 and chunked-draft examples (which exercise
 * Encap/Decap, the key schedule, Seal/Open with sequence numbers and Export) and against `@hpke/core`.
 */
import { BoundedMap } from '../bounded-map.js';
import { utf8 } from '../bytes.js';
import { subtle } from '../crypto.js';
import { X25519_PKCS8_PREFIX, type AeadKeyHandle, type PrivateKeyHandle, type SessionCrypto } from './backend.js';
import { sessionError } from './errors.js';
import { encodeKeyConfig, type KeyConfig, type SymmetricAlgorithm } from './keyconfig.js';
import { hkdfExpand, hkdfExtract, hmacSha256, type Hmac } from './hkdf.js';

export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;

/** What this implementation can use, in order of preference. */
export const SUPPORTED_ALGORITHMS: readonly SymmetricAlgorithm[] = [
  { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_256_GCM },
  { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM },
];

export interface AeadSizes {
  /** Key length. */
  nk: number;
  /** Nonce length. */
  nn: number;
  /** Tag length. */
  nt: number;
}

export function aeadSizes(aeadId: number): AeadSizes {
  if (aeadId === AEAD_AES_128_GCM) return { nk: 16, nn: 12, nt: 16 };
  if (aeadId === AEAD_AES_256_GCM) return { nk: 32, nn: 12, nt: 16 };
  throw sessionError('ERR_OHTTP_SUITE', `AEAD 0x${aeadId.toString(16)} is not supported`);
}

export function isSupported(kemId: number, kdfId: number, aeadId: number): boolean {
  return kemId === KEM_X25519_HKDF_SHA256 && SUPPORTED_ALGORITHMS.some((a) => a.kdfId === kdfId && a.aeadId === aeadId);
}

export interface HpkeSuite {
  kemId: number;
  kdfId: number;
  aeadId: number;
}

// ————— HKDF-SHA256 (RFC 5869, hkdf.ts) over the backend's HMAC —————

const NH = 32; // HKDF-SHA256 output size
const EMPTY: Uint8Array = new Uint8Array(0);

export function hmacOf(c: SessionCrypto): Hmac {
  return c.hmacSha256 ? c.hmacSha256.bind(c) : hmacSha256;
}

// ————— RFC 9180 labelled KDF, DHKEM, key schedule —————

const HPKE_V1 = utf8('HPKE-v1');
const L_EAE_PRK = utf8('eae_prk');
const L_SHARED_SECRET = utf8('shared_secret');
const L_PSK_ID_HASH = utf8('psk_id_hash');
const L_INFO_HASH = utf8('info_hash');
const L_SECRET = utf8('secret');
const L_KEY = utf8('key');
const L_BASE_NONCE = utf8('base_nonce');
const L_EXP = utf8('exp');
const L_SEC = utf8('sec');
const MODE_BASE = 0x00;
const NSECRET = 32;
const NPK = 32;

const i2osp2 = (n: number): Uint8Array => new Uint8Array([(n >> 8) & 0xff, n & 0xff]);

/** LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm) — §4. */
function labeledExtract(h: Hmac, suiteId: Uint8Array, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(salt, [HPKE_V1, suiteId, label, ikm], h);
}

/** LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L) — §4. */
function labeledExpand(h: Hmac, suiteId: Uint8Array, prk: Uint8Array, label: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(prk, [i2osp2(length), HPKE_V1, suiteId, label, info], length, h);
}

/** suite_id = "KEM" || I2OSP(kem_id, 2) (§4.1). */
const KEM_SUITE_ID = new Uint8Array([0x4b, 0x45, 0x4d, 0x00, 0x20]);

/** suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2) (§5.1). */
function hpkeSuiteId(s: HpkeSuite): Uint8Array {
  return new Uint8Array([0x48, 0x50, 0x4b, 0x45, s.kemId >> 8, s.kemId & 0xff, s.kdfId >> 8, s.kdfId & 0xff, s.aeadId >> 8, s.aeadId & 0xff]);
}

/**
 * DH and ExtractAndExpand of DHKEM (§4.1): shared_secret = LabeledExpand(LabeledExtract("", "eae_prk", dh),
 * "shared_secret", enc || pkRm, Nsecret). An all-zero X25519 output (a low-order point) is refused (§7.1.4).
 */
async function kemSharedSecret(c: SessionCrypto, h: Hmac, sk: PrivateKeyHandle, pk: Uint8Array, enc: Uint8Array, pkRm: Uint8Array): Promise<Uint8Array> {
  if (pk.length !== NPK) throw sessionError('ERR_OHTTP_ENCAPSULATION', `an X25519 public key is ${NPK} bytes`);
  let dh: Uint8Array;
  try {
    dh = await c.x25519(sk, pk);
  } catch (cause) {
    throw sessionError('ERR_OHTTP_ENCAPSULATION', 'X25519 failed', { cause });
  }
  if (dh.length !== 32 || dh.every((b) => b === 0)) throw sessionError('ERR_OHTTP_ENCAPSULATION', 'X25519 produced no shared secret (low-order point)');
  const eaePrk = labeledExtract(h, KEM_SUITE_ID, EMPTY, L_EAE_PRK, dh);
  const kemContext = new Uint8Array(enc.length + pkRm.length);
  kemContext.set(enc);
  kemContext.set(pkRm, enc.length);
  return labeledExpand(h, KEM_SUITE_ID, eaePrk, L_SHARED_SECRET, kemContext, NSECRET);
}

/**
 * psk_id_hash and info_hash depend only on the suite and the (public) info string, which for OHTTP is the
 * label and the key config header: the same for every request of a session, so they are computed once.
 */
const scheduleCache = new BoundedMap<string, { pskIdHash: Uint8Array; infoHash: Uint8Array }>(64);

function scheduleHashes(h: Hmac, suiteId: Uint8Array, info: Uint8Array): { pskIdHash: Uint8Array; infoHash: Uint8Array } {
  let k = '';
  for (const b of suiteId) k += String.fromCharCode(b);
  for (const b of info) k += String.fromCharCode(b);
  let v = scheduleCache.get(k);
  if (!v) {
    v = { pskIdHash: labeledExtract(h, suiteId, EMPTY, L_PSK_ID_HASH, EMPTY), infoHash: labeledExtract(h, suiteId, EMPTY, L_INFO_HASH, info) };
    scheduleCache.set(k, v);
  }
  return v;
}

/** KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "") — §5.1. */
async function keySchedule(c: SessionCrypto, h: Hmac, suite: HpkeSuite, sharedSecret: Uint8Array, info: Uint8Array): Promise<HpkeContext> {
  const { nk, nn } = aeadSizes(suite.aeadId);
  const suiteId = hpkeSuiteId(suite);
  const { pskIdHash, infoHash } = scheduleHashes(h, suiteId, info);
  const ksc = new Uint8Array(1 + pskIdHash.length + infoHash.length);
  ksc[0] = MODE_BASE;
  ksc.set(pskIdHash, 1);
  ksc.set(infoHash, 1 + pskIdHash.length);
  const secret = labeledExtract(h, suiteId, sharedSecret, L_SECRET, EMPTY);
  const key = labeledExpand(h, suiteId, secret, L_KEY, ksc, nk);
  const baseNonce = labeledExpand(h, suiteId, secret, L_BASE_NONCE, ksc, nn);
  const exporterSecret = labeledExpand(h, suiteId, secret, L_EXP, ksc, NH);
  return new HpkeContext(c, h, suiteId, await c.aeadKey(key), baseNonce, exporterSecret);
}

/** nonce = base XOR I2OSP(counter, Nn): HPKE's ComputeNonce (§5.2) and the chunked response nonce (draft §5.2). */
export function counterNonce(base: Uint8Array, counter: number): Uint8Array {
  const n = base.slice();
  let c = counter;
  for (let i = n.length - 1; c > 0 && i >= 0; i--) {
    n[i]! ^= c & 0xff;
    c = Math.floor(c / 256);
  }
  return n;
}

/**
 * An HPKE encryption context (§5.2, §5.3). The sequence number is a JS number: far below 2^(8·Nn) − 1, so the
 * message limit is checked against 2^53 − 1 (never reached, but never wrapping into a reused nonce).
 */
export class HpkeContext {
  private seq = 0;

  constructor(
    private readonly c: SessionCrypto,
    private readonly h: Hmac,
    private readonly suiteId: Uint8Array,
    private readonly key: AeadKeyHandle,
    private readonly baseNonce: Uint8Array,
    private readonly exporterSecret: Uint8Array,
  ) {}

  private nonce(): Uint8Array {
    if (this.seq >= Number.MAX_SAFE_INTEGER) throw sessionError('ERR_OHTTP_TOO_MANY_CHUNKS', 'HPKE message limit reached');
    return counterNonce(this.baseNonce, this.seq);
  }

  /** ContextS.Seal(aad, pt) (§5.2). */
  async seal(plaintext: Uint8Array, aad: Uint8Array = EMPTY): Promise<Uint8Array> {
    const ct = await this.c.seal(this.key, this.nonce(), aad, plaintext);
    this.seq++;
    return ct;
  }

  /** ContextR.Open(aad, ct) (§5.2): the sequence number advances only when the message opened. */
  async open(ciphertext: Uint8Array, aad: Uint8Array = EMPTY): Promise<Uint8Array> {
    const pt = await this.c.open(this.key, this.nonce(), aad, ciphertext);
    this.seq++;
    return pt;
  }

  /** Context.Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L) (§5.3). */
  export(exporterContext: Uint8Array, length: number): Uint8Array {
    return labeledExpand(this.h, this.suiteId, this.exporterSecret, L_SEC, exporterContext, length);
  }
}

function checkSuite(s: HpkeSuite): void {
  if (!isSupported(s.kemId, s.kdfId, s.aeadId)) {
    throw sessionError('ERR_OHTTP_SUITE', `HPKE suite 0x${s.kemId.toString(16)}/0x${s.kdfId.toString(16)}/0x${s.aeadId.toString(16)} is not supported`);
  }
}

/** A fixed ephemeral key (raw bytes): for reproducing published examples only. */
export interface RawKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** SetupBaseS(pkR, info) (§5.1.1) with Encap (§4.1): returns enc = SerializePublicKey(pkE) and the context. */
export async function setupBaseS(
  c: SessionCrypto,
  suite: HpkeSuite,
  pkR: Uint8Array,
  info: Uint8Array,
  ephemeral?: RawKeyPair,
): Promise<{ enc: Uint8Array; ctx: HpkeContext }> {
  checkSuite(suite);
  const h = hmacOf(c);
  const e = ephemeral ? { privateKey: await c.importPrivateKey(ephemeral.privateKey), publicKey: ephemeral.publicKey.slice() } : await c.generateKeyPair();
  const shared = await kemSharedSecret(c, h, e.privateKey, pkR, e.publicKey, pkR);
  return { enc: e.publicKey, ctx: await keySchedule(c, h, suite, shared, info) };
}

/** SetupBaseR(enc, skR, info) (§5.1.1) with Decap (§4.1); `pkR` is the recipient's own public key (kem_context). */
export async function setupBaseR(c: SessionCrypto, suite: HpkeSuite, skR: PrivateKeyHandle, pkR: Uint8Array, enc: Uint8Array, info: Uint8Array): Promise<HpkeContext> {
  checkSuite(suite);
  const h = hmacOf(c);
  const shared = await kemSharedSecret(c, h, skR, enc, enc, pkR);
  return keySchedule(c, h, suite, shared, info);
}

// ————— gateway keys —————

/** The gateway's key: a config to publish and a key pair whose private half is not extractable. */
export interface GatewayKey {
  config: KeyConfig;
  /** `encodeKeyConfig(config)`: the bytes bound into evidence. */
  encoded: Uint8Array;
  keyPair: CryptoKeyPair;
}

/**
 * A fresh X25519 key pair generated by WebCrypto with `extractable: false`, so that the private key can
 * be used for decapsulation but never exported (docs/wire-protocol.md "Key configs"). Every {@link SessionCrypto}
 * accepts this `CryptoKey`.
 */
export async function generateGatewayKey(
  keyId: number,
  algorithms: readonly SymmetricAlgorithm[] = SUPPORTED_ALGORITHMS,
): Promise<GatewayKey> {
  const keyPair = (await subtle().generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle().exportKey('raw', keyPair.publicKey));
  const config: KeyConfig = { keyId, kemId: KEM_X25519_HKDF_SHA256, publicKey, algorithms: [...algorithms] };
  return { config, encoded: encodeKeyConfig(config), keyPair };
}

/** Imports a known X25519 private key (test vectors and fixtures only); the private key is not extractable. */
export async function importGatewayKey(
  keyId: number,
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  algorithms: readonly SymmetricAlgorithm[] = SUPPORTED_ALGORITHMS,
): Promise<GatewayKey> {
  const pkcs8 = new Uint8Array(X25519_PKCS8_PREFIX.length + privateKey.length);
  pkcs8.set(X25519_PKCS8_PREFIX);
  pkcs8.set(privateKey, X25519_PKCS8_PREFIX.length);
  const keyPair: CryptoKeyPair = {
    privateKey: await subtle().importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']),
    publicKey: await subtle().importKey('raw', publicKey.slice(), { name: 'X25519' }, true, []),
  };
  const config: KeyConfig = { keyId, kemId: KEM_X25519_HKDF_SHA256, publicKey: publicKey.slice(), algorithms: [...algorithms] };
  return { config, encoded: encodeKeyConfig(config), keyPair };
}
