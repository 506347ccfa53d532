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
