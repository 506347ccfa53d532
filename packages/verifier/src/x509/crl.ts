/**
 * X.509 v2 CRLs (RFC 5280 §5): parsing, signature by the issuing CA, the thisUpdate/nextUpdate window at
 * `now`, and serial lookup. AMD's ARK signs the CRL that revokes ASKs/ASVKs; Intel's CAs sign PCK CRLs.
 */
import { ParseError, VerificationError, equalBytes, toHex } from '@ccinfer/core';
import {
  Tag,
  children,
  decodeDer,
  readBitStringBytes,
  readSmallInt,
  readTime,
  readUnsigned,
  sequence,
  type DerNode,
} from '@ccinfer/core/internal';
import { explicitInner, parseAlgorithm, parseExtensionList, parseName, type AlgorithmIdentifier, type Certificate, type Name } from './certificate.js';
import { OID } from './oids.js';
import { verifySignature } from './signature.js';

export interface RevokedEntry {
  serialNumber: Uint8Array;
  revocationDate: Date;
  /** CRLReason (RFC 5280 §5.3.1) when present. */
  reason: number | undefined;
}

export interface Crl {
  raw: Uint8Array;
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  issuer: Name;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  revoked: RevokedEntry[];
  signature: Uint8Array;
  /** URIs of the issuingDistributionPoint extension (RFC 5280 §5.2.5), when present: the scope of this CRL. */
  distributionPointUris: string[] | undefined;
}

function malformed(msg: string, cause?: unknown): never {
  throw new ParseError('ERR_X509_CRL_MALFORMED', `CRL: ${msg}`, cause === undefined ? undefined : { cause });
}

/**
 * crlEntryExtensions (RFC 5280 §5.3): the reason code, if any. A critical entry extension we cannot process
 * (certificateIssuer of an indirect CRL, or an unknown one) makes the CRL unusable (§5.3), so it is refused.
 */
function entryReason(exts: DerNode | undefined): number | undefined {
  if (!exts) return undefined;
  let reason: number | undefined;
  for (const ext of parseExtensionList(exts, 'crlEntryExtensions')) {
    if (ext.oid === OID.crlReason) reason = readSmallInt(decodeDer(ext.value), 'CRLReason', Tag.Enumerated);
    else if (ext.critical) malformed(`unknown critical CRL entry extension ${ext.oid}`);
  }
  return reason;
}

export function parseCrl(der: Uint8Array): Crl {
  try {
    const top = decodeDer(der);
    const parts = sequence(top, 'CertificateList');
    if (parts.length !== 3) malformed('CertificateList must have 3 fields');
    const tbsNode = parts[0]!;
    const tbs = sequence(tbsNode, 'TBSCertList');
    let i = 0;
    if (tbs[i]?.tag === Tag.Integer) {
      if (readSmallInt(tbs[i++], 'version') !== 1) malformed('unsupported CRL version');
    }
    const tbsSigAlg = parseAlgorithm(tbs[i++], 'signature');
    const issuer = parseName(tbs[i++], 'issuer');
    const thisUpdate = readTime(tbs[i++], 'thisUpdate');
    let nextUpdate: Date | undefined;
    if (tbs[i]?.tag === Tag.UtcTime || tbs[i]?.tag === Tag.GeneralizedTime) nextUpdate = readTime(tbs[i++], 'nextUpdate');
    const revoked: RevokedEntry[] = [];
    if (tbs[i]?.tag === Tag.Sequence) {
      for (const entry of sequence(tbs[i++], 'revokedCertificates')) {
        const f = sequence(entry, 'revokedCertificate');
        if (f.length < 2 || f.length > 3) malformed(`a revokedCertificates entry has ${f.length} fields (userCertificate, revocationDate, crlEntryExtensions)`);
        revoked.push({ serialNumber: readUnsigned(f[0], 'userCertificate'), revocationDate: readTime(f[1], 'revocationDate'), reason: entryReason(f[2]) });
      }
    }
    let distributionPointUris: string[] | undefined;
    if (tbs[i]?.tag === 0xa0) {
      // crlExtensions: parsed for structure; critical unknown ones make the CRL unusable (RFC 5280 §5.2).
      // crlExtensions [0] EXPLICIT Extensions (RFC 5280 §5.1): exactly one SEQUENCE inside the tag.
      for (const { oid, critical, value } of parseExtensionList(explicitInner(tbs[i++]!, 'crlExtensions [0]', Tag.Sequence), 'crlExtensions')) {
        if (oid === OID.issuingDistributionPoint) distributionPointUris = distributionPointNameUris(decodeDer(value));
        if (critical && oid !== OID.issuingDistributionPoint && oid !== OID.crlNumber && oid !== OID.authorityKeyIdentifier) {
          malformed(`unknown critical CRL extension ${oid}`);
        }
      }
    }
    if (i !== tbs.length) malformed('trailing fields in TBSCertList');
    const signatureAlgorithm = parseAlgorithm(parts[1], 'signatureAlgorithm');
    if (!equalBytes(signatureAlgorithm.raw, tbsSigAlg.raw)) malformed('signatureAlgorithm differs from tbsCertList.signature');
    return { raw: top.raw, tbs: tbsNode.raw, signatureAlgorithm, issuer, thisUpdate, nextUpdate, revoked, signature: readBitStringBytes(parts[2], 'signature'), distributionPointUris };
  } catch (err) {
    if (err instanceof ParseError && err.code === 'ERR_X509_CRL_MALFORMED') throw err;
    return malformed('not a well-formed CRL', err);
  }
}

