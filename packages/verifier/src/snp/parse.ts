/**
 * SEV-SNP ATTESTATION_REPORT parsing (AMD SEV-SNP Firmware ABI spec #56860, Table 22 "ATTESTATION_REPORT
 * Structure", rev 1.55–1.58). Turns the 1184 bytes into typed fields; checks structure only: exact length,
 * known version, the signature algorithm, KEY_INFO encoding and every must-be-zero range. Whether the
 * report is acceptable is decided in verify.ts and policy.ts.
 */
import { ByteReader, isZero, parseFail } from '@ccinfer/core/internal';

export const REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0, 0x2A0). */
export const SIGNED_SIZE = 0x2a0;
export const SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5];

export type SnpProductLine = 'Milan' | 'Genoa' | 'Turin';
export type SigningKey = 'vcek' | 'vlek';

/** TCB_VERSION components (§2 of the digest: the byte layout depends on the product line, not the version). */
export interface TcbVersion {
  raw: bigint;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  /** Turin only. */
  fmc?: number;
}

/** Guest policy bits (ABI Table 9 "Guest Policy Structure"). */
export interface GuestPolicy {
  raw: bigint;
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllow: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
}

export interface PlatformInfo {
  raw: bigint;
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingEnabled: boolean;
  aliasCheckComplete: boolean;
  tioEnabled: boolean;
}

export interface SnpReport {
  /** The whole report (a private copy) and the signed range, as views. */
  bytes: Uint8Array;
  signedBytes: Uint8Array;
  version: number;
  guestSvn: number;
  policy: GuestPolicy;
  familyId: Uint8Array;
  imageId: Uint8Array;
  vmpl: number;
  signatureAlgo: number;
  /** TCBs are decoded once the product line is known; the raw values are here. */
  currentTcbRaw: bigint;
  reportedTcbRaw: bigint;
  committedTcbRaw: bigint;
  launchTcbRaw: bigint;
  platformInfo: PlatformInfo;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SigningKey;
  reportData: Uint8Array;
  measurement: Uint8Array;
  hostData: Uint8Array;
  idKeyDigest: Uint8Array;
  authorKeyDigest: Uint8Array;
  reportId: Uint8Array;
  reportIdMa: Uint8Array;
  /** v3+: CPUID family/model/stepping of the chip; undefined for v2. */
  cpuid: { family: number; model: number; stepping: number } | undefined;
  chipId: Uint8Array;
  currentVersion: { major: number; minor: number; build: number };
  committedVersion: { major: number; minor: number; build: number };
  /** v5+: mitigation vectors; undefined before. */
  launchMitVector: bigint | undefined;
  currentMitVector: bigint | undefined;
  /** Little-endian r and s, 72 bytes each (only the low 48 bytes are significant for P-384). */
  signatureR: Uint8Array;
  signatureS: Uint8Array;
}

function mbz(bytes: Uint8Array, offset: number, what: string): void {
  if (!isZero(bytes)) parseFail('ERR_SNP_RESERVED_NONZERO', `reserved field ${what} at 0x${offset.toString(16)} is not zero`, { offset: offset });
}

const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

function decodePolicy(raw: bigint): GuestPolicy {
  // Bit 17 is reserved and must be one; bits 63:26 must be zero (ABI Table 9).
  if (!bit(raw, 17)) parseFail('ERR_SNP_POLICY_RESERVED', 'guest policy bit 17 (reserved, must be 1) is clear', { offset: 0x08 });
  if (raw >> 26n !== 0n) parseFail('ERR_SNP_POLICY_RESERVED', 'guest policy bits 63:26 must be zero', { offset: 0x08 });
  return {
    raw,
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(raw, 16),
    migrateMa: bit(raw, 18),
    debug: bit(raw, 19),
    singleSocket: bit(raw, 20),
    cxlAllow: bit(raw, 21),
    memAes256Xts: bit(raw, 22),
    raplDis: bit(raw, 23),
    ciphertextHiding: bit(raw, 24),
    pageSwapDisable: bit(raw, 25),
  };
}

