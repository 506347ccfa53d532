/**
 * OCSP (RFC 6960) for the NVIDIA device and RIM chains, as nvtrust's local verifier does it (research §3
 * step 4): one request per certificate with its issuer, a nonce extension (RFC 8954), the response signed by
 * the issuing CA or by a responder it delegated (id-kp-OCSPSigning), the nonce echoed, thisUpdate/nextUpdate
 * around `now`, and the status: good, revoked (with reason), unknown, or on hold (revoked, certificateHold).
 *
 * DER in and out through `@ccinfer/core` (strict reader, small encoder): no ASN.1 library in the browser.
 */
import { ParseError, VerificationError, digest, equalBytes, toHex, type HashName } from '@ccinfer/core';
import {
  Tag,
  children,
  decodeDer,
  der,
  readBitStringBytes,
  readOctets,
  readOid,
  readSmallInt,
  readTime,
  readUnsigned,
  sequence,
  type DerNode,
} from '@ccinfer/core/internal';
import { parseAlgorithm, parseCertificate, verifySignature, type AlgorithmIdentifier, type Certificate, type SignatureMemo } from '../x509/index.js';
import type { CollateralMode } from '../policy-schema.js';

export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const OID_EXT_KEY_USAGE = '2.5.29.37';

const HASH_OIDS: Record<string, HashName> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};
const OID_OF: Record<HashName, string> = Object.fromEntries(Object.entries(HASH_OIDS).map(([o, h]) => [h, o])) as Record<HashName, string>;

/** RFC 5280 §5.3.1 CRLReason. */
export const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

/** `gpu.ocsp`: the shared vocabulary for collateral that may be unobtainable (policy-schema.ts `CollateralMode`). */
export type OcspMode = CollateralMode;

/**
 * Oldest thisUpdate / producedAt accepted in a response checked without our nonce (pre-fetched by the pod, or
 * cached). Such a response proves nothing about when it was asked for; a response older than this could be
 * replayed after a revocation. The shared vectors hold no NVIDIA OCSP response, so the bound is a week, the
 * usual upper end of OCSP validity periods, well above the hour for which fetched responses are cached.
 */
export const OCSP_MAX_AGE_MS = 7 * 86_400_000;

export interface CertId {
  hash: HashName;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serialNumber: Uint8Array;
}

export type CertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revocationTime: Date; reason: (typeof CRL_REASONS)[number] | undefined }
  | { status: 'unknown' };

export interface SingleResponse {
  certId: CertId;
  certStatus: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

export interface OcspResponse {
  /** RFC 6960 §4.2.1 OCSPResponseStatus: 0 successful, 1 malformedRequest, 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized. */
  responseStatus: number;
  basic?: {
    tbs: Uint8Array;
    responderId: { byName: Uint8Array } | { byKey: Uint8Array };
    producedAt: Date;
    responses: SingleResponse[];
    nonce: Uint8Array | undefined;
    signatureAlgorithm: AlgorithmIdentifier;
    signature: Uint8Array;
    certs: Certificate[];
  };
}

const MALFORMED = 'ERR_NV_OCSP_MALFORMED';

/** The BIT STRING contents of the SubjectPublicKey (what issuerKeyHash and byKey hash). */
function publicKeyBits(cert: Certificate): Uint8Array {
  return readBitStringBytes(sequence(decodeDer(cert.spki), 'SubjectPublicKeyInfo')[1], 'subjectPublicKey');
}

/** Computes a CertID: {@link certIdFor} or a memo of it (nvidia/memo.ts). */
export type CertIdFn = (cert: Certificate, issuer: Certificate, hash: HashName) => Promise<CertId>;

/** RFC 6960 §4.1.1 CertID for `cert` issued by `issuer`. */
export async function certIdFor(cert: Certificate, issuer: Certificate, hash: HashName = 'SHA-384'): Promise<CertId> {
  return {
    hash,
    issuerNameHash: await digest(hash, issuer.subject.raw),
    issuerKeyHash: await digest(hash, publicKeyBits(issuer)),
    serialNumber: cert.serialNumber,
  };
}

function encodeCertId(id: CertId): Uint8Array {
  return der.seq(der.seq(der.oid(OID_OF[id.hash]), der.null()), der.octets(id.issuerNameHash), der.octets(id.issuerKeyHash), der.int(id.serialNumber));
}

/** RFC 6960 §4.1.1 OCSPRequest for one certificate, with a nonce extension when given (RFC 8954). */
export function buildOcspRequest(id: CertId, nonce?: Uint8Array): Uint8Array {
  const parts = [der.seq(der.seq(encodeCertId(id)))];
  if (nonce) parts.push(der.ctx(2, der.seq(der.seq(der.oid(OID_OCSP_NONCE), der.octets(der.octets(nonce))))));
  return der.seq(der.seq(...parts));
}

function wrapParse<T>(f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof ParseError && cause.code === MALFORMED) throw cause;
    throw new ParseError(MALFORMED, 'OCSP response is not valid DER of RFC 6960', { cause });
  }
}

