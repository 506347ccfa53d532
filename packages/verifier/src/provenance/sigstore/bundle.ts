/**
 * The Sigstore bundle (protobuf-specs `sigstore_bundle.proto`, JSON mapping) → typed structure. Parsing only, no
 * trust decisions; what is parsed here is exactly what `verify.ts` checks:
 *
 * - `verificationMaterial.certificate` (v0.3) or `x509CertificateChain` (v0.1/v0.2, leaf first): the Fulcio
 *   signing certificate. A bare public key carries no release identity, so it is refused.
 * - `verificationMaterial.tlogEntries`: Rekor entries (`sigstore_rekor.proto` TransparencyLogEntry).
 * - `dsseEnvelope` with exactly one signature (the bundle spec allows one): the signed in-toto statement.
 *
 * protobuf JSON writes int64 as a decimal string (numbers are accepted too) and bytes as base64.
 */
import { ParseError, fromBase64 } from '@ccinfer/core';

/** Bundle media types this verifier reads (protobuf-specs "Bundle" mediaType, v0.1 to v0.3). */
export const BUNDLE_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
] as const;

export interface InclusionProof {
  /** Index of the entry in the (possibly sharded) log tree the proof is for. */
  logIndex: bigint;
  rootHash: Uint8Array;
  treeSize: bigint;
  /** Audit path, leaf side first (RFC 9162 §2.1.3). */
  hashes: Uint8Array[];
  /** Signed note of the log's checkpoint (C2SP signed-note / tlog-checkpoint). */
  checkpoint: string;
}

export interface TlogEntry {
  /** Global log index (decimal string: it can exceed 2^53). */
  logIndex: string;
  /** SHA-256 of the log's public key (Rekor v1 log ID). */
  logId: Uint8Array;
  kind: string;
  version: string;
  /** Seconds since the epoch, as the log recorded it (decimal string). */
  integratedTime: string;
  /** Signed entry timestamp: the log's signature over the entry (Rekor "SET"). */
  signedEntryTimestamp: Uint8Array | undefined;
  inclusionProof: InclusionProof | undefined;
  /** The canonical entry body the log hashed (RFC 6962 leaf). */
  canonicalizedBody: Uint8Array;
}

export interface SigstoreBundle {
  mediaType: string;
  /** DER of the Fulcio signing certificate. */
  certificate: Uint8Array;
  tlogEntries: TlogEntry[];
  envelope: { payloadType: string; payload: Uint8Array; signature: Uint8Array };
}

const invalid = (message: string, cause?: unknown): never => {
  throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', `Sigstore bundle: ${message}`, cause === undefined ? undefined : { cause });
};

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, what: string): Obj {
  return isObject(v) ? v : invalid(`${what} is not an object`);
}

function str(v: unknown, what: string): string {
  return typeof v === 'string' && v.length > 0 ? v : invalid(`${what} is not a non-empty string`);
}

function bytes(v: unknown, what: string): Uint8Array {
  // protobuf JSON accepts standard and URL-safe base64, with or without padding.
  const s = str(v, what);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) invalid(`${what} is not base64`);
  return fromBase64(s.replace(/-/g, '+').replace(/_/g, '/'), 'ERR_PROVENANCE_BUNDLE_INVALID');
}

/** A protobuf int64/uint64 field: decimal string or safe integer, no sign, no leading zeros. */
function uint(v: unknown, what: string): string {
  const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : typeof v === 'string' ? v : '';
  if (!/^(0|[1-9][0-9]{0,19})$/.test(s)) invalid(`${what} is not a non-negative integer`);
  return s;
}

function inclusionProof(v: unknown, what: string): InclusionProof | undefined {
  if (v === undefined) return undefined;
  const p = obj(v, what);
  const hashes = p['hashes'] ?? [];
  if (!Array.isArray(hashes)) invalid(`${what}.hashes is not an array`);
  const cp = obj(p['checkpoint'], `${what}.checkpoint`);
  const proof: InclusionProof = {
    logIndex: BigInt(uint(p['logIndex'], `${what}.logIndex`)),
    rootHash: bytes(p['rootHash'], `${what}.rootHash`),
    treeSize: BigInt(uint(p['treeSize'], `${what}.treeSize`)),
    hashes: Array.from(hashes as unknown[], (h, i) => bytes(h, `${what}.hashes[${i}]`)),
    checkpoint: str(cp['envelope'], `${what}.checkpoint.envelope`),
  };
  // RFC 6962 §2.1: every node of the SHA-256 tree is 32 bytes.
  if (proof.rootHash.length !== 32 || proof.hashes.some((h) => h.length !== 32)) invalid(`${what} has a hash that is not 32 bytes`);
  return proof;
}

