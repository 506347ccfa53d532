/**
 * X.509 v3 certificate parsing (RFC 5280 §4.1). No trust decisions: this only turns DER into a typed view and
 * rejects what is not a well-formed certificate. `tbs` is a view of the exact signed bytes.
 */
import { ParseError, fromBase64 } from '@ccinfer/core';
import {
  Tag,
  children,
  decodeDer,
  readBitFlags,
  readBitStringBytes,
  readBoolean,
  readOctets,
  readOid,
  readSmallInt,
  readString,
  readTime,
  readUnsigned,
  sequence,
  type DerNode,
} from '@ccinfer/core/internal';
import { OID } from './oids.js';

export interface AlgorithmIdentifier {
  oid: string;
  /** Raw DER of the parameters, if present. */
  params: DerNode | undefined;
  /** Raw DER of the whole AlgorithmIdentifier (for equality checks). */
  raw: Uint8Array;
}

export interface Name {
  raw: Uint8Array;
  attributes: { oid: string; value: string }[];
  /** First commonName, if any. */
  cn: string | undefined;
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** Contents of extnValue (the DER the extension defines). */
  value: Uint8Array;
}

export interface Certificate {
  raw: Uint8Array;
  tbs: Uint8Array;
  version: number;
  serialNumber: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  publicKeyAlgorithm: AlgorithmIdentifier;
  extensions: Extension[];
  signature: Uint8Array;
  basicConstraints: { ca: boolean; pathLen: number | undefined } | undefined;
  /** KeyUsage bits (RFC 5280 §4.2.1.3), bit 5 = keyCertSign, bit 6 = cRLSign. */
  keyUsage: boolean[] | undefined;
  extension(oid: string): Extension | undefined;
}

/**
 * The string a private extension carries as one DER string of `tag` (AMD's productName / cspId are IA5String,
 * Fulcio's v2 extensions UTF8String), or undefined when the certificate lacks the extension. Anything else in
 * the extension calls `malformed`, which throws the caller's own code.
 */
export function stringExtension(cert: Certificate, oid: string, tag: number, name: string, malformed: (cause: unknown) => never): string | undefined {
  const ext = cert.extension(oid);
  if (!ext) return undefined;
  try {
    const node = decodeDer(ext.value);
    if (node.tag !== tag) throw new ParseError('ERR_DER_MALFORMED', `${name} has tag 0x${node.tag.toString(16)}, 0x${tag.toString(16)} expected`);
    return readString(node, name);
  } catch (cause) {
    return malformed(cause);
  }
}

export function parseAlgorithm(node: DerNode | undefined, what: string): AlgorithmIdentifier {
  const items = sequence(node, what);
  if (items.length < 1 || items.length > 2) throw new ParseError('ERR_X509_MALFORMED', `${what}: bad AlgorithmIdentifier`);
  return { oid: readOid(items[0], what), params: items[1], raw: node!.raw };
}

export function parseName(node: DerNode | undefined, what: string): Name {
  const attributes: Name['attributes'] = [];
  for (const rdn of sequence(node, what)) {
    for (const atv of sequence(rdn, `${what} RDN`, Tag.Set)) {
      const [type, value] = sequence(atv, `${what} attribute`);
      attributes.push({ oid: readOid(type, `${what} attribute type`), value: readString(value, `${what} attribute value`) });
    }
  }
  return { raw: node!.raw, attributes, cn: attributes.find((a) => a.oid === OID.commonName)?.value };
}

/**
 * The one element inside an EXPLICIT context tag (X.690 §8.14.2: an explicit tag wraps exactly one
 * encoding). Reading only the first child would let a second element — say, another Extensions SEQUENCE
 * with an unknown critical extension — ride along unseen by every check.
 */
export function explicitInner(node: DerNode, what: string, tag: number): DerNode {
  const inner = children(node);
  if (inner.length !== 1 || inner[0]!.tag !== tag) {
    throw new ParseError('ERR_X509_MALFORMED', `${what}: an explicit tag must hold exactly one element of tag 0x${tag.toString(16)}, found ${inner.map((n) => `0x${n.tag.toString(16)}`).join(', ') || 'none'}`);
  }
  return inner[0]!;
}

