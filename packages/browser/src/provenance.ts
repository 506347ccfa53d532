/**
 * @ccinfer/browser/provenance — signed provenance in the browser: the WebCrypto Sigstore bundle verifier for a
 * policy's `snp.provenance` (a pod pinned by its release identity), with the Sigstore public-good trusted root
 * it checks against, offline. An entry of its own so the main client stays within its size budget; pass the
 * verifier to `createSecureClient({ provenance: { bundle, verifyBundle: webSigstoreBundleVerifier() } })`.
 * docs/design-notes.md "Sigstore in the browser" says what it checks and what it adds to a bundle.
 */
export {
  /** Verifies a Sigstore DSSE bundle (Fulcio chain and SCT, Rekor SET, inclusion proof and checkpoint, DSSE signature) on WebCrypto. */
  webSigstoreBundleVerifier,
  /** The Sigstore public-good trusted root shipped with ccinfer (Fulcio CAs, Rekor and CT log keys). */
  SIGSTORE_TRUSTED_ROOT,
  /** Where `SIGSTORE_TRUSTED_ROOT` was copied from (@sigstore/tuf's embedded TUF seeds, with its version). */
  SIGSTORE_TRUSTED_ROOT_SOURCE,
  type WebSigstoreBundleVerifierOptions,
} from '@ccinfer/verifier/sigstore';
