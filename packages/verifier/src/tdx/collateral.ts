/**
 * Intel PCS v4 collateral for TDX: URL builders, response parsers, and the typed TCB Info (v3) and QE Identity
 * (v2) documents. No fetching here (see fetch.ts) and no trust decisions (see verify.ts).
 *
 * The signature over a TCB Info / QE Identity covers the exact bytes of the `tcbInfo` / `enclaveIdentity`
 * member value as served (Intel PCS API v4, "TDX TCB Info" / "Enclave Identity": "signature calculated over
 * tcbInfo body"). So the member is located in the body bytes by a small JSON scanner and never re-serialized;
 * the typed view is parsed from those same bytes.
 */
import { ParseError, fromBase64, fromHex, fromUtf8, toHex, utf8 } from '@ccinfer/core';

export const PCS_BASE = 'https://api.trustedservices.intel.com';
export const ROOT_CA_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

export type UpdateType = 'standard' | 'early';

/** `GET /tdx/certification/v4/tcb?fmspc=` (issuer chain in `TCB-Info-Issuer-Chain`). */
export function tcbInfoUrl(fmspc: string, opts: { update?: UpdateType; base?: string } = {}): string {
  if (!/^[0-9a-fA-F]{12}$/.test(fmspc)) throw new ParseError('ERR_TDX_COLLATERAL_MALFORMED', `FMSPC ${fmspc} is not 6 bytes of hex`);
  const u = `${opts.base ?? PCS_BASE}/tdx/certification/v4/tcb?fmspc=${fmspc.toLowerCase()}`;
  return opts.update ? `${u}&update=${opts.update}` : u;
}

/** `GET /tdx/certification/v4/qe/identity` (issuer chain in `SGX-Enclave-Identity-Issuer-Chain`). */
export function qeIdentityUrl(opts: { update?: UpdateType; base?: string } = {}): string {
  const u = `${opts.base ?? PCS_BASE}/tdx/certification/v4/qe/identity`;
  return opts.update ? `${u}?update=${opts.update}` : u;
}

/** `GET /sgx/certification/v4/pckcrl?ca=…&encoding=der` (issuer chain in `SGX-PCK-CRL-Issuer-Chain`). */
export function pckCrlUrl(ca: 'platform' | 'processor', opts: { base?: string } = {}): string {
  return `${opts.base ?? PCS_BASE}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`;
}

export const ISSUER_CHAIN_HEADERS = {
  tcbInfo: ['TCB-Info-Issuer-Chain', 'SGX-TCB-Info-Issuer-Chain'],
  qeIdentity: ['SGX-Enclave-Identity-Issuer-Chain'],
  pckCrl: ['SGX-PCK-CRL-Issuer-Chain'],
} as const;

