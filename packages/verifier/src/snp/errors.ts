/** Error codes of the SEV-SNP appraisal, by stage. */
export type SnpParseErrorCode =
  | 'ERR_SNP_REPORT_SIZE'
  | 'ERR_SNP_REPORT_VERSION'
  | 'ERR_SNP_SIGNATURE_ALGO'
  | 'ERR_SNP_KEY_INFO'
  | 'ERR_SNP_RESERVED_NONZERO'
  | 'ERR_SNP_POLICY_RESERVED'
  | 'ERR_SNP_PRODUCT_UNKNOWN'
  | 'ERR_SNP_LEAF_MALFORMED'
  | 'ERR_SNP_CERT_TABLE_MALFORMED'
  // serde-json.ts — the sev crate's JSON form of the report (CoCo Attestation Agent, Trustee clients)
  | 'ERR_SNP_JSON_MALFORMED' // a missing, unknown, mistyped or mis-sized field
  | 'ERR_SNP_JSON_NOT_ROUND_TRIP'; // the rebuilt bytes do not serialize back to the same JSON

export type SnpVerifyErrorCode =
  | 'ERR_SNP_SIGNATURE_INVALID'
  | 'ERR_SNP_SIGNING_KEY_MISMATCH'
  | 'ERR_SNP_TCB_MISMATCH'
  | 'ERR_SNP_TCB_INCONSISTENT'
  | 'ERR_SNP_CHIP_ID_MISMATCH'
  | 'ERR_SNP_PRODUCT_MISMATCH'
  | 'ERR_SNP_CHAIN_INVALID'
  | 'ERR_SNP_REVOKED'
  | 'ERR_SNP_REPORT_DATA_MISMATCH'
  | 'ERR_SNP_CRL_SCOPE';

export type SnpCollateralErrorCode = 'ERR_SNP_CHAIN_UNAVAILABLE' | 'ERR_SNP_LEAF_UNAVAILABLE' | 'ERR_SNP_CRL_UNAVAILABLE';

export type SnpPolicyErrorCode =
  | 'ERR_SNP_POLICY_DEBUG'
  | 'ERR_SNP_POLICY_MIGRATION_AGENT'
  | 'ERR_SNP_POLICY_SMT'
  | 'ERR_SNP_POLICY_VMPL'
  | 'ERR_SNP_POLICY_MEASUREMENT'
  | 'ERR_SNP_POLICY_HOST_DATA'
  | 'ERR_SNP_POLICY_TCB'
  | 'ERR_SNP_POLICY_FIRMWARE'
  | 'ERR_SNP_POLICY_PROVISIONAL_FIRMWARE'
  | 'ERR_SNP_POLICY_PRODUCT_LINE'
  | 'ERR_SNP_POLICY_SIGNING_KEY';

export type SnpErrorCode = SnpParseErrorCode | SnpVerifyErrorCode | SnpCollateralErrorCode | SnpPolicyErrorCode;

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<SnpErrorCode, true> {}
}
