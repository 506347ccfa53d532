/**
 * A simulated Intel DCAP world for tests and the simulated pod: an Intel-like root, PCK chains with the SGX
 * extension, QE reports, TDX quotes v4/v5, and PCS-shaped, signed TCB Info / QE Identity / CRLs with any
 * levels. Every field can be set, so every error code and TCB status can be produced without hardware.
 * The structures follow parse.ts / collateral.ts; nothing here is used by verification.
 */
import { concat, fromHex, sha256, subtle, toHex, utf8 } from '@ccinfer/core';
import { der } from '@ccinfer/core/internal';
import type { TrustAnchors } from '../anchors.js';
import { spkiSha256 } from '../x509/chain.js';
import { parseCertificate } from '../x509/certificate.js';
import type { TdxCollateral } from '../tdx/collateral.js';
import { INTEL_QE_VENDOR_ID } from '../tdx/parse.js';
import { SGX_EXTENSION_OID } from '../tdx/pck.js';
import { generateKey, mintCertificate, mintCrl, sign, toPem, type KeyPair } from './x509.js';

const ROOT_CN = 'Intel SGX Root CA';
const PCK_CA_CN = 'Intel SGX PCK Platform CA';
const TCB_SIGNING_CN = 'Intel SGX TCB Signing';

export interface SimulatedIntelPki {
  root: KeyPair;
  rootDer: Uint8Array;
  pckCa: KeyPair;
  pckCaDer: Uint8Array;
  tcbSigning: KeyPair;
  tcbSigningDer: Uint8Array;
  /** Trust anchors pinning the simulated root in `intel`, marked `simulated` (pass as `anchors`). */
  anchors: TrustAnchors;
}

export interface PkiSpec {
  notBefore?: Date;
  notAfter?: Date;
  /** TCB Signing certificate validity (to mint an expired signer). */
  tcbSigningNotAfter?: Date;
  pckCaCn?: string;
}

/** Root → PCK Platform CA, root → TCB Signing, as Intel's hierarchy. */
export async function mintIntelPki(spec: PkiSpec = {}): Promise<SimulatedIntelPki> {
  const [root, pckCa, tcbSigning] = await Promise.all([generateKey('P-256'), generateKey('P-256'), generateKey('P-256')]);
  const validity = { notBefore: spec.notBefore ?? new Date('2020-01-01T00:00:00Z'), notAfter: spec.notAfter ?? new Date('2049-12-31T00:00:00Z') };
  const rootDer = await mintCertificate({ subject: ROOT_CN, issuer: ROOT_CN, publicKey: root, signer: root, ca: { pathLen: 1 }, serial: 1, ...validity });
  const pckCaDer = await mintCertificate({ subject: spec.pckCaCn ?? PCK_CA_CN, issuer: ROOT_CN, publicKey: pckCa, signer: root, ca: { pathLen: 0 }, serial: 2, ...validity });
  const tcbSigningDer = await mintCertificate({
    subject: TCB_SIGNING_CN,
    issuer: ROOT_CN,
    publicKey: tcbSigning,
    signer: root,
    serial: 3,
    notBefore: validity.notBefore,
    notAfter: spec.tcbSigningNotAfter ?? validity.notAfter,
  });
  return intelPkiFrom({ root, rootDer, pckCa, pckCaDer, tcbSigning, tcbSigningDer });
}

/** A simulated Intel PKI around existing keys and certificates (minted above, or loaded from a saved one). */
export async function intelPkiFrom(parts: Omit<SimulatedIntelPki, 'anchors'>): Promise<SimulatedIntelPki> {
  const intel = [{ name: 'Simulated Intel SGX Root CA', spkiSha256: await spkiSha256(parseCertificate(parts.rootDer)) }];
  const anchors: TrustAnchors = { amd: {}, intel, nvidiaDevice: [], nvidiaRim: [], simulated: true };
  return { ...parts, anchors };
}

// ---------------------------------------------------------------------------------------------------------
// PCK certificate with the SGX extension.

export interface PckSpec {
  fmspc?: string;
  pceId?: string;
  sgxTcbComponents?: number[];
  pceSvn?: number;
  sgxType?: number;
  ppid?: Uint8Array;
  serial?: number;
  cn?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Omit the SGX extension (or replace its DER). */
  extension?: Uint8Array | null;
}

const A = SGX_EXTENSION_OID;
const entry = (oid: string, value: Uint8Array): Uint8Array => der.seq(der.oid(oid), value);

