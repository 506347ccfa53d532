/**
 * The SEV-SNP ATTESTATION_REPORT in the JSON form of the `sev` crate (virtee/sev 6.3, serde derive), as the
 * CoCo Attestation Agent returns it from `/aa/evidence` and as Trustee clients send it to a KBS.
 *
 * The JSON carries named fields, not the report bytes, and the signature covers bytes [0, 0x2A0) (SEV-SNP ABI
 * spec #56860, Table 23). So the verifier rebuilds the exact 1184 bytes field by field at the ABI offsets and
 * then checks the signature over the rebuilt bytes. Everything the JSON cannot carry (reserved ranges, the
 * signature's reserved tail) is zero in the rebuild; a report the PSP signed with anything else there fails
 * its signature check, which is the right outcome.
 *
 * Strictness, because a lenient mapping would let two different JSON documents stand for one signed report
 * (or one document for two): every field present, no unknown field, byte arrays of the exact length, integers
 * in range, and the rebuilt bytes must serialize back to the same JSON (the round trip ties the optional
 * fields to the report version and the TCB layout to the CPUID family).
 *
 * sev 6.3 shape (the field names are the crate's):
 *   version, guest_svn, policy (u64), family_id[16], image_id[16], vmpl, sig_algo, current_tcb, plat_info (u64),
 *   key_info (u32), report_data[64], measurement[48], host_data[32], id_key_digest[48], author_key_digest[48],
 *   report_id[32], report_id_ma[32], reported_tcb, cpuid_fam_id / cpuid_mod_id / cpuid_step (null before v3),
 *   chip_id[64], committed_tcb, current / committed {major, minor, build}, launch_tcb,
 *   launch_mit_vector / current_mit_vector (null before v5), signature {r[72], s[72]}
 *   TCB = {fmc (null on Milan / Genoa), bootloader, tee, snp, microcode}
 *
 * Older captures (sev ≤ 5) serialize the struct positionally with its private reserved fields
 * (`_author_key_en`, `_reserved_0`, …, TCB `_reserved`, signature `_reserved`); that shape is accepted too,
 * byte for byte, by the same strict rules.
 */
import { parseFail } from '@ccinfer/core/internal';
import { REPORT_SIZE } from './parse.js';

type JsonObject = Record<string, unknown>;


function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(o: JsonObject, want: readonly string[], path: string): void {
  const extra = Object.keys(o).filter((k) => !want.includes(k));
  const missing = want.filter((k) => !Object.prototype.hasOwnProperty.call(o, k));
  if (extra.length || missing.length) {
    parseFail('ERR_SNP_JSON_MALFORMED', `${path}: ${missing.length ? `missing ${missing.join(', ')}` : ''}${extra.length ? ` unknown ${extra.join(', ')}` : ''}`);
  }
}

function uint(x: unknown, bytes: 1 | 4 | 8, path: string): number {
  const max = bytes === 1 ? 0xff : bytes === 4 ? 0xffffffff : Number.MAX_SAFE_INTEGER;
  // u64 fields above 2^53 cannot be read exactly from a JSON number: refused rather than rounded.
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0 || x > max) parseFail('ERR_SNP_JSON_MALFORMED', `${path} must be an unsigned integer of ${bytes} byte(s)`);
  return x as number;
}

function byteArray(x: unknown, size: number, path: string): number[] {
  if (!Array.isArray(x) || x.length !== size || !x.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
    parseFail('ERR_SNP_JSON_MALFORMED', `${path} must be an array of exactly ${size} bytes`);
  }
  return x as number[];
}

class Writer {
  readonly bytes = new Uint8Array(REPORT_SIZE);
  private readonly view = new DataView(this.bytes.buffer);
  u8(at: number, v: number): void {
    this.view.setUint8(at, v);
  }
  u32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }
  u64(at: number, v: number): void {
    this.view.setBigUint64(at, BigInt(v), true);
  }
  set(at: number, v: number[]): void {
    this.bytes.set(v, at);
  }
}

// ————— sev 6.3 —————

type Kind = 'u32' | 'u64' | 'bytes' | 'tcb' | 'version' | 'signature' | 'cpuid' | 'mit';
/** [JSON name, kind, ABI offset (Table 23), size for byte arrays]. */
type Field = readonly [name: string, kind: Kind, offset: number, size?: number];

