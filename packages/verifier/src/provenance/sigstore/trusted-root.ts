/**
 * The Sigstore trusted root (protobuf-specs `sigstore_trustroot.proto` TrustedRoot, JSON mapping) → the keys and
 * certificate authorities the bundle verifier trusts, each with its validity window (`validFor`: an authority
 * only counts for times inside it, so a retired key cannot vouch for later entries). Parsing only.
 */
import { ConfigError, fromBase64 } from '@ccinfer/core';
import { parseCertificate, type Certificate } from '../../x509/index.js';

export interface Window {
  start: Date;
  /** Open-ended when the root gives no end. */
  end: Date | undefined;
}

/** A transparency log (Rekor) or certificate transparency log key. */
export interface LogAuthority {
  baseUrl: string;
  /** protobuf-specs PublicKeyDetails name, e.g. `PKIX_ECDSA_P256_SHA_256`. */
  keyDetails: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** The log ID entries and SCTs name: SHA-256 of the key (RFC 6962 §3.2). */
  logId: Uint8Array;
  validFor: Window;
}

/** A Fulcio CA: its chain (intermediates first, self-signed root last) and validity window. */
export interface CertificateAuthority {
  chain: Certificate[];
  validFor: Window;
}

export interface TrustedRoot {
  certificateAuthorities: CertificateAuthority[];
  tlogs: LogAuthority[];
  ctlogs: LogAuthority[];
}

const MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

const invalid = (message: string, cause?: unknown): never => {
  throw new ConfigError('ERR_PROVENANCE_TRUSTED_ROOT_INVALID', `Sigstore trusted root: ${message}`, cause === undefined ? undefined : { cause });
};

type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : invalid(`${what} is not an object`));
// Array.from visits holes too (a sparse array's missing element is refused, not skipped).
const list = (v: unknown, what: string): unknown[] => (v === undefined ? [] : Array.isArray(v) ? Array.from(v) : invalid(`${what} is not an array`));

function b64(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || v.length === 0) return invalid(`${what} is not base64`);
  try {
    return fromBase64(v);
  } catch (cause) {
    return invalid(`${what} is not base64`, cause);
  }
}

function time(v: unknown, what: string): Date {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : invalid(`${what} is not an RFC 3339 time`);
}

function window(v: unknown, what: string): Window {
  const w = obj(v, what);
  return { start: time(w['start'], `${what}.start`), end: w['end'] === undefined ? undefined : time(w['end'], `${what}.end`) };
}

function logAuthority(v: unknown, what: string): LogAuthority {
  const t = obj(v, what);
  const pk = obj(t['publicKey'], `${what}.publicKey`);
  const baseUrl = t['baseUrl'];
  const keyDetails = pk['keyDetails'];
  if (typeof baseUrl !== 'string' || typeof keyDetails !== 'string') invalid(`${what} has no baseUrl or keyDetails`);
  // A checkpoint names its log by host (C2SP signed-note key name), so the base URL must be a URL.
  if (!URL.canParse(baseUrl as string)) invalid(`${what}.baseUrl is not a URL`);
  // A checkpoint key ID, when present, is the one the log's signed notes name (protobuf-specs TransparencyLogInstance).
  const id = t['checkpointKeyId'] ?? t['logId'];
  return {
    baseUrl: baseUrl as string,
    keyDetails: keyDetails as string,
    spki: b64(pk['rawBytes'], `${what}.publicKey.rawBytes`),
    logId: b64(obj(id, `${what}.logId`)['keyId'], `${what}.logId.keyId`),
    validFor: pk['validFor'] === undefined ? { start: new Date(0), end: undefined } : window(pk['validFor'], `${what}.publicKey.validFor`),
  };
}

function certificateAuthority(v: unknown, what: string): CertificateAuthority {
  const ca = obj(v, what);
  const certs = list(obj(ca['certChain'], `${what}.certChain`)['certificates'], `${what}.certChain.certificates`);
  if (certs.length === 0) invalid(`${what} has no certificate`);
  const chain = certs.map((c, i) => {
    try {
      return parseCertificate(b64(obj(c, `${what}.certChain.certificates[${i}]`)['rawBytes'], `${what}.certChain.certificates[${i}].rawBytes`));
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      return invalid(`${what}.certChain.certificates[${i}] is not a certificate`, cause);
    }
  });
  return { chain, validFor: ca['validFor'] === undefined ? { start: new Date(0), end: undefined } : window(ca['validFor'], `${what}.validFor`) };
}

/** Parses a TrustedRoot document; it must name at least one Fulcio CA and one Rekor log. */
export function parseTrustedRoot(json: unknown): TrustedRoot {
  const r = obj(json, 'the document');
  if (r['mediaType'] !== MEDIA_TYPE) invalid(`mediaType is ${String(r['mediaType'])}, expected ${MEDIA_TYPE}`);
  const root: TrustedRoot = {
    certificateAuthorities: list(r['certificateAuthorities'], 'certificateAuthorities').map((c, i) => certificateAuthority(c, `certificateAuthorities[${i}]`)),
    tlogs: list(r['tlogs'], 'tlogs').map((t, i) => logAuthority(t, `tlogs[${i}]`)),
    ctlogs: list(r['ctlogs'], 'ctlogs').map((t, i) => logAuthority(t, `ctlogs[${i}]`)),
  };
  if (root.certificateAuthorities.length === 0 || root.tlogs.length === 0) invalid('no Fulcio CA or no Rekor log');
  return root;
}

/** Whether `at` lies in the window (both ends inclusive, as protobuf-specs TimeRange). */
export function within(w: Window, at: Date): boolean {
  return w.start <= at && (w.end === undefined || at <= w.end);
}