function decodePlatformInfo(raw: bigint): PlatformInfo {
  // Bit 6 is set on every Turin report seen but undocumented in older ABI revisions: tolerated, not judged.
  return {
    raw,
    smtEnabled: bit(raw, 0),
    tsmeEnabled: bit(raw, 1),
    eccEnabled: bit(raw, 2),
    raplDisabled: bit(raw, 3),
    ciphertextHidingEnabled: bit(raw, 4),
    aliasCheckComplete: bit(raw, 5),
    tioEnabled: bit(raw, 7),
  };
}

/**
 * Parses a raw 1184-byte report (as read from configfs-tsm `outblob` or `/dev/sev-guest` without its
 * 32-byte MSG_REPORT_RSP header). The input is copied first so the caller cannot change it mid-verification.
 */
export function parseSnpReport(input: Uint8Array): SnpReport {
  if (input.length !== REPORT_SIZE) parseFail('ERR_SNP_REPORT_SIZE', `report is ${input.length} bytes, expected ${REPORT_SIZE}`);
  const bytes = input.slice();
  const r = new ByteReader(bytes, 'ERR_SNP_REPORT_SIZE');
  const version = r.u32le();
  if (!SUPPORTED_VERSIONS.includes(version)) parseFail('ERR_SNP_REPORT_VERSION', `report version ${version} is not one of 2, 3, 4, 5`, { offset: 0 });
  const guestSvn = r.u32le();
  const policy = decodePolicy(r.u64le());
  const familyId = r.bytesView(16);
  const imageId = r.bytesView(16);
  const vmpl = r.u32le();
  if (vmpl > 3) parseFail('ERR_SNP_RESERVED_NONZERO', `VMPL ${vmpl} is not 0..3`, { offset: 0x30 });
  const signatureAlgo = r.u32le();
  // 1 = ECDSA P-384 with SHA-384, the only algorithm the ABI defines (Table 117).
  if (signatureAlgo !== 1) parseFail('ERR_SNP_SIGNATURE_ALGO', `SIGNATURE_ALGO ${signatureAlgo} is not 1 (ECDSA P-384/SHA-384)`, { offset: 0x34 });
  const currentTcbRaw = r.u64le();
  const platformInfo = decodePlatformInfo(r.u64le());
  const keyInfo = r.u32le();
  // KEY_INFO (0x48): bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY (0 VCEK, 1 VLEK, 7 none),
  // bits 31:5 reserved.
  if (keyInfo >>> 5 !== 0) parseFail('ERR_SNP_KEY_INFO', `KEY_INFO reserved bits set (0x${keyInfo.toString(16)})`, { offset: 0x48 });
  const sk = (keyInfo >>> 2) & 7;
  if (sk === 7) parseFail('ERR_SNP_KEY_INFO', 'SIGNING_KEY is 7: the report is not signed', { offset: 0x48 });
  if (sk > 1) parseFail('ERR_SNP_KEY_INFO', `SIGNING_KEY ${sk} is reserved`, { offset: 0x48 });
  mbz(r.bytesView(4), 0x4c, '0x4C');
  const reportData = r.bytesView(64);
  const measurement = r.bytesView(48);
  const hostData = r.bytesView(32);
  const idKeyDigest = r.bytesView(48);
  const authorKeyDigest = r.bytesView(48);
  const reportId = r.bytesView(32);
  const reportIdMa = r.bytesView(32);
  const reportedTcbRaw = r.u64le();
  let cpuid: SnpReport['cpuid'];
  if (version >= 3) {
    cpuid = { family: r.u8(), model: r.u8(), stepping: r.u8() };
    mbz(r.bytesView(21), 0x18b, '0x18B');
  } else {
    mbz(r.bytesView(24), 0x188, '0x188 (v2)');
  }
  const chipId = r.bytesView(64);
  const committedTcbRaw = r.u64le();
  const currentVersion = { build: r.u8(), minor: r.u8(), major: r.u8() };
  mbz(r.bytesView(1), 0x1eb, '0x1EB');
  const committedVersion = { build: r.u8(), minor: r.u8(), major: r.u8() };
  mbz(r.bytesView(1), 0x1ef, '0x1EF');
  const launchTcbRaw = r.u64le();
  let launchMitVector: bigint | undefined;
  let currentMitVector: bigint | undefined;
  if (version >= 5) {
    launchMitVector = r.u64le();
    currentMitVector = r.u64le();
  } else {
    mbz(r.bytesView(16), 0x1f8, '0x1F8 (before v5)');
  }
  mbz(r.bytesView(0x98), 0x208, '0x208');
  // SIGNATURE (ABI Table 119): R and S as 72-byte little-endian fields, then reserved bytes.
  const signatureR = r.bytesView(72);
  const signatureS = r.bytesView(72);
  mbz(r.bytesView(REPORT_SIZE - 0x2a0 - 144), 0x330, 'signature tail');
  return {
    bytes,
    signedBytes: bytes.subarray(0, SIGNED_SIZE),
    version,
    guestSvn,
    policy,
    familyId,
    imageId,
    vmpl,
    signatureAlgo,
    currentTcbRaw,
    reportedTcbRaw,
    committedTcbRaw,
    launchTcbRaw,
    platformInfo,
    authorKeyEn: (keyInfo & 1) === 1,
    maskChipKey: (keyInfo & 2) === 2,
    signingKey: sk === 0 ? 'vcek' : 'vlek',
    reportData,
    measurement,
    hostData,
    idKeyDigest,
    authorKeyDigest,
    reportId,
    reportIdMa,
    cpuid,
    chipId,
    currentVersion,
    committedVersion,
    launchMitVector,
    currentMitVector,
    signatureR,
    signatureS,
  };
}

