/**
 * Signatures, chains, revocation and collateral for a TDX quote (Intel QVL QuoteVerifier.cpp §4.1.2.4.4–16;
 * tdx.md §5 steps 2–6). Every function takes `now`; none reaches for a clock.
 *
 * All three ECDSA signatures a quote carries (quote, QE report, TCB Info / QE Identity) are raw r‖s, the IEEE
 * P1363 form WebCrypto verifies directly; X.509 signatures (DER) go through the x509 module.
 */
import {
  CollateralError,
  ParseError,
  VerificationError,
  concat,
  equalBytes,
  fromUtf8,
  sha256,
  subtle,
} from '@ccinfer/core';
import { bs, isZero } from '@ccinfer/core/internal';
import { parseCertificates, type Certificate } from '../x509/certificate.js';
import { verifyChain, type ChainCache, type TrustAnchor } from '../x509/chain.js';
import { findRevoked, parseCrl, verifyCrl, type Crl } from '../x509/crl.js';
import { importVerifyKey, spkiInfo } from '../x509/signature.js';
import {
  normalizeCrl,
  parseQeIdentityResponse,
  parseTcbInfoResponse,
  type QeIdentity,
  type Signed,
  type TcbInfo,
} from './collateral.js';
import type { TdxQuote } from './parse.js';
import { SGX_EXTENSION_OID, pckExtension, type SgxExtension } from './pck.js';

