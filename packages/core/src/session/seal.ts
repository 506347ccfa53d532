/**
 * Sealing a secret (a model key) to an attested key config: RFC 9180 single-shot HPKE, base mode, with the
 * same suites as sessions (DESIGN.md §4.3: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM first).
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
import { cipherSuite, SUPPORTED_ALGORITHMS, type GatewayKey } from './hpke.js';
import { parseKeyConfig, selectAlgorithm, type KeyConfig } from './keyconfig.js';

const INFO = utf8('ccinfer/1 sealed secret');
const HDR = 7;
const NENC = 32;

function ab(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
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
export async function sealToKeyConfig(keyConfig: Uint8Array | KeyConfig, secret: Uint8Array, label = ''): Promise<Uint8Array> {
  const kc = keyConfig instanceof Uint8Array ? parseKeyConfig(keyConfig) : keyConfig;
  const alg = selectAlgorithm(kc, SUPPORTED_ALGORITHMS);
  const suite = cipherSuite(kc.kemId, alg.kdfId, alg.aeadId);
  const hdr = header(kc.keyId, kc.kemId, alg.kdfId, alg.aeadId);
  try {
    const recipientPublicKey = await suite.kem.importKey('raw', ab(kc.publicKey), true);
    const ctx = await suite.createSenderContext({ recipientPublicKey, info: ab(concat(INFO, new Uint8Array([0]), hdr)) });
    const ct = new Uint8Array(await ctx.seal(ab(secret), ab(utf8(label))));
    return concat(hdr, new Uint8Array(ctx.enc), ct);
  } catch (cause) {
    throw new SessionError('ERR_OHTTP_ENCAPSULATION', 'HPKE sealing to the key config failed', { cause });
  }
}

/** Opens what `sealToKeyConfig` made, with the gateway's private key (inside the attested pod). */
export async function openSealed(key: GatewayKey, sealed: Uint8Array, label = ''): Promise<Uint8Array> {
  if (sealed.length < HDR + NENC + 16) throw new SessionError('ERR_OHTTP_TRUNCATED', 'sealed secret too short');
  const v = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (v.getUint8(0) !== key.config.keyId || v.getUint16(1) !== key.config.kemId) throw new SessionError('ERR_OHTTP_KEY_ID', 'sealed to another key');
  const suite = cipherSuite(v.getUint16(1), v.getUint16(3), v.getUint16(5));
  try {
    const ctx = await suite.createRecipientContext({
      recipientKey: key.keyPair,
      enc: ab(sealed.subarray(HDR, HDR + NENC)),
      info: ab(concat(INFO, new Uint8Array([0]), sealed.subarray(0, HDR))),
    });
    return new Uint8Array(await ctx.open(ab(sealed.subarray(HDR + NENC)), ab(utf8(label))));
  } catch (cause) {
    throw new SessionError('ERR_OHTTP_DECRYPT', 'the sealed secret does not open with this key and label', { cause });
  }
}
