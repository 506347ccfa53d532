/**
 * Signed certificate timestamps embedded in the Fulcio certificate (RFC 6962 §3.3, extension
 * 1.3.6.1.4.1.11129.2.4.2): a CT log's promise that it logged the precertificate, so a certificate Fulcio
 * issued is publicly auditable. Each SCT signs (§3.2) `version ‖ certificate_timestamp ‖ timestamp ‖
 * precert_entry ‖ SHA-256(issuer SPKI) ‖ uint24 len ‖ TBSCertificate without the SCT extension ‖ extensions`.
 * Every SCT must verify with a trusted CT log valid at its timestamp, and at least one must be present.
 * Everything refused here is `ERR_PROVENANCE_CERTIFICATE_INVALID`.
 */
import { VerificationError, concat, equalBytes, sha256, toBase64 } from '@ccinfer/core';
import { ByteReader, Tag, children, decodeDer, der, readOctets, readOid, tlv } from '@ccinfer/core/internal';
import type { Certificate } from '../../x509/index.js';
import { verifyLogSignature } from './keys.js';
import { within, type LogAuthority } from './trusted-root.js';

export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';

interface Sct {
  logId: Uint8Array;
  timestamp: bigint;
  extensions: Uint8Array;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Uint8Array;
}

const refuse = (message: string, cause?: unknown): never => {
  throw new VerificationError('ERR_PROVENANCE_CERTIFICATE_INVALID', `signing certificate SCT: ${message}`, cause === undefined ? undefined : { cause });
};

/** The TLS-encoded SignedCertificateTimestampList (RFC 6962 §3.3) inside the extension's OCTET STRING. */
function parseSctList(extValue: Uint8Array): Sct[] {
  try {
    const reader = (b: Uint8Array): ByteReader => new ByteReader(b, 'ERR_PROVENANCE_CERTIFICATE_INVALID');
    const r = reader(readOctets(decodeDer(extValue), 'SignedCertificateTimestampList'));
    const list = reader(r.bytesView(r.u16be()));
    if (r.remaining !== 0) refuse('trailing bytes after the SCT list');
    const out: Sct[] = [];
    while (list.remaining > 0) {
      const s = reader(list.bytesView(list.u16be()));
      // Only v1 (0) is defined; another version is a structure this verifier cannot know the signed form of.
      if (s.u8() !== 0) refuse('SCT version is not v1');
      const sct: Sct = {
        logId: s.bytesView(32),
        timestamp: (BigInt(s.u32be()) << 32n) | BigInt(s.u32be()),
        extensions: s.bytesView(s.u16be()),
        hashAlgorithm: s.u8(),
        signatureAlgorithm: s.u8(),
        signature: s.bytesView(s.u16be()),
      };
      if (s.remaining !== 0) refuse('trailing bytes after an SCT');
      out.push(sct);
    }
    return out;
  } catch (cause) {
    if (cause instanceof VerificationError) throw cause;
    return refuse('the SCT list is malformed', cause);
  }
}

/** The precertificate's TBSCertificate: the certificate's, with the SCT list extension removed (RFC 6962 §3.2). */
function precertTbs(cert: Certificate): Uint8Array {
  try {
    const fields = children(decodeDer(cert.tbs));
    // extensions [3] EXPLICIT Extensions (RFC 5280 §4.1): present, as the SCT list is one of them.
    const i = fields.findIndex((f) => f.tag === 0xa3);
    const exts = children(children(fields[i]!)[0]!).filter((e) => readOid(children(e)[0], 'extnID') !== SCT_LIST_OID);
    const rebuilt = fields.map((f, j) => (j === i ? tlv(0xa3, der.seq(...exts.map((e) => e.raw))) : f.raw));
    return tlv(Tag.Sequence, concat(...rebuilt));
  } catch (cause) {
    return refuse('the precertificate cannot be rebuilt from the certificate', cause);
  }
}

const u8 = (n: number): Uint8Array => Uint8Array.of(n);
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const u24 = (n: number): Uint8Array => Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
const u64 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return b;
};

/**
 * Verifies every SCT of `leaf` (issued by `issuer`) with the trusted CT logs; returns how many verified.
 * Throws when there is none or any one fails.
 */
export async function verifyScts(leaf: Certificate, issuer: Certificate, ctlogs: readonly LogAuthority[]): Promise<number> {
  const ext = leaf.extension(SCT_LIST_OID);
  if (!ext) return refuse('the certificate carries no SCT');
  const scts = parseSctList(ext.value);
  if (scts.length === 0) refuse('the SCT list is empty');
  const tbs = precertTbs(leaf);
  const issuerKeyHash = await sha256(issuer.spki);
  for (const sct of scts) {
    // digitally-signed struct (RFC 5246 §4.7): SHA-256 (4) with ECDSA (3) is what the trusted CT logs use.
    if (sct.hashAlgorithm !== 4 || sct.signatureAlgorithm !== 3) refuse(`SCT algorithm ${sct.hashAlgorithm}/${sct.signatureAlgorithm} is not SHA-256/ECDSA`);
    const at = new Date(Number(sct.timestamp));
    const logs = ctlogs.filter((l) => equalBytes(l.logId, sct.logId) && within(l.validFor, at));
    const signed = concat(u8(0), u8(0), u64(sct.timestamp), u16(1), issuerKeyHash, u24(tbs.length), tbs, u16(sct.extensions.length), sct.extensions);
    let ok = false;
    for (const log of logs) ok ||= await verifyLogSignature(log, signed, sct.signature);
    if (!ok) refuse(`the SCT of log ${toBase64(sct.logId)} does not verify with a trusted CT log`);
  }
  return scts.length;
}
