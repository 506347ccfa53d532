/**
 * Certificate path validation for the fixed, short chains of hardware vendors (RFC 5280 §6, the parts these
 * profiles use): every certificate valid at `now`, each issued by the next (name linkage and signature), every
 * issuer a CA allowed to sign certificates, no unknown critical extension, and the last certificate a
 * self-signed root whose SubjectPublicKeyInfo SHA-256 is pinned. There is no switch that skips any of this.
 */
import { VerificationError, sha256, toHex, equalBytes, concat } from '@ccinfer/core';
import { BoundedMap } from '@ccinfer/core/internal';
import type { Certificate } from './certificate.js';
import { KNOWN_EXTENSIONS } from './oids.js';
import { verifySignature } from './signature.js';

/** A root of trust, identified by the SHA-256 of its DER SubjectPublicKeyInfo (lowercase hex). */
export interface TrustAnchor {
  name: string;
  spkiSha256: string;
}

export interface VerifyChainOptions {
  anchors: readonly TrustAnchor[];
  now: Date;
  /** Extension OIDs this profile understands in addition to the RFC 5280 ones (may be critical). */
  knownExtensions?: readonly string[];
  /** Exact number of certificates the profile requires. */
  length?: number;
  /** Memoizes successful signature checks of identical chains (the validity window is still checked). */
  cache?: ChainCache;
}

export interface ChainResult {
  anchor: TrustAnchor;
  /** Intersection of the certificates' validity windows. */
  notBefore: Date;
  notAfter: Date;
}

/**
 * Remembers certificate signature checks: (signature, issuer key) → the exact signed bytes, the algorithm and
 * the (possibly still running) verification. A hit requires identical bytes, so it yields what a fresh
 * verification would; sharing the promise means concurrent appraisals of devices whose chains share upper
 * certificates (every NVIDIA chain ends Provisioner → Identity → root) verify each shared signature once.
 */
export class SignatureMemo {
  private readonly map: BoundedMap<string, { tbs: Uint8Array; alg: Uint8Array; ok: Promise<boolean> }>;
  constructor(max = 1024) {
    this.map = new BoundedMap(max);
  }
  /**
   * `cert` is anything X.509-shaped that is signed (a certificate, an OCSP BasicOCSPResponse: signed bytes,
   * AlgorithmIdentifier, signature); `issuer` supplies the verifying key.
   */
  verify(cert: Pick<Certificate, 'tbs' | 'signatureAlgorithm' | 'signature'>, issuer: Pick<Certificate, 'spki'>): Promise<boolean> {
    const key = `${toHex(cert.signature)}|${toHex(issuer.spki)}`;
    const hit = this.map.get(key);
    if (hit && equalBytes(hit.tbs, cert.tbs) && equalBytes(hit.alg, cert.signatureAlgorithm.raw)) return hit.ok;
    const ok = verifySignature(cert.signatureAlgorithm, issuer.spki, cert.tbs, cert.signature);
    const entry = { tbs: cert.tbs, alg: cert.signatureAlgorithm.raw, ok };
    this.map.set(key, entry);
    // A failed or thrown check is not remembered: the next caller verifies again.
    ok.then(
      (v) => v || this.map.deleteIf(key, entry),
      () => this.map.deleteIf(key, entry),
    );
    return ok;
  }
}

/**
 * Remembers chains whose signatures and pin already verified, keyed by a digest of their DER. The NVIDIA
 * appraisal also keys its cross-appraisal memo of verified RIMs and OCSP responses on this object
 * (`nvidia/memo.ts`), so whoever keeps a ChainCache between appraisals keeps those too.
 */
export class ChainCache {
  private readonly map: BoundedMap<string, { anchor: TrustAnchor; anchorsKey: string }>;
  /** Individual certificate signatures verified through this cache. */
  readonly signatures = new SignatureMemo();
  constructor(max = 256) {
    this.map = new BoundedMap(max);
  }
  get(key: string, anchorsKey: string): TrustAnchor | undefined {
    const hit = this.map.get(key);
    return hit && hit.anchorsKey === anchorsKey ? hit.anchor : undefined;
  }
  set(key: string, anchorsKey: string, anchor: TrustAnchor): void {
    this.map.set(key, { anchor, anchorsKey });
  }
}

export async function spkiSha256(cert: Certificate): Promise<string> {
  return toHex(await sha256(cert.spki));
}

function checkValidity(cert: Certificate, now: Date, index: number): void {
  const who = `certificate ${index} (${cert.subject.cn ?? 'no CN'})`;
  if (now < cert.notBefore) {
    throw new VerificationError('ERR_X509_NOT_YET_VALID', `${who} is not valid before ${cert.notBefore.toISOString()}`);
  }
  if (now > cert.notAfter) {
    throw new VerificationError('ERR_X509_EXPIRED', `${who} expired ${cert.notAfter.toISOString()}`);
  }
}

