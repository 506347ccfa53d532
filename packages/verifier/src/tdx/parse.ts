/**
 * Intel TDX DCAP quote parsing, v4 and v5 (Intel TDX DCAP Quoting Library API, Appendix A "Quote Format").
 * Bytes → typed structure; no trust decisions beyond the fixed identifiers a TDX quote must carry. Every
 * length field is checked against the bytes that follow it.
 *
 * Trailing bytes after the signature data are tolerated and counted (`trailingBytes`): real quotes come in
 * 8000-byte driver buffers or with 70 zero bytes of padding, and nothing after `sig_data_len` is signed or
 * read. The appraisal records the count as a warning.
 */
import { ParseError, equalBytes, fromHex, toHex } from '@ccinfer/core';
import { ByteReader, parseFail } from '@ccinfer/core/internal';

/** Header field values (Appendix A.3). */
export const QUOTE_HEADER_SIZE = 48;
export const TEE_TYPE_TDX = 0x81;
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
export const INTEL_QE_VENDOR_ID = fromHex('939a7233f79c4ca9940a0db3957f0607');

/** v5 body descriptor types (Appendix A.3.5). 1 = SGX enclave report is not a TD quote. */
export const BODY_TD_REPORT10 = 2;
export const BODY_TD_REPORT15 = 3;
export const TD_REPORT10_SIZE = 584;
export const TD_REPORT15_SIZE = 648;

/** Certification data types (Appendix A.3.9): 5 = PCK chain (PEM), 6 = QE report certification data. */
export const CERT_DATA_PCK_CHAIN = 5;
export const CERT_DATA_QE_REPORT = 6;

export const ENCLAVE_REPORT_SIZE = 384;

export interface QuoteHeader {
  version: 4 | 5;
  attestationKeyType: number;
  teeType: number;
  /** Reserved in TDX quotes (QE_SVN / PCE_SVN in SGX v3 quotes); reported, not interpreted. */
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
}

/** TDREPORT body (TD 1.0: 584 bytes; TD 1.5 adds TEE_TCB_SVN2 and MRSERVICETD: 648 bytes). */
export interface TdReportBody {
  bodyType: typeof BODY_TD_REPORT10 | typeof BODY_TD_REPORT15;
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  /** TDATTRIBUTES, 8 bytes little-endian (bit 0 DEBUG, bit 28 SEPT_VE_DISABLE). */
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  teeTcbSvn2?: Uint8Array;
  mrServiceTd?: Uint8Array;
}

