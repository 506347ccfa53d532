/**
 * Error codes of the NVIDIA GPU / NVSwitch appraisal (stable public API, see CONTRIBUTING.md "Errors").
 * The class that carries each code follows the stage that failed (ParseError, VerificationError, ...).
 */
export type NvidiaErrorCode =
  // parse.ts — SPDM 1.1 GET_MEASUREMENTS request || response (ParseError)
  | 'ERR_NV_REPORT_TRUNCATED'
  | 'ERR_NV_REPORT_MALFORMED'
  | 'ERR_NV_OPAQUE_MALFORMED'
  | 'ERR_NV_TRAILING_BYTES'
  // verify.ts — evidence (VerificationError unless noted)
  | 'ERR_NV_NONCE_MISMATCH'
  | 'ERR_NV_SIGNATURE_INVALID'
  | 'ERR_NV_CHAIN_LENGTH'
  | 'ERR_NV_FWID_MISMATCH'
  | 'ERR_NV_FWID_MISSING'
  | 'ERR_NV_ARCH_UNKNOWN'
  | 'ERR_NV_ARCH_MISMATCH'
  // rim.ts / rim-xml.ts — reference integrity manifests
  | 'ERR_NV_RIM_MALFORMED' // ParseError: XML or SWID/TCG shape
  | 'ERR_NV_RIM_DIGEST_MISMATCH' // Reference digest over the canonical document
  | 'ERR_NV_RIM_SIGNATURE_INVALID' // SignatureValue over canonical SignedInfo
  | 'ERR_NV_RIM_CHAIN_INVALID' // KeyInfo certificates
  | 'ERR_NV_RIM_VERSION_MISMATCH' // colloquialVersion != report version
  | 'ERR_NV_RIM_IDENTITY_MISMATCH' // signed name / product / edition / tagId are not this device's RIM
  | 'ERR_NV_RIM_MISSING' // CollateralError: no RIM for an id
  | 'ERR_NV_RIM_INDEX_CONFLICT' // driver and VBIOS RIM both claim an index
  | 'ERR_NV_MEASUREMENT_MISMATCH' // PolicyError: golden comparison failed
  // ocsp.ts
  | 'ERR_NV_OCSP_MALFORMED' // ParseError
  | 'ERR_NV_OCSP_STATUS' // responseStatus != successful
  | 'ERR_NV_OCSP_SIGNATURE_INVALID'
  | 'ERR_NV_OCSP_RESPONDER_INVALID' // responder certificate not issued/authorised
  | 'ERR_NV_OCSP_NONCE_MISMATCH'
  | 'ERR_NV_OCSP_CERT_MISMATCH' // no SingleResponse for our CertID
  | 'ERR_NV_OCSP_STALE' // thisUpdate in the future / nextUpdate in the past; without our nonce: no nextUpdate, or too old
  | 'ERR_NV_OCSP_REVOKED'
  | 'ERR_NV_OCSP_HOLD'
  | 'ERR_NV_OCSP_UNKNOWN'
  | 'ERR_NV_OCSP_UNAVAILABLE' // CollateralError
  // nras.ts
  | 'ERR_NV_NRAS_MALFORMED'
  | 'ERR_NV_NRAS_KID_UNKNOWN'
  | 'ERR_NV_NRAS_SIGNATURE_INVALID'
  | 'ERR_NV_NRAS_ISSUER'
  | 'ERR_NV_NRAS_EXPIRED'
  | 'ERR_NV_NRAS_SUBMODS_MISMATCH'
  | 'ERR_NV_NRAS_NONCE_MISMATCH'
  | 'ERR_NV_NRAS_RESULT_FALSE' // PolicyError
  | 'ERR_NV_NRAS_JWKS_UNAVAILABLE' // CollateralError
  // topology.ts
  | 'ERR_NV_DEVICE_DUPLICATE' // a GPU / NVSwitch listed twice in one bundle (same report, leaf serial or PDI)
  | 'ERR_NV_TOPOLOGY_COUNT'
  | 'ERR_NV_TOPOLOGY_MISMATCH'
  | 'ERR_NV_FEATURE_FLAG_MIXED'
  // policy.ts (PolicyError; ConfigError for the policy document itself)
  | 'ERR_NV_POLICY_ARCH'
  | 'ERR_NV_POLICY_COUNT'
  | 'ERR_NV_POLICY_NO_GPU' // no attested GPU, and the policy does not allow CPU-only pods (gpu.count.min 0)
  | 'ERR_NV_POLICY_MODE'
  | 'ERR_NV_POLICY_DRIVER'
  | 'ERR_NV_POLICY_VBIOS';

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<NvidiaErrorCode, true> {}
}
