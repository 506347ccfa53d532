/**
 * Sealing a secret (a model key) to an attested key config: RFC 9180 single-shot HPKE, base mode, with the
 * same suites as sessions (docs/wire-protocol.md "Key configs": DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM first).
 *
 *   sealed = hdr || enc || ct,   hdr = keyId (8) || kemId (16) || kdfId (16) || aeadId (16)   (as RFC 9458 §4.3)
 *   info   = "ccinfer/1 sealed secret" || 0x00 || hdr,   aad = caller's label (UTF-8, may be empty)
 *
 * The info string differs from the OHTTP request label, so a sealed secret can never be replayed to a gateway
 * as an OHTTP request (or the reverse). Binding a label (e.g. the resource name) as AAD makes a blob sealed
 * for one purpose fail to open for another.
 */
import { concat, utf8 } from '../bytes.js';
import { SessionError } from '../errors.js';
import { webCryptoSessionCrypto, type SessionCrypto } from './backend.js';
import { isSupported, setupBaseR, setupBaseS, SUPPORTED_ALGORITHMS, type GatewayKey } from './hpke.js';
import { parseKeyConfig, selectAlgorithm, type KeyConfig } from './keyconfig.js';

const INFO = utf8('ccinfer/1 sealed secret');
const HDR = 7;
const NENC = 32;

export interface SealOptions {
  /** Crypto primitives; default WebCrypto. */
  crypto?: SessionCrypto;
}

function header(keyId: number, kemId: number, kdfId: number, aeadId: number): Uint8Array {
  const h = new Uint8Array(HDR);
  const v = new DataView(h.buffer);
  v.setUint8(0, keyId);
  v.setUint16(1, kemId);
  v.setUint16(3, kdfId);
  v.setUint16(5, aeadId);
  return h;
}

/** Seals `secret` to the key config (bytes as bound in evidence, or parsed). */
export async function sealToKeyConfig(keyConfig: Uint8Array | KeyConfig, secret: Uint8Array, label = '', opts: SealOptions = {}): Promise<Uint8Array> {
  const kc = keyConfig instanceof Uint8Array ? parseKeyConfig(keyConfig) : keyConfig;
  const alg = selectAlgorithm(kc, SUPPORTED_ALGORITHMS);
  const hdr = header(kc.keyId, kc.kemId, alg.kdfId, alg.aeadId);
  try {
    const { enc, ctx } = await setupBaseS(opts.crypto ?? webCryptoSessionCrypto, { kemId: kc.kemId, ...alg }, kc.publicKey, concat(INFO, new Uint8Array([0]), hdr));
    const ct = await ctx.seal(secret, utf8(label));
    return concat(hdr, enc, ct);
  } catch (cause) {
    throw new SessionError('ERR_OHTTP_ENCAPSULATION', 'HPKE sealing to the key config failed', { cause });
  }
}

/** Opens what `sealToKeyConfig` made, with the gateway's private key (inside the attested pod). */
export async function openSealed(key: GatewayKey, sealed: Uint8Array, label = '', opts: SealOptions = {}): Promise<Uint8Array> {
  if (sealed.length < HDR + NENC + 16) throw new SessionError('ERR_OHTTP_TRUNCATED', 'sealed secret too short');
  const v = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (v.getUint8(0) !== key.config.keyId || v.getUint16(1) !== key.config.kemId) throw new SessionError('ERR_OHTTP_KEY_ID', 'sealed to another key');
  const suite = { kemId: v.getUint16(1), kdfId: v.getUint16(3), aeadId: v.getUint16(5) };
  if (!isSupported(suite.kemId, suite.kdfId, suite.aeadId)) throw new SessionError('ERR_OHTTP_SUITE', 'sealed with an HPKE suite this implementation does not offer');
  try {
    const ctx = await setupBaseR(opts.crypto ?? webCryptoSessionCrypto, suite, key.keyPair.privateKey, key.config.publicKey, sealed.slice(HDR, HDR + NENC), concat(INFO, new Uint8Array([0]), sealed.subarray(0, HDR)));
    return await ctx.open(sealed.subarray(HDR + NENC), utf8(label));
  } catch (cause) {
    throw new SessionError('ERR_OHTTP_DECRYPT', 'the sealed secret does not open with this key and label', { cause });
  }
}