function parseCertIdNode(node: DerNode | undefined): CertId {
  const [alg, nameHash, keyHash, serial] = sequence(node, 'CertID');
  const a = parseAlgorithm(alg, 'CertID.hashAlgorithm');
  const hash = HASH_OIDS[a.oid];
  if (!hash) throw new ParseError(MALFORMED, `CertID hash ${a.oid} not supported`);
  return { hash, issuerNameHash: readOctets(nameHash), issuerKeyHash: readOctets(keyHash), serialNumber: readUnsigned(serial, 'serialNumber') };
}

function parseSingle(node: DerNode): SingleResponse {
  const f = sequence(node, 'SingleResponse');
  const certId = parseCertIdNode(f[0]);
  const st = f[1];
  let certStatus: CertStatus;
  if (st?.tag === 0x80) {
    if (st.value.length !== 0) throw new ParseError(MALFORMED, 'good status must be NULL');
    certStatus = { status: 'good' };
  } else if (st?.tag === 0xa1) {
    const info = children(st);
    const revocationTime = readTime(info[0], 'revocationTime');
    let reason: (typeof CRL_REASONS)[number] | undefined;
    if (info[1]) {
      if (info[1].tag !== 0xa0) throw new ParseError(MALFORMED, 'bad revocationReason');
      const r = readSmallInt(children(info[1])[0], 'CRLReason', Tag.Enumerated);
      reason = CRL_REASONS[r] ?? 'unspecified';
    }
    certStatus = { status: 'revoked', revocationTime, reason };
  } else if (st?.tag === 0x82) {
    certStatus = { status: 'unknown' };
  } else throw new ParseError(MALFORMED, 'unknown CertStatus');
  const thisUpdate = readTime(f[2], 'thisUpdate');
  let nextUpdate: Date | undefined;
  for (const x of f.slice(3)) {
    if (x.tag === 0xa0) nextUpdate = readTime(children(x)[0], 'nextUpdate');
    else if (x.tag !== 0xa1) throw new ParseError(MALFORMED, 'unexpected SingleResponse field');
  }
  return { certId, certStatus, thisUpdate, nextUpdate };
}