/** SGX REPORTBODY of the Quoting Enclave (SGX Developer Reference, sgx_report_body_t). */
export interface EnclaveReport {
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: number;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

export interface TdxQuote {
  raw: Uint8Array;
  header: QuoteHeader;
  body: TdReportBody;
  /** The bytes the attestation key signed: header (+ v5 body descriptor) + body. */
  signedRegion: Uint8Array;
  /** ECDSA P-256 r‖s over `signedRegion`. */
  signature: Uint8Array;
  /** Raw P-256 point x‖y (no 0x04 prefix). */
  attestationKey: Uint8Array;
  qeReport: EnclaveReport;
  /** ECDSA P-256 r‖s by the PCK leaf key over `qeReport.raw`. */
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** Type-5 certification data: the PEM PCK chain exactly as carried (may end with NUL bytes). */
  pckChain: Uint8Array;
  /** Bytes after the signature data (padding); not covered by any signature. */
  trailingBytes: number;
}

const T = 'ERR_TDX_QUOTE_TRUNCATED';

function parseHeader(r: ByteReader): QuoteHeader {
  const version = r.u16le('version');
  if (version !== 4 && version !== 5) parseFail('ERR_TDX_QUOTE_VERSION', `quote version ${version}, expected 4 or 5`, { offset: 0 });
  const attestationKeyType = r.u16le('att_key_type');
  if (attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    parseFail('ERR_TDX_ATT_KEY_TYPE', `attestation key type ${attestationKeyType}, only 2 (ECDSA-256-with-P-256) is defined for TDX`, { offset: 2 });
  }
  const teeType = r.u32le('tee_type');
  if (teeType !== TEE_TYPE_TDX) parseFail('ERR_TDX_TEE_TYPE', `TEE type 0x${teeType.toString(16)}, expected 0x81 (TDX)`, { offset: 4 });
  const qeSvn = r.u16le('reserved');
  const pceSvn = r.u16le('reserved');
  const qeVendorId = r.bytesView(16, 'qe_vendor_id');
  if (!equalBytes(qeVendorId, INTEL_QE_VENDOR_ID)) parseFail('ERR_TDX_QE_VENDOR', `QE vendor ${toHex(qeVendorId)} is not Intel`, { offset: 12 });
  const userData = r.bytesView(20, 'user_data');
  return { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData };
}

/** TD report body at the reader's position (Appendix A.3.2 / A.3.4). */
export function parseTdReportBody(r: ByteReader, bodyType: typeof BODY_TD_REPORT10 | typeof BODY_TD_REPORT15): TdReportBody {
  const m48 = (what: string): Uint8Array => r.bytesView(48, what);
  const body: TdReportBody = {
    bodyType,
    teeTcbSvn: r.bytesView(16, 'TEE_TCB_SVN'),
    mrSeam: m48('MRSEAM'),
    mrSignerSeam: m48('MRSIGNERSEAM'),
    seamAttributes: r.bytesView(8, 'SEAMATTRIBUTES'),
    tdAttributes: r.bytesView(8, 'TDATTRIBUTES'),
    xfam: r.bytesView(8, 'XFAM'),
    mrTd: m48('MRTD'),
    mrConfigId: m48('MRCONFIGID'),
    mrOwner: m48('MROWNER'),
    mrOwnerConfig: m48('MROWNERCONFIG'),
    rtmrs: [m48('RTMR0'), m48('RTMR1'), m48('RTMR2'), m48('RTMR3')],
    reportData: r.bytesView(64, 'REPORTDATA'),
  };
  if (bodyType === BODY_TD_REPORT15) {
    body.teeTcbSvn2 = r.bytesView(16, 'TEE_TCB_SVN2');
    body.mrServiceTd = m48('MRSERVICETD');
  }
  return body;
}

/** SGX REPORTBODY (384 bytes) from its exact bytes. */
export function parseEnclaveReport(raw: Uint8Array): EnclaveReport {
  const r = new ByteReader(raw, T);
  const cpuSvn = r.bytesView(16, 'CPUSVN');
  const miscSelect = r.u32le('MISCSELECT');
  r.skip(28, 'reserved');
  const attributes = r.bytesView(16, 'ATTRIBUTES');
  const mrEnclave = r.bytesView(32, 'MRENCLAVE');
  r.skip(32, 'reserved');
  const mrSigner = r.bytesView(32, 'MRSIGNER');
  r.skip(96, 'reserved');
  const isvProdId = r.u16le('ISVPRODID');
  const isvSvn = r.u16le('ISVSVN');
  r.skip(60, 'reserved');
  const reportData = r.bytesView(64, 'REPORTDATA');
  return { raw, cpuSvn, miscSelect, attributes, mrEnclave, mrSigner, isvProdId, isvSvn, reportData };
}

/**
 * Parses a TDX quote v4 or v5. The returned views alias `quote`; callers that keep the result while the
 * buffer may change pass a copy.
 */
export function parseTdxQuote(quote: Uint8Array): TdxQuote {
  const r = new ByteReader(quote, T);
  const header = parseHeader(r);

  let bodyType: typeof BODY_TD_REPORT10 | typeof BODY_TD_REPORT15 = BODY_TD_REPORT10;
  if (header.version === 5) {
    // A.3.5: u16 body type + u32 body size precede the body and are covered by the signature.
    const type = r.u16le('body_type');
    const size = r.u32le('body_size');
    if (type === BODY_TD_REPORT10 && size === TD_REPORT10_SIZE) bodyType = BODY_TD_REPORT10;
    else if (type === BODY_TD_REPORT15 && size === TD_REPORT15_SIZE) bodyType = BODY_TD_REPORT15;
    else parseFail('ERR_TDX_BODY_TYPE', `v5 body type ${type} of ${size} bytes is not a TD report 1.0 (2/584) or 1.5 (3/648)`, { offset: QUOTE_HEADER_SIZE });
  }
  const body = parseTdReportBody(r, bodyType);
  const signedRegion = quote.subarray(0, r.offset);

  const sigDataLen = r.u32le('sig_data_len');
  const sigStart = r.offset;
  if (sigDataLen > r.remaining) throw new ParseError(T, `signature data of ${sigDataLen} bytes, ${r.remaining} present`, { offset: sigStart - 4 });
  const s = new ByteReader(quote.subarray(sigStart, sigStart + sigDataLen), T);
  const signature = s.bytesView(64, 'quote signature');
  const attestationKey = s.bytesView(64, 'attestation key');
  const certType = s.u16le('certification data type');
  if (certType !== CERT_DATA_QE_REPORT) {
    parseFail('ERR_TDX_CERT_DATA_TYPE', `certification data type ${certType}, TDX quotes carry type 6 (QE report certification data)`, { offset: sigStart + 128 });
  }
  const certSize = s.u32le('certification data size');
  if (certSize !== s.remaining) {
    parseFail('ERR_TDX_CERT_DATA_MALFORMED', `certification data size ${certSize} != ${s.remaining} bytes left in the signature data`, { offset: sigStart + 130 });
  }
  // Type 6 (A.3.11): QE report, its signature, QE auth data, then a nested certification data (type 5).
  const qeReport = parseEnclaveReport(s.bytesView(ENCLAVE_REPORT_SIZE, 'QE report'));
  const qeReportSignature = s.bytesView(64, 'QE report signature');
  const authLen = s.u16le('QE auth data size');
  const qeAuthData = s.bytesView(authLen, 'QE auth data');
  const innerType = s.u16le('inner certification data type');
  if (innerType !== CERT_DATA_PCK_CHAIN) {
    parseFail('ERR_TDX_CERT_DATA_TYPE', `nested certification data type ${innerType}, expected 5 (PCK certificate chain)`, { offset: sigStart + s.offset - 2 });
  }
  const innerSize = s.u32le('inner certification data size');
  if (innerSize !== s.remaining) {
    // QVL verifyCertificationData: the parsed size must equal the declared size exactly.
    parseFail('ERR_TDX_CERT_DATA_MALFORMED', `PCK chain size ${innerSize} != ${s.remaining} bytes left`, { offset: sigStart + s.offset - 4 });
  }
  const pckChain = s.bytesView(innerSize, 'PCK certificate chain');

  return {
    raw: quote,
    header,
    body,
    signedRegion,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChain,
    trailingBytes: quote.length - sigStart - sigDataLen,
  };
}

/** TDATTRIBUTES bits (Intel TDX Module ABI spec, TD_PARAMS.ATTRIBUTES). */
export const TD_ATTR = { DEBUG: 0n, SEPT_VE_DISABLE: 28n, MIGRATABLE: 29n, PKS: 30n, KL: 31n, PERFMON: 63n } as const;

export function tdAttributesU64(body: Pick<TdReportBody, 'tdAttributes'>): bigint {
  return new DataView(body.tdAttributes.buffer, body.tdAttributes.byteOffset, 8).getBigUint64(0, true);
}

export function hasTdAttribute(body: Pick<TdReportBody, 'tdAttributes'>, bit: bigint): boolean {
  return ((tdAttributesU64(body) >> bit) & 1n) === 1n;
}