const FIELDS: readonly Field[] = [
  ['version', 'u32', 0x00],
  ['guest_svn', 'u32', 0x04],
  ['policy', 'u64', 0x08],
  ['family_id', 'bytes', 0x10, 16],
  ['image_id', 'bytes', 0x20, 16],
  ['vmpl', 'u32', 0x30],
  ['sig_algo', 'u32', 0x34],
  ['current_tcb', 'tcb', 0x38],
  ['plat_info', 'u64', 0x40],
  ['key_info', 'u32', 0x48],
  ['report_data', 'bytes', 0x50, 64],
  ['measurement', 'bytes', 0x90, 48],
  ['host_data', 'bytes', 0xc0, 32],
  ['id_key_digest', 'bytes', 0xe0, 48],
  ['author_key_digest', 'bytes', 0x110, 48],
  ['report_id', 'bytes', 0x140, 32],
  ['report_id_ma', 'bytes', 0x160, 32],
  ['reported_tcb', 'tcb', 0x180],
  // CPUID_FAM_ID / MOD_ID / STEP exist from report version 3.
  ['cpuid_fam_id', 'cpuid', 0x188],
  ['cpuid_mod_id', 'cpuid', 0x189],
  ['cpuid_step', 'cpuid', 0x18a],
  ['chip_id', 'bytes', 0x1a0, 64],
  ['committed_tcb', 'tcb', 0x1e0],
  ['current', 'version', 0x1e8],
  ['committed', 'version', 0x1ec],
  ['launch_tcb', 'tcb', 0x1f0],
  // LAUNCH_MIT_VECTOR / CURRENT_MIT_VECTOR exist from report version 5.
  ['launch_mit_vector', 'mit', 0x1f8],
  ['current_mit_vector', 'mit', 0x200],
  ['signature', 'signature', 0x2a0],
];
const FIELD_NAMES = FIELDS.map((f) => f[0]);
const TCB_KEYS = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const;
const VERSION_KEYS = ['major', 'minor', 'build'] as const;
/** ECDSA P-384 R and S as 72-byte little-endian fields (ABI Table 119); the 368 reserved bytes are not carried. */
const SIGNATURE_KEYS = ['r', 's'] as const;
/** CPUID family of Zen 5 (Turin): its TCB_VERSION layout starts with the FMC SVN. */
const TURIN_FAMILY = 0x1a;

/**
 * TCB_VERSION (ABI Table 3 and the Turin addendum): Milan / Genoa = [bootloader, tee, 0, 0, 0, 0, snp,
 * microcode]; Turin = [fmc, bootloader, tee, snp, 0, 0, 0, microcode]. The crate writes `fmc: null` for the
 * first layout, so its presence selects the layout here.
 */
function writeTcb(w: Writer, at: number, x: unknown, path: string): void {
  if (!isObject(x)) return parseFail('ERR_SNP_JSON_MALFORMED', `${path} must be a TCB object`);
  exactKeys(x, TCB_KEYS, path);
  const [bl, tee, snp, ucode] = (['bootloader', 'tee', 'snp', 'microcode'] as const).map((k) => uint(x[k], 1, `${path}.${k}`)) as [number, number, number, number];
  if (x['fmc'] === null) {
    w.set(at, [bl, tee, 0, 0, 0, 0, snp, ucode]);
  } else {
    w.set(at, [uint(x['fmc'], 1, `${path}.fmc`), bl, tee, snp, 0, 0, 0, ucode]);
  }
}

function readTcb(b: Uint8Array, at: number, turin: boolean): JsonObject {
  const t = b.subarray(at, at + 8);
  return turin
    ? { fmc: t[0], bootloader: t[1], tee: t[2], snp: t[3], microcode: t[7] }
    : { fmc: null, bootloader: t[0], tee: t[1], snp: t[6], microcode: t[7] };
}

