/**
 * The Trustee KBS binding (KBS protocol 0.4.0, `kbs/docs/kbs_attestation_protocol.md`, "Attestation"): a
 * guest's evidence is bound to the KBS session by hashing the `runtime-data` document, not by ccinfer/1.
 *
 * What Trustee's attestation agent (guest-components `kbs_protocol`, RCAR client) and KBS compute, as
 * checked against their published sources:
 *   - the KBS challenge `nonce` is 32 random bytes in standard base64 (with padding);
 *   - `runtime-data` = { "nonce": <challenge nonce>, "tee-pubkey": <JWK> };
 *   - JSON is serialized canonically before hashing (RFC 8785 JCS: keys sorted, no whitespace);
 *   - the hash is SHA-384 for every TEE but IBM SE (which negotiates SHA-512; not supported here);
 *   - device (additional) attesters get the digest of the runtime data; the NVIDIA attester uses its first
 *     32 bytes as the SPDM nonce (shorter data would be zero-padded);
 *   - the primary (CPU) attester gets the digest of { "additional-evidence": <string>, "nonce", "tee-pubkey" },
 *     where the string is the JSON map TEE → evidence of the additional attesters ("" when there are none);
 *   - SNP / TDX put that 48-byte digest in REPORT_DATA, zero-padded to 64 bytes.
 *
 * As a `BindingScheme` the inputs are carried this way (so `appraise()` can run unchanged):
 *   `keyConfig` = UTF-8 of the primary runtime-data document (the JSON object above), which names the key
 *   the KBS will encrypt to (`tee-pubkey`); `nonce` = the 32-byte GPU nonce derived from it. `compute`
 *   recomputes that nonce and requires it to match, requires the GPU / NVSwitch reports to be exactly the
 *   ones in `additional-evidence`, and returns the 48-byte REPORT_DATA digest.
 */
import { concat, equalBytes, fromBase64, fromHex, fromUtf8, toBase64, utf8 } from '../bytes.js';
import { sha384 } from '../crypto.js';
import { ParseError, VerificationError, type ErrorCode } from '../errors.js';
import type { BindingInput, BindingScheme } from './binding.js';

export type TrusteeBindingErrorCode =
  | 'ERR_TRUSTEE_RUNTIME_DATA' // ParseError: runtime-data / tee-pubkey / additional-evidence not in Trustee's shape
  | 'ERR_TRUSTEE_NONCE_MISMATCH' // VerificationError: the appraisal nonce is not derived from this runtime data
  | 'ERR_TRUSTEE_DEVICE_MISMATCH'; // VerificationError: device reports differ from the bound additional evidence

const RUNTIME: ErrorCode = 'ERR_TRUSTEE_RUNTIME_DATA';

/** The `tee-pubkey` JWK exactly as `kbs_types::TeePubKey` carries it (RSA or EC; no other members). */
export type TeePubKey =
  | { kty: 'EC'; crv: string; alg: string; x: string; y: string }
  | { kty: 'RSA'; alg: string; n: string; e: string };

/** KBS `runtime-data`: the challenge nonce and the guest's ephemeral public key. */
export interface KbsRuntimeData {
  nonce: string;
  'tee-pubkey': TeePubKey;
}

/**
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by the UTF-16 code units of their names,
 * no insignificant whitespace, strings and numbers in ECMAScript `JSON.stringify` form (§3.2.2). Trustee
 * hashes runtime data in this form on both sides (serde_json_canonicalizer / canon_json).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ParseError(RUNTIME, 'JCS cannot encode a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new ParseError(RUNTIME, `JCS cannot encode a ${typeof value}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[], what: string): void {
  const got = Object.keys(o).sort().join(',');
  if (got !== [...keys].sort().join(',')) throw new ParseError(RUNTIME, `${what} must have exactly the members ${keys.join(', ')} (got ${got || 'none'})`);
  for (const k of keys) if (typeof o[k] !== 'string' || o[k] === '') throw new ParseError(RUNTIME, `${what}.${k} must be a non-empty string`);
}

/** Validates a `tee-pubkey` JWK: RSA {kty, alg, n, e} or EC {kty, crv, alg, x, y}; unknown members refused. */
export function parseTeePubKey(v: unknown): TeePubKey {
  if (!isObject(v)) throw new ParseError(RUNTIME, 'tee-pubkey must be a JWK object');
  if (v['kty'] === 'EC') exactKeys(v, ['kty', 'crv', 'alg', 'x', 'y'], 'tee-pubkey');
  else if (v['kty'] === 'RSA') exactKeys(v, ['kty', 'alg', 'n', 'e'], 'tee-pubkey');
  else throw new ParseError(RUNTIME, 'tee-pubkey.kty must be "EC" or "RSA"');
  return { ...(v as TeePubKey) };
}

