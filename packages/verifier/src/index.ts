/**
 * @ccinfer/verifier — local appraisal of confidential-computing evidence against pinned vendor roots.
 */
export { PINNED_ANCHORS, parseAnchors, type TrustAnchors } from './anchors.js';
export { parsePolicy, parsePolicyText, type Policy, type FreshnessPolicy } from './policy.js';
export {
  parseCertificate,
  parseCertificates,
  verifyChain,
  parseCrl,
  verifyCrl,
  ChainCache,
  clearKeyCache,
  ecdsaDerToP1363,
  type Certificate,
  type TrustAnchor,
  type Crl,
} from './x509/index.js';
export { parseSnpReport, productFromCpuid, decodeTcb, REPORT_SIZE as SNP_REPORT_SIZE, type SnpReport, type SnpProductLine, type TcbVersion, type SigningKey } from './snp/parse.js';
export { parseEndorsementKey, type AmdEndorsementKey } from './snp/endorsement.js';
export { vcekUrl, certChainUrl, crlUrl, parseCertTable, CERT_TABLE_GUID, KDS_BASE } from './snp/collateral.js';
export { evaluateSnpPolicy, parseSnpPolicy, type SnpPolicy } from './snp/policy.js';
export { appraiseSnp, verifySnp, type SnpEvidence, type SnpAppraisalOptions, type VerifySnpOptions } from './snp/appraise.js';
export type { SnpErrorCode } from './snp/errors.js';
export { parseTdxQuote, hasTdAttribute, TD_ATTR, type TdxQuote, type TdReportBody, type EnclaveReport, type QuoteHeader } from './tdx/parse.js';
export { parseSgxExtension, pckExtension, SGX_EXTENSION_OID, type SgxExtension } from './tdx/pck.js';
export {
  tcbInfoUrl,
  qeIdentityUrl,
  pckCrlUrl,
  decodeIssuerChainHeader,
  parseTcbInfoResponse,
  parseQeIdentityResponse,
  normalizeCrl,
  PCS_BASE,
  ROOT_CA_CRL_URL,
  type TdxCollateral,
  type TcbInfo,
  type QeIdentity,
  type TcbLevel,
  type UpdateType,
} from './tdx/collateral.js';
export { fetchTdxCollateral, type FetchTdxCollateralOptions } from './tdx/fetch.js';
export { evaluateTdxTcb, type TdxTcbStatus, type TdxTcbFailure, type TcbEvaluation } from './tdx/tcb.js';
export { parseTdxPolicy, resolveTdxPolicy, DEFAULT_TDX_POLICY, type TdxPolicy } from './tdx/policy.js';
export { parseCcel, replayRtmrs, verifyEventLog, type CcelEvent } from './tdx/eventlog.js';
export { appraiseTdxQuote, verifyTdxQuote, type TdxClaims, type AppraiseTdxOptions } from './tdx/appraise.js';
export type { TdxErrorCode } from './tdx/errors.js';
