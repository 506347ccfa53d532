/**
 * SEV-SNP evidence verification: the endorsement chain to the pinned ARK, revocation, the binding between
 * the leaf certificate and the report, and the report signature. Follows the order of AMD's guidance
 * (SEV-SNP ABI Appendix B "attestation report verification"; KDS spec #57230 §3) as go-sev-guest's
 * `verify` package does, plus the Turin rules go-sev-guest lacks.
 */
import { VerificationError, concat, equalBytes, subtle, type ErrorCode } from '@ccinfer/core';
import { bs, isZero, reverse } from '@ccinfer/core/internal';
import {
  crlDistributionPointUris,
  findRevoked,
  importVerifyKey,
  verifyChain,
  verifyCrl,
  type Certificate,
  type ChainCache,
  type Crl,
  type TrustAnchor,
} from '../x509/index.js';
import type { AmdEndorsementKey } from './endorsement.js';
import { decodeTcb, type SnpProductLine, type SnpReport, type TcbVersion } from './parse.js';

const fail = (code: ErrorCode, message: string, cause?: unknown): never => {
  throw new VerificationError(code, message, cause === undefined ? undefined : { cause });
};

/**
 * The product line, from CPUID when the report has it (v3+), else from the leaf. When both exist they must
 * agree: a Milan VCEK cannot endorse a Genoa report.
 */
export function resolveProductLine(fromCpuid: SnpProductLine | undefined, leaf: AmdEndorsementKey): SnpProductLine {
  if (fromCpuid && fromCpuid !== leaf.productLine) {
    fail('ERR_SNP_PRODUCT_MISMATCH', `report CPUID says ${fromCpuid}, endorsement key is for ${leaf.productLine}`);
  }
  return fromCpuid ?? leaf.productLine;
}

/**
 * Verifies leaf → ASK (VCEK) or ASVK (VLEK) → ARK at `now`, with the ARK pinned for `product`. The
 * intermediate must be the one for the key kind: `SEV-<P>` for VCEKs, `SEV-VLEK-<P>` for VLEKs.
 */
export async function verifySnpChain(
  leaf: AmdEndorsementKey,
  intermediates: readonly Certificate[],
  product: SnpProductLine,
  anchors: Partial<Record<SnpProductLine, TrustAnchor>>,
  now: Date,
  cache?: ChainCache,
): Promise<{ ask: Certificate; ark: Certificate; notAfter: Date }> {
  const anchor = anchors[product];
  if (!anchor) return fail('ERR_X509_UNTRUSTED_ROOT', `no trust anchor configured for ${product}`);
  if (intermediates.length !== 2) return fail('ERR_SNP_CHAIN_INVALID', `expected ASK/ASVK and ARK, got ${intermediates.length} certificates`);
  const [ask, ark] = intermediates as [Certificate, Certificate];
  const wantAsk = leaf.kind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
  if (ask.subject.cn !== wantAsk) return fail('ERR_SNP_CHAIN_INVALID', `intermediate is ${ask.subject.cn ?? '?'}, a ${leaf.kind.toUpperCase()} needs ${wantAsk}`);
  if (ark.subject.cn !== `ARK-${product}`) return fail('ERR_SNP_CHAIN_INVALID', `root is ${ark.subject.cn ?? '?'}, expected ARK-${product}`);
  const opts = { anchors: [anchor], now, length: 3, ...(cache ? { cache } : {}) };
  const result = await verifyChain([leaf.cert, ask, ark], opts);
  return { ask, ark, notAfter: result.notAfter };
}

/**
 * Checks the ARK-signed CRL and that neither the ASK/ASVK nor the leaf is listed (KDS spec §4.2: the CRL
 * revokes intermediates; the leaf is looked up too, as it costs nothing).
 *
 * The ARK signs two CRLs with the same issuer name and key: one for ASKs (`/vcek/v1/<P>/crl`) and one for ASVKs
 * (`/vlek/v1/<P>/crl`). Nothing else in their content says which is which, so a revoked ASVK could hide behind
 * the (current, genuine) VCEK CRL. The CRL is therefore tied to the certificate it covers (RFC 5280 §6.3.3 (b)):
 * issued by that certificate's issuer, and scoped to that certificate's CRL distribution point, either by its
 * own issuingDistributionPoint or, when it names none, by `fetchedFrom`: the KDS URL the verifier itself fetched
 * it from. A CRL that names no scope and was handed in (by the pod or the caller) is refused.
 */
