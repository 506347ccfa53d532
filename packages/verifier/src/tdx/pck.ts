/**
 * The Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1; Intel "SGX PCK Certificate and
 * Certificate Revocation List Profile Specification" §1.3.5). It carries the platform's TCB as certified by
 * Intel: the 16 SGX TCB component SVNs, PCESVN and CPUSVN, plus FMSPC (which selects the TCB Info) and PCE-ID.
 * Parsed with the strict DER reader; unknown entries are ignored (the profile adds them over time), known ones
 * must have their defined types, and required ones must be present exactly once.
 */
import { ParseError, toHex } from '@ccinfer/core';
import { Tag, decodeDer, readBoolean, readOctets, readOid, readSmallInt, sequence, type DerNode } from '@ccinfer/core/internal';
import type { Certificate } from '../x509/certificate.js';

export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1';
const ARC = SGX_EXTENSION_OID;

export type SgxType = 'Standard' | 'Scalable' | 'ScalableWithIntegrity';

export interface SgxExtension {
  ppid: Uint8Array;
  /** SGX TCB COMP01..16 SVN, compared as plain integers (values up to 255 occur). */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn: Uint8Array;
  /** Lowercase hex, 4 characters. */
  pceId: string;
  /** Lowercase hex, 12 characters. */
  fmspc: string;
  sgxType: SgxType;
  platformInstanceId?: Uint8Array;
  configuration?: { dynamicPlatform?: boolean; cachedKeys?: boolean; smtEnabled?: boolean };
}

const E = 'ERR_TDX_PCK_EXTENSION';

function bad(msg: string, node?: DerNode): never {
  throw new ParseError(E, `SGX extension: ${msg}`, node ? { offset: node.offset } : {});
}

/** (OID, value) pairs of a SEQUENCE OF SEQUENCE { OID, ANY }, keyed by OID; duplicates rejected. */
function entries(node: DerNode, what: string): Map<string, DerNode> {
  const out = new Map<string, DerNode>();
  for (const item of sequence(node, what)) {
    const parts = sequence(item, `${what} entry`);
    if (parts.length !== 2) bad(`${what} entry has ${parts.length} elements`, item);
    const oid = readOid(parts[0], `${what} entry OID`);
    if (out.has(oid)) bad(`duplicate ${oid}`, item);
    out.set(oid, parts[1]!);
  }
  return out;
}

function need(m: Map<string, DerNode>, oid: string, what: string): DerNode {
  const n = m.get(oid);
  if (!n) bad(`${what} (${oid}) missing`);
  return n;
}

function octets(n: DerNode, len: number, what: string): Uint8Array {
  const v = readOctets(n, what);
  if (v.length !== len) bad(`${what} is ${v.length} bytes, expected ${len}`, n);
  return v;
}

/** Parses the extension value (the DER inside extnValue). */
export function parseSgxExtension(value: Uint8Array): SgxExtension {
  try {
    const top = entries(decodeDer(value), 'SGX Extensions');
    const tcb = entries(need(top, `${ARC}.2`, 'TCB'), 'TCB');
    const sgxTcbComponents: number[] = [];
    for (let i = 1; i <= 16; i++) {
      const svn = readSmallInt(need(tcb, `${ARC}.2.${i}`, `SGX TCB COMP${i} SVN`), `COMP${i} SVN`);
      if (svn > 255) bad(`COMP${i} SVN ${svn} out of range`);
      sgxTcbComponents.push(svn);
    }
    const pceSvn = readSmallInt(need(tcb, `${ARC}.2.17`, 'PCESVN'), 'PCESVN');
    if (pceSvn > 0xffff) bad(`PCESVN ${pceSvn} out of range`);
    const cpuSvn = octets(need(tcb, `${ARC}.2.18`, 'CPUSVN'), 16, 'CPUSVN');
    const typeNode = need(top, `${ARC}.5`, 'SGX Type');
    const t = readSmallInt(typeNode, 'SGX Type', Tag.Enumerated);
    const sgxType: SgxType | undefined = (['Standard', 'Scalable', 'ScalableWithIntegrity'] as const)[t];
    if (!sgxType) bad(`SGX Type ${t} unknown`, typeNode);
    const ext: SgxExtension = {
      ppid: octets(need(top, `${ARC}.1`, 'PPID'), 16, 'PPID'),
      sgxTcbComponents,
      pceSvn,
      cpuSvn,
      pceId: toHex(octets(need(top, `${ARC}.3`, 'PCE-ID'), 2, 'PCE-ID')),
      fmspc: toHex(octets(need(top, `${ARC}.4`, 'FMSPC'), 6, 'FMSPC')),
      sgxType,
    };
    const pii = top.get(`${ARC}.6`);
    if (pii) ext.platformInstanceId = octets(pii, 16, 'PlatformInstanceID');
    const conf = top.get(`${ARC}.7`);
    if (conf) {
      const c = entries(conf, 'Configuration');
      const flag = (i: number): boolean | undefined => {
        const n = c.get(`${ARC}.7.${i}`);
        return n ? readBoolean(n, `Configuration.${i}`) : undefined;
      };
      const configuration: NonNullable<SgxExtension['configuration']> = {};
      const d = flag(1);
      const k = flag(2);
      const s = flag(3);
      if (d !== undefined) configuration.dynamicPlatform = d;
      if (k !== undefined) configuration.cachedKeys = k;
      if (s !== undefined) configuration.smtEnabled = s;
      ext.configuration = configuration;
    }
    return ext;
  } catch (err) {
    if (err instanceof ParseError && err.code === E) throw err;
    throw new ParseError(E, 'SGX extension is not well-formed DER of the expected shape', { cause: err });
  }
}

/** The SGX extension of a PCK leaf; absent → ERR_TDX_PCK_EXTENSION. */
export function pckExtension(leaf: Certificate): SgxExtension {
  const ext = leaf.extension(SGX_EXTENSION_OID);
  if (!ext) throw new ParseError(E, `certificate ${leaf.subject.cn ?? ''} has no SGX extension`);
  return parseSgxExtension(ext.value);
}

/** Which PCS PCK CRL applies: the leaf's issuer CN names the CA (tdx.md §2). */
export function pckCaType(leaf: Certificate): 'platform' | 'processor' | undefined {
  const cn = leaf.issuer.cn ?? '';
  if (cn.includes('Platform')) return 'platform';
  if (cn.includes('Processor')) return 'processor';
  return undefined;
}