/** PCS issuer-chain header value: URL-encoded PEM, leaf first (PCS API v4 response headers). */
export function decodeIssuerChainHeader(value: string | null | undefined): Uint8Array {
  if (!value) throw new ParseError('ERR_TDX_COLLATERAL_MALFORMED', 'issuer chain header missing');
  let pem: string;
  try {
    pem = decodeURIComponent(value);
  } catch (cause) {
    throw new ParseError('ERR_TDX_COLLATERAL_MALFORMED', 'issuer chain header is not URL-encoded text', { cause });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ParseError('ERR_TDX_COLLATERAL_MALFORMED', 'issuer chain header holds no PEM certificate');
  return utf8(pem);
}

/** The PCS collateral for one TDX quote, as raw bytes exactly as served (verified by verify.ts). */
export interface TdxCollateral {
  /** Body of the TCB Info response: `{"tcbInfo":{…},"signature":"…"}`. */
  tcbInfo: Uint8Array;
  /** TCB Signing certificate + Root CA (PEM or DER concatenation). */
  tcbInfoIssuerChain: Uint8Array;
  /** Body of the QE Identity response: `{"enclaveIdentity":{…},"signature":"…"}`. */
  qeIdentity: Uint8Array;
  qeIdentityIssuerChain: Uint8Array;
  /** PCK CRL: DER, PEM or hex (as PCCS serves it). */
  pckCrl: Uint8Array;
  /** PCK Platform/Processor CA + Root CA. Optional: the quote's own chain carries the same CA. */
  pckCrlIssuerChain?: Uint8Array;
  /** Intel SGX Root CA CRL: DER, PEM or hex. */
  rootCaCrl: Uint8Array;
}

/**
 * Collateral in dcap-qvl's `QuoteCollateralV3` JSON (raw `tcb_info` / `qe_identity` member strings with
 * separate hex signatures, PEM issuer chains, hex CRLs; tdx.md §9.6) → the PCS shape. The member strings are
 * kept byte for byte, so Intel's signatures still cover exactly them.
 */
export function collateralFromDcapQvl(json: unknown): TdxCollateral {
  if (typeof json !== 'object' || json === null) malformed('QuoteCollateralV3 is not an object');
  const o = json as Record<string, unknown>;
  const s = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string') malformed(`QuoteCollateralV3.${k} is not a string`);
    return v;
  };
  const sig = (k: string): string => {
    const v = s(k);
    if (!/^[0-9a-fA-F]{128}$/.test(v)) malformed(`QuoteCollateralV3.${k} is not 64 bytes of hex`);
    return v;
  };
  return {
    tcbInfo: utf8(`{"tcbInfo":${s('tcb_info')},"signature":"${sig('tcb_info_signature')}"}`),
    tcbInfoIssuerChain: utf8(s('tcb_info_issuer_chain')),
    qeIdentity: utf8(`{"enclaveIdentity":${s('qe_identity')},"signature":"${sig('qe_identity_signature')}"}`),
    qeIdentityIssuerChain: utf8(s('qe_identity_issuer_chain')),
    pckCrl: fromHex(s('pck_crl'), MAL),
    pckCrlIssuerChain: utf8(s('pck_crl_issuer_chain')),
    rootCaCrl: fromHex(s('root_ca_crl'), MAL),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Locating a member's raw bytes.

const MAL = 'ERR_TDX_COLLATERAL_MALFORMED';

function malformed(msg: string, offset?: number): never {
  throw new ParseError(MAL, msg, offset === undefined ? {} : { offset });
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(b: Uint8Array, p: number): number {
  while (p < b.length && WS.has(b[p]!)) p++;
  return p;
}

/** End (exclusive) of the JSON string starting at `p` (which is a `"`). */
function stringEnd(b: Uint8Array, p: number): number {
  for (let i = p + 1; i < b.length; i++) {
    if (b[i] === 0x5c) i++;
    else if (b[i] === 0x22) return i + 1;
  }
  return malformed('unterminated JSON string', p);
}

/** End (exclusive) of the JSON value starting at `p`; structure only, JSON.parse validates the rest. */
function valueEnd(b: Uint8Array, p: number): number {
  if (b[p] === 0x22) return stringEnd(b, p);
  if (b[p] === 0x7b || b[p] === 0x5b) {
    let depth = 0;
    for (let i = p; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0x22) i = stringEnd(b, i) - 1;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) return i + 1;
      }
    }
    return malformed('unbalanced JSON value', p);
  }
  let i = p;
  while (i < b.length && !WS.has(b[i]!) && b[i] !== 0x2c && b[i] !== 0x7d) i++;
  if (i === p) malformed('missing JSON value', p);
  return i;
}

/**
 * Top-level members of a JSON object body as raw byte ranges. Duplicate keys are rejected: a verifier that
 * takes the first and a parser that takes the last would otherwise disagree about what was signed.
 */
