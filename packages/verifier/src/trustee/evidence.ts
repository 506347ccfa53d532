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
 * The SNP report is rebuilt from its named fields by `snp/serde-json.ts`, the decoder the gateway's CoCo
 * provider uses too, so the signature is checked over exactly the bytes the PSP signed.
 */
import { ParseError, fromBase64, toBase64, type EvidenceBundle } from '@ccinfer/core';
import {
  encodeTrusteeKeyConfig,
  isSwitchArch,
  parseKbsRuntimeData,
  parseTrusteeAdditionalEvidence,
  trusteeGpuNonce,
  type KbsRuntimeData,
  type TrusteeNvidiaDevice,
} from '@ccinfer/core/internal';
import { decodeSevReportJson, encodeSevReportJson } from '../snp/serde-json.js';

const MALFORMED = 'ERR_TRUSTEE_EVIDENCE_MALFORMED';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(msg: string, cause?: unknown): ParseError {
  return new ParseError(MALFORMED, msg, cause === undefined ? undefined : { cause });
}

/**
 * The 1184 report bytes from the sev crate's JSON form: the one decoder the gateway uses too
 * (`decodeSevReportJson`), its refusals reported as malformed Trustee evidence with the SNP error as `cause`.
 */
export function snpReportFromJson(v: unknown): Uint8Array {
  try {
    return decodeSevReportJson(v);
  } catch (err) {
    if (err instanceof ParseError) throw malformed(`attestation_report: ${err.message}`, err);
    throw err;
  }
}

/** The sev crate's (6.3) JSON form of report bytes, as a guest-components SNP attester sends it. */
export function snpReportToJson(report: Uint8Array): Record<string, unknown> {
  return encodeSevReportJson(report);
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