/** RFC 6960 §4.2.1 OCSPResponse with a BasicOCSPResponse. Structure only. */
export function parseOcspResponse(bytes: Uint8Array): OcspResponse {
  return wrapParse(() => {
    const top = sequence(decodeDer(bytes), 'OCSPResponse');
    const responseStatus = readSmallInt(top[0], 'responseStatus', Tag.Enumerated);
    if (!top[1]) return { responseStatus };
    const rb = sequence(children(top[1])[0], 'ResponseBytes');
    if (readOid(rb[0]) !== OID_OCSP_BASIC) throw new ParseError(MALFORMED, 'not a BasicOCSPResponse');
    const basic = sequence(decodeDer(readOctets(rb[1])), 'BasicOCSPResponse');
    const tbsNode = basic[0]!;
    const tbs = sequence(tbsNode, 'ResponseData');
    let i = 0;
    if (tbs[0]?.tag === 0xa0) {
      if (readSmallInt(children(tbs[0])[0], 'version') !== 0) throw new ParseError(MALFORMED, 'unsupported ResponseData version');
      i++;
    }
    const rid = tbs[i++]!;
    let responderId: { byName: Uint8Array } | { byKey: Uint8Array };
    if (rid.tag === 0xa1) responderId = { byName: children(rid)[0]!.raw };
    else if (rid.tag === 0xa2) responderId = { byKey: readOctets(children(rid)[0]) };
    else throw new ParseError(MALFORMED, 'bad ResponderID');
    const producedAt = readTime(tbs[i++], 'producedAt');
    const responses = sequence(tbs[i++], 'responses').map(parseSingle);
    let nonce: Uint8Array | undefined;
    if (tbs[i]?.tag === 0xa1) {
      for (const ext of sequence(children(tbs[i]!)[0], 'responseExtensions')) {
        const e = sequence(ext, 'Extension');
        if (readOid(e[0]) === OID_OCSP_NONCE) {
          const v = readOctets(e[e.length - 1]);
          // RFC 8954: the value is an OCTET STRING; some responders (pre-8954) put the raw nonce.
          nonce = v[0] === Tag.OctetString ? readOctets(decodeDer(v)) : v;
        }
      }
      i++;
    }
    if (i !== tbs.length) throw new ParseError(MALFORMED, 'trailing ResponseData fields');
    const certs = basic[3] ? sequence(children(basic[3])[0], 'certs').map((c) => parseCertificate(c.raw)) : [];
    return {
      responseStatus,
      basic: {
        tbs: tbsNode.raw,
        responderId,
        producedAt,
        responses,
        nonce,
        signatureAlgorithm: parseAlgorithm(basic[1], 'signatureAlgorithm'),
        signature: readBitStringBytes(basic[2], 'signature'),
        certs,
      },
    };
  });
}

export interface OcspCheckOptions {
  now: Date;
  /** The nonce we sent; absent for responses gathered by someone else (bundle collateral, cache). */
  nonce?: Uint8Array;
  /** Accept `unknown`: the responder cannot vouch either way (policy `allow-unavailable`). */
  allowUnknown?: boolean;
  /** Accept certificateHold (nvtrust `--allow_hold_cert`). Default false. */
  allowHold?: boolean;
  /** Tolerated clock skew for thisUpdate in the future. Default 5 minutes. */
  skewMs?: number;
  /** Without `nonce`: oldest thisUpdate / producedAt accepted. Default {@link OCSP_MAX_AGE_MS}. */
  maxAgeMs?: number;
  /**
   * Remembers successful signature checks (response, delegated responder certificate) by exact signed bytes,
   * signature and key (x509/chain.ts). Every other check runs each time.
   */
  signatures?: SignatureMemo;
  /** CertID computation (issuer name and key hashes); default {@link certIdFor}. */
  certId?: CertIdFn;
}

