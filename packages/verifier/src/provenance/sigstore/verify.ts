/**
 * A Sigstore bundle verifier on WebCrypto only (no node:crypto, no Buffer), so signed provenance can be checked
 * in a browser. It checks what `sigstoreBundleVerifier` of `@ccinfer/node` checks with `@sigstore/verify`
 * (docs/design-notes.md "Sigstore in the browser"), in the same order and with the same error codes:
 *
 * 1. every Rekor entry carries a signed entry timestamp: its integrated time is the time everything below is
 *    judged at (the Fulcio certificate lives minutes; the log's signed time shows it was used while valid);
 * 2. the signing certificate chains to a Fulcio CA of the trusted root valid at that time, every certificate
 *    of the chain valid then (`ERR_PROVENANCE_CERTIFICATE_INVALID`);
 * 3. its embedded SCTs verify with the trusted CT logs, at least one (`…_CERTIFICATE_INVALID`);
 * 4. each Rekor entry: signed entry timestamp, inclusion proof to a signed checkpoint, and an entry body that
 *    is this envelope (`ERR_PROVENANCE_TLOG_INVALID`);
 * 5. the DSSE signature over PAE(payloadType, payload) verifies with the certificate's key
 *    (`ERR_PROVENANCE_SIGNATURE_INVALID`).
 *
 * What it returns is then appraised by `appraiseProvenance` (identity, statement, measurement), as for the
 * Node verifier.
 */
import { CcinferError, ParseError, VerificationError, concat, sha256, toHex, utf8 } from '@ccinfer/core';
import { parseCertificate, verifyChain, type Certificate } from '../../x509/index.js';
import type { SigstoreBundleVerifier, VerifiedSigstoreBundle } from '../appraise.js';
import { parseSigstoreBundle, type TlogEntry } from './bundle.js';
import { verifyLeafSignature } from './keys.js';
import { integratedTime, verifyDsseEntryBody, verifyInclusion, verifySignedEntryTimestamp } from './rekor.js';
import { verifyScts } from './sct.js';
import { SIGSTORE_TRUSTED_ROOT } from './trusted-root-data.js';
import { parseTrustedRoot, within, type CertificateAuthority } from './trusted-root.js';

export interface WebSigstoreBundleVerifierOptions {
  /** A Sigstore `trusted_root.json` document (parsed). Default `SIGSTORE_TRUSTED_ROOT` (the public-good instance). */
  trustedRoot?: unknown;
}

/** DSSE v1 pre-authentication encoding (DSSE `protocol.md`): what the envelope signature covers. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concat(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

const certificateError = (message: string, cause?: unknown): VerificationError =>
  new VerificationError('ERR_PROVENANCE_CERTIFICATE_INVALID', `signing certificate: ${message}`, cause === undefined ? undefined : { cause });

/**
 * The Fulcio path of `leaf` at `at`: leaf, then the chain of the first CA (valid at `at`) it verifies to. The
 * CA's self-signed root is the anchor, pinned by its SubjectPublicKeyInfo as every other chain in ccinfer.
 */
async function fulcioPath(leaf: Certificate, cas: readonly CertificateAuthority[], at: Date): Promise<Certificate[]> {
  let last: unknown;
  for (const ca of cas.filter((c) => within(c.validFor, at))) {
    const root = ca.chain[ca.chain.length - 1]!;
    try {
      await verifyChain([leaf, ...ca.chain], { anchors: [{ name: 'Fulcio', spkiSha256: toHex(await sha256(root.spki)) }], now: at });
      return [leaf, ...ca.chain];
    } catch (err) {
      if (!(err instanceof CcinferError)) throw err;
      last = err;
    }
  }
  throw certificateError(`does not chain to a Fulcio CA of the trusted root valid at ${at.toISOString()}`, last);
}

function signedTime(entry: TlogEntry): Date {
  // The SET is the only time source (RFC 3161 timestamps are refused by the parser).
  if (!entry.signedEntryTimestamp) throw new VerificationError('ERR_PROVENANCE_TLOG_INVALID', `Rekor entry ${entry.logIndex} has no signed entry timestamp`);
  return integratedTime(entry);
}

/**
 * Returns a `SigstoreBundleVerifier` for `ProvenanceInput.verifyBundle` that runs on WebCrypto alone (browsers,
 * Node, Deno, workers). Offline, against the trusted root shipped with ccinfer or `trustedRoot`. Throws
 * `ERR_PROVENANCE_BUNDLE_INVALID` (not a Fulcio-signed DSSE bundle), `ERR_PROVENANCE_CERTIFICATE_INVALID`,
 * `ERR_PROVENANCE_TLOG_INVALID`, `ERR_PROVENANCE_SIGNATURE_INVALID`; a bad `trustedRoot` throws ConfigError
 * `ERR_PROVENANCE_TRUSTED_ROOT_INVALID` at once. Reads Rekor v1 `dsse` 0.0.1 entries with ECDSA log keys
 * (what the public-good instance writes for DSSE bundles); other entry kinds are refused.
 *
 * @example
 * ```ts
 * import { createSecureClient } from '@ccinfer/browser';
 * import { webSigstoreBundleVerifier } from '@ccinfer/browser/provenance';
 *
 * const bundle = await (await fetch('/release.sigstore.json')).json();
 * const client = createSecureClient({ endpoint, policy, provenance: { bundle, verifyBundle: webSigstoreBundleVerifier() } });
 * ```
 */
export function webSigstoreBundleVerifier(options: WebSigstoreBundleVerifierOptions = {}): SigstoreBundleVerifier {
  const root = parseTrustedRoot(options.trustedRoot ?? SIGSTORE_TRUSTED_ROOT);
  return async (json: unknown): Promise<VerifiedSigstoreBundle> => {
    const bundle = parseSigstoreBundle(json);
    let leaf: Certificate;
    try {
      leaf = parseCertificate(bundle.certificate);
    } catch (cause) {
      throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', 'the signing certificate does not parse', { cause });
    }
    const times = bundle.tlogEntries.map(signedTime);
    let path: Certificate[] = [];
    for (const at of times) path = await fulcioPath(leaf, root.certificateAuthorities, at);
    await verifyScts(leaf, path[1]!, root.ctlogs);
    for (const entry of bundle.tlogEntries) {
      const log = await verifySignedEntryTimestamp(entry, root.tlogs);
      if (!entry.inclusionProof) throw new VerificationError('ERR_PROVENANCE_TLOG_INVALID', `Rekor entry ${entry.logIndex} has no inclusion proof`);
      await verifyInclusion(entry, entry.inclusionProof, log);
      await verifyDsseEntryBody(entry, bundle.envelope);
    }
    const { payloadType, payload, signature } = bundle.envelope;
    if (!(await verifyLeafSignature(leaf.spki, preAuthEncoding(payloadType, payload), signature))) {
      throw new VerificationError('ERR_PROVENANCE_SIGNATURE_INVALID', 'the DSSE signature does not verify with the signing certificate key');
    }
    const entry = bundle.tlogEntries[0]!;
    return { payloadType, payload, certificate: bundle.certificate, logIndex: entry.logIndex, integratedTime: times[0]! };
  };
}
