/**
  * @ccinfer/browser — verify a confidential pod from a web page, then talk to it and upload to it end-to-end
  * encrypted. Web APIs only. Re-exports the runtime-agnostic API of @ccinfer/core and @ccinfer/verifier.
  */
export { createSecureClient, browserAppraiser, BrowserSecureClient, canStreamRequests, type BrowserClientOptions, type UploadOptions } from './client.js';
export { sealFor, sealParts, UPLOAD_CHUNK, type SealProgress, type ProgressListener } from './seal.js';
export { IndexedDbCache } from './idb-cache.js';
export { proxiedFetcher, TieredCache } from './collateral.js';
export type { BrowserErrorCode } from './errors.js';
// The runtime-agnostic API of @ccinfer/core and @ccinfer/verifier, re-exported by name (no `export *`, so the
// public surface is reviewable here).
export {
  // errors
  CcinferError, ParseError, VerificationError, CollateralError, PolicyError, ConfigError, SessionError,
  TransportError, asCcinferError, type ErrorCode, type CcinferErrorCode, type CcinferErrorOptions,
  // bytes
  toHex, fromHex, toBase64, fromBase64, toBase64Url, fromBase64Url, utf8, fromUtf8, concat, equalBytes,
  // crypto
  subtle, setCryptoProvider, digest, sha256, sha384, sha512, randomBytes, type CryptoProvider,
  type HashName,
  // runtime
  systemClock, MemoryCache, fetchBytes, cachedFetch, type Clock, type Fetcher, type Cache, type CacheEntry,
  type FetchBytesOptions, type FetchedBytes,
  // collateral-file
  encodeCollateralFile, parseCollateralFile, loadCollateralFile, RecordingCache, COLLATERAL_FILE_FORMAT,
  type CollateralFile, type CollateralFileErrorCode,
  // document
  CheckList, type Check, type CheckStatus, type CheckListener, type TeeKind, type VerificationDocument,
  // session/errors
  type SessionErrorCode,
  // session/bundle
  decodeBundle, encodeBundle, decodeAttestRequest, encodeAttestRequest, BUNDLE_VERSION, BUNDLE_LIMITS, NONCE_LENGTH,
  SNP_REPORT_LENGTH, TDX_COLLATERAL_KEYS, type EvidenceBundle, type CpuEvidence, type SnpCpuEvidence, type TdxEvidence, type GpuEvidence,
  type Collateral, type AttestRequest,
  // session/binding
  ccinferV1Binding, ccinferV1TextBinding, CCINFER_BINDINGS, verifyBinding, type BindingScheme,
  // session/seal
  sealToKeyConfig, openSealed, type SealOptions,
  // session/backend
  webCryptoSessionCrypto, type SessionCrypto, type X25519KeyPair, type PrivateKeyHandle, type AeadKeyHandle,
  // session/keyconfig
  parseKeyConfig, encodeKeyConfig, parseKeyConfigList, encodeKeyConfigList, type KeyConfig,
  type SymmetricAlgorithm,
  // session/hpke
  KEM_X25519_HKDF_SHA256, KDF_HKDF_SHA256, AEAD_AES_128_GCM, AEAD_AES_256_GCM, SUPPORTED_ALGORITHMS,
  generateGatewayKey, importGatewayKey, type GatewayKey, type RawKeyPair,
  // session/ohttp
  MEDIA_TYPE_REQUEST, MEDIA_TYPE_RESPONSE, MEDIA_TYPE_CHUNKED_REQUEST, MEDIA_TYPE_CHUNKED_RESPONSE, CHUNK_SIZE,
  MAX_SEALED_CHUNK, encapsulateRequest, decapsulateRequest, ChunkedRequestEncoder, ChunkedRequestDecoder,
  ChunkedResponseEncoder, ChunkedResponseDecoder, decryptResponseStream, type KeyLookup, type EncapsulateOptions,
  type DecapsulateOptions,
  // session/bhttp
  encodeRequest, decodeRequest, encodeResponse, decodeResponse,
  BhttpResponseDecoder, BHTTP_LIMITS, type BhttpRequest, type BhttpResponse,
  type BhttpResponseEvent, type Fields,
  // session/binding-trustee
  trusteeKbsBinding, type TrusteeBindingErrorCode,
  type TeePubKey,
  // client/secure-client
  SecureClient, ATTEST_PATH, OHTTP_PATH, PROBLEM_PREFIX, type SecureClientOptions, type SecureClientEvents,
  type Appraiser, type AttestedDocument, type ExportedEvidence, type ChatBody, type InferInit,
  // client/sse
  parseSse, type SseEvent,
  // client/chat
  type ChatMessage, type ChatCompletionRequest, type ChatCompletion, type ChatCompletionChunk, type CompletionUsage,
  // client/errors
  type ClientErrorCode,
  // jose-types
  type Jwk, type JwtClaims,
} from '@ccinfer/core';
export {
  // anchors
  PINNED_ANCHORS, parseAnchors, type TrustAnchors,
  // policy
  parsePolicy, parsePolicyText, parsePolicyJson, type Policy, type FreshnessPolicy, type PolicyErrorCode,
  // x509/certificate
  parseCertificate, parseCertificates, type Certificate,
  // x509/chain
  verifyChain, ChainCache, type TrustAnchor,
  // x509/crl
  parseCrl, verifyCrl, type Crl,
  // snp/parse
  parseSnpReport, SNP_REPORT_SIZE, type SnpReport, type SnpProductLine, type TcbVersion,
  type SigningKey,
  // snp/endorsement
  parseEndorsementKey, type AmdEndorsementKey,
  // snp/collateral
  vcekUrl, certChainUrl, crlUrl, KDS_BASE,
  // snp/policy
  evaluateSnpPolicy, type SnpPolicy,
  // snp/serde-json
  decodeSevReportJson, encodeSevReportJson,
  // snp/appraise
  appraiseSnp, verifySnp, type SnpEvidence, type SnpAppraisalOptions, type VerifySnpOptions,
  // snp/errors
  type SnpErrorCode,
  // provenance (the Sigstore bundle verifier is injected: `webSigstoreBundleVerifier` from @ccinfer/browser/provenance)
  appraiseProvenance, checkIdentity, type ProvenanceInput, type SigstoreBundleVerifier, type VerifiedSigstoreBundle,
  type ProvenanceClaim, parseProvenancePolicy, KNOWN_PREDICATES, type ProvenancePolicy, parseInTotoStatement,
  predicateMeasurements, IN_TOTO_PAYLOAD_TYPE, type InTotoStatement, type InTotoSubject, signerIdentity, FULCIO_OID,
  type SignerIdentity, type ProvenanceErrorCode,
  // tdx/parse
  parseTdxQuote, type TdxQuote, type TdReportBody, type EnclaveReport, type QuoteHeader,
  // tdx/collateral
  tcbInfoUrl, qeIdentityUrl, pckCrlUrl, parseTcbInfoResponse, parseQeIdentityResponse,
  collateralFromDcapQvl, PCS_BASE, ROOT_CA_CRL_URL, type TdxCollateral, type TcbInfo, type QeIdentity,
  type TcbLevel, type UpdateType,
  // tdx/fetch
  fetchTdxCollateral, type FetchTdxCollateralOptions,
  // tdx/tcb
  type TdxTcbStatus,
  // tdx/policy
  DEFAULT_TDX_POLICY, type TdxPolicy,
  // tdx/eventlog
  parseCcel, replayRtmrs, verifyEventLog, type CcelEvent,
  // tdx/appraise
  appraiseTdx, verifyTdx, type TdxClaims, type TdxAppraisalOptions, type VerifyTdxOptions,
  // tdx/errors
  type TdxErrorCode,
  // nvidia/parse
  parseNvidiaReport, type NvidiaReport,
  type DeviceKind,
  // nvidia/verify
  type GpuArch, type GpuChip,
  // nvidia/rim
  parseRim, verifyRim, type Rim, type RimMeasurement,
  // nvidia/nras
  appraiseNras, verifyNras, type NrasAppraisalOptions, type NrasResult, type VerifyNrasOptions,
  // nvidia/collateral
  rimUrl, RIM_SERVICE_URL, NVIDIA_OCSP_URL, NRAS_JWKS_URL,
  // nvidia/policy
  type GpuPolicy, type GpuMode,
  // nvidia/appraise
  appraiseGpu, verifyGpu, type GpuClaims, type NvidiaDeviceEvidence, type GpuAppraisalOptions,
  type VerifyGpuOptions, type RimInput,
  // nvidia/errors
  type NvidiaErrorCode,
  // appraise
  appraise, type AppraiseOptions, type Appraisal,
  // initdata
  initdataDigest, initdataClaims, checkInitdata, parseInitdataHeader, type InitdataClaims, type InitdataAlgorithm,
  type InitdataTee, type InitdataErrorCode,
  // ear
  earFromDocument, signEar, EAR_PROFILE, type EarClaims, type EarSubmod, type EarStatus, type TrustworthinessVector,
  // policy-init
  policyFromBundle,
  // measure/snp: computed SEV-SNP launch measurements
  measureSnpLaunch, type SnpMeasureOptions, type SnpMeasurement, VCPU_TYPES, cpuidSignature, type VmmType,
  parseOvmf, type OvmfImage, type SevMetadataSection, type LaunchStep, type DirectBootBlobs, type MeasureErrorCode,
} from '@ccinfer/verifier';