export function topLevelMembers(body: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let p = skipWs(body, 0);
  if (body[p] !== 0x7b) malformed('collateral body is not a JSON object', p);
  p = skipWs(body, p + 1);
  if (body[p] === 0x7d) return out;
  for (;;) {
    if (body[p] !== 0x22) malformed('expected a member name', p);
    const ke = stringEnd(body, p);
    const key = parseJson(body.subarray(p, ke), 'member name') as string;
    p = skipWs(body, ke);
    if (body[p] !== 0x3a) malformed('expected ":"', p);
    p = skipWs(body, p + 1);
    const ve = valueEnd(body, p);
    if (out.has(key)) malformed(`duplicate member "${key}"`, p);
    out.set(key, body.subarray(p, ve));
    p = skipWs(body, ve);
    if (body[p] === 0x2c) {
      p = skipWs(body, p + 1);
      continue;
    }
    if (body[p] === 0x7d) break;
    malformed('expected "," or "}"', p);
  }
  if (skipWs(body, p + 1) !== body.length) malformed('bytes after the JSON object', p + 1);
  return out;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(fromUtf8(bytes, MAL));
  } catch (cause) {
    if (cause instanceof ParseError) throw cause;
    throw new ParseError(MAL, `${what} is not valid JSON`, { cause });
  }
}

/** A signed PCS document: the exact signed bytes, the signature (r‖s) and the parsed member. */
export interface Signed<T> {
  signedBytes: Uint8Array;
  signature: Uint8Array;
  value: T;
}

function signedMember(body: Uint8Array, member: string): { signedBytes: Uint8Array; signature: Uint8Array; json: unknown } {
  const members = topLevelMembers(body);
  const signedBytes = members.get(member);
  if (!signedBytes) malformed(`collateral body has no "${member}" member`);
  const sigRaw = members.get('signature');
  if (!sigRaw) malformed('collateral body has no "signature" member');
  const sigText = parseJson(sigRaw, 'signature');
  if (typeof sigText !== 'string' || !/^[0-9a-fA-F]{128}$/.test(sigText)) malformed('signature is not 64 bytes of hex (r‖s)');
  return { signedBytes, signature: fromHex(sigText), json: parseJson(signedBytes, member) };
}

// ---------------------------------------------------------------------------------------------------------
// Typed documents (Intel PCS API v4: "TDX TCB Info" v3, "Enclave Identity" v2).

export type TcbLevelStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked';
export type IdentityLevelStatus = 'UpToDate' | 'OutOfDate' | 'Revoked';

const LEVEL_STATUSES: readonly TcbLevelStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
];
const IDENTITY_STATUSES: readonly IdentityLevelStatus[] = ['UpToDate', 'OutOfDate', 'Revoked'];

export interface TcbLevel {
  sgxTcbComponents: number[];
  pceSvn: number;
  tdxTcbComponents: number[];
  tcbDate: string;
  tcbStatus: TcbLevelStatus;
  advisoryIds: string[];
}

export interface IdentityLevel {
  isvSvn: number;
  tcbDate: string;
  tcbStatus: IdentityLevelStatus;
  advisoryIds: string[];
}

export interface TdxModuleIdentity {
  id: string;
  mrSigner: Uint8Array;
  attributes: Uint8Array;
  attributesMask: Uint8Array;
  tcbLevels: IdentityLevel[];
}

export interface TcbInfo {
  id: string;
  version: number;
  issueDate: Date;
  nextUpdate: Date;
  /** Lowercase hex. */
  fmspc: string;
  pceId: string;
  tcbType: number;
  tcbEvaluationDataNumber: number;
  tdxModule: { mrSigner: Uint8Array; attributes: Uint8Array; attributesMask: Uint8Array } | undefined;
  tdxModuleIdentities: TdxModuleIdentity[] | undefined;
  tcbLevels: TcbLevel[];
}