function tlogEntry(v: unknown, i: number): TlogEntry {
  const what = `tlogEntries[${i}]`;
  const e = obj(v, what);
  const kv = obj(e['kindVersion'], `${what}.kindVersion`);
  const promise = e['inclusionPromise'] === undefined ? undefined : obj(e['inclusionPromise'], `${what}.inclusionPromise`);
  return {
    logIndex: uint(e['logIndex'], `${what}.logIndex`),
    logId: bytes(obj(e['logId'], `${what}.logId`)['keyId'], `${what}.logId.keyId`),
    kind: str(kv['kind'], `${what}.kindVersion.kind`),
    version: str(kv['version'], `${what}.kindVersion.version`),
    integratedTime: uint(e['integratedTime'], `${what}.integratedTime`),
    signedEntryTimestamp: promise ? bytes(promise['signedEntryTimestamp'], `${what}.inclusionPromise.signedEntryTimestamp`) : undefined,
    inclusionProof: inclusionProof(e['inclusionProof'], `${what}.inclusionProof`),
    canonicalizedBody: bytes(e['canonicalizedBody'], `${what}.canonicalizedBody`),
  };
}

function signingCertificate(vm: Obj): Uint8Array {
  if (vm['certificate'] !== undefined) return bytes(obj(vm['certificate'], 'certificate')['rawBytes'], 'certificate.rawBytes');
  if (vm['x509CertificateChain'] !== undefined) {
    const certs = obj(vm['x509CertificateChain'], 'x509CertificateChain')['certificates'];
    if (!Array.isArray(certs) || certs.length === 0) return invalid('x509CertificateChain has no certificate');
    return bytes(obj(certs[0], 'x509CertificateChain.certificates[0]')['rawBytes'], 'x509CertificateChain.certificates[0].rawBytes');
  }
  // A public-key bundle carries no Fulcio identity, so no release identity could be checked.
  return invalid('the bundle is signed by a bare public key, not a Fulcio certificate');
}

/** Parses a Sigstore bundle (parsed JSON) holding a DSSE envelope signed with a Fulcio certificate. */
export function parseSigstoreBundle(json: unknown): SigstoreBundle {
  const b = obj(json, 'the bundle');
  const mediaType = str(b['mediaType'], 'mediaType');
  if (!(BUNDLE_MEDIA_TYPES as readonly string[]).includes(mediaType)) invalid(`unknown mediaType ${mediaType}`);
  const vm = obj(b['verificationMaterial'], 'verificationMaterial');
  const certificate = signingCertificate(vm);
  // RFC 3161 timestamps would be a second time source; this verifier uses the log's integrated time only, and
  // refuses what it would otherwise leave unchecked.
  const tsa = vm['timestampVerificationData'] === undefined ? undefined : obj(vm['timestampVerificationData'], 'timestampVerificationData')['rfc3161Timestamps'];
  if (Array.isArray(tsa) ? tsa.length > 0 : tsa !== undefined) invalid('RFC 3161 timestamps are not supported (the Rekor integrated time is the only time source)');
  const entries = vm['tlogEntries'];
  if (!Array.isArray(entries) || entries.length === 0) invalid('no transparency log entry');
  if (b['messageSignature'] !== undefined || b['dsseEnvelope'] === undefined) invalid('the bundle does not hold a DSSE envelope (an in-toto statement)');
  const env = obj(b['dsseEnvelope'], 'dsseEnvelope');
  const sigs = env['signatures'];
  if (!Array.isArray(sigs) || sigs.length !== 1) invalid('the DSSE envelope must carry exactly one signature');
  return {
    mediaType,
    certificate,
    tlogEntries: Array.from(entries as unknown[], tlogEntry),
    envelope: {
      payloadType: str(env['payloadType'], 'dsseEnvelope.payloadType'),
      payload: bytes(env['payload'], 'dsseEnvelope.payload'),
      signature: bytes(obj((sigs as unknown[])[0], 'dsseEnvelope.signatures[0]')['sig'], 'dsseEnvelope.signatures[0].sig'),
    },
  };
}
