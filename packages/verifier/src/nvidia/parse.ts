/**
 * NVIDIA attestation report = SPDM 1.1 GET_MEASUREMENTS request (37 bytes) || MEASUREMENTS response
 * (DMTF DSP0274 1.1.0 §10.11). Bytes → typed structure, no trust decisions.
 *
 * The signed range (request || response up to and excluding the signature, DSP0274 1.1 §10.11.1: the 1.1
 * signature covers L1/L2 = request || response-without-signature) is found by walking the structure,
 * never by subtracting 96 from the length: real captures carry trailing bytes after the signature.
 */
import { ParseError, fromUtf8, toHex } from '@ccinfer/core';
import { ByteReader } from '@ccinfer/core/internal';

/** SPDMVersion 1.1 (DSP0274 §9: major.minor in the high/low nibble). Other versions sign a transcript. */
export const SPDM_VERSION_11 = 0x11;
export const GET_MEASUREMENTS = 0xe0;
export const MEASUREMENTS = 0x60;
export const REQUEST_LENGTH = 37;
/** ECDSA P-384 raw r || s (DSP0274 §14 "SPDM signing": TPM_ALG_ECDSA_ECC_NIST_P384). */
export const SIGNATURE_LENGTH = 96;

/** Opaque-data TLV types emitted by NVIDIA GPUs (GSP) and LS10 NVSwitches (FSP). Names from nvtrust. */
export const OpaqueType = {
  CERT_ISSUER_NAME: 1,
  CERT_AUTHORITY_KEY_IDENTIFIER: 2,
  DRIVER_VERSION: 3,
  GPU_INFO: 4,
  SKU: 5,
  VBIOS_VERSION: 6,
  MANUFACTURER_ID: 7,
  TAMPER_DETECTION: 8,
  SMC: 9,
  VPR: 10,
  NVDEC0_STATUS: 11,
  MSRSCNT: 12,
  CPRINFO: 13,
  BOARD_ID: 14,
  CHIP_SKU: 15,
  CHIP_SKU_MOD: 16,
  PROJECT: 17,
  PROJECT_SKU: 18,
  PROJECT_SKU_MOD: 19,
  FWID: 20,
  PROTECTED_PCIE_STATUS: 21,
  /** GPU: NVLink peer switch PDIs (18 × 8 bytes). LS10: the switch's own PDI (8 bytes). */
  PDI: 22,
  DISABLED_PORTS: 23,
  SWITCH_POSITION_ID: 24,
  SWITCH_LOCK_STATUS: 25,
  SWITCH_GPU_PDIS: 26,
  GPU_LINK_CONN: 32,
  SYS_ENABLE_STATUS: 33,
  OPAQUE_DATA_VERSION: 34,
  CHIP_INFO: 35,
  FEATURE_FLAG: 36,
  INVALID: 255,
} as const;

/**
 * GPU_INFO (opaque type 4) architecture ids: the lower 32 bits of the field (u32 little-endian), as nvtrust
 * reads them. The field is 8 bytes on real GPUs; its upper 32 bits are not documented and are zero on Hopper
 * and GB100, but the RTX PRO 6000 Blackwell Server Edition (GB202) sends 2 there (`0x00000002_000001b0`).
 */
export const GpuInfo = { GH100: 0x180, GB100: 0x1a0, GB20X: 0x1b0 } as const;

/** NVDEC0_STATUS / PROTECTED_PCIE_STATUS byte values. */
export const STATUS_ENABLED = 0xaa;
export const STATUS_DISABLED = 0x55;

export interface SpdmRequest {
  version: number;
  code: number;
  param1: number;
  param2: number;
  /** The requester's nonce: the freshness / binding nonce the caller chose. */
  nonce: Uint8Array;
  slotId: number;
}

export interface MeasurementBlock {
  /** SPDM block index (1-based). RIM index N is block N + 1. */
  index: number;
  measurementSpecification: number;
  /** DMTFSpecMeasurementValueType (DSP0274 Table 45), 0x01 = mutable firmware, digest. */
  valueType: number;
  value: Uint8Array;
}

export interface OpaqueField {
  type: number;
  /** Offset of the TLV header within the report. */
  offset: number;
  value: Uint8Array;
}