/** DER of the SGX extension value (PCK profile §1.3.5). */
export function sgxExtensionDer(spec: PckSpec = {}): Uint8Array {
  const comps = spec.sgxTcbComponents ?? defaultSgxComponents();
  return der.seq(
    entry(`${A}.1`, der.octets(spec.ppid ?? new Uint8Array(16).fill(0x11))),
    entry(
      `${A}.2`,
      der.seq(
        ...comps.map((svn, i) => entry(`${A}.2.${i + 1}`, der.int(svn))),
        entry(`${A}.2.17`, der.int(spec.pceSvn ?? 11)),
        entry(`${A}.2.18`, der.octets(Uint8Array.from(comps.map((c) => c & 0xff)))),
      ),
    ),
    entry(`${A}.3`, der.octets(fromHex(spec.pceId ?? '0000'))),
    entry(`${A}.4`, der.octets(fromHex(spec.fmspc ?? DEFAULT_FMSPC))),
    entry(`${A}.5`, der.enumerated(spec.sgxType ?? 1)),
  );
}

export const DEFAULT_FMSPC = '00806f050000';
export function defaultSgxComponents(): number[] {
  return [7, 7, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0];
}

export async function mintPck(pki: SimulatedIntelPki, spec: PckSpec = {}): Promise<{ key: KeyPair; der: Uint8Array }> {
  const key = await generateKey('P-256');
  const ext = spec.extension === undefined ? sgxExtensionDer(spec) : spec.extension;
  const d = await mintCertificate({
    subject: spec.cn ?? 'Intel SGX PCK Certificate',
    issuer: PCK_CA_CN,
    publicKey: key,
    signer: pki.pckCa,
    serial: spec.serial ?? 0x1234,
    notBefore: spec.notBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: spec.notAfter ?? new Date('2049-01-01T00:00:00Z'),
    extensions: ext ? [{ oid: SGX_EXTENSION_OID, value: ext }] : [],
  });
  return { key, der: d };
}

// ---------------------------------------------------------------------------------------------------------
// Quotes.

export interface QeSpec {
  isvSvn?: number;
  isvProdId?: number;
  mrSigner?: Uint8Array;
  attributes?: Uint8Array;
  miscSelect?: number;
}

export interface TdxQuoteSpec {
  version?: 4 | 5;
  /** v5 body type (2 = TD 1.0, 3 = TD 1.5); default 3 for v5. */
  bodyType?: number;
  bodySize?: number;
  teeType?: number;
  attKeyType?: number;
  qeVendorId?: Uint8Array;
  teeTcbSvn?: number[];
  teeTcbSvn2?: number[];
  mrSeam?: Uint8Array;
  mrSignerSeam?: Uint8Array;
  seamAttributes?: Uint8Array;
  /** TDATTRIBUTES as a u64; default SEPT_VE_DISABLE only. */
  tdAttributes?: bigint;
  xfam?: bigint;
  mrTd?: Uint8Array;
  mrConfigId?: Uint8Array;
  mrOwner?: Uint8Array;
  mrOwnerConfig?: Uint8Array;
  rtmrs?: Uint8Array[];
  reportData?: Uint8Array;
  mrServiceTd?: Uint8Array;
  qe?: QeSpec;
  qeAuthData?: Uint8Array;
  pck?: PckSpec;
  /** Replaces the type-5 data (the PEM chain). */
  pckChain?: Uint8Array;
  certDataType?: number;
  innerCertDataType?: number;
  /** Appended after the signature data. */
  trailing?: Uint8Array;
  /** Breaks: the quote signature, the QE report signature, the QE REPORTDATA binding. */
  corruptQuoteSignature?: boolean;
  corruptQeReportSignature?: boolean;
  corruptQeReportData?: boolean;
}

export interface MintedTdxQuote {
  quote: Uint8Array;
  pck: { key: KeyPair; der: Uint8Array };
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
}
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}
function svn16(v: number[]): Uint8Array {
  const b = new Uint8Array(16);
  b.set(v.slice(0, 16));
  return b;
}
const m48 = (v: Uint8Array | undefined, fill = 0): Uint8Array => v ?? new Uint8Array(48).fill(fill);

export const QE_MRSIGNER = fromHex('dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5');
/** TD_QE identity attributes as PCS serves them (tdx.md §3). */
export const QE_ATTRIBUTES = fromHex('11000000000000000000000000000000');