export interface QeIdentity {
  id: string;
  version: number;
  issueDate: Date;
  nextUpdate: Date;
  tcbEvaluationDataNumber: number;
  miscSelect: Uint8Array;
  miscSelectMask: Uint8Array;
  attributes: Uint8Array;
  attributesMask: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  tcbLevels: IdentityLevel[];
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) malformed(`${what} is not an object`);
  return v as Obj;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) malformed(`${what} is not an array`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') malformed(`${what} is not a string`);
  return v;
}
function uint(v: unknown, what: string, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) malformed(`${what} is not an integer in 0..${max}`);
  return v;
}
function hexBytes(v: unknown, what: string, len: number): Uint8Array {
  const s = str(v, what);
  if (s.length !== len * 2) malformed(`${what} is not ${len} bytes of hex`);
  return fromHex(s, MAL);
}
function date(v: unknown, what: string): Date {
  const s = str(v, what);
  // ISO 8601 UTC as PCS serves it ("2025-07-07T09:06:43Z"); anything else is refused, not guessed.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s)) malformed(`${what} is not an ISO 8601 UTC time`);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) malformed(`${what} is not a valid time`);
  return d;
}
function status<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  const s = str(v, what);
  if (!(allowed as readonly string[]).includes(s)) malformed(`${what} "${s}" is not a known status`);
  return s as T;
}
function advisories(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  return arr(v, what).map((a, i) => str(a, `${what}[${i}]`));
}
function components(v: unknown, what: string): number[] {
  const a = arr(v, what);
  if (a.length !== 16) malformed(`${what} has ${a.length} entries, expected 16`);
  return a.map((c, i) => uint(obj(c, `${what}[${i}]`)['svn'], `${what}[${i}].svn`, 255));
}

function identityLevels(v: unknown, what: string): IdentityLevel[] {
  return arr(v, what).map((l, i) => {
    const o = obj(l, `${what}[${i}]`);
    return {
      isvSvn: uint(obj(o['tcb'], `${what}[${i}].tcb`)['isvsvn'], `${what}[${i}].tcb.isvsvn`, 0xffff),
      tcbDate: str(o['tcbDate'], `${what}[${i}].tcbDate`),
      tcbStatus: status(o['tcbStatus'], IDENTITY_STATUSES, `${what}[${i}].tcbStatus`),
      advisoryIds: advisories(o['advisoryIDs'], `${what}[${i}].advisoryIDs`),
    };
  });
}

/** Typed TCB Info from the `tcbInfo` member JSON. Version/id acceptance is a verify.ts decision. */
export function parseTcbInfoJson(json: unknown): TcbInfo {
  const o = obj(json, 'tcbInfo');
  const tm = o['tdxModule'] === undefined ? undefined : obj(o['tdxModule'], 'tdxModule');
  const ids = o['tdxModuleIdentities'];
  return {
    id: str(o['id'], 'tcbInfo.id'),
    version: uint(o['version'], 'tcbInfo.version'),
    issueDate: date(o['issueDate'], 'tcbInfo.issueDate'),
    nextUpdate: date(o['nextUpdate'], 'tcbInfo.nextUpdate'),
    fmspc: toHex(hexBytes(o['fmspc'], 'tcbInfo.fmspc', 6)),
    pceId: toHex(hexBytes(o['pceId'], 'tcbInfo.pceId', 2)),
    tcbType: uint(o['tcbType'], 'tcbInfo.tcbType'),
    tcbEvaluationDataNumber: uint(o['tcbEvaluationDataNumber'], 'tcbInfo.tcbEvaluationDataNumber'),
    tdxModule: tm && {
      mrSigner: hexBytes(tm['mrsigner'], 'tdxModule.mrsigner', 48),
      attributes: hexBytes(tm['attributes'], 'tdxModule.attributes', 8),
      attributesMask: hexBytes(tm['attributesMask'], 'tdxModule.attributesMask', 8),
    },
    tdxModuleIdentities:
      ids === undefined
        ? undefined
        : arr(ids, 'tdxModuleIdentities').map((m, i) => {
            const w = `tdxModuleIdentities[${i}]`;
            const mo = obj(m, w);
            return {
              id: str(mo['id'], `${w}.id`),
              mrSigner: hexBytes(mo['mrsigner'], `${w}.mrsigner`, 48),
              attributes: hexBytes(mo['attributes'], `${w}.attributes`, 8),
              attributesMask: hexBytes(mo['attributesMask'], `${w}.attributesMask`, 8),
              tcbLevels: identityLevels(mo['tcbLevels'], `${w}.tcbLevels`),
            };
          }),
    tcbLevels: arr(o['tcbLevels'], 'tcbInfo.tcbLevels').map((l, i) => {
      const w = `tcbLevels[${i}]`;
      const lo = obj(l, w);
      const tcb = obj(lo['tcb'], `${w}.tcb`);
      return {
        sgxTcbComponents: components(tcb['sgxtcbcomponents'], `${w}.tcb.sgxtcbcomponents`),
        pceSvn: uint(tcb['pcesvn'], `${w}.tcb.pcesvn`, 0xffff),
        tdxTcbComponents: components(tcb['tdxtcbcomponents'], `${w}.tcb.tdxtcbcomponents`),
        tcbDate: str(lo['tcbDate'], `${w}.tcbDate`),
        tcbStatus: status(lo['tcbStatus'], LEVEL_STATUSES, `${w}.tcbStatus`),
        advisoryIds: advisories(lo['advisoryIDs'], `${w}.advisoryIDs`),
      };
    }),
  };
}

