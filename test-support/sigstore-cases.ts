/**
 * Negative cases for the Sigstore bundle verifiers, shared by the Node side-by-side test
 * (packages/node/test/provenance-parity.test.ts: @sigstore/verify and the WebCrypto verifier) and the Chromium
 * test (packages/browser/test/provenance.test.ts), so every runtime is held to one list. Each is the real Tinfoil
 * release bundle (test-vectors/peers/tinfoil-attestation-bundle.json) or the shipped trusted root with one thing
 * changed, and the error class and code both verifiers refuse it with.
 */
import { SIGSTORE_TRUSTED_ROOT } from '@ccinfer/verifier/sigstore';
import { readJson, vectorsDir } from './vectors.js';

/** The release identity that signed the Tinfoil bundle (a `snp.provenance` policy section). */
export const TINFOIL_RELEASE = {
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'tinfoilsh/confidential-model-router',
  workflowRef: 'refs/tags/v.*',
  predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1',
};

/** The Tinfoil vector: `sigstoreBundle`, `digest` (the statement subject), the SNP report set names. */
export const TINFOIL = readJson(vectorsDir('peers'), 'tinfoil-attestation-bundle.json');
export const TINFOIL_BUNDLE: unknown = TINFOIL.sigstoreBundle;

const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));
/** A deep copy of `from` changed by `f`. */
export const mutate = (f: (b: any) => void, from: unknown = TINFOIL_BUNDLE): any => {
  const b = structuredClone(from) as any;
  f(b);
  return b;
};
const entry = (b: any) => b.verificationMaterial.tlogEntries[0];
const flipB64 = (s: string, at: number): string => {
  const x = b64(s);
  x[at]! ^= 1;
  return toB64(x);
};
const payloadJson = (x: any): any => JSON.parse(new TextDecoder().decode(b64(x.dsseEnvelope.payload)));
const utf8B64 = (s: string): string => toB64(new TextEncoder().encode(s));