/**
 * Product line from CPUID (report v3+): family 0x19 models 0x00–0x0F Milan, 0x10–0x1F and 0xA0–0xAF
 * (Zen 4c) Genoa; family 0x1A models 0x00–0x11 Turin. Undefined for v2 reports (no CPUID).
 */
export function productFromCpuid(cpuid: SnpReport['cpuid']): SnpProductLine | undefined {
  if (!cpuid) return undefined;
  const { family, model } = cpuid;
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) return 'Genoa';
  if (family === 0x1a && model <= 0x11) return 'Turin';
  return parseFail('ERR_SNP_PRODUCT_UNKNOWN', `CPUID family 0x${family.toString(16)} model 0x${model.toString(16)} is not a known SEV-SNP product`, { offset: 0x188 });
}

/**
 * TCB_VERSION byte layout: Milan/Genoa = [bl, tee, rsvd, rsvd, rsvd, rsvd, snp, ucode];
 * Turin = [fmc, bl, tee, snp, rsvd, rsvd, rsvd, ucode]. Reserved bytes must be zero.
 */
export function decodeTcb(raw: bigint, product: SnpProductLine): TcbVersion {
  const b = (i: number): number => Number((raw >> BigInt(8 * i)) & 0xffn);
  if (product === 'Turin') {
    if (b(4) | b(5) | b(6)) parseFail('ERR_SNP_RESERVED_NONZERO', `Turin TCB 0x${raw.toString(16)} has reserved bytes set`);
    return { raw, fmc: b(0), bootloader: b(1), tee: b(2), snp: b(3), microcode: b(7) };
  }
  if (b(2) | b(3) | b(4) | b(5)) parseFail('ERR_SNP_RESERVED_NONZERO', `${product} TCB 0x${raw.toString(16)} has reserved bytes set`);
  return { raw, bootloader: b(0), tee: b(1), snp: b(6), microcode: b(7) };
}

export function formatVersion(v: { major: number; minor: number; build: number }): string {
  return `${v.major}.${v.minor}.${v.build}`;
}