function qeReport(spec: QeSpec, reportData: Uint8Array): Uint8Array {
  const r = new Uint8Array(384);
  r.set(svn16([7, 7, 2, 2, 3, 1, 0, 3]), 0);
  r.set(u32(spec.miscSelect ?? 0), 16);
  r.set(spec.attributes ?? QE_ATTRIBUTES, 48);
  r.set(new Uint8Array(32).fill(0xe5), 64);
  r.set(spec.mrSigner ?? QE_MRSIGNER, 128);
  r.set(u16(spec.isvProdId ?? 2), 256);
  r.set(u16(spec.isvSvn ?? 4), 258);
  r.set(reportData, 320);
  return r;
}

/** Mints a quote signed by a fresh attestation key, certified by a fresh PCK under `pki`. */
export async function mintTdxQuote(pki: SimulatedIntelPki, spec: TdxQuoteSpec = {}): Promise<MintedTdxQuote> {
  const version = spec.version ?? 4;
  const bodyType = spec.bodyType ?? (version === 5 ? 3 : 2);
  const is15 = bodyType === 3;
  const header = concat(
    u16(version),
    u16(spec.attKeyType ?? 2),
    u32(spec.teeType ?? 0x81),
    u16(0),
    u16(0),
    spec.qeVendorId ?? INTEL_QE_VENDOR_ID,
    new Uint8Array(20),
  );
  const rtmrs = spec.rtmrs ?? [0, 1, 2, 3].map(() => new Uint8Array(48));
  const body = concat(
    svn16(spec.teeTcbSvn ?? [4, 1, 7]),
    m48(spec.mrSeam, 0x5e),
    m48(spec.mrSignerSeam),
    spec.seamAttributes ?? new Uint8Array(8),
    u64(spec.tdAttributes ?? 1n << 28n),
    u64(spec.xfam ?? 0x600e7n),
    m48(spec.mrTd, 0xd0),
    m48(spec.mrConfigId),
    m48(spec.mrOwner),
    m48(spec.mrOwnerConfig),
    ...rtmrs,
    spec.reportData ?? new Uint8Array(64),
    ...(is15 ? [svn16(spec.teeTcbSvn2 ?? spec.teeTcbSvn ?? [4, 1, 7]), m48(spec.mrServiceTd)] : []),
  );
  const signed = version === 5 ? concat(header, u16(bodyType), u32(spec.bodySize ?? body.length), body) : concat(header, body);

  const att = (await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const attPub = new Uint8Array(await subtle().exportKey('raw', att.publicKey)).subarray(1);
  const attKey: KeyPair = { kind: 'P-256', privateKey: att.privateKey, publicKey: att.publicKey, spki: new Uint8Array(0) };
  const quoteSig = await sign(attKey, 'ecdsa-sha256', signed, true);
  if (spec.corruptQuoteSignature) quoteSig[5]! ^= 1;

  const pck = await mintPck(pki, spec.pck);
  const auth = spec.qeAuthData ?? new Uint8Array(32).map((_, i) => i);
  const binding = concat(await sha256(concat(attPub, auth)), new Uint8Array(32));
  if (spec.corruptQeReportData) binding[0]! ^= 1;
  const report = qeReport(spec.qe ?? {}, binding);
  const qeSig = await sign(pck.key, 'ecdsa-sha256', report, true);
  if (spec.corruptQeReportSignature) qeSig[5]! ^= 1;

  const chain = spec.pckChain ?? concat(utf8(toPem([pck.der, pki.pckCaDer, pki.rootDer])), Uint8Array.of(0));
  const inner = concat(u16(spec.innerCertDataType ?? 5), u32(chain.length), chain);
  const certData = concat(report, qeSig, u16(auth.length), auth, inner);
  const sigData = concat(quoteSig, attPub, u16(spec.certDataType ?? 6), u32(certData.length), certData);
  const quote = concat(signed, u32(sigData.length), sigData, spec.trailing ?? new Uint8Array(0));
  return { quote, pck };
}

// ---------------------------------------------------------------------------------------------------------
// Collateral.

export interface TcbLevelSpec {
  sgx?: number[];
  pceSvn?: number;
  tdx?: number[];
  status: string;
  date?: string;
  advisoryIds?: string[];
}

export interface IdentityLevelSpec {
  isvSvn: number;
  status: string;
  date?: string;
  advisoryIds?: string[];
}

export interface TcbInfoSpec {
  id?: string;
  version?: number;
  fmspc?: string;
  pceId?: string;
  issueDate?: Date;
  nextUpdate?: Date;
  tcbEvaluationDataNumber?: number;
  tdxModule?: { mrSigner?: Uint8Array; attributes?: Uint8Array } | null;
  /** `TDX_xx` identities; default TDX_01 with isvsvn 4 UpToDate and 2 OutOfDate. */
  tdxModuleIdentities?: { id: string; mrSigner?: Uint8Array; attributes?: Uint8Array; levels: IdentityLevelSpec[] }[] | null;
  levels?: TcbLevelSpec[];
  /** Signs something else (to break the signature). */
  corruptSignature?: boolean;
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function identityLevelsJson(levels: IdentityLevelSpec[]): unknown[] {
  return levels.map((l) => ({
    tcb: { isvsvn: l.isvSvn },
    tcbDate: l.date ?? '2024-03-13T00:00:00Z',
    tcbStatus: l.status,
    ...(l.advisoryIds ? { advisoryIDs: l.advisoryIds } : {}),
  }));
}

export const DEFAULT_ISSUE_DATE = new Date('2025-07-01T00:00:00Z');
export const DEFAULT_NEXT_UPDATE = new Date('2025-07-31T00:00:00Z');
/** A time inside the default collateral window. */
export const SIMULATED_NOW = new Date('2025-07-15T00:00:00Z');

export function defaultTcbLevels(): TcbLevelSpec[] {
  return [
    { sgx: defaultSgxComponents(), pceSvn: 11, tdx: [5, 0, 7], status: 'UpToDate', date: '2024-03-13T00:00:00Z' },
    { sgx: [6, 6, 2, 2, 3, 1, 0, 3], pceSvn: 11, tdx: [3, 0, 6], status: 'OutOfDate', date: '2023-08-09T00:00:00Z', advisoryIds: ['INTEL-SA-00960', 'INTEL-SA-00982'] },
  ];
}

export function tcbInfoJson(spec: TcbInfoSpec = {}): Record<string, unknown> {
  const comps = (v: number[] | undefined): { svn: number }[] => Array.from({ length: 16 }, (_, i) => ({ svn: v?.[i] ?? 0 }));
  const o: Record<string, unknown> = {
    id: spec.id ?? 'TDX',
    version: spec.version ?? 3,
    issueDate: iso(spec.issueDate ?? DEFAULT_ISSUE_DATE),
    nextUpdate: iso(spec.nextUpdate ?? DEFAULT_NEXT_UPDATE),
    fmspc: spec.fmspc ?? DEFAULT_FMSPC,
    pceId: spec.pceId ?? '0000',
    tcbType: 0,
    tcbEvaluationDataNumber: spec.tcbEvaluationDataNumber ?? 17,
  };
  if (spec.tdxModule !== null) {
    o['tdxModule'] = {
      mrsigner: toHex(spec.tdxModule?.mrSigner ?? new Uint8Array(48)).toUpperCase(),
      attributes: toHex(spec.tdxModule?.attributes ?? new Uint8Array(8)),
      attributesMask: 'FFFFFFFFFFFFFFFF',
    };
  }
  const ids = spec.tdxModuleIdentities === undefined ? [{ id: 'TDX_01', levels: [{ isvSvn: 4, status: 'UpToDate' }, { isvSvn: 2, status: 'OutOfDate', date: '2023-08-09T00:00:00Z' }] }] : spec.tdxModuleIdentities;
  if (ids !== null) {
    o['tdxModuleIdentities'] = ids.map((m) => ({
      id: m.id,
      mrsigner: toHex(m.mrSigner ?? new Uint8Array(48)),
      attributes: toHex(m.attributes ?? new Uint8Array(8)),
      attributesMask: 'FFFFFFFFFFFFFFFF',
      tcbLevels: identityLevelsJson(m.levels),
    }));
  }
  o['tcbLevels'] = (spec.levels ?? defaultTcbLevels()).map((l) => ({
    tcb: { sgxtcbcomponents: comps(l.sgx), pcesvn: l.pceSvn ?? 11, tdxtcbcomponents: comps(l.tdx) },
    tcbDate: l.date ?? '2024-03-13T00:00:00Z',
    tcbStatus: l.status,
    ...(l.advisoryIds ? { advisoryIDs: l.advisoryIds } : {}),
  }));
  return o;
}

/** `{"<member>":<json>,"signature":"<r‖s hex>"}` with the signature over the member's exact bytes. */
async function signedBody(pki: SimulatedIntelPki, member: string, json: unknown, corrupt?: boolean): Promise<Uint8Array> {
  const raw = JSON.stringify(json);
  const sig = await sign(pki.tcbSigning, 'ecdsa-sha256', utf8(corrupt ? raw + ' ' : raw), true);
  return utf8(`{"${member}":${raw},"signature":"${toHex(sig)}"}`);
}

export async function mintTcbInfo(pki: SimulatedIntelPki, spec: TcbInfoSpec = {}): Promise<Uint8Array> {
  return signedBody(pki, 'tcbInfo', tcbInfoJson(spec), spec.corruptSignature);
}

export interface QeIdentitySpec {
  id?: string;
  version?: number;
  issueDate?: Date;
  nextUpdate?: Date;
  mrSigner?: Uint8Array;
  isvProdId?: number;
  tcbEvaluationDataNumber?: number;
  levels?: IdentityLevelSpec[];
  corruptSignature?: boolean;
}

export async function mintQeIdentity(pki: SimulatedIntelPki, spec: QeIdentitySpec = {}): Promise<Uint8Array> {
  const json = {
    id: spec.id ?? 'TD_QE',
    version: spec.version ?? 2,
    issueDate: iso(spec.issueDate ?? DEFAULT_ISSUE_DATE),
    nextUpdate: iso(spec.nextUpdate ?? DEFAULT_NEXT_UPDATE),
    tcbEvaluationDataNumber: spec.tcbEvaluationDataNumber ?? 17,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: toHex(QE_ATTRIBUTES).toUpperCase(),
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: toHex(spec.mrSigner ?? QE_MRSIGNER).toUpperCase(),
    isvprodid: spec.isvProdId ?? 2,
    tcbLevels: identityLevelsJson(spec.levels ?? [{ isvSvn: 4, status: 'UpToDate' }]),
  };
  return signedBody(pki, 'enclaveIdentity', json, spec.corruptSignature);
}

export interface TdxCollateralSpec {
  tcbInfo?: TcbInfoSpec;
  qeIdentity?: QeIdentitySpec;
  /** Serials on the PCK CRL (the default PCK serial is 0x1234). */
  revokedPck?: number[];
  /** Serials on the Root CA CRL (PCK CA = 2, TCB Signing = 3). */
  revokedCa?: number[];
  crlThisUpdate?: Date;
  crlNextUpdate?: Date;
  /** Signs the PCK CRL with this CA name instead (issuer mismatch). */
  pckCrlIssuerCn?: string;
}

export async function mintTdxCollateral(pki: SimulatedIntelPki, spec: TdxCollateralSpec = {}): Promise<TdxCollateral> {
  const thisUpdate = spec.crlThisUpdate ?? new Date('2025-06-01T00:00:00Z');
  const nextUpdate = spec.crlNextUpdate ?? new Date('2026-06-01T00:00:00Z');
  const signingChain = utf8(toPem([pki.tcbSigningDer, pki.rootDer]));
  const [tcbInfo, qeIdentity, pckCrl, rootCaCrl] = await Promise.all([
    mintTcbInfo(pki, spec.tcbInfo),
    mintQeIdentity(pki, spec.qeIdentity),
    mintCrl({ issuer: spec.pckCrlIssuerCn ?? PCK_CA_CN, signer: pki.pckCa, thisUpdate, nextUpdate, revoked: (spec.revokedPck ?? []).map((serial) => ({ serial })) }),
    mintCrl({ issuer: ROOT_CN, signer: pki.root, thisUpdate, nextUpdate, revoked: (spec.revokedCa ?? []).map((serial) => ({ serial })) }),
  ]);
  return {
    tcbInfo,
    tcbInfoIssuerChain: signingChain,
    qeIdentity,
    qeIdentityIssuerChain: signingChain,
    pckCrl,
    pckCrlIssuerChain: utf8(toPem([pki.pckCaDer, pki.rootDer])),
    rootCaCrl,
  };
}

/** One call: a PKI, a quote and matching collateral, valid at {@link SIMULATED_NOW}. */
export async function simulateTdx(spec: { quote?: TdxQuoteSpec; collateral?: TdxCollateralSpec; pki?: SimulatedIntelPki } = {}): Promise<{
  pki: SimulatedIntelPki;
  quote: Uint8Array;
  collateral: TdxCollateral;
  anchors: TrustAnchors;
  now: Date;
}> {
  const pki = spec.pki ?? (await mintIntelPki());
  const [{ quote }, collateral] = await Promise.all([mintTdxQuote(pki, spec.quote), mintTdxCollateral(pki, spec.collateral)]);
  return { pki, quote, collateral, anchors: pki.anchors, now: SIMULATED_NOW };
}
