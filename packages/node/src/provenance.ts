/**
 * The Sigstore bundle verifier for signed provenance, on the maintained sigstore libraries (`@sigstore/bundle`,
 * `@sigstore/verify`, `@sigstore/protobuf-specs`). They use Node built-ins (node:crypto, Buffer), which is why
 * this lives in `@ccinfer/node` and is injected into `@ccinfer/verifier` as a `SigstoreBundleVerifier`.
 *
 * Verification is offline, against the trusted root shipped with @ccinfer/verifier (`SIGSTORE_TRUSTED_ROOT`, from
 * @sigstore/tuf's embedded TUF seeds) or one given by the caller. It requires: the signing certificate chains to
 * a Fulcio CA of the root and carries an SCT from a trusted CT log; exactly the verified Rekor entry matches the
 * DSSE envelope (entry body hashes), with its inclusion proof against a signed checkpoint and its signed entry
 * timestamp (SET) under a trusted Rekor key; the certificate was valid at that integrated time; and the DSSE
 * signature (over PAE(payloadType, payload), DSSE v1) verifies with the certificate's key.
 */
import { bundleFromJSON, isBundleWithDsseEnvelope, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial, VerificationError as SigstoreError } from '@sigstore/verify';
import { ConfigError, ParseError, VerificationError, type ErrorCode } from '@ccinfer/core';
import type { SigstoreBundleVerifier, VerifiedSigstoreBundle } from '@ccinfer/verifier';
import { SIGSTORE_TRUSTED_ROOT } from '@ccinfer/verifier/sigstore';

export interface SigstoreBundleVerifierOptions {
  /** A Sigstore `trusted_root.json` document (parsed). Default `SIGSTORE_TRUSTED_ROOT` (the public-good instance). */
  trustedRoot?: unknown;
}

/** @sigstore/verify error codes → ccinfer codes, by what failed. */
function mapCode(code: string): ErrorCode {
  if (code === 'SIGNATURE_ERROR') return 'ERR_PROVENANCE_SIGNATURE_INVALID';
  if (code.startsWith('TLOG') || code === 'TIMESTAMP_ERROR') return 'ERR_PROVENANCE_TLOG_INVALID';
  if (code === 'CERTIFICATE_ERROR' || code === 'PUBLIC_KEY_ERROR' || code === 'UNTRUSTED_SIGNER_ERROR') return 'ERR_PROVENANCE_CERTIFICATE_INVALID';
  return 'ERR_PROVENANCE_BUNDLE_INVALID';
}

function trustMaterial(json: unknown): ReturnType<typeof toTrustMaterial> {
  try {
    if (typeof json !== 'object' || json === null) throw new TypeError('not an object');
    const root = TrustedRoot.fromJSON(json);
    if (root.certificateAuthorities.length === 0 || root.tlogs.length === 0) throw new TypeError('no Fulcio CA or no Rekor log');
    return toTrustMaterial(root);
  } catch (cause) {
    throw new ConfigError('ERR_PROVENANCE_TRUSTED_ROOT_INVALID', 'the Sigstore trusted root is not a TrustedRoot document with a Fulcio CA and a Rekor log', { cause });
  }
}

function signingCertificate(bundle: Bundle): Uint8Array {
  const vm = bundle.verificationMaterial.content;
  const der = vm.$case === 'certificate' ? vm.certificate.rawBytes : vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates[0]?.rawBytes : undefined;
  // A public-key bundle carries no Fulcio identity, so no release identity could be checked.
  if (!der) throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', 'the bundle is signed by a bare public key, not a Fulcio certificate');
  return new Uint8Array(der);
}

/**
 * Returns a `SigstoreBundleVerifier` for `ProvenanceInput.verifyBundle`: it parses the bundle JSON, verifies it
 * (chain to Fulcio, SCT, Rekor inclusion proof + checkpoint + SET, DSSE signature) and returns the signed
 * payload, the signing certificate and the log entry. Throws `ERR_PROVENANCE_BUNDLE_INVALID` (not a DSSE
 * bundle), `ERR_PROVENANCE_CERTIFICATE_INVALID`, `ERR_PROVENANCE_TLOG_INVALID`, `ERR_PROVENANCE_SIGNATURE_INVALID`;
 * a bad `trustedRoot` throws ConfigError `ERR_PROVENANCE_TRUSTED_ROOT_INVALID` at once.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { verifySnp } from '@ccinfer/verifier';
 * import { sigstoreBundleVerifier } from '@ccinfer/node';
 *
 * const bundle = JSON.parse(await readFile('release.sigstore.json', 'utf8'));
 * const doc = await verifySnp(evidence, { policy: policy.snp, provenance: { bundle, verifyBundle: sigstoreBundleVerifier() } });
 * ```
 */
export function sigstoreBundleVerifier(options: SigstoreBundleVerifierOptions = {}): SigstoreBundleVerifier {
  const verifier = new Verifier(trustMaterial(options.trustedRoot ?? SIGSTORE_TRUSTED_ROOT), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  return async (json: unknown): Promise<VerifiedSigstoreBundle> => {
    let bundle: Bundle;
    try {
      bundle = bundleFromJSON(json);
    } catch (cause) {
      throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', 'not a valid Sigstore bundle', { cause });
    }
    if (!isBundleWithDsseEnvelope(bundle)) throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', 'the Sigstore bundle does not hold a DSSE envelope (an in-toto statement)');
    const certificate = signingCertificate(bundle);
    try {
      verifier.verify(toSignedEntity(bundle));
    } catch (cause) {
      const code = cause instanceof SigstoreError ? mapCode(cause.code) : 'ERR_PROVENANCE_BUNDLE_INVALID';
      const msg = cause instanceof Error ? cause.message : String(cause);
      if (code === 'ERR_PROVENANCE_BUNDLE_INVALID') throw new ParseError(code, `Sigstore bundle rejected: ${msg}`, { cause });
      throw new VerificationError(code, `Sigstore bundle rejected: ${msg}`, { cause });
    }
    // The verifier needs a SET-backed timestamp (timestampThreshold 1), so the first entry with a promise is the one
    // whose integrated time the certificate was checked against.
    const entry = bundle.verificationMaterial.tlogEntries.find((e) => e.inclusionPromise) ?? bundle.verificationMaterial.tlogEntries[0]!;
    const env = bundle.content.dsseEnvelope;
    return {
      payloadType: env.payloadType,
      payload: new Uint8Array(env.payload),
      certificate,
      logIndex: entry.logIndex,
      integratedTime: new Date(Number(entry.integratedTime) * 1000),
    };
  };
}

export { SIGSTORE_TRUSTED_ROOT, SIGSTORE_TRUSTED_ROOT_SOURCE } from '@ccinfer/verifier/sigstore';