export async function checkSnpRevocation(crl: Crl, ark: Certificate, ask: Certificate, leaf: Certificate, now: Date, fetchedFrom?: string): Promise<void> {
  await verifyCrl(crl, ark, now);
  if (!equalBytes(crl.issuer.raw, ask.issuer.raw)) fail('ERR_SNP_CRL_SCOPE', `the CRL is issued by ${crl.issuer.cn ?? '?'}, but ${ask.subject.cn ?? 'the intermediate'} by ${ask.issuer.cn ?? '?'}`);
  const dp = crlDistributionPointUris(ask);
  if (dp.length === 0) fail('ERR_SNP_CRL_SCOPE', `${ask.subject.cn ?? 'the intermediate'} names no CRL distribution point, so no CRL can be tied to it`);
  const scope = crl.distributionPointUris?.length ? crl.distributionPointUris : fetchedFrom !== undefined ? [fetchedFrom] : undefined;
  if (!scope) return fail('ERR_SNP_CRL_SCOPE', `the supplied CRL names no scope (issuingDistributionPoint): it may be the other hierarchy's CRL; ${ask.subject.cn ?? 'the intermediate'} needs ${dp.join(', ')}`);
  if (!scope.some((u) => dp.includes(u))) {
    fail('ERR_SNP_CRL_SCOPE', `the CRL covers ${scope.join(', ')}, but ${ask.subject.cn ?? 'the intermediate'} points to ${dp.join(', ')}`);
  }
  for (const c of [ask, leaf]) {
    const entry = findRevoked(crl, c.serialNumber);
    // AMD leaves all have serial 0; the CRL lists intermediates by serial, and only the ARK's CRL is consulted
    // for the ASK. A listed serial 0 would revoke every leaf, which is what AMD would mean by it.
    if (entry) fail('ERR_SNP_REVOKED', `${c.subject.cn ?? 'certificate'} is revoked since ${entry.revocationDate.toISOString()}${entry.reason !== undefined ? ` (reason ${entry.reason})` : ''}`);
  }
}

function tcbEquals(a: TcbVersion, b: AmdEndorsementKey['tcb']): boolean {
  return a.bootloader === b.bootloader && a.tee === b.tee && a.snp === b.snp && a.microcode === b.microcode && (a.fmc ?? 0) === (b.fmc ?? 0);
}

const TCB_PARTS = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const;

export function tcbAtLeast(a: TcbVersion, min: Partial<Record<(typeof TCB_PARTS)[number], number>>): boolean {
  return TCB_PARTS.every((k) => min[k] === undefined || (a[k] ?? 0) >= min[k]!);
}

/**
 * The leaf must be the key the report says signed it (KEY_INFO.SIGNING_KEY), derived from REPORTED_TCB
 * (not CURRENT_TCB), and for a VCEK, of this chip (hwID == CHIP_ID; Turin compares the first 8 bytes; a
 * CHIP_ID zeroed by MASK_CHIP_ID cannot be compared). REPORTED_TCB may not exceed CURRENT_TCB.
 */
export function checkLeafBinding(report: SnpReport, leaf: AmdEndorsementKey, product: SnpProductLine): { reportedTcb: TcbVersion; currentTcb: TcbVersion } {
  if (report.signingKey !== leaf.kind) {
    fail('ERR_SNP_SIGNING_KEY_MISMATCH', `report was signed by a ${report.signingKey.toUpperCase()}, the leaf is a ${leaf.kind.toUpperCase()}`);
  }
  const reportedTcb = decodeTcb(report.reportedTcbRaw, product);
  const currentTcb = decodeTcb(report.currentTcbRaw, product);
  if (!tcbEquals(reportedTcb, leaf.tcb)) {
    fail('ERR_SNP_TCB_MISMATCH', `leaf TCB ${JSON.stringify(leaf.tcb)} differs from REPORTED_TCB ${JSON.stringify({ ...reportedTcb, raw: undefined })}`);
  }
  if (!tcbAtLeast(currentTcb, reportedTcb)) {
    fail('ERR_SNP_TCB_INCONSISTENT', 'REPORTED_TCB exceeds CURRENT_TCB');
  }
  if (leaf.kind === 'vcek' && !isZero(report.chipId)) {
    const chip = product === 'Turin' ? report.chipId.subarray(0, 8) : report.chipId;
    if (product === 'Turin' && !isZero(report.chipId.subarray(8))) {
      fail('ERR_SNP_CHIP_ID_MISMATCH', 'Turin CHIP_ID must be zero beyond its first 8 bytes');
    }
    if (!equalBytes(chip, leaf.hwId!)) fail('ERR_SNP_CHIP_ID_MISMATCH', 'CHIP_ID differs from the VCEK hwID');
  }
  return { reportedTcb, currentTcb };
}

/**
 * The report signature (ABI Table 119): R and S are 72-byte little-endian fields of which the low 48 bytes
 * are significant. This is the one place they are turned into WebCrypto's big-endian r‖s.
 */
export function snpSignatureToP1363(report: SnpReport): Uint8Array {
  if (!isZero(report.signatureR.subarray(48)) || !isZero(report.signatureS.subarray(48))) {
    throw new VerificationError('ERR_SNP_SIGNATURE_INVALID', 'signature R or S exceeds 48 bytes (the high 24 of 72 must be zero)');
  }
  return concat(reverse(report.signatureR.subarray(0, 48)), reverse(report.signatureS.subarray(0, 48)));
}

/** The VCEK/VLEK as a WebCrypto key for the report signature (ECDSA P-384, SEV-SNP ABI §7.3 Table 134). */
export function importReportKey(leaf: Certificate): Promise<CryptoKey> {
  return importVerifyKey(leaf.spki, { kind: 'ecdsa', hash: 'SHA-384' });
}

export async function verifyReportSignature(report: SnpReport, key: CryptoKey): Promise<void> {
  const sig = snpSignatureToP1363(report);
  if (key.algorithm.name !== 'ECDSA' || (key.algorithm as EcKeyAlgorithm).namedCurve !== 'P-384') {
    fail('ERR_SNP_SIGNATURE_INVALID', 'endorsement key is not an ECDSA P-384 key');
  }
  const ok = await subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, key, bs(sig), bs(report.signedBytes));
  if (!ok) fail('ERR_SNP_SIGNATURE_INVALID', 'report signature does not verify with the endorsement key');
}