/** Validates a KBS `runtime-data` object ({ nonce, tee-pubkey }, nothing else). */
export function parseKbsRuntimeData(v: unknown): KbsRuntimeData {
  if (!isObject(v)) throw new ParseError(RUNTIME, 'runtime-data must be a JSON object');
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'nonce,tee-pubkey') throw new ParseError(RUNTIME, `runtime-data must have exactly nonce and tee-pubkey (got ${keys || 'none'})`);
  if (typeof v['nonce'] !== 'string' || v['nonce'] === '') throw new ParseError(RUNTIME, 'runtime-data.nonce must be a non-empty string');
  return { nonce: v['nonce'], 'tee-pubkey': parseTeePubKey(v['tee-pubkey']) };
}

/** SHA-384 of the canonical JSON of `doc` (Trustee's `RuntimeData::Structured` digest). */
export async function trusteeDigest(doc: unknown): Promise<Uint8Array> {
  return sha384(utf8(canonicalJson(doc)));
}

/** The SPDM nonce Trustee's NVIDIA attester uses: the first 32 bytes of SHA-384(JCS(runtime-data)). */
export async function trusteeGpuNonce(runtime: KbsRuntimeData): Promise<Uint8Array> {
  return (await trusteeDigest({ nonce: runtime.nonce, 'tee-pubkey': runtime['tee-pubkey'] })).slice(0, 32);
}

/** The primary attester's runtime data: runtime-data plus the `additional-evidence` string ("" if none). */
export function trusteePrimaryRuntimeData(runtime: KbsRuntimeData, additionalEvidence: string): Record<string, unknown> {
  return { 'additional-evidence': additionalEvidence, nonce: runtime.nonce, 'tee-pubkey': runtime['tee-pubkey'] };
}

/** REPORT_DATA[0..48] of the primary (SNP / TDX) evidence: SHA-384(JCS(primary runtime data)). */
export async function trusteeReportData(runtime: KbsRuntimeData, additionalEvidence: string): Promise<Uint8Array> {
  return trusteeDigest(trusteePrimaryRuntimeData(runtime, additionalEvidence));
}

/** The `keyConfig` the Trustee scheme reads: the primary runtime-data document, canonical JSON, UTF-8. */
export function encodeTrusteeKeyConfig(runtime: KbsRuntimeData, additionalEvidence: string): Uint8Array {
  return utf8(canonicalJson(trusteePrimaryRuntimeData(runtime, additionalEvidence)));
}

/** Reads back what `encodeTrusteeKeyConfig` wrote. */
export function decodeTrusteeKeyConfig(keyConfig: Uint8Array): { runtime: KbsRuntimeData; additionalEvidence: string } {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(keyConfig, RUNTIME));
  } catch (cause) {
    if (cause instanceof ParseError) throw cause;
    throw new ParseError(RUNTIME, 'the Trustee runtime-data document is not JSON', { cause });
  }
  if (!isObject(v) || typeof v['additional-evidence'] !== 'string') throw new ParseError(RUNTIME, 'primary runtime data must carry an additional-evidence string');
  const { 'additional-evidence': additionalEvidence, ...rest } = v;
  return { runtime: parseKbsRuntimeData(rest), additionalEvidence: additionalEvidence as string };
}

/** One NVIDIA device entry of Trustee's `device_evidence_list` (guest-components NVIDIA attester). */
export interface TrusteeNvidiaDevice {
  arch: string;
  uuid: string;
  /** The SPDM request || response; Trustee accepts hex (older attesters) or standard base64. */
  evidence: Uint8Array;
  /** The device certificate chain as sent (PEM text, base64-decoded). */
  certificate: Uint8Array;
}

/** Decodes device evidence as Trustee's verifier does: hex first, else standard base64. */
function decodeEvidence(s: string): Uint8Array {
  if (/^[0-9a-fA-F]*$/.test(s) && s.length % 2 === 0) return fromHex(s, RUNTIME);
  return fromBase64(s, RUNTIME);
}