function rebuild(o: JsonObject): Uint8Array {
  exactKeys(o, FIELD_NAMES, 'attestation_report');
  const w = new Writer();
  for (const [name, kind, at, size] of FIELDS) {
    const x = o[name];
    const path = `attestation_report.${name}`;
    switch (kind) {
      case 'u32':
        w.u32(at, uint(x, 4, path));
        break;
      case 'u64':
        w.u64(at, uint(x, 8, path));
        break;
      case 'bytes':
        w.set(at, byteArray(x, size!, path));
        break;
      case 'tcb':
        writeTcb(w, at, x, path);
        break;
      case 'cpuid':
        if (x !== null) w.u8(at, uint(x, 1, path));
        break;
      case 'mit':
        if (x !== null) w.u64(at, uint(x, 8, path));
        break;
      case 'version': {
        if (!isObject(x)) return parseFail('ERR_SNP_JSON_MALFORMED', `${path} must be {major, minor, build}`);
        exactKeys(x, VERSION_KEYS, path);
        // CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR, reserved (ABI Table 23, 0x1E8 / 0x1EC).
        w.set(at, [uint(x['build'], 1, `${path}.build`), uint(x['minor'], 1, `${path}.minor`), uint(x['major'], 1, `${path}.major`)]);
        break;
      }
      case 'signature': {
        if (!isObject(x)) return parseFail('ERR_SNP_JSON_MALFORMED', `${path} must be {r, s}`);
        exactKeys(x, SIGNATURE_KEYS, path);
        w.set(at, byteArray(x['r'], 72, `${path}.r`));
        w.set(at + 72, byteArray(x['s'], 72, `${path}.s`));
        break;
      }
    }
  }
  return w.bytes;
}

/** The sev 6.3 JSON of report bytes, without the round-trip check (see {@link encodeSevReportJson}). */
function serialize(b: Uint8Array): JsonObject {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = v.getUint32(0, true);
  const turin = version >= 3 && b[0x188] === TURIN_FAMILY;
  const u64 = (at: number): number => {
    const n = v.getBigUint64(at, true);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) parseFail('ERR_SNP_JSON_NOT_ROUND_TRIP', `the u64 at 0x${at.toString(16)} does not fit a JSON number exactly`);
    return Number(n);
  };
  const o: JsonObject = {};
  for (const [name, kind, at, size] of FIELDS) {
    switch (kind) {
      case 'u32':
        o[name] = v.getUint32(at, true);
        break;
      case 'u64':
        o[name] = u64(at);
        break;
      case 'bytes':
        o[name] = Array.from(b.subarray(at, at + size!));
        break;
      case 'tcb':
        o[name] = readTcb(b, at, turin);
        break;
      case 'cpuid':
        o[name] = version >= 3 ? b[at] : null;
        break;
      case 'mit':
        o[name] = version >= 5 ? u64(at) : null;
        break;
      case 'version':
        o[name] = { major: b[at + 2], minor: b[at + 1], build: b[at] };
        break;
      case 'signature':
        o[name] = { r: Array.from(b.subarray(at, at + 72)), s: Array.from(b.subarray(at + 72, at + 144)) };
        break;
    }
  }
  return o;
}

/** JSON text with object keys in sorted order, so documents compare independent of key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

// ————— older positional shape (sev ≤ 5) —————

type LegacyKind = 'u8' | 'u32' | 'u64' | 'bytes' | 'tcb' | 'signature';
type LegacyField = readonly [name: string, kind: LegacyKind, size: number];

/** The struct in ABI order with its private reserved fields; every byte is carried. */
const LEGACY_FIELDS: readonly LegacyField[] = [
  ['version', 'u32', 4],
  ['guest_svn', 'u32', 4],
  ['policy', 'u64', 8],
  ['family_id', 'bytes', 16],
  ['image_id', 'bytes', 16],
  ['vmpl', 'u32', 4],
  ['sig_algo', 'u32', 4],
  ['current_tcb', 'tcb', 8],
  ['plat_info', 'u64', 8],
  ['_author_key_en', 'u32', 4],
  ['_reserved_0', 'u32', 4],
  ['report_data', 'bytes', 64],
  ['measurement', 'bytes', 48],
  ['host_data', 'bytes', 32],
  ['id_key_digest', 'bytes', 48],
  ['author_key_digest', 'bytes', 48],
  ['report_id', 'bytes', 32],
  ['report_id_ma', 'bytes', 32],
  ['reported_tcb', 'tcb', 8],
  ['_reserved_1', 'bytes', 24],
  ['chip_id', 'bytes', 64],
  ['committed_tcb', 'tcb', 8],
  ['current_build', 'u8', 1],
  ['current_minor', 'u8', 1],
  ['current_major', 'u8', 1],
  ['_reserved_2', 'u8', 1],
  ['committed_build', 'u8', 1],
  ['committed_minor', 'u8', 1],
  ['committed_major', 'u8', 1],
  ['_reserved_3', 'u8', 1],
  ['launch_tcb', 'tcb', 8],
  ['_reserved_4', 'bytes', 168],
  ['signature', 'signature', 512],
];
const LEGACY_TCB: readonly LegacyField[] = [
  ['bootloader', 'u8', 1],
  ['tee', 'u8', 1],
  ['_reserved', 'bytes', 4],
  ['snp', 'u8', 1],
  ['microcode', 'u8', 1],
];
const LEGACY_SIGNATURE: readonly LegacyField[] = [
  ['r', 'bytes', 72],
  ['s', 'bytes', 72],
  ['_reserved', 'bytes', 368],
];

