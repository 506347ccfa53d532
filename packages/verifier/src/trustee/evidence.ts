/**
 * The evidence JSON that Trustee's clients send in a KBS `Attestation` (protocol 0.4.0), mapped onto a
 * ccinfer evidence bundle so the one appraisal (`appraise()`) decides.
 *
 * Shapes, as the guest-components attesters serialize them (checked against their sources and a captured
 * SNP evidence document):
 *   Attestation = { "init-data"?: { format: "toml", body }, "runtime-data": { nonce, tee-pubkey },
 *                   "tee-evidence": { primary_evidence: <TEE JSON>, additional_evidence: <string> } }
 *   SNP  = { attestation_report: <the sev crate's serde form of the 1184-byte report: named fields, integers
 *            as numbers, byte arrays as arrays of numbers>, cert_chain: null | [{ cert_type, data: [u8] }] }
 *   TDX  = { cc_eventlog: null | base64, quote: base64 } (older attesters add aa_eventlog)
 *   NVIDIA (additional evidence) = { device_evidence_list: [{ arch, uuid, evidence, certificate }] }
 *
 * The SNP report field list below is the layout of SEV-SNP ABI Table 23 (offsets in comments) under the
 * names the `sev` crate gives them; mapping is positional, so every byte (reserved ones included) round-trips
 * and the signature still covers exactly the bytes the PSP signed.
 */
import {
  ParseError,
  encodeTrusteeKeyConfig,
  fromBase64,
  isSwitchArch,
  parseKbsRuntimeData,
  parseTrusteeAdditionalEvidence,
  toBase64,
  trusteeGpuNonce,
  type EvidenceBundle,
  type KbsRuntimeData,
  type TrusteeNvidiaDevice,
} from '@ccinfer/core';
import { REPORT_SIZE } from '../snp/parse.js';

const MALFORMED = 'ERR_TRUSTEE_EVIDENCE_MALFORMED';

type Field = readonly [name: string, kind: 'u8' | 'u32' | 'u64' | 'bytes' | 'tcb' | 'signature', size: number];

/** `sev::firmware::guest::AttestationReport` serde field order (report version 2 layout). */
const SNP_FIELDS: readonly Field[] = [
  ['version', 'u32', 4], // 0x00
  ['guest_svn', 'u32', 4], // 0x04
  ['policy', 'u64', 8], // 0x08
  ['family_id', 'bytes', 16], // 0x10
  ['image_id', 'bytes', 16], // 0x20
  ['vmpl', 'u32', 4], // 0x30
  ['sig_algo', 'u32', 4], // 0x34
  ['current_tcb', 'tcb', 8], // 0x38
  ['plat_info', 'u64', 8], // 0x40
  ['_author_key_en', 'u32', 4], // 0x48 (KEY_INFO)
  ['_reserved_0', 'u32', 4], // 0x4C
  ['report_data', 'bytes', 64], // 0x50
  ['measurement', 'bytes', 48], // 0x90
  ['host_data', 'bytes', 32], // 0xC0
  ['id_key_digest', 'bytes', 48], // 0xE0
  ['author_key_digest', 'bytes', 48], // 0x110
  ['report_id', 'bytes', 32], // 0x140
  ['report_id_ma', 'bytes', 32], // 0x160
  ['reported_tcb', 'tcb', 8], // 0x180
  ['_reserved_1', 'bytes', 24], // 0x188 (CPUID fields in report version 3+)
  ['chip_id', 'bytes', 64], // 0x1A0
  ['committed_tcb', 'tcb', 8], // 0x1E0
  ['current_build', 'u8', 1], // 0x1E8
  ['current_minor', 'u8', 1],
  ['current_major', 'u8', 1],
  ['_reserved_2', 'u8', 1],
  ['committed_build', 'u8', 1], // 0x1EC
  ['committed_minor', 'u8', 1],
  ['committed_major', 'u8', 1],
  ['_reserved_3', 'u8', 1],
  ['launch_tcb', 'tcb', 8], // 0x1F0
  ['_reserved_4', 'bytes', 168], // 0x1F8
  ['signature', 'signature', 512], // 0x2A0: r (72, little-endian), s (72), reserved (368)
];

