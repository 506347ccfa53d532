/** Error codes of the signed-provenance (Sigstore) appraisal, by stage. */
export type ProvenanceParseErrorCode =
  /** The bundle is not a Sigstore DSSE bundle, or its in-toto statement is malformed (JSON, duplicate keys, subject). */
  | 'ERR_PROVENANCE_BUNDLE_INVALID';

export type ProvenanceVerifyErrorCode =
  /** The signing certificate does not chain to a Fulcio CA of the trusted root (or its SCT is not valid). */
  | 'ERR_PROVENANCE_CERTIFICATE_INVALID'
  /** The Rekor entry does not match the bundle, or its inclusion proof / checkpoint / signed entry timestamp fails. */
  | 'ERR_PROVENANCE_TLOG_INVALID'
  /** The DSSE signature over the statement does not verify with the certificate's key. */
  | 'ERR_PROVENANCE_SIGNATURE_INVALID';

export type ProvenanceCollateralErrorCode =
  /** The policy names a release identity but no provenance bundle (or no bundle verifier) was supplied. */
  'ERR_PROVENANCE_MISSING';

export type ProvenancePolicyErrorCode =
  /** The certificate's OIDC issuer, repository, subject or workflow ref is not the policy's release identity. */
  | 'ERR_PROVENANCE_IDENTITY_MISMATCH'
  /** The statement's predicate type is not the policy's, or it lists no measurement where the policy says. */
  | 'ERR_PROVENANCE_PREDICATE'
  /** The statement's subject does not carry the digest the caller expected. */
  | 'ERR_PROVENANCE_SUBJECT_MISMATCH'
  /** The pod's launch measurement is not one the signed statement lists. */
  | 'ERR_PROVENANCE_MEASUREMENT';

export type ProvenanceConfigErrorCode =
  /** The trusted root given to the bundle verifier is not a Sigstore TrustedRoot document. */
  'ERR_PROVENANCE_TRUSTED_ROOT_INVALID';

export type ProvenanceErrorCode = ProvenanceParseErrorCode | ProvenanceVerifyErrorCode | ProvenanceCollateralErrorCode | ProvenancePolicyErrorCode | ProvenanceConfigErrorCode;

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<ProvenanceErrorCode, true> {}
}
