/**
 * `@ccinfer/verifier`: local appraisal of confidential-computing evidence against pinned vendor roots —
 * `appraise` for a ccinfer/1 bundle, and per stack the `verify…` / `appraise…` functions, the evidence parsers,
 * the collateral URLs and response parsers, policy parsing, strict X.509 and EAR results.
 *
 * The stage functions these are built from are shared with the other ccinfer packages through
 * `@ccinfer/verifier/internal`, which is not API.
 */
import type {} from './error-codes.js'; // registers every code of this package in CcinferErrorCode
export { PINNED_ANCHORS, parseAnchors, type TrustAnchors } from './anchors.js';
export { parsePolicy, parsePolicyText, parsePolicyJson, type Policy, type FreshnessPolicy, type PolicyErrorCode } from './policy.js';
export { parseCertificate, parseCertificates, verifyChain, parseCrl, verifyCrl, ChainCache, type Certificate, type TrustAnchor, type Crl } from './x509/index.js';
export { parseSnpReport, REPORT_SIZE as SNP_REPORT_SIZE, type SnpReport, type SnpProductLine, type TcbVersion, type SigningKey } from './snp/parse.js';
export { parseEndorsementKey, type AmdEndorsementKey } from './snp/endorsement.js';
export { vcekUrl, certChainUrl, crlUrl, KDS_BASE } from './snp/collateral.js';
export { evaluateSnpPolicy, type SnpPolicy } from './snp/policy.js';
export { decodeSevReportJson, encodeSevReportJson } from './snp/serde-json.js';
export { appraiseSnp, verifySnp, type SnpEvidence, type SnpAppraisalOptions, type VerifySnpOptions } from './snp/appraise.js';
export type { VerifierErrorCode } from './errors.js';
export type { SnpErrorCode } from './snp/errors.js';
/** Signed provenance (Sigstore): the `snp.provenance` policy section, in-toto statements, Fulcio signer identity. */
export { appraiseProvenance, checkIdentity, type ProvenanceInput, type SigstoreBundleVerifier, type VerifiedSigstoreBundle, type ProvenanceClaim } from './provenance/appraise.js';
export { parseProvenancePolicy, KNOWN_PREDICATES, type ProvenancePolicy } from './provenance/policy.js';
export { parseInTotoStatement, predicateMeasurements, IN_TOTO_PAYLOAD_TYPE, type InTotoStatement, type InTotoSubject } from './provenance/statement.js';
export { signerIdentity, FULCIO_OID, type SignerIdentity } from './provenance/identity.js';
export type { ProvenanceErrorCode } from './provenance/errors.js';
export { parseTdxQuote, type TdxQuote, type TdReportBody, type EnclaveReport, type QuoteHeader } from './tdx/parse.js';
export {
  tcbInfoUrl,
  qeIdentityUrl,
  pckCrlUrl,
  parseTcbInfoResponse,
  parseQeIdentityResponse,
  collateralFromDcapQvl,
  PCS_BASE,
  ROOT_CA_CRL_URL,
  type TdxCollateral,
  type TcbInfo,
  type QeIdentity,
  type TcbLevel,
  type UpdateType,
} from './tdx/collateral.js';
export { fetchTdxCollateral, type FetchTdxCollateralOptions } from './tdx/fetch.js';
export type { TdxTcbStatus } from './tdx/tcb.js';
export { DEFAULT_TDX_POLICY, type TdxPolicy } from './tdx/policy.js';
export { parseCcel, replayRtmrs, verifyEventLog, type CcelEvent } from './tdx/eventlog.js';
export { appraiseTdx, verifyTdx, type TdxClaims, type TdxAppraisalOptions, type VerifyTdxOptions } from './tdx/appraise.js';
export type { TdxErrorCode } from './tdx/errors.js';
export { parseReport as parseNvidiaReport, type NvidiaReport, type DeviceKind } from './nvidia/parse.js';
export type { Arch as GpuArch, Chip as GpuChip } from './nvidia/verify.js';
export { parseRim, verifyRim, type Rim, type RimMeasurement } from './nvidia/rim.js';
export { appraiseNras, verifyNras, type NrasAppraisalOptions, type NrasResult, type VerifyNrasOptions } from './nvidia/nras.js';
export { rimUrl, RIM_SERVICE_URL, OCSP_URL as NVIDIA_OCSP_URL, NRAS_JWKS_URL } from './nvidia/collateral.js';
export type { GpuPolicy, GpuMode } from './nvidia/policy.js';
export { appraiseGpu, verifyGpu, type GpuClaims, type NvidiaDeviceEvidence, type GpuAppraisalOptions, type VerifyGpuOptions, type RimInput } from './nvidia/appraise.js';
export type { NvidiaErrorCode } from './nvidia/errors.js';
export { appraise, type AppraiseOptions, type Appraisal } from './appraise.js';
export {
  initdataDigest,
  initdataClaims,
  checkInitdata,
  parseInitdataHeader,
  type InitdataClaims,
  type InitdataAlgorithm,
  type InitdataTee,
  type InitdataErrorCode,
} from './initdata.js';
export { earFromDocument, signEar, EAR_PROFILE, type EarClaims, type EarSubmod, type EarStatus, type TrustworthinessVector } from './ear.js';
export { policyFromBundle } from './policy-init.js';
/**
 * Computed reference values: the SEV-SNP launch MEASUREMENT that a QEMU/KVM (or GCE) launch of an OVMF image with
 * the given vCPUs, vCPU type, SEV features and measured direct boot (kernel / initrd / command line) must show,
 * replayed from AMD's SNP_LAUNCH_UPDATE page chain (SEV-SNP Firmware ABI 56860 §8.17) and OVMF's SEV metadata.
 * Pure Web Crypto: runs in browsers. Pin the result in a policy (`snp.measurements`) to accept a pod never seen.
 */
export { measureSnpLaunch, type SnpMeasureOptions, type SnpMeasurement } from './measure/snp/measure.js';
/** The vCPU type names `measureSnpLaunch` accepts and their CPUID family / model / stepping. */
export { VCPU_TYPES, cpuidSignature, type VmmType } from './measure/snp/vmsa.js';
/** OVMF's footer table and SEV metadata sections (parse only). */
export { parseOvmf, type OvmfImage, type SevMetadataSection } from './measure/snp/ovmf.js';
export type { LaunchStep } from './measure/snp/page-info.js';
export type { DirectBootBlobs } from './measure/snp/hashes.js';
export type { MeasureErrorCode } from './measure/errors.js';