function writeLegacy(o: JsonObject, fields: readonly LegacyField[], w: Writer, at: number, path: string): number {
  exactKeys(o, fields.map((f) => f[0]), path);
  for (const [name, kind, size] of fields) {
    const x = o[name];
    const p = `${path}.${name}`;
    if (kind === 'tcb' || kind === 'signature') {
      if (!isObject(x)) return parseFail('ERR_SNP_JSON_MALFORMED', `${p} must be an object`);
      writeLegacy(x, kind === 'tcb' ? LEGACY_TCB : LEGACY_SIGNATURE, w, at, p);
    } else if (kind === 'bytes') w.set(at, byteArray(x, size, p));
    else if (kind === 'u8') w.u8(at, uint(x, 1, p));
    else if (kind === 'u32') w.u32(at, uint(x, 4, p));
    else w.u64(at, uint(x, 8, p));
    at += size;
  }
  return at;
}

// ————— public —————

/**
 * Rebuilds the exact 1184-byte ATTESTATION_REPORT from the `sev` crate's JSON (6.3 shape, or the older
 * positional shape). Throws `ERR_SNP_JSON_MALFORMED` for a missing, unknown, mistyped or mis-sized field and
 * `ERR_SNP_JSON_NOT_ROUND_TRIP` when the rebuilt bytes do not serialize back to the same document (optional
 * fields that do not match the report version, an FMC where the CPUID family has none). The result is still
 * unverified: appraise it like any report.
 */
export function decodeSevReportJson(v: unknown): Uint8Array {
  if (!isObject(v)) return parseFail('ERR_SNP_JSON_MALFORMED', 'attestation_report must be a JSON object');
  if (Object.prototype.hasOwnProperty.call(v, '_author_key_en')) {
    const w = new Writer();
    writeLegacy(v, LEGACY_FIELDS, w, 0, 'attestation_report');
    return w.bytes;
  }
  const bytes = rebuild(v);
  if (canonical(serialize(bytes)) !== canonical(v)) {
    parseFail('ERR_SNP_JSON_NOT_ROUND_TRIP', 'attestation_report does not round-trip through the report layout (version-dependent fields or TCB layout inconsistent)');
  }
  return bytes;
}

/**
 * The sev 6.3 JSON of a report (what a guest-components SNP attester sends). Refuses a report the JSON cannot
 * represent exactly (`ERR_SNP_JSON_NOT_ROUND_TRIP`: non-zero reserved bytes, a u64 above 2^53).
 */
export function encodeSevReportJson(report: Uint8Array): JsonObject {
  if (report.length !== REPORT_SIZE) parseFail('ERR_SNP_REPORT_SIZE', `an SNP report is ${REPORT_SIZE} bytes, not ${report.length}`);
  const json = serialize(report);
  const back = rebuild(json);
  if (back.some((x, i) => x !== report[i])) parseFail('ERR_SNP_JSON_NOT_ROUND_TRIP', 'the report has bytes its sev JSON form cannot carry (reserved fields not zero)');
  return json;
}