/** Verifies the CRL's issuer name and signature against `issuer`, and that it is current at `now`. */
export async function verifyCrl(crl: Crl, issuer: Certificate, now: Date): Promise<void> {
  if (!equalBytes(crl.issuer.raw, issuer.subject.raw)) {
    throw new VerificationError('ERR_X509_CRL_ISSUER_MISMATCH', `CRL issued by ${crl.issuer.cn ?? '?'}, expected ${issuer.subject.cn ?? '?'}`);
  }
  if (!(await verifySignature(crl.signatureAlgorithm, issuer.spki, crl.tbs, crl.signature))) {
    throw new VerificationError('ERR_X509_CRL_SIGNATURE_INVALID', `CRL signature by ${issuer.subject.cn ?? 'issuer'} does not verify`);
  }
  if (now < crl.thisUpdate || (crl.nextUpdate && now > crl.nextUpdate)) {
    throw new VerificationError('ERR_X509_CRL_EXPIRED', `CRL is not current at ${now.toISOString()} (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString() ?? 'none'})`);
  }
}

/** The entry revoking `serial`, if any. */
export function findRevoked(crl: Crl, serial: Uint8Array): RevokedEntry | undefined {
  const want = toHex(serial);
  return crl.revoked.find((e) => toHex(e.serialNumber) === want);
}

/**
 * URIs in a DistributionPointName `fullName` (RFC 5280 §4.2.1.13): the first field of both a
 * DistributionPoint (in a certificate's CRL DP) and an IssuingDistributionPoint (in a CRL).
 */
function distributionPointNameUris(seq: DerNode): string[] {
  const out: string[] = [];
  const dpName = children(seq).find((n) => n.tag === 0xa0);
  const fullName = dpName ? children(dpName).find((n) => n.tag === 0xa0) : undefined;
  for (const gn of fullName ? children(fullName) : []) {
    if (gn.tag === 0x86) out.push(String.fromCharCode(...gn.value)); // uniformResourceIdentifier [6] IA5String
  }
  return out;
}

/** The URIs of a certificate's CRL distribution points (2.5.29.31). */
export function crlDistributionPointUris(cert: Certificate): string[] {
  const ext = cert.extension(OID.crlDistributionPoints);
  if (!ext) return [];
  return sequence(decodeDer(ext.value), 'CRLDistributionPoints').flatMap(distributionPointNameUris);
}
