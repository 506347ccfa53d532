/**
 * Error codes of the Intel TDX appraisal (stable public API, see CONTRIBUTING.md "Errors"). The class that
 * carries each code follows the stage that failed. X.509 failures of the PCK and TCB Signing chains keep
 * their `ERR_X509_…` codes; the check id (`tdx.pck.chain`, `tdx.collateral.tcbInfo`, …) says which chain.
 */
export type TdxErrorCode =
  // parse.ts — quote structure (ParseError)
  | 'ERR_TDX_QUOTE_TRUNCATED'
  | 'ERR_TDX_QUOTE_VERSION' // version not 4 or 5
  | 'ERR_TDX_TEE_TYPE' // not 0x81
  | 'ERR_TDX_ATT_KEY_TYPE' // not 2 (ECDSA-256-with-P-256)
  | 'ERR_TDX_QE_VENDOR' // QE vendor id is not Intel's
  | 'ERR_TDX_BODY_TYPE' // v5 body type/size not a TD report 1.0 / 1.5
  | 'ERR_TDX_CERT_DATA_TYPE' // certification data not type 6 nesting type 5
  | 'ERR_TDX_CERT_DATA_MALFORMED' // certification data lengths inconsistent
  // pck.ts — the PCK leaf certificate (ParseError / VerificationError)
  | 'ERR_TDX_PCK_CERT' // not an "SGX PCK Certificate", chain not leaf/intermediate/root
  | 'ERR_TDX_PCK_EXTENSION' // SGX extension missing or malformed
  // verify.ts — evidence signatures and bindings (VerificationError)
  | 'ERR_TDX_QUOTE_SIGNATURE'
  | 'ERR_TDX_QE_REPORT_SIGNATURE'
  | 'ERR_TDX_QE_REPORT_DATA' // QE REPORTDATA != SHA-256(attestation key || QE auth data) || 0^32
  | 'ERR_TDX_ATTESTATION_KEY' // attestation key is not a P-256 point
  | 'ERR_TDX_PCK_REVOKED' // PCK leaf on the PCK CRL
  | 'ERR_TDX_CA_REVOKED' // PCK CA or TCB Signing certificate on the Root CA CRL
  // collateral.ts / verify.ts — Intel PCS collateral
  | 'ERR_TDX_COLLATERAL_MISSING' // CollateralError: an item is absent and cannot be fetched
  | 'ERR_TDX_COLLATERAL_MALFORMED' // ParseError: JSON/CRL/header does not have the PCS shape
  | 'ERR_TDX_COLLATERAL_EXPIRED' // CollateralError: now >= nextUpdate
  | 'ERR_TDX_COLLATERAL_NOT_YET_VALID' // CollateralError: now < issueDate
  | 'ERR_TDX_TCB_INFO_SIGNATURE'
  | 'ERR_TDX_QE_IDENTITY_SIGNATURE'
  | 'ERR_TDX_CRL_ISSUER' // PCK CRL not issued by the PCK leaf's issuer
  | 'ERR_TDX_TCB_INFO_MISMATCH' // TCB Info not for TDX / FMSPC / PCEID differ from the PCK's
  | 'ERR_TDX_QE_IDENTITY_MISMATCH' // not TD_QE v2, or QE report fields differ from the identity
  // tcb.ts — Intel TCB evaluation (VerificationError)
  | 'ERR_TDX_TCB_NOT_SUPPORTED' // no TCB level matches (platform, module or QE)
  | 'ERR_TDX_MODULE_MISMATCH' // no TDX_xx identity, MRSIGNERSEAM or SEAMATTRIBUTES differ
  // policy.ts (PolicyError; the policy document itself is ERR_POLICY_INVALID from ../policy.ts)
  | 'ERR_TDX_TCB_STATUS' // status not in acceptedTcbStatus
  | 'ERR_TDX_TCB_EVAL_NUMBER' // TCB Info / QE Identity tcbEvaluationDataNumber below minTcbEvaluationDataNumber
  | 'ERR_TDX_DEBUG'
  | 'ERR_TDX_SEPT_VE_DISABLE'
  | 'ERR_TDX_MRSERVICETD'
  | 'ERR_TDX_MRTD_MISMATCH'
  | 'ERR_TDX_RTMR_MISMATCH'
  | 'ERR_TDX_MRCONFIGID_MISMATCH'
  | 'ERR_TDX_MROWNER_MISMATCH'
  | 'ERR_TDX_MRSEAM_MISMATCH'
  // eventlog.ts
  | 'ERR_TDX_EVENTLOG_MALFORMED' // ParseError
  | 'ERR_TDX_EVENTLOG_MISMATCH'; // VerificationError: replay does not reach the quote's RTMRs

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<TdxErrorCode, true> {}
}