/** TCB_VERSION as the sev crate names its bytes (Milan / Genoa layout; positional, so any layout round-trips). */
const TCB_PARTS: readonly Field[] = [
  ['bootloader', 'u8', 1],
  ['tee', 'u8', 1],
  ['_reserved', 'bytes', 4],
  ['snp', 'u8', 1],
  ['microcode', 'u8', 1],
];
const SIG_PARTS: readonly Field[] = [
  ['r', 'bytes', 72],
  ['s', 'bytes', 72],
  ['_reserved', 'bytes', 368],
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(msg: string): ParseError {
  return new ParseError(MALFORMED, msg);
}

function exactKeys(o: Record<string, unknown>, fields: readonly Field[], path: string): void {
  const want = fields.map((f) => f[0]);
  const extra = Object.keys(o).filter((k) => !want.includes(k));
  const missing = want.filter((k) => !(k in o));
  if (extra.length || missing.length) throw malformed(`${path}: ${missing.length ? `missing ${missing.join(', ')}` : ''}${extra.length ? ` unknown ${extra.join(', ')}` : ''}`);
}

function writeFields(o: Record<string, unknown>, fields: readonly Field[], out: Uint8Array, at: number, path: string): number {
  exactKeys(o, fields, path);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [name, kind, size] of fields) {
    const x = o[name];
    const p = `${path}.${name}`;
    if (kind === 'tcb' || kind === 'signature') {
      if (!isObject(x)) throw malformed(`${p} must be an object`);
      writeFields(x, kind === 'tcb' ? TCB_PARTS : SIG_PARTS, out, at, p);
    } else if (kind === 'bytes') {
      if (!Array.isArray(x) || x.length !== size || !x.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) throw malformed(`${p} must be an array of ${size} bytes`);
      out.set(x as number[], at);
    } else {
      const max = kind === 'u8' ? 0xff : kind === 'u32' ? 0xffffffff : Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(x) || (x as number) < 0 || (x as number) > max) throw malformed(`${p} must be an unsigned integer that fits ${size} byte(s)`);
      if (kind === 'u8') v.setUint8(at, x as number);
      else if (kind === 'u32') v.setUint32(at, x as number, true);
      else v.setBigUint64(at, BigInt(x as number), true);
    }
    at += size;
  }
  return at;
}

