/**
 * Error codes of the bundle appraisal (appraise.ts) and the trust anchors (anchors.ts). Every other module
 * keeps its union next to its code and registers it the same way: policy.ts, initdata.ts, snp/errors.ts,
 * tdx/errors.ts, nvidia/errors.ts, ….
 */
export type VerifierErrorCode =
  | 'ERR_BINDING_SCHEME' // VerificationError: the bundle names a binding scheme other than the one in use
  | 'ERR_BINDING_MISMATCH' // VerificationError: REPORT_DATA / MRCONFIGID is not the binding of this bundle
  | 'ERR_BUNDLE_NONCE_MISMATCH' // VerificationError: the bundle answers another nonce
  | 'ERR_ANCHORS_INVALID'; // ConfigError: trust anchors that cannot be used (anchors.ts)

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<VerifierErrorCode, true> {}
}
