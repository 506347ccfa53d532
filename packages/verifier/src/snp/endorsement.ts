/**
 * The AMD endorsement-key leaf (VCEK or VLEK) and its extensions (AMD "Versioned Chip Endorsement Key"
 * spec #57230, Table 8; OID arc 1.3.6.1.4.1.3704.1). Each extnValue holds a DER INTEGER or IA5String, except
 * hwID, which is the raw chip id without an inner tag.
 */
import { Tag, decodeDer, parseFail, readSmallInt } from '@ccinfer/core/internal';
import { stringExtension, type Certificate } from '../x509/index.js';
import type { SigningKey, SnpProductLine } from './parse.js';

const ARC = '1.3.6.1.4.1.3704.1';
export const AMD_OID = {
  structVersion: `${ARC}.1`,
  productName: `${ARC}.2`,
  blSpl: `${ARC}.3.1`,
  teeSpl: `${ARC}.3.2`,
  snpSpl: `${ARC}.3.3`,
  spl4: `${ARC}.3.4`,
  spl5: `${ARC}.3.5`,
  spl6: `${ARC}.3.6`,
  spl7: `${ARC}.3.7`,
  ucodeSpl: `${ARC}.3.8`,
  fmcSpl: `${ARC}.3.9`,
  hwId: `${ARC}.4`,
  cspId: `${ARC}.5`,
} as const;

export interface AmdEndorsementKey {
  cert: Certificate;
  kind: SigningKey;
  structVersion: number;
  /** e.g. `Milan-B0`, `Genoa`, `Turin`, `Milan` (VLEK). */
  productName: string;
  productLine: SnpProductLine;
  tcb: { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number };
  /** VCEK only: 64 bytes (Milan/Genoa) or 8 bytes (Turin). */
  hwId: Uint8Array | undefined;
  /** VLEK only: the cloud provider it was issued to. */
  cspId: string | undefined;
}

function int(cert: Certificate, oid: string, name: string, required: boolean): number | undefined {
  const ext = cert.extension(oid);
  if (!ext) return required ? parseFail('ERR_SNP_LEAF_MALFORMED', `endorsement key lacks ${name}`) : undefined;
  try {
    return readSmallInt(decodeDer(ext.value), name);
  } catch (cause) {
    return parseFail('ERR_SNP_LEAF_MALFORMED', `endorsement key ${name} is not a DER INTEGER`, { cause: cause });
  }
}

function text(cert: Certificate, oid: string, name: string): string | undefined {
  return stringExtension(cert, oid, Tag.Ia5String, name, (cause) =>
    parseFail('ERR_SNP_LEAF_MALFORMED', `endorsement key ${name} is not an IA5String`, { cause }),
  );
}

export function productLineOf(productName: string): SnpProductLine | undefined {
  const base = productName.split('-')[0];
  return base === 'Milan' || base === 'Genoa' || base === 'Turin' ? base : undefined;
}

/** Reads the AMD extensions of a VCEK/VLEK. The subject CN says which key it is. */
export function parseEndorsementKey(cert: Certificate): AmdEndorsementKey {
  const cn = cert.subject.cn;
  const kind: SigningKey | undefined = cn === 'SEV-VCEK' ? 'vcek' : cn === 'SEV-VLEK' ? 'vlek' : undefined;
  if (!kind) parseFail('ERR_SNP_LEAF_MALFORMED', `leaf subject CN is ${cn ?? 'absent'}, expected SEV-VCEK or SEV-VLEK`);
  const structVersion = int(cert, AMD_OID.structVersion, 'structVersion', true)!;
  const productName = text(cert, AMD_OID.productName, 'productName') ?? parseFail('ERR_SNP_LEAF_MALFORMED', 'endorsement key lacks productName');
  const productLine = productLineOf(productName) ?? parseFail('ERR_SNP_LEAF_MALFORMED', `unknown productName ${productName}`);
  const tcb: AmdEndorsementKey['tcb'] = {
    bootloader: int(cert, AMD_OID.blSpl, 'blSPL', true)!,
    tee: int(cert, AMD_OID.teeSpl, 'teeSPL', true)!,
    snp: int(cert, AMD_OID.snpSpl, 'snpSPL', true)!,
    microcode: int(cert, AMD_OID.ucodeSpl, 'ucodeSPL', true)!,
  };
  // structVersion 1 (Turin) adds fmcSPL.
  if (productLine === 'Turin') tcb.fmc = int(cert, AMD_OID.fmcSpl, 'fmcSPL', true)!;
  const hw = cert.extension(AMD_OID.hwId)?.value;
  if (kind === 'vcek') {
    const want = productLine === 'Turin' ? 8 : 64;
    if (!hw || hw.length !== want) parseFail('ERR_SNP_LEAF_MALFORMED', `VCEK hwID must be ${want} raw bytes for ${productLine}, got ${hw?.length ?? 'none'}`);
  } else if (hw) {
    parseFail('ERR_SNP_LEAF_MALFORMED', 'a VLEK carries no hwID');
  }
  return { cert, kind, structVersion, productName, productLine, tcb, hwId: hw, cspId: text(cert, AMD_OID.cspId, 'cspId') };
}