function readFields(b: Uint8Array, at: number, fields: readonly Field[]): Record<string, unknown> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const o: Record<string, unknown> = {};
  for (const [name, kind, size] of fields) {
    if (kind === 'tcb' || kind === 'signature') o[name] = readFields(b, at, kind === 'tcb' ? TCB_PARTS : SIG_PARTS);
    else if (kind === 'bytes') o[name] = Array.from(b.subarray(at, at + size));
    else if (kind === 'u8') o[name] = v.getUint8(at);
    else if (kind === 'u32') o[name] = v.getUint32(at, true);
    else {
      const n = v.getBigUint64(at, true);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${name} does not fit a JSON number`);
      o[name] = Number(n);
    }
    at += size;
  }
  return o;
}

/** The 1184 report bytes from the sev crate's JSON form. Unknown or missing fields are errors. */
export function snpReportFromJson(v: unknown): Uint8Array {
  if (!isObject(v)) throw malformed('attestation_report must be an object');
  const out = new Uint8Array(REPORT_SIZE);
  const end = writeFields(v, SNP_FIELDS, out, 0, 'attestation_report');
  if (end !== REPORT_SIZE) throw malformed('internal: SNP field table does not cover the report');
  return out;
}

/** The sev crate's JSON form of report bytes (what a guest-components SNP attester sends). */
export function snpReportToJson(report: Uint8Array): Record<string, unknown> {
  if (report.length !== REPORT_SIZE) throw malformed(`an SNP report is ${REPORT_SIZE} bytes`);
  return readFields(report, 0, SNP_FIELDS);
}

export type SnpCertType = 'ARK' | 'ASK' | 'VCEK' | 'VLEK' | 'ASVK' | 'CRL' | 'OTHER';

/** Trustee's SNP evidence, decoded. */
export interface TrusteeSnpEvidence {
  report: Uint8Array;
  /** VCEK or VLEK DER from cert_chain (undefined when cert_chain is null or lacks one). */
  leaf: Uint8Array | undefined;
  leafKind: 'vcek' | 'vlek' | undefined;
  /** ASK or ASVK, then ARK, when cert_chain carries them. */
  chain: Uint8Array[];
}

export function parseTrusteeSnpEvidence(v: unknown): TrusteeSnpEvidence {
  if (!isObject(v)) throw malformed('SNP evidence must be a JSON object');
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'attestation_report,cert_chain') throw malformed(`SNP evidence must have exactly attestation_report and cert_chain (got ${keys})`);
  const report = snpReportFromJson(v['attestation_report']);
  const certs = new Map<string, Uint8Array>();
  const cc = v['cert_chain'];
  if (cc !== null) {
    if (!Array.isArray(cc)) throw malformed('cert_chain must be null or an array');
    cc.forEach((e, i) => {
      if (!isObject(e) || typeof e['cert_type'] !== 'string' || !Array.isArray(e['data'])) throw malformed(`cert_chain[${i}] must be { cert_type, data }`);
      const data = e['data'] as unknown[];
      if (!data.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) throw malformed(`cert_chain[${i}].data must be bytes`);
      if (certs.has(e['cert_type'])) throw malformed(`cert_chain has two ${e['cert_type']} entries`);
      certs.set(e['cert_type'], Uint8Array.from(data as number[]));
    });
  }
  const vcek = certs.get('VCEK');
  const vlek = certs.get('VLEK');
  if (vcek && vlek) throw malformed('cert_chain carries both a VCEK and a VLEK');
  const leafKind = vcek ? 'vcek' : vlek ? 'vlek' : undefined;
  const issuer = leafKind === 'vlek' ? certs.get('ASVK') : certs.get('ASK');
  const ark = certs.get('ARK');
  return { report, leaf: vcek ?? vlek, leafKind, chain: issuer && ark ? [issuer, ark] : [] };
}

/** Builds Trustee's SNP evidence JSON (the attester side; used by tests and simulated pods). */
export function encodeTrusteeSnpEvidence(report: Uint8Array, certs: { type: SnpCertType; der: Uint8Array }[] | null): Record<string, unknown> {
  return {
    attestation_report: snpReportToJson(report),
    cert_chain: certs === null ? null : certs.map((c) => ({ cert_type: c.type, data: Array.from(c.der) })),
  };
}

export interface TrusteeTdxEvidence {
  quote: Uint8Array;
  ccel: Uint8Array | undefined;
}

export function parseTrusteeTdxEvidence(v: unknown): TrusteeTdxEvidence {
  if (!isObject(v) || typeof v['quote'] !== 'string') throw malformed('TDX evidence must be { cc_eventlog, quote }');
  const extra = Object.keys(v).filter((k) => !['quote', 'cc_eventlog', 'aa_eventlog'].includes(k));
  if (extra.length) throw malformed(`TDX evidence has unknown fields ${extra.join(', ')}`);
  const cc = v['cc_eventlog'];
  if (cc !== undefined && cc !== null && typeof cc !== 'string') throw malformed('cc_eventlog must be base64 or null');
  return { quote: fromBase64(v['quote'], MALFORMED), ccel: typeof cc === 'string' ? fromBase64(cc, MALFORMED) : undefined };
}

export function encodeTrusteeTdxEvidence(quote: Uint8Array, ccel?: Uint8Array): Record<string, unknown> {
  return { cc_eventlog: ccel ? toBase64(ccel) : null, quote: toBase64(quote) };
}

/** A KBS protocol `Attestation` message, validated. */
export interface KbsAttestation {
  initData: { format: string; body: string } | undefined;
  runtimeData: KbsRuntimeData;
  primaryEvidence: unknown;
  additionalEvidence: string;
}

export function parseKbsAttestation(v: unknown): KbsAttestation {
  if (!isObject(v)) throw malformed('Attestation must be a JSON object');
  const extra = Object.keys(v).filter((k) => !['init-data', 'runtime-data', 'tee-evidence'].includes(k));
  if (extra.length) throw malformed(`Attestation has unknown fields ${extra.join(', ')}`);
  let initData: KbsAttestation['initData'];
  const id = v['init-data'];
  if (id !== undefined && id !== null) {
    if (!isObject(id) || typeof id['format'] !== 'string' || typeof id['body'] !== 'string') throw malformed('init-data must be { format, body }');
    initData = { format: id['format'], body: id['body'] };
  }
  const te = v['tee-evidence'];
  if (!isObject(te) || !('primary_evidence' in te) || typeof te['additional_evidence'] !== 'string') {
    throw malformed('tee-evidence must be { primary_evidence, additional_evidence: string }');
  }
  return { initData, runtimeData: parseKbsRuntimeData(v['runtime-data']), primaryEvidence: te['primary_evidence'], additionalEvidence: te['additional_evidence'] };
}

export interface TrusteeBundleOptions {
  /** SNP: the ARK-signed CRL, when the caller has it (else the appraisal fetches it from KDS). */
  snpCrl?: Uint8Array | undefined;
}

export interface TrusteeBundle {
  bundle: EvidenceBundle;
  /** The 32-byte appraisal nonce (= the GPU SPDM nonce): pass it as `appraise(…, { nonce })`. */
  nonce: Uint8Array;
  runtimeData: KbsRuntimeData;
  devices: TrusteeNvidiaDevice[];
}

/**
 * Maps a KBS `Attestation` (from a session whose auth request named `tee`) onto an evidence bundle for
 * `appraise(bundle, { nonce, binding: trusteeKbsBinding })`. Init-data is carried only in the TOML format
 * Trustee's built-in attestation service accepts.
 */
export async function bundleFromKbsAttestation(att: KbsAttestation, tee: string, options: TrusteeBundleOptions = {}): Promise<TrusteeBundle> {
  const devices = parseTrusteeAdditionalEvidence(att.additionalEvidence);
  const nonce = await trusteeGpuNonce(att.runtimeData);
  const enc = (d: TrusteeNvidiaDevice): { report: Uint8Array; certChain: Uint8Array } => ({ report: d.evidence, certChain: d.certificate });
  let cpu: EvidenceBundle['cpu'];
  let eventLog: Uint8Array | undefined;
  if (tee === 'snp') {
    const snp = parseTrusteeSnpEvidence(att.primaryEvidence);
    if (!snp.leaf) throw new ParseError('ERR_TRUSTEE_SNP_LEAF_MISSING', 'the SNP evidence carries no VCEK / VLEK in cert_chain');
    cpu = { tee: 'snp', report: snp.report, leaf: snp.leaf, ...(snp.chain.length ? { chain: snp.chain } : {}) };
  } else if (tee === 'tdx') {
    const tdx = parseTrusteeTdxEvidence(att.primaryEvidence);
    cpu = { tee: 'tdx', quote: tdx.quote };
    eventLog = tdx.ccel;
  } else {
    throw new ParseError('ERR_TRUSTEE_TEE_UNSUPPORTED', `primary evidence from "${tee}" is not supported (snp, tdx)`);
  }
  if (att.initData && att.initData.format !== 'toml') throw malformed(`init-data format "${att.initData.format}" is not supported (toml)`);
  const bundle: EvidenceBundle = {
    v: 1,
    nonce,
    keyConfig: encodeTrusteeKeyConfig(att.runtimeData, att.additionalEvidence),
    cpu,
    gpus: devices.filter((d) => !isSwitchArch(d.arch)).map(enc),
    switches: devices.filter((d) => isSwitchArch(d.arch)).map(enc),
    ...(att.initData ? { initdata: att.initData.body } : {}),
    ...(eventLog ? { eventLog } : {}),
    ...(options.snpCrl && tee === 'snp' ? { collateral: { snp: { crl: options.snpCrl } } } : {}),
  };
  return { bundle, nonce, runtimeData: att.runtimeData, devices };
}