/** The interpreted opaque data; every field is also kept raw in `fields` (unknown types included). */
export interface OpaqueData {
  fields: OpaqueField[];
  driverVersion?: string;
  /** GPU_INFO architecture id: the lower 32 bits (see `GpuInfo`). */
  gpuInfo?: number;
  /** GPU_INFO upper 32 bits of an 8-byte field, kept as sent and not interpreted (2 on GB202). */
  gpuInfoHigh?: number;
  vbiosVersion?: string;
  nvdec0Status?: number;
  measurementCounts?: number[];
  chipSku?: string;
  chipSkuMod?: string;
  project?: string;
  projectSku?: string;
  projectSkuMod?: string;
  fwid?: Uint8Array;
  protectedPcieStatus?: number;
  /** GPU: NVLink peer switch PDIs as sent (little-endian; reverse to compare with a switch's own PDI). */
  switchPdis?: Uint8Array[];
  /** LS10: the switch's own PDI as sent. */
  devicePdi?: Uint8Array;
  /** LS10: the 8 GPU PDIs as sent and the per-port map that follows them. */
  switchGpuPdis?: Uint8Array[];
  switchPortMap?: Uint8Array;
  switchPositionId?: number;
  switchLockStatus?: number;
  sysEnableStatus?: number;
  opaqueDataVersion?: number;
  chipInfo?: string;
  featureFlag?: number;
}

export type DeviceKind = 'gpu' | 'switch';

export interface NvidiaReport {
  /** GPU when GPU_INFO is present (GSP evidence), else NVSwitch (FSP evidence, no driver / GPU_INFO). */
  kind: DeviceKind;
  request: SpdmRequest;
  response: {
    version: number;
    code: number;
    param1: number;
    param2: number;
    numberOfBlocks: number;
    measurementRecordLength: number;
    blocks: MeasurementBlock[];
    /** Responder (device) nonce: device-chosen, not the caller's. */
    nonce: Uint8Array;
    opaqueLength: number;
    opaque: OpaqueData;
  };
  /** request || response without the signature: exactly what the signature covers. */
  signedBytes: Uint8Array;
  /** Raw r || s. */
  signature: Uint8Array;
  /** Zero bytes after the signature (seen in CoCo captures); non-zero trailing bytes are rejected. */
  trailingBytes: number;
}

const TRUNC = 'ERR_NV_REPORT_TRUNCATED';
const BAD = 'ERR_NV_REPORT_MALFORMED';
const OPAQUE = 'ERR_NV_OPAQUE_MALFORMED';

/**
 * `kind` comes from the device certificate's subject (GSP vs FSP leaf) when the caller has it; without it,
 * GPU_INFO decides. The kind selects how ambiguous TLVs are read (VBIOS binary vs text, type 22).
 */
export function parseReport(report: Uint8Array, kind?: DeviceKind): NvidiaReport {
  const r = new ByteReader(report, TRUNC);
  const request = parseRequest(r);

  const version = r.u8('SPDMVersion');
  if (version !== SPDM_VERSION_11) bad(`response SPDMVersion 0x${version.toString(16)} (expected 0x11)`, r.offset - 1);
  const code = r.u8('RequestResponseCode');
  if (code !== MEASUREMENTS) bad(`response code 0x${code.toString(16)} is not MEASUREMENTS (0x60)`, r.offset - 1);
  const param1 = r.u8('Param1');
  const param2 = r.u8('Param2');
  const numberOfBlocks = r.u8('NumberOfBlocks');
  const measurementRecordLength = r.u24le('MeasurementRecordLength');
  const recordStart = r.offset;
  const record = new ByteReader(r.bytesView(measurementRecordLength, 'MeasurementRecord'), TRUNC);
  const blocks = parseBlocks(record, numberOfBlocks, recordStart);
  const nonce = r.bytesView(32, 'Nonce');
  const opaqueLength = r.u16le('OpaqueLength');
  const opaqueStart = r.offset;
  const opaque = parseOpaqueData(r.bytesView(opaqueLength, 'OpaqueData'), opaqueStart, kind);
  const signedLength = r.offset;
  const signature = r.bytesView(SIGNATURE_LENGTH, 'Signature');
  const trailing = report.subarray(r.offset);
  for (let i = 0; i < trailing.length; i++) {
    if (trailing[i] !== 0) {
      throw new ParseError('ERR_NV_TRAILING_BYTES', `non-zero byte after the signature at offset ${r.offset + i}`, {
        offset: r.offset + i,
      });
    }
  }
  return {
    kind: kind ?? (opaque.gpuInfo !== undefined ? 'gpu' : 'switch'),
    request,
    response: { version, code, param1, param2, numberOfBlocks, measurementRecordLength, blocks, nonce, opaqueLength, opaque },
    signedBytes: report.subarray(0, signedLength),
    signature,
    trailingBytes: trailing.length,
  };
}