export function parseQeIdentityJson(json: unknown): QeIdentity {
  const o = obj(json, 'enclaveIdentity');
  return {
    id: str(o['id'], 'enclaveIdentity.id'),
    version: uint(o['version'], 'enclaveIdentity.version'),
    issueDate: date(o['issueDate'], 'enclaveIdentity.issueDate'),
    nextUpdate: date(o['nextUpdate'], 'enclaveIdentity.nextUpdate'),
    tcbEvaluationDataNumber: uint(o['tcbEvaluationDataNumber'], 'enclaveIdentity.tcbEvaluationDataNumber'),
    miscSelect: hexBytes(o['miscselect'], 'miscselect', 4),
    miscSelectMask: hexBytes(o['miscselectMask'], 'miscselectMask', 4),
    attributes: hexBytes(o['attributes'], 'attributes', 16),
    attributesMask: hexBytes(o['attributesMask'], 'attributesMask', 16),
    mrSigner: hexBytes(o['mrsigner'], 'mrsigner', 32),
    isvProdId: uint(o['isvprodid'], 'isvprodid', 0xffff),
    tcbLevels: identityLevels(o['tcbLevels'], 'enclaveIdentity.tcbLevels'),
  };
}

/** PCS TCB Info response body → signed bytes, signature and typed TCB Info. */
export function parseTcbInfoResponse(body: Uint8Array): Signed<TcbInfo> {
  const m = signedMember(body, 'tcbInfo');
  return { signedBytes: m.signedBytes, signature: m.signature, value: parseTcbInfoJson(m.json) };
}

/** PCS QE Identity response body → signed bytes, signature and typed identity. */
export function parseQeIdentityResponse(body: Uint8Array): Signed<QeIdentity> {
  const m = signedMember(body, 'enclaveIdentity');
  return { signedBytes: m.signedBytes, signature: m.signature, value: parseQeIdentityJson(m.json) };
}

/**
 * CRL bytes as PCS/PCCS serve them: DER, PEM (`-----BEGIN X509 CRL-----`), or hex text (PCCS `rootcacrl`).
 * Returns DER.
 */
export function normalizeCrl(bytes: Uint8Array): Uint8Array {
  if (bytes[0] === 0x30) return bytes;
  const text = fromUtf8(bytes, MAL).trim();
  const pem = text.match(/-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/);
  if (pem) {
    return fromBase64(pem[1]!, MAL);
  }
  if (/^[0-9a-fA-F]+$/.test(text)) return fromHex(text, MAL);
  return malformed('CRL is neither DER, PEM nor hex');
}
