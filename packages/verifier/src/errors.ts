/**
 * Error codes of the verifier's cross-stack modules: the bundle appraisal (appraise.ts), trust anchors
 * (anchors.ts) and policy documents (policy.ts). Each TEE stack keeps its own union next to its code
 * (snp/errors.ts, tdx/errors.ts, nvidia/errors.ts, …).
 */
export type VerifierErrorCode =
  | 'ERR_BINDING_SCHEME' // VerificationError: the bundle names a binding scheme other than the one in use
  | 'ERR_BINDING_MISMATCH' // VerificationError: REPORT_DATA / MRCONFIGID is not the binding of this bundle
  | 'ERR_BUNDLE_NONCE_MISMATCH' // VerificationError: the bundle answers another nonce
  | 'ERR_INITDATA_MISMATCH' // VerificationError: the initdata digest is not in HOST_DATA / MRCONFIGID
  | 'ERR_POLICY_UNPINNED' // PolicyError: a TEE's measurements are not pinned by the policy
  | 'ERR_POLICY_INVALID' // ConfigError: a policy document that does not match the schema
  | 'ERR_ANCHORS_INVALID'; // ConfigError: trust anchors that cannot be used

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<VerifierErrorCode, true> {}
}