/** DSP0274 1.1 §10.11 Table 41 (GET_MEASUREMENTS request with signature: 37 bytes). */
function parseRequest(r: ByteReader): SpdmRequest {
  const version = r.u8('request SPDMVersion');
  if (version !== SPDM_VERSION_11) bad(`request SPDMVersion 0x${version.toString(16)} (expected 0x11)`, 0);
  const code = r.u8('request code');
  if (code !== GET_MEASUREMENTS) bad(`request code 0x${code.toString(16)} is not GET_MEASUREMENTS (0xE0)`, 1);
  const param1 = r.u8('request Param1');
  // Param1 bit 0: signature requested. Without it the response carries no signature and proves nothing.
  if ((param1 & 0x01) === 0) bad('request did not ask for a signature (Param1 bit 0 clear)', 2);
  const param2 = r.u8('request Param2');
  // 0xFF = all measurements: the golden comparison needs every block.
  if (param2 !== 0xff) bad(`request Param2 0x${param2.toString(16)} is not "all measurements" (0xFF)`, 3);
  const nonce = r.bytesView(32, 'request Nonce');
  const slotId = r.u8('request SlotIDParam');
  return { version, code, param1, param2, nonce, slotId };
}

/** DSP0274 1.1 §10.11.1 Table 44/45: measurement blocks in DMTF format. */
function parseBlocks(r: ByteReader, count: number, base: number): MeasurementBlock[] {
  const blocks: MeasurementBlock[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const at = base + r.offset;
    const index = r.u8('block Index');
    const measurementSpecification = r.u8('block MeasurementSpecification');
    // nvtrust rejects any specification other than DMTF (bit 0); so do we: the value layout depends on it.
    if (measurementSpecification !== 0x01) bad(`block ${index}: MeasurementSpecification ${measurementSpecification} is not DMTF`, at + 1);
    const size = r.u16le('block MeasurementSize');
    if (size < 3) bad(`block ${index}: MeasurementSize ${size} too small for a DMTF value`, at + 2);
    const valueType = r.u8('DMTFSpecMeasurementValueType');
    const valueSize = r.u16le('DMTFSpecMeasurementValueSize');
    if (valueSize !== size - 3) bad(`block ${index}: value size ${valueSize} != MeasurementSize - 3`, at + 5);
    if (index === 0 || index === 0xff || seen.has(index)) bad(`block index ${index} is reserved or repeated`, at);
    seen.add(index);
    blocks.push({ index, measurementSpecification, valueType, value: r.bytesView(valueSize, 'DMTF measurement value') });
  }
  if (r.remaining !== 0) bad(`${r.remaining} bytes left in MeasurementRecord after ${count} blocks`, base + r.offset);
  return blocks;
}

/** The opaque data: a list of `type:u16le, length:u16le, value`. Unknown types are kept, not fatal. */
export function parseOpaqueData(bytes: Uint8Array, base = 0, kind?: DeviceKind): OpaqueData {
  const r = new ByteReader(bytes, OPAQUE);
  const out: OpaqueData = { fields: [] };
  const seen = new Set<number>();
  while (r.remaining > 0) {
    const offset = base + r.offset;
    const type = r.u16le('opaque type');
    const length = r.u16le('opaque length');
    const value = r.bytesView(length, `opaque type ${type} value`);
    // A repeated type would let two readers of the same report see different values.
    if (seen.has(type)) throw new ParseError(OPAQUE, `opaque type ${type} repeated`, { offset });
    seen.add(type);
    out.fields.push({ type, offset, value });
  }
  const gpu = kind === undefined ? seen.has(OpaqueType.GPU_INFO) : kind === 'gpu';
  for (const f of out.fields) if (appliesTo(f.type, gpu)) interpret(out, f, gpu);
  return out;
}

/** GSP-only TLVs; an NVSwitch (FSP) report keeps them raw instead of interpreting them. */
const GPU_ONLY = new Set<number>([3, 4, 5, 11, 13, 14, 15, 16, 17, 18, 19, 21, 32, 33, 35]);
/** FSP-only TLVs. */
const SWITCH_ONLY = new Set<number>([23, 24, 25, 26]);

function appliesTo(type: number, gpu: boolean): boolean {
  return gpu ? !SWITCH_ONLY.has(type) : !GPU_ONLY.has(type);
}