const mid = new Date('2026-01-22T22:47:02Z').getTime() / 1000;
export const BUNDLE_CASES: [name: string, bundle: unknown, errorClass: 'VerificationError' | 'ParseError', code: string][] = [
  ['a tampered statement (another measurement in the payload)', mutate((x) => {
    const st = payloadJson(x);
    st.predicate.snp_measurement = '2dedaee13b84dc618efc73f685b16de46826380a2dd45df15da3dd8badbc9822cadf7bfc7595912c4517ba6fab1b52c0';
    x.dsseEnvelope.payload = utf8B64(JSON.stringify(st));
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a tampered signed entry timestamp', mutate((x) => {
    entry(x).inclusionPromise.signedEntryTimestamp = flipB64(entry(x).inclusionPromise.signedEntryTimestamp, 20);
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['an integrated time the SET does not sign (still inside the certificate validity)', mutate((x) => {
    entry(x).integratedTime = String(mid);
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['another log index than the SET signs', mutate((x) => {
    entry(x).logIndex = String(Number(entry(x).logIndex) + 1);
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a tampered inclusion proof hash', mutate((x) => {
    entry(x).inclusionProof.hashes[3] = flipB64(entry(x).inclusionProof.hashes[3], 0);
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['an inclusion proof for another leaf index', mutate((x) => {
    entry(x).inclusionProof.logIndex = String(Number(entry(x).inclusionProof.logIndex) - 1);
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['an inclusion proof with a hash missing', mutate((x) => {
    entry(x).inclusionProof.hashes.pop();
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a checkpoint whose root hash line is changed (signature no longer covers it)', mutate((x) => {
    const cp = entry(x).inclusionProof.checkpoint;
    const lines = cp.envelope.split('\n');
    lines[2] = flipB64(lines[2], 5);
    cp.envelope = lines.join('\n');
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a checkpoint with a tampered signature', mutate((x) => {
    const cp = entry(x).inclusionProof.checkpoint;
    const [note, sig] = cp.envelope.split('\n\n');
    const [dash, name, s] = sig.trimEnd().split(' ');
    cp.envelope = `${note}\n\n${dash} ${name} ${flipB64(s, 30)}\n`;
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a checkpoint signed under another log name', mutate((x) => {
    const cp = entry(x).inclusionProof.checkpoint;
    cp.envelope = cp.envelope.replace('\u2014 rekor.sigstore.dev ', '\u2014 rekor.example.org ');
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['an entry of an unknown log', mutate((x) => {
    entry(x).logId.keyId = toB64(new Uint8Array(32).fill(7));
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['an entry without a signed entry timestamp', mutate((x) => {
    delete entry(x).inclusionPromise;
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a tampered DSSE signature (the log names the original)', mutate((x) => {
    x.dsseEnvelope.signatures[0].sig = flipB64(x.dsseEnvelope.signatures[0].sig, 40);
  }), 'VerificationError', 'ERR_PROVENANCE_TLOG_INVALID'],
  ['a changed payloadType (covered by the signature, not by the log entry)', mutate((x) => {
    x.dsseEnvelope.payloadType = 'application/vnd.in-toto+json;v=1';
  }), 'VerificationError', 'ERR_PROVENANCE_SIGNATURE_INVALID'],
  ['an integrated time after the certificate expired', mutate((x) => {
    entry(x).integratedTime = String(Number(entry(x).integratedTime) + 3600);
  }), 'VerificationError', 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['an integrated time before the certificate was issued', mutate((x) => {
    entry(x).integratedTime = String(Number(entry(x).integratedTime) - 60);
  }), 'VerificationError', 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['a signing certificate with one bit changed (chain signature)', mutate((x) => {
    x.verificationMaterial.certificate.rawBytes = flipB64(x.verificationMaterial.certificate.rawBytes, 400);
  }), 'VerificationError', 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['a message-signature bundle (no DSSE envelope)', mutate((x) => {
    delete x.dsseEnvelope;
    x.messageSignature = { messageDigest: { algorithm: 'SHA2_256', digest: toB64(new Uint8Array(32)) }, signature: entry(x).inclusionPromise.signedEntryTimestamp };
  }), 'ParseError', 'ERR_PROVENANCE_BUNDLE_INVALID'],
  ['a bare public key instead of a certificate', mutate((x) => {
    delete x.verificationMaterial.certificate;
    x.verificationMaterial.publicKey = { hint: 'key' };
  }), 'ParseError', 'ERR_PROVENANCE_BUNDLE_INVALID'],
  ['an unknown media type', mutate((x) => {
    x.mediaType = 'application/vnd.dev.sigstore.bundle.v9+json';
  }), 'ParseError', 'ERR_PROVENANCE_BUNDLE_INVALID'],
  ['no bundle at all', null, 'ParseError', 'ERR_PROVENANCE_BUNDLE_INVALID'],
  ['something else', { mediaType: 'nonsense' }, 'ParseError', 'ERR_PROVENANCE_BUNDLE_INVALID'],
];

export const ROOT_CASES: [name: string, trustedRoot: unknown, code: string][] = [
  ['no Fulcio CA that issued the certificate', mutate((r) => {
    r.certificateAuthorities = r.certificateAuthorities.filter((ca: any) => ca.validFor.end !== undefined);
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['the issuing Fulcio CA retired before the entry', mutate((r) => {
    for (const ca of r.certificateAuthorities) ca.validFor.end = '2025-12-31T00:00:00Z';
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['no CT log (the SCT cannot be checked)', mutate((r) => {
    r.ctlogs = [];
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['the CT log key retired before the SCT', mutate((r) => {
    for (const l of r.ctlogs) l.publicKey.validFor.end = '2025-12-31T00:00:00Z';
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['another key under the CT log ID (the SCT signature fails)', mutate((r) => {
    for (const l of r.ctlogs) l.publicKey.rawBytes = r.tlogs[0].publicKey.rawBytes;
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_CERTIFICATE_INVALID'],
  ['another key under the Rekor log ID (SET and checkpoint fail)', mutate((r) => {
    r.tlogs[0].publicKey.rawBytes = r.ctlogs[1].publicKey.rawBytes;
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_TLOG_INVALID'],
  ['the Rekor key retired before the entry', mutate((r) => {
    for (const l of r.tlogs) l.publicKey.validFor.end = '2025-12-31T00:00:00Z';
  }, SIGSTORE_TRUSTED_ROOT), 'ERR_PROVENANCE_TLOG_INVALID'],
];