/**
 * `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension` (RFC 5280 §4.1), shared by certificates, CRLs and
 * CRL entries: DER booleans (no explicit critical FALSE), no extra fields, each extension at most once
 * (§4.2 for certificates; the same ambiguity for CRLs).
 */
export function parseExtensionList(node: DerNode | undefined, what: string): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  const list = sequence(node, what);
  if (list.length === 0) throw new ParseError('ERR_X509_MALFORMED', `${what}: empty (SIZE (1..MAX))`);
  for (const ext of list) {
    const items = sequence(ext, 'Extension');
    const oid = readOid(items[0], 'extnID');
    let critical = false;
    let i = 1;
    if (items[i]?.tag === Tag.Boolean) {
      critical = readBoolean(items[i], 'critical');
      // DER: DEFAULT FALSE must be omitted (X.690 §11.5).
      if (!critical) throw new ParseError('ERR_X509_MALFORMED', `extension ${oid}: explicit critical FALSE is not DER`);
      i++;
    }
    const value = readOctets(items[i], 'extnValue');
    if (items.length !== i + 1) throw new ParseError('ERR_X509_MALFORMED', `extension ${oid}: extra fields`);
    if (seen.has(oid)) throw new ParseError('ERR_X509_MALFORMED', `extension ${oid} appears twice`);
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

function parseBasicConstraints(ext: Extension | undefined): Certificate['basicConstraints'] {
  if (!ext) return undefined;
  const items = sequence(decodeDer(ext.value), 'BasicConstraints');
  let ca = false;
  let pathLen: number | undefined;
  let i = 0;
  if (items[i]?.tag === Tag.Boolean) ca = readBoolean(items[i++], 'cA');
  if (items[i]?.tag === Tag.Integer) pathLen = readSmallInt(items[i++], 'pathLenConstraint');
  if (i !== items.length) throw new ParseError('ERR_X509_MALFORMED', 'BasicConstraints: extra fields');
  return { ca, pathLen };
}

/** Parses one DER certificate. Throws ParseError `ERR_X509_MALFORMED` (or `ERR_DER_MALFORMED`). */
export function parseCertificate(der: Uint8Array): Certificate {
  const top = decodeDer(der);
  const parts = sequence(top, 'Certificate');
  if (parts.length !== 3) throw new ParseError('ERR_X509_MALFORMED', 'Certificate must have 3 fields');
  const [tbsNode, sigAlgNode, sigNode] = parts as [DerNode, DerNode, DerNode];
  const tbs = sequence(tbsNode, 'TBSCertificate');
  let i = 0;
  let version = 1;
  if (tbs[0]?.tag === 0xa0) {
    version = readSmallInt(explicitInner(tbs[0], 'version [0]', Tag.Integer), 'version') + 1;
    i++;
  }
  if (version !== 3 && version !== 1) throw new ParseError('ERR_X509_MALFORMED', `unsupported certificate version ${version}`);
  // Serial numbers are positive (RFC 5280 §4.1.2.2); AMD leaves use 0, which we accept.
  const serialNumber = readUnsigned(tbs[i++], 'serialNumber');
  const tbsSigAlg = parseAlgorithm(tbs[i++], 'signature');
  const issuer = parseName(tbs[i++], 'issuer');
  const validity = sequence(tbs[i++], 'validity');
  if (validity.length !== 2) throw new ParseError('ERR_X509_MALFORMED', 'validity must have 2 fields');
  const notBefore = readTime(validity[0], 'notBefore');
  const notAfter = readTime(validity[1], 'notAfter');
  const subject = parseName(tbs[i++], 'subject');
  const spkiNode = tbs[i++];
  const spkiItems = sequence(spkiNode, 'subjectPublicKeyInfo');
  if (spkiItems.length !== 2) throw new ParseError('ERR_X509_MALFORMED', 'subjectPublicKeyInfo must have 2 fields');
  const publicKeyAlgorithm = parseAlgorithm(spkiItems[0], 'subjectPublicKeyInfo.algorithm');
  readBitStringBytes(spkiItems[1], 'subjectPublicKey');
  // issuerUniqueID [1] and subjectUniqueID [2] are obsolete but legal; skip them.
  while (tbs[i]?.tag === 0x81 || tbs[i]?.tag === 0xa1 || tbs[i]?.tag === 0x82 || tbs[i]?.tag === 0xa2) i++;
  let extensions: Extension[] = [];
  if (tbs[i]?.tag === 0xa3) {
    if (version !== 3) throw new ParseError('ERR_X509_MALFORMED', 'extensions require version 3');
    extensions = parseExtensionList(explicitInner(tbs[i++]!, 'extensions [3]', Tag.Sequence), 'Extensions');
  }
  if (i !== tbs.length) throw new ParseError('ERR_X509_MALFORMED', 'TBSCertificate has trailing fields');
  const signatureAlgorithm = parseAlgorithm(sigAlgNode, 'signatureAlgorithm');
  // RFC 5280 §4.1.1.2: signatureAlgorithm MUST equal tbsCertificate.signature.
  if (!sameBytes(signatureAlgorithm.raw, tbsSigAlg.raw)) {
    throw new ParseError('ERR_X509_MALFORMED', 'signatureAlgorithm differs from tbsCertificate.signature');
  }
  const signature = readBitStringBytes(sigNode, 'signatureValue');
  const extension = (oid: string): Extension | undefined => extensions.find((e) => e.oid === oid);
  const ku = extension(OID.keyUsage);
  return {
    raw: top.raw,
    tbs: tbsNode.raw,
    version,
    serialNumber,
    signatureAlgorithm,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: spkiNode!.raw,
    publicKeyAlgorithm,
    extensions,
    signature,
    basicConstraints: parseBasicConstraints(extension(OID.basicConstraints)),
    keyUsage: ku ? readBitFlags(decodeDer(ku.value), 'KeyUsage') : undefined,
    extension,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/**
 * Decodes every `-----BEGIN <label>-----` block of a PEM text, in order. Text outside the blocks is ignored
 * (RFC 7468 §2: explanatory text), but every BEGIN / END line of this label must belong to a complete
 * block: an unterminated or mislabelled block is an error, not something to drop silently.
 */
export function decodePem(text: string, label = 'CERTIFICATE'): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  for (const m of text.matchAll(re)) out.push(fromBase64(m[1]!, 'ERR_X509_PEM_INVALID'));
  const markers = text.match(new RegExp(`-----(?:BEGIN|END) ${label}-----`, 'g'))?.length ?? 0;
  if (markers !== 2 * out.length) throw new ParseError('ERR_X509_PEM_INVALID', `PEM: ${markers - 2 * out.length} ${label} BEGIN/END line(s) outside a complete block`);
  return out;
}

/**
 * Certificates from PEM text or a concatenation of DER certificates (both appear in the wild, e.g. NVIDIA
 * evidence carries either). Throws when nothing parses.
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? new TextDecoder().decode(input) : undefined;
  if (text !== undefined) {
    const ders = decodePem(text);
    if (ders.length === 0) throw new ParseError('ERR_X509_PEM_INVALID', 'no PEM certificate found');
    return ders.map(parseCertificate);
  }
  const bytes = input as Uint8Array;
  const out: Certificate[] = [];
  for (let p = 0; p < bytes.length; ) {
    const len = derElementLength(bytes, p);
    out.push(parseCertificate(bytes.subarray(p, p + len)));
    p += len;
  }
  if (out.length === 0) throw new ParseError('ERR_X509_MALFORMED', 'no certificate found');
  return out;
}

function looksLikePem(b: Uint8Array): boolean {
  const head = String.fromCharCode(...b.subarray(0, 64));
  return head.includes('-----BEGIN');
}

/** Length of the DER element starting at `p`, bounds-checked. */
function derElementLength(bytes: Uint8Array, p: number): number {
  if (bytes[p] !== Tag.Sequence || p + 2 > bytes.length) throw new ParseError('ERR_X509_MALFORMED', `no certificate at offset ${p}`, { offset: p });
  let len = bytes[p + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4 || p + 2 + n > bytes.length) throw new ParseError('ERR_X509_MALFORMED', `bad length at offset ${p}`, { offset: p });
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + bytes[p + 2 + k]!;
    hdr += n;
  }
  if (p + hdr + len > bytes.length) throw new ParseError('ERR_X509_MALFORMED', `certificate at offset ${p} is truncated`, { offset: p });
  return hdr + len;
}