/**
 * Parses the `additional-evidence` string: "" (no devices) or a JSON map TEE → evidence in which only
 * `nvidia` (`{ device_evidence_list: [{ arch, uuid, evidence, certificate }] }`) is understood here.
 */
export function parseTrusteeAdditionalEvidence(additionalEvidence: string): TrusteeNvidiaDevice[] {
  if (additionalEvidence === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(additionalEvidence);
  } catch (cause) {
    throw new ParseError(RUNTIME, 'additional-evidence is not a JSON string', { cause });
  }
  if (!isObject(v)) throw new ParseError(RUNTIME, 'additional-evidence must map TEE names to evidence');
  const unknown = Object.keys(v).filter((k) => k !== 'nvidia');
  if (unknown.length) throw new ParseError(RUNTIME, `additional evidence for ${unknown.join(', ')} is not supported`);
  const nv = v['nvidia'];
  if (nv === undefined) return [];
  if (!isObject(nv) || !Array.isArray(nv['device_evidence_list'])) throw new ParseError(RUNTIME, 'nvidia evidence must carry device_evidence_list');
  return nv['device_evidence_list'].map((d, i) => {
    if (!isObject(d)) throw new ParseError(RUNTIME, `device_evidence_list[${i}] must be an object`);
    exactKeys(d, ['arch', 'uuid', 'evidence', 'certificate'], `device_evidence_list[${i}]`);
    return { arch: d['arch'] as string, uuid: d['uuid'] as string, evidence: decodeEvidence(d['evidence'] as string), certificate: fromBase64(d['certificate'] as string, RUNTIME) };
  });
}

/** Builds the `additional-evidence` string for NVIDIA devices the way the guest-components attester does. */
export function encodeTrusteeAdditionalEvidence(devices: readonly { arch: string; uuid: string; evidence: Uint8Array; certificate: Uint8Array }[]): string {
  if (devices.length === 0) return '';
  return JSON.stringify({
    nvidia: { device_evidence_list: devices.map((d) => ({ arch: d.arch, uuid: d.uuid, evidence: toBase64(d.evidence), certificate: toBase64(d.certificate) })) },
  });
}

/** NVSwitch evidence is reported with arch `LS10`; everything else is a GPU. */
export function isSwitchArch(arch: string): boolean {
  return arch.toUpperCase() === 'LS10';
}

/**
 * `trustee-kbs/0.4.0`: REPORT_DATA = SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) (48 bytes, rest
 * zero); every GPU / NVSwitch SPDM nonce = SHA-384(JCS({nonce, tee-pubkey}))[0..32].
 */
export const trusteeKbsBinding: BindingScheme = {
  name: 'trustee-kbs/0.4.0',
  length: 48,
  async compute(input: BindingInput): Promise<Uint8Array> {
    const { runtime, additionalEvidence } = decodeTrusteeKeyConfig(input.keyConfig);
    const gpuNonce = await trusteeGpuNonce(runtime);
    if (!equalBytes(gpuNonce, input.nonce)) {
      throw new VerificationError('ERR_TRUSTEE_NONCE_MISMATCH', 'the appraisal nonce is not SHA-384(JCS(runtime-data))[0..32] of this runtime data');
    }
    const devices = parseTrusteeAdditionalEvidence(additionalEvidence);
    const bound = [...devices.filter((d) => !isSwitchArch(d.arch)), ...devices.filter((d) => isSwitchArch(d.arch))].map((d) => d.evidence);
    const given = [...input.gpuReports, ...input.switchReports];
    if (bound.length !== given.length || bound.some((b, i) => !equalBytes(b, given[i]!))) {
      throw new VerificationError('ERR_TRUSTEE_DEVICE_MISMATCH', `the ${given.length} device report(s) appraised are not the ${bound.length} bound in additional-evidence`);
    }
    return trusteeReportData(runtime, additionalEvidence);
  },
};

/** The 64-byte REPORT_DATA an SNP / TDX attester requests for this runtime data (digest, zero-padded). */
export async function trusteeReportData64(runtime: KbsRuntimeData, additionalEvidence: string): Promise<Uint8Array> {
  const d = await trusteeReportData(runtime, additionalEvidence);
  return concat(d, new Uint8Array(64 - d.length));
}