export interface OcspResult {
  status: 'good' | 'unknown' | 'revoked';
  reason?: string;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

/** Verifies a response about `cert` (issued by `issuer`) and returns the status it vouches for. */
export async function checkOcspResponse(resp: OcspResponse, cert: Certificate, issuer: Certificate, opts: OcspCheckOptions): Promise<OcspResult> {
  if (resp.responseStatus !== 0 || !resp.basic) {
    throw new VerificationError('ERR_NV_OCSP_STATUS', `OCSP responder answered status ${resp.responseStatus} (not successful)`);
  }
  const b = resp.basic;
  const signer = await responderCertificate(b, issuer, opts.now, opts.signatures);
  const signed = opts.signatures ? opts.signatures.verify(b, signer) : verifySignature(b.signatureAlgorithm, signer.spki, b.tbs, b.signature);
  if (!(await signed)) {
    throw new VerificationError('ERR_NV_OCSP_SIGNATURE_INVALID', 'OCSP response signature does not verify');
  }
  if (opts.nonce && !(b.nonce && equalBytes(b.nonce, opts.nonce))) {
    throw new VerificationError('ERR_NV_OCSP_NONCE_MISMATCH', `OCSP response nonce ${b.nonce ? toHex(b.nonce) : 'absent'} is not ours`);
  }
  let single: SingleResponse | undefined;
  for (const r of b.responses) {
    const mine = await (opts.certId ?? certIdFor)(cert, issuer, r.certId.hash);
    if (
      equalBytes(r.certId.issuerNameHash, mine.issuerNameHash) &&
      equalBytes(r.certId.issuerKeyHash, mine.issuerKeyHash) &&
      equalBytes(r.certId.serialNumber, mine.serialNumber)
    ) {
      single = r;
      break;
    }
  }
  if (!single) throw new VerificationError('ERR_NV_OCSP_CERT_MISMATCH', `OCSP response says nothing about ${cert.subject.cn ?? 'the certificate'}`);
  const skew = opts.skewMs ?? 5 * 60_000;
  const now = opts.now.getTime();
  const window = `valid ${single.thisUpdate.toISOString()} .. ${single.nextUpdate?.toISOString() ?? '-'}, produced ${b.producedAt.toISOString()}`;
  if (single.thisUpdate.getTime() > now + skew || (single.nextUpdate && single.nextUpdate < opts.now)) {
    throw new VerificationError('ERR_NV_OCSP_STALE', `OCSP response ${window}, not at ${opts.now.toISOString()}`);
  }
  if (!opts.nonce) {
    // No nonce echo: the response's own times are its only freshness. RFC 6960 §4.2.2.1: a response without
    // nextUpdate says newer information is always available, so it bounds nothing; and even with one, a long
    // validity period would let an old "good" be replayed after a revocation.
    const maxAge = opts.maxAgeMs ?? OCSP_MAX_AGE_MS;
    if (!single.nextUpdate) throw new VerificationError('ERR_NV_OCSP_STALE', `OCSP response without nonce has no nextUpdate (${window})`);
    const produced = b.producedAt.getTime();
    if (now - single.thisUpdate.getTime() > maxAge || now - produced > maxAge || produced > now + skew) {
      throw new VerificationError('ERR_NV_OCSP_STALE', `OCSP response without nonce ${window}: not within the ${maxAge / 3_600_000} h before ${opts.now.toISOString()}`);
    }
  }
  const base = { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  const s = single.certStatus;
  if (s.status === 'revoked') {
    if (s.reason === 'certificateHold') {
      if (!opts.allowHold) throw new VerificationError('ERR_NV_OCSP_HOLD', `${cert.subject.cn ?? 'certificate'} is on hold`);
      return { status: 'revoked', reason: s.reason, ...base };
    }
    throw new VerificationError(
      'ERR_NV_OCSP_REVOKED',
      `${cert.subject.cn ?? 'certificate'} was revoked ${s.revocationTime.toISOString()} (${s.reason ?? 'no reason given'})`,
    );
  }
  if (s.status === 'unknown') {
    if (!opts.allowUnknown) throw new VerificationError('ERR_NV_OCSP_UNKNOWN', `OCSP responder does not know ${cert.subject.cn ?? 'the certificate'}`);
    return { status: 'unknown', ...base };
  }
  return { status: 'good', ...base };
}

/**
 * RFC 6960 §4.2.2.2: the signer is the issuing CA itself, or a certificate in the response issued by it,
 * valid at `now`, with extendedKeyUsage id-kp-OCSPSigning.
 */
async function responderCertificate(b: NonNullable<OcspResponse['basic']>, issuer: Certificate, now: Date, memo: SignatureMemo | undefined): Promise<Certificate> {
  const matches = async (c: Certificate): Promise<boolean> =>
    'byName' in b.responderId ? equalBytes(b.responderId.byName, c.subject.raw) : equalBytes(b.responderId.byKey, await digest('SHA-1', publicKeyBits(c)));
  if (await matches(issuer)) return issuer;
  for (const c of b.certs) {
    if (!(await matches(c))) continue;
    const eku = c.extension(OID_EXT_KEY_USAGE);
    const ekus = eku ? wrapParse(() => sequence(decodeDer(eku.value), 'ExtKeyUsage').map((n) => readOid(n))) : [];
    const ok =
      ekus.includes(OID_KP_OCSP_SIGNING) &&
      equalBytes(c.issuer.raw, issuer.subject.raw) &&
      now >= c.notBefore &&
      now <= c.notAfter &&
      (await (memo ? memo.verify(c, issuer) : verifySignature(c.signatureAlgorithm, issuer.spki, c.tbs, c.signature)));
    if (!ok) break;
    return c;
  }
  throw new VerificationError('ERR_NV_OCSP_RESPONDER_INVALID', `OCSP response is not signed by ${issuer.subject.cn ?? 'the issuer'} or a responder it authorised`);
}