function interpret(o: OpaqueData, f: OpaqueField, gpu: boolean): void {
  const v = f.value;
  const T = OpaqueType;
  switch (f.type) {
    case T.DRIVER_VERSION:
      o.driverVersion = text(f);
      break;
    case T.GPU_INFO: {
      // u32 architecture id, optionally followed by 32 more bits (8-byte form): only the lower half is
      // documented, so only it is interpreted; the upper half is kept so nothing the device said is lost.
      if (v.length !== 4 && v.length !== 8) opaqueFail(f, `GPU_INFO is ${v.length} bytes, not 4 or 8`);
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      o.gpuInfo = dv.getUint32(0, true);
      if (v.length === 8) o.gpuInfoHigh = dv.getUint32(4, true);
      break;
    }
    case T.VBIOS_VERSION:
      // GPU: 8 binary bytes, printed as b3.b2.b1.b0.b4 (nvtrust / NVML). LS10: ASCII text.
      if (gpu) {
        if (v.length !== 8) opaqueFail(f, 'VBIOS_VERSION is not 8 bytes');
        o.vbiosVersion = [v[3], v[2], v[1], v[0], v[4]].map((b) => b!.toString(16).toUpperCase().padStart(2, '0')).join('.');
      } else o.vbiosVersion = text(f);
      break;
    case T.NVDEC0_STATUS:
      o.nvdec0Status = le(f, 1, 1);
      break;
    case T.MSRSCNT: {
      if (v.length % 4 !== 0) opaqueFail(f, 'MSRSCNT is not a list of u32');
      const counts: number[] = [];
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < v.length; i += 4) counts.push(dv.getUint32(i, true));
      o.measurementCounts = counts;
      break;
    }
    case T.CHIP_SKU:
      o.chipSku = text(f);
      break;
    case T.CHIP_SKU_MOD:
      o.chipSkuMod = text(f);
      break;
    case T.PROJECT:
      o.project = text(f);
      break;
    case T.PROJECT_SKU:
      o.projectSku = text(f);
      break;
    case T.PROJECT_SKU_MOD:
      o.projectSkuMod = text(f);
      break;
    case T.FWID:
      if (v.length !== 48) opaqueFail(f, 'FWID is not a SHA-384 digest');
      o.fwid = v;
      break;
    case T.PROTECTED_PCIE_STATUS:
      o.protectedPcieStatus = le(f, 1, 1);
      break;
    case T.PDI:
      if (v.length === 0 || v.length % 8 !== 0) opaqueFail(f, 'PDI list is not a multiple of 8 bytes');
      if (gpu) o.switchPdis = chunks(v, 8);
      else {
        if (v.length !== 8) opaqueFail(f, 'switch DEVICE_PDI is not 8 bytes');
        o.devicePdi = v;
      }
      break;
    case T.SWITCH_GPU_PDIS:
      if (v.length < 64) opaqueFail(f, 'SWITCH_GPU_PDIS shorter than 8 PDIs');
      o.switchGpuPdis = chunks(v.subarray(0, 64), 8);
      o.switchPortMap = v.subarray(64);
      break;
    case T.SWITCH_POSITION_ID:
      o.switchPositionId = le(f, 1, 4);
      break;
    case T.SWITCH_LOCK_STATUS:
      o.switchLockStatus = le(f, 1, 4);
      break;
    case T.SYS_ENABLE_STATUS:
      o.sysEnableStatus = le(f, 1, 4);
      break;
    case T.OPAQUE_DATA_VERSION:
      o.opaqueDataVersion = le(f, 2, 2);
      break;
    case T.CHIP_INFO:
      o.chipInfo = text(f);
      break;
    case T.FEATURE_FLAG:
      o.featureFlag = le(f, 2, 2);
      break;
    default:
      // Kept raw in `fields`: NRAS claims 4.0 announce new opaque types; an unknown one is not an attack.
      break;
  }
}

function opaqueFail(f: OpaqueField, msg: string): never {
  throw new ParseError(OPAQUE, `opaque type ${f.type}: ${msg}`, { offset: f.offset });
}

/** Little-endian unsigned integer of `min..max` bytes (`max` ≤ 4). */
function le(f: OpaqueField, min: number, max: number): number {
  const v = f.value;
  if (v.length < min || v.length > max) opaqueFail(f, `length ${v.length} outside ${min}..${max}`);
  let x = 0;
  for (let i = v.length - 1; i >= 0; i--) x = x * 256 + v[i]!;
  return x;
}

/** NUL-padded printable ASCII (versions, SKUs, project codes). */
function text(f: OpaqueField): string {
  let end = f.value.length;
  while (end > 0 && f.value[end - 1] === 0) end--;
  const s = f.value.subarray(0, end);
  for (const b of s) if (b < 0x20 || b > 0x7e) opaqueFail(f, 'not printable ASCII');
  return fromUtf8(s, OPAQUE);
}

function chunks(v: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < v.length; i += n) out.push(v.subarray(i, i + n));
  return out;
}

function bad(msg: string, offset: number): never {
  throw new ParseError(BAD, msg, { offset });
}

/** Hex of an 8-byte PDI as compared across devices: GPU-reported switch PDIs are little-endian. */
export function pdiHex(pdi: Uint8Array, reversed: boolean): string {
  return toHex(reversed ? pdi.slice().reverse() : pdi);
}