function checkCriticalExtensions(cert: Certificate, known: readonly string[]): void {
  for (const ext of cert.extensions) {
    if (ext.critical && !KNOWN_EXTENSIONS.has(ext.oid) && !known.includes(ext.oid)) {
      throw new VerificationError('ERR_X509_CRITICAL_EXTENSION', `unknown critical extension ${ext.oid} in ${cert.subject.cn ?? 'certificate'}`);
    }
  }
}

/** RFC 5280 §4.2.1.9 / §4.2.1.3: an issuer must be a CA permitted to sign certificates, within its path length. */
function checkIssuer(issuer: Certificate, below: number): void {
  const bc = issuer.basicConstraints;
  if (!bc?.ca) throw new VerificationError('ERR_X509_NOT_CA', `${issuer.subject.cn ?? 'issuer'} is not a CA`);
  if (issuer.keyUsage && !issuer.keyUsage[5]) {
    throw new VerificationError('ERR_X509_NOT_CA', `${issuer.subject.cn ?? 'issuer'} may not sign certificates (keyUsage)`);
  }
  if (bc.pathLen !== undefined && below > bc.pathLen) {
    throw new VerificationError('ERR_X509_PATH_LENGTH', `${issuer.subject.cn ?? 'issuer'} allows ${bc.pathLen} intermediates, chain has ${below}`);
  }
}

function checkNames(cert: Certificate, issuer: Certificate): void {
  if (!equalBytes(cert.issuer.raw, issuer.subject.raw)) {
    throw new VerificationError('ERR_X509_ISSUER_MISMATCH', `${cert.subject.cn ?? 'certificate'} is not issued by ${issuer.subject.cn ?? 'the next certificate'}`);
  }
}

async function checkSignedBy(cert: Certificate, issuer: Certificate, memo: SignatureMemo | undefined): Promise<void> {
  const ok = memo ? memo.verify(cert, issuer) : verifySignature(cert.signatureAlgorithm, issuer.spki, cert.tbs, cert.signature);
  if (!(await ok)) {
    throw new VerificationError('ERR_X509_SIGNATURE_INVALID', `signature on ${cert.subject.cn ?? 'certificate'} by ${issuer.subject.cn ?? 'issuer'} does not verify`);
  }
}

/**
 * Verifies `chain` (leaf first, root last) at `now` to one of `anchors`. Returns the anchor and the window in
 * which the whole chain is valid.
 */
export async function verifyChain(chain: readonly Certificate[], options: VerifyChainOptions): Promise<ChainResult> {
  if (chain.length === 0) throw new VerificationError('ERR_X509_CHAIN_EMPTY', 'empty certificate chain');
  if (options.length !== undefined && chain.length !== options.length) {
    throw new VerificationError('ERR_X509_CHAIN_LENGTH', `chain has ${chain.length} certificates, the profile requires ${options.length}`);
  }
  const known = options.knownExtensions ?? [];
  chain.forEach((c, i) => {
    checkValidity(c, options.now, i);
    checkCriticalExtensions(c, known);
  });
  for (let i = 1; i < chain.length; i++) {
    checkIssuer(chain[i]!, i - 1);
    checkNames(chain[i - 1]!, chain[i]!);
  }
  const root = chain[chain.length - 1]!;
  const window = {
    notBefore: new Date(Math.max(...chain.map((c) => c.notBefore.getTime()))),
    notAfter: new Date(Math.min(...chain.map((c) => c.notAfter.getTime()))),
  };

  const anchorsKey = options.anchors.map((a) => a.spkiSha256).join(',');
  const cacheKey = options.cache ? toHex(await sha256(concat(...chain.map((c) => c.raw)))) : '';
  const cached = options.cache?.get(cacheKey, anchorsKey);
  if (cached) return { anchor: cached, ...window };

  checkNames(root, root);
  // Signatures run concurrently with the pin lookup; the pin is decided first, so an unpinned root is
  // reported as such even when its signatures are also bad.
  const checks: Promise<void>[] = [];
  const memo = options.cache?.signatures;
  for (let i = 0; i < chain.length - 1; i++) checks.push(checkSignedBy(chain[i]!, chain[i + 1]!, memo));
  checks.push(checkSignedBy(root, root, memo)); // self-signed root: proves possession of the pinned key
  const signatures = Promise.all(checks);
  signatures.catch(() => undefined);
  const pin = await spkiSha256(root);
  const anchor = options.anchors.find((a) => a.spkiSha256.toLowerCase() === pin);
  if (!anchor) throw new VerificationError('ERR_X509_UNTRUSTED_ROOT', `root ${root.subject.cn ?? ''} (SPKI SHA-256 ${pin}) is not a pinned trust anchor`);
  await signatures;
  options.cache?.set(cacheKey, anchorsKey, anchor);
  return { anchor, ...window };
}