const ECDSA_P256_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function importRawP256(xy: Uint8Array): Promise<CryptoKey> {
  try {
    return await subtle().importKey('raw', bs(concat(Uint8Array.of(4), xy)), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  } catch (cause) {
    throw new VerificationError('ERR_TDX_ATTESTATION_KEY', 'attestation key is not a point on P-256', { cause });
  }
}

async function importP256Spki(cert: Certificate): Promise<CryptoKey> {
  const info = spkiInfo(cert.spki);
  if (info.kind !== 'ec' || info.curve?.name !== 'P-256') {
    throw new VerificationError('ERR_TDX_PCK_CERT', `${cert.subject.cn ?? 'certificate'} does not hold a P-256 key`);
  }
  return importVerifyKey(cert.spki, { kind: 'ecdsa', hash: 'SHA-256' });
}

/** §4.1.2.4.16: the attestation key signed the header and body. */
export async function verifyQuoteSignature(quote: TdxQuote): Promise<void> {
  const key = await importRawP256(quote.attestationKey);
  if (!(await subtle().verify(ECDSA_P256_SHA256, key, bs(quote.signature), bs(quote.signedRegion)))) {
    throw new VerificationError('ERR_TDX_QUOTE_SIGNATURE', 'quote signature does not verify with the attestation key');
  }
}

/** §4.1.2.4.12: the PCK leaf key signed the QE report. */
export async function verifyQeReportSignature(quote: TdxQuote, pckLeaf: Certificate): Promise<void> {
  const key = await importP256Spki(pckLeaf);
  if (!(await subtle().verify(ECDSA_P256_SHA256, key, bs(quote.qeReportSignature), bs(quote.qeReport.raw)))) {
    throw new VerificationError('ERR_TDX_QE_REPORT_SIGNATURE', 'QE report signature does not verify with the PCK key');
  }
}

/**
 * §4.1.2.4.13: QE REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes, binding the
 * attestation key to the QE that the PCK certified.
 */
export async function verifyQeReportData(quote: TdxQuote): Promise<void> {
  const h = await sha256(concat(quote.attestationKey, quote.qeAuthData));
  const rd = quote.qeReport.reportData;
  if (!equalBytes(rd.subarray(0, 32), h) || !isZero(rd.subarray(32))) {
    throw new VerificationError('ERR_TDX_QE_REPORT_DATA', 'QE REPORTDATA does not bind the attestation key and QE auth data');
  }
}

export interface PckChain {
  leaf: Certificate;
  intermediate: Certificate;
  root: Certificate;
  certificates: Certificate[];
  extension: SgxExtension;
}

/**
 * The type-5 PCK chain from the quote: PEM (sometimes NUL-terminated), exactly leaf, PCK Platform/Processor
 * CA, root; the leaf is an "SGX PCK Certificate" (§4.1.2.4.4) with the SGX extension.
 */
export function parsePckChain(quote: TdxQuote): PckChain {
  let end = quote.pckChain.length;
  while (end > 0 && quote.pckChain[end - 1] === 0) end--;
  let certificates: Certificate[];
  try {
    certificates = parseCertificates(fromUtf8(quote.pckChain.subarray(0, end), 'ERR_TDX_CERT_DATA_MALFORMED'));
  } catch (cause) {
    if (cause instanceof ParseError && cause.code === 'ERR_TDX_CERT_DATA_MALFORMED') throw cause;
    throw new ParseError('ERR_TDX_CERT_DATA_MALFORMED', 'PCK certificate chain is not a PEM certificate chain', { cause });
  }
  if (certificates.length !== 3) {
    throw new VerificationError('ERR_TDX_PCK_CERT', `PCK chain has ${certificates.length} certificates, expected leaf, PCK CA and root`);
  }
  const [leaf, intermediate, root] = certificates as [Certificate, Certificate, Certificate];
  if (!(leaf.subject.cn ?? '').includes('SGX PCK Certificate')) {
    throw new VerificationError('ERR_TDX_PCK_CERT', `PCK leaf subject CN "${leaf.subject.cn ?? ''}" is not an SGX PCK Certificate`);
  }
  return { leaf, intermediate, root, certificates, extension: pckExtension(leaf) };
}

/** Leaf → PCK CA → root pinned by SPKI SHA-256, every certificate valid at `now`. */
export async function verifyPckChain(chain: PckChain, opts: { anchors: readonly TrustAnchor[]; now: Date; cache?: ChainCache }): Promise<void> {
  const o: Parameters<typeof verifyChain>[1] = { anchors: opts.anchors, now: opts.now, length: 3, knownExtensions: [SGX_EXTENSION_OID] };
  if (opts.cache) o.cache = opts.cache;
  await verifyChain(chain.certificates, o);
}

// ---------------------------------------------------------------------------------------------------------
// Collateral.

function parseChain(bytes: Uint8Array, what: string): Certificate[] {
  try {
    return parseCertificates(bytes);
  } catch (cause) {
    throw new ParseError('ERR_TDX_COLLATERAL_MALFORMED', `${what} is not a certificate chain`, { cause });
  }
}

function parseCrlBytes(bytes: Uint8Array): Crl {
  return parseCrl(normalizeCrl(bytes));
}

/** verifyCrl, with a CRL outside thisUpdate..nextUpdate reported as stale collateral (docs/errors.md, `ERR_TDX_COLLATERAL_EXPIRED`). */
async function verifyCrlCurrent(crl: Crl, issuer: Certificate, now: Date, what: string): Promise<void> {
  try {
    await verifyCrl(crl, issuer, now);
  } catch (err) {
    if (err instanceof VerificationError && err.code === 'ERR_X509_CRL_EXPIRED') {
      const code = now < crl.thisUpdate ? 'ERR_TDX_COLLATERAL_NOT_YET_VALID' : 'ERR_TDX_COLLATERAL_EXPIRED';
      // The window itself, so a reader can tell old collateral (verify at a time inside it) from a wrong clock.
      const window = `${crl.thisUpdate.toISOString()} .. ${crl.nextUpdate?.toISOString() ?? 'no nextUpdate'}`;
      throw new CollateralError(code, `${what} is valid ${window} (thisUpdate .. nextUpdate), not at ${now.toISOString()}`, { cause: err });
    }
    throw err;
  }
}

/** issueDate ≤ now ≤ nextUpdate (+ grace); outside is a collateral error, not a verification failure. */
export function checkWindow(what: string, doc: { issueDate: Date; nextUpdate: Date }, now: Date, graceMs = 0): void {
  if (now < doc.issueDate) {
    throw new CollateralError('ERR_TDX_COLLATERAL_NOT_YET_VALID', `${what} is valid ${doc.issueDate.toISOString()} .. ${doc.nextUpdate.toISOString()} (issueDate .. nextUpdate), not yet at ${now.toISOString()}`);
  }
  if (now.getTime() > doc.nextUpdate.getTime() + graceMs) {
    throw new CollateralError('ERR_TDX_COLLATERAL_EXPIRED', `${what} is valid ${doc.issueDate.toISOString()} .. ${doc.nextUpdate.toISOString()} (issueDate .. nextUpdate), expired at ${now.toISOString()}`);
  }
}

interface SignerEntry {
  bytes: Uint8Array;
  chain: Certificate[];
  verified: Promise<void>;
}

/**
 * Parses a signer chain (leaf first) and starts its verification to the pinned root. `signers` memoizes by
 * chain bytes within one appraisal: PCS serves the same TCB Signing chain for TCB Info and QE Identity.
 */
export function signerChain(chainBytes: Uint8Array, what: string, opts: CollateralOptions): SignerEntry {
  const hit = opts.signers?.find((e) => equalBytes(e.bytes, chainBytes));
  if (hit) return hit;
  const chain = parseChain(chainBytes, `${what} issuer chain`);
  const o: Parameters<typeof verifyChain>[1] = { anchors: opts.anchors, now: opts.now, length: 2 };
  if (opts.cache) o.cache = opts.cache;
  const verified = verifyChain(chain, o).then(() => undefined);
  verified.catch(() => undefined);
  const entry = { bytes: chainBytes, chain, verified };
  opts.signers?.push(entry);
  return entry;
}

/**
 * Verifies a PCS-signed JSON document: the signer chain to the pinned root and r‖s over the raw member bytes
 * (both started together; both must pass).
 */
async function verifySignedDocument<T>(
  doc: Signed<T>,
  chainBytes: Uint8Array,
  what: string,
  code: 'ERR_TDX_TCB_INFO_SIGNATURE' | 'ERR_TDX_QE_IDENTITY_SIGNATURE',
  opts: CollateralOptions,
): Promise<Certificate[]> {
  const { chain, verified } = signerChain(chainBytes, what, opts);
  const signer = chain[0]!;
  const sigP = importP256Spki(signer).then((key) => subtle().verify(ECDSA_P256_SHA256, key, bs(doc.signature), bs(doc.signedBytes)));
  sigP.catch(() => undefined);
  await verified;
  if (!(await sigP)) throw new VerificationError(code, `${what} signature does not verify with ${signer.subject.cn ?? 'the signer'}`);
  return chain;
}

export interface CollateralOptions {
  anchors: readonly TrustAnchor[];
  now: Date;
  cache?: ChainCache;
  /** Accept TCB Info / QE Identity this long after nextUpdate (policy `freshness.collateralGraceSeconds`). */
  graceMs?: number;
  /** Per-appraisal memo of verified signer chains (see verifySignerChain). */
  signers?: SignerEntry[];
}

/** Root CA CRL, signed by the pinned root (the PCK chain's, already verified) and current at `now`. */
export async function verifyRootCrl(bytes: Uint8Array, root: Certificate, now: Date): Promise<Crl> {
  const crl = parseCrlBytes(bytes);
  await verifyCrlCurrent(crl, root, now, 'Root CA CRL');
  return crl;
}

/** The PCK CA and the TCB Signing certificates must not be on the Root CA CRL. */
export function checkCasNotRevoked(rootCrl: Crl, cas: readonly Certificate[]): void {
  for (const ca of cas) {
    if (findRevoked(rootCrl, ca.serialNumber)) {
      throw new VerificationError('ERR_TDX_CA_REVOKED', `${ca.subject.cn ?? 'CA certificate'} is revoked by the Intel SGX Root CA CRL`);
    }
  }
}

/** §4.1.2.4.6–7: the PCK CRL is issued by the leaf's issuer, signed by it, current, and does not list the leaf. */
export async function verifyPckCrl(bytes: Uint8Array, chain: PckChain, now: Date): Promise<Crl> {
  const crl = parseCrlBytes(bytes);
  if (!equalBytes(crl.issuer.raw, chain.leaf.issuer.raw)) {
    throw new VerificationError('ERR_TDX_CRL_ISSUER', `PCK CRL issued by ${crl.issuer.cn ?? '?'}, the PCK leaf by ${chain.leaf.issuer.cn ?? '?'}`);
  }
  await verifyCrlCurrent(crl, chain.intermediate, now, 'PCK CRL');
  if (findRevoked(crl, chain.leaf.serialNumber)) throw new VerificationError('ERR_TDX_PCK_REVOKED', 'PCK certificate is revoked by the PCK CRL');
  return crl;
}

/** TCB Info: signature and signer chain, TDX v3+, time window, FMSPC and PCE-ID of this platform (§4.1.2.4.9–10). */
export async function verifyTcbInfo(body: Uint8Array, chainBytes: Uint8Array, pck: SgxExtension, opts: CollateralOptions): Promise<{ tcbInfo: TcbInfo; signer: Certificate[] }> {
  const doc = parseTcbInfoResponse(body);
  const signer = await verifySignedDocument(doc, chainBytes, 'TCB Info', 'ERR_TDX_TCB_INFO_SIGNATURE', opts);
  const t = doc.value;
  if (t.id !== 'TDX' || t.version < 3) throw new VerificationError('ERR_TDX_TCB_INFO_MISMATCH', `TCB Info ${t.id} v${t.version} is not TDX TCB Info v3`);
  // Another platform's TCB Info is named as such before its age is judged: "wrong platform" is the fix to make.
  if (t.fmspc !== pck.fmspc) throw new VerificationError('ERR_TDX_TCB_INFO_MISMATCH', `TCB Info FMSPC ${t.fmspc} is not the PCK's ${pck.fmspc}: collateral of another platform`);
  if (t.pceId !== pck.pceId) throw new VerificationError('ERR_TDX_TCB_INFO_MISMATCH', `TCB Info PCEID ${t.pceId} is not the PCK's ${pck.pceId}`);
  checkWindow('TCB Info', t, opts.now, opts.graceMs);
  return { tcbInfo: t, signer };
}

/** QE Identity: signature and signer chain, `TD_QE` version 2, time window (§4.1.2.4.14). */
export async function verifyQeIdentity(body: Uint8Array, chainBytes: Uint8Array, opts: CollateralOptions): Promise<{ qeIdentity: QeIdentity; signer: Certificate[] }> {
  const doc = parseQeIdentityResponse(body);
  const signer = await verifySignedDocument(doc, chainBytes, 'QE Identity', 'ERR_TDX_QE_IDENTITY_SIGNATURE', opts);
  const q = doc.value;
  if (q.id !== 'TD_QE' || q.version !== 2) throw new VerificationError('ERR_TDX_QE_IDENTITY_MISMATCH', `QE Identity ${q.id} v${q.version} is not TD_QE v2`);
  checkWindow('QE Identity', q, opts.now, opts.graceMs);
  return { qeIdentity: q, signer };
}
