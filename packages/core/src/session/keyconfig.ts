/**
 * Key configurations of RFC 9458 §3.1 and the `application/ohttp-keys` list of §3.2:
 *
 *   Key Config { Key Identifier (8), HPKE KEM ID (16), HPKE Public Key (Npk * 8),
 *                HPKE Symmetric Algorithms Length (16) = 4..65532, HPKE Symmetric Algorithms (32) ... }
 *
 * Parsing is exact: the public key length is the KEM's Npk (RFC 9180 §7.1), the algorithms length is a
 * non-zero multiple of 4, and nothing may follow the last algorithm.
 */
import { ByteReader, concat, toBase64Url } from '../bytes.js';
import { ParseError, SessionError } from '../errors.js';
import { sessionError } from './errors.js';
import { sha256Sync } from './hkdf.js';

export interface SymmetricAlgorithm {
  kdfId: number;
  aeadId: number;
}

export interface KeyConfig {
  keyId: number;
  kemId: number;
  publicKey: Uint8Array;
  algorithms: SymmetricAlgorithm[];
}

/** Npk of the KEMs registered by RFC 9180 §7.1. */
const NPK: Record<number, number> = { 0x0010: 65, 0x0011: 97, 0x0012: 133, 0x0020: 32, 0x0021: 56 };

function readConfig(r: ByteReader): KeyConfig {
  try {
    const keyId = r.u8('key identifier');
    const kemId = r.u16be('KEM ID');
    const npk = NPK[kemId];
    if (npk === undefined) throw sessionError('ERR_KEYCONFIG_UNSUPPORTED_KEM', `KEM 0x${kemId.toString(16).padStart(4, '0')} is not an RFC 9180 KEM`);
    const publicKey = r.bytesView(npk, 'public key').slice();
    const len = r.u16be('symmetric algorithms length');
    if (len < 4 || len % 4 !== 0) throw sessionError('ERR_KEYCONFIG_ALGORITHMS_LENGTH', `symmetric algorithms length ${len} is not a positive multiple of 4`);
    const algorithms: SymmetricAlgorithm[] = [];
    for (let i = 0; i < len / 4; i++) algorithms.push({ kdfId: r.u16be('KDF ID'), aeadId: r.u16be('AEAD ID') });
    return { keyId, kemId, publicKey, algorithms };
  } catch (err) {
    if (err instanceof ParseError) throw new SessionError('ERR_KEYCONFIG_TRUNCATED', err.message, { cause: err });
    throw err;
  }
}

/** Parses exactly one key config (the form carried in an evidence bundle). */
export function parseKeyConfig(bytes: Uint8Array): KeyConfig {
  const r = new ByteReader(bytes, 'ERR_KEYCONFIG_TRUNCATED');
  const kc = readConfig(r);
  if (r.remaining !== 0) throw sessionError('ERR_KEYCONFIG_TRAILING_BYTES', `${r.remaining} bytes after the key config`);
  return kc;
}

export function encodeKeyConfig(kc: KeyConfig): Uint8Array {
  const npk = NPK[kc.kemId];
  if (npk === undefined) throw sessionError('ERR_KEYCONFIG_UNSUPPORTED_KEM', `KEM 0x${kc.kemId.toString(16)} is not supported`);
  if (kc.publicKey.length !== npk) throw sessionError('ERR_KEYCONFIG_PUBLIC_KEY', `public key must be ${npk} bytes`);
  if (kc.algorithms.length === 0 || kc.algorithms.length > 16383) throw sessionError('ERR_KEYCONFIG_ALGORITHMS_LENGTH', 'need 1..16383 algorithms');
  const out = new Uint8Array(3 + npk + 2 + 4 * kc.algorithms.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, kc.keyId);
  v.setUint16(1, kc.kemId);
  out.set(kc.publicKey, 3);
  v.setUint16(3 + npk, 4 * kc.algorithms.length);
  kc.algorithms.forEach((a, i) => {
    v.setUint16(5 + npk + 4 * i, a.kdfId);
    v.setUint16(7 + npk + 4 * i, a.aeadId);
  });
  return out;
}

/** RFC 9458 §3.2 `application/ohttp-keys`: each config preceded by its 2-byte length. */
export function encodeKeyConfigList(configs: KeyConfig[]): Uint8Array {
  return concat(
    ...configs.map((c) => {
      const e = encodeKeyConfig(c);
      return concat(new Uint8Array([e.length >> 8, e.length & 0xff]), e);
    }),
  );
}

export function parseKeyConfigList(bytes: Uint8Array): KeyConfig[] {
  const r = new ByteReader(bytes, 'ERR_KEYCONFIG_TRUNCATED');
  const out: KeyConfig[] = [];
  while (r.remaining > 0) out.push(parseKeyConfig(r.bytesView(r.u16be('key config length'), 'key config')));
  return out;
}

/** The first of `preferred` (in our order of preference) that the config offers. */
export function selectAlgorithm(kc: KeyConfig, preferred: readonly SymmetricAlgorithm[]): SymmetricAlgorithm {
  for (const p of preferred) {
    if (kc.algorithms.some((a) => a.kdfId === p.kdfId && a.aeadId === p.aeadId)) return p;
  }
  throw sessionError('ERR_KEYCONFIG_NO_SUPPORTED_SUITE', 'the key config offers no KDF/AEAD pair this client supports');
}

/**
 * The outer request header that names the whole key config a request is encrypted to (docs/wire-protocol.md
 * "Key identity"). RFC 9458 §3.1 gives a key config only a one-byte key id, so a restarted or rotated gateway
 * may hold a different key under the id a client still uses; with this header it answers
 * `key-config-mismatch` instead of failing to decrypt. The value is public (the key config is).
 */
export const KEY_CONFIG_HEADER = 'ccinfer-key-config';

/** SHA-256 of the encoded key config (RFC 9458 §3.1 encoding), base64url without padding: the header's value. */
export function keyConfigDigest(encoded: Uint8Array): string {
  return toBase64Url(sha256Sync(encoded));
}
