/**
 * @ccinfer/browser — verify a confidential pod from a web page, then talk to it and upload to it end-to-end
 * encrypted. Web APIs only. Re-exports the runtime-agnostic API of @ccinfer/core and @ccinfer/verifier.
 */
export { createSecureClient, browserAppraiser, BrowserSecureClient, type BrowserClientOptions, type UploadOptions } from './client.js';
export { sealFor, sealParts, UPLOAD_CHUNK, type SealProgress, type ProgressListener } from './seal.js';
export { IndexedDbCache } from './idb-cache.js';
export { proxiedFetcher, TieredCache } from './collateral.js';
export type { BrowserErrorCode } from './errors.js';
// The runtime-agnostic API of @ccinfer/core and @ccinfer/verifier, re-exported by name (no `export *`, so the
// public surface is reviewable here). Both packages name a type SnpEvidence: the verifier's (input of verifySnp)
// is the one exported here; the bundle's is EvidenceBundle['cpu'].
export {
  // errors
  CcinferError, ParseError, VerificationError, CollateralError, PolicyError, ConfigError, SessionError,
  TransportError, asCcinferError, type ErrorCode, type CcinferErrorOptions,
  // bytes
  ByteReader, toHex, fromHex, toBase64, fromBase64, toBase64Url, fromBase64Url, utf8, fromUtf8, concat, equalBytes,
  isZero, snapshot, reverse,
  // crypto
  webcrypto, subtle, setCryptoProvider, bs, digest, sha256, sha384, sha512, randomBytes, type CryptoProvider,
  type HashName,
  // der
  Tag, decodeDer, children, expectTag, sequence, readOid, readUnsigned, readSmallInt, readBoolean, readBitStringBytes,
  readBitFlags, readOctets, readString, readTime, tlv, der, type DerNode,
  // runtime
  systemClock, MemoryCache, fetchBytes, cachedFetch, type Clock, type Fetcher, type Cache, type CacheEntry,
  type FetchBytesOptions, type FetchedBytes,
  // collateral-file
  encodeCollateralFile, parseCollateralFile, loadCollateralFile, RecordingCache, COLLATERAL_FILE_FORMAT,
  type CollateralFile, type CollateralFileErrorCode,
  // object
  definedOnly,
  // document
  CheckList, type Check, type CheckStatus, type CheckListener, type TeeKind, type VerificationDocument,
  // session/errors
  type SessionErrorCode,
  // session/bundle
  decodeBundle, encodeBundle, decodeAttestRequest, encodeAttestRequest, BUNDLE_VERSION, BUNDLE_LIMITS, NONCE_LENGTH,
  SNP_REPORT_LENGTH, TDX_COLLATERAL_KEYS, type EvidenceBundle, type CpuEvidence, type TdxEvidence, type GpuEvidence,
  type Collateral, type AttestRequest,
  // session/binding
  ccinferV1Binding, ccinferV1TextBinding, CCINFER_BINDINGS, bindingInputOf, verifyBinding, type BindingScheme, type BindingInput,
  // session/seal
  sealToKeyConfig, openSealed, type SealOptions,
  // session/backend
  webCryptoSessionCrypto, type SessionCrypto, type X25519KeyPair, type PrivateKeyHandle, type AeadKeyHandle,
  // session/keyconfig
  parseKeyConfig, encodeKeyConfig, parseKeyConfigList, encodeKeyConfigList, selectAlgorithm, type KeyConfig,
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
  encodeRequest, decodeRequest, encodeResponse, decodeResponse, encodeResponseHead, encodeContentChunk,
  encodeResponseEnd, BhttpResponseDecoder, BHTTP_LIMITS, type BhttpRequest, type BhttpResponse,
  type BhttpResponseEvent, type Fields,
  // session/varint
  encodeVarint, readVarint,
  // session/binding-trustee
  canonicalJson, parseTeePubKey, parseKbsRuntimeData, trusteeDigest, trusteeGpuNonce, trusteePrimaryRuntimeData,
  trusteeReportData, encodeTrusteeKeyConfig, decodeTrusteeKeyConfig, parseTrusteeAdditionalEvidence,
  encodeTrusteeAdditionalEvidence, isSwitchArch, trusteeReportData64, trusteeKbsBinding, type TrusteeBindingErrorCode,
  type TeePubKey, type KbsRuntimeData, type TrusteeNvidiaDevice,
  // client/secure-client
  SecureClient, ATTEST_PATH, OHTTP_PATH, PROBLEM_PREFIX, type SecureClientOptions, type SecureClientEvents,
  type Appraiser, type AttestedDocument, type ExportedEvidence, type ChatBody, type InferInit,
  // client/sse
  parseSse, type SseEvent,
  // client/errors
  type ClientErrorCode,
} from '@ccinfer/core';
export {
  // anchors
  PINNED_ANCHORS, parseAnchors, type TrustAnchors,
  // policy
  parsePolicy, parsePolicyText, type Policy, type FreshnessPolicy,
  // x509/certificate
  parseCertificate, parseCertificates, type Certificate,
  // x509/chain
  verifyChain, ChainCache, type TrustAnchor,
  // x509/crl
  parseCrl, verifyCrl, type Crl,
  // x509/signature
  clearKeyCache, ecdsaDerToP1363,
  // snp/parse
  parseSnpReport, productFromCpuid, decodeTcb, SNP_REPORT_SIZE, type SnpReport, type SnpProductLine, type TcbVersion,
  decodeSevReportJson, encodeSevReportJson,
  type SigningKey,
  // snp/endorsement
  parseEndorsementKey, type AmdEndorsementKey,
  // snp/collateral
  vcekUrl, certChainUrl, crlUrl, parseCertTable, CERT_TABLE_GUID, KDS_BASE,
  // snp/policy
  evaluateSnpPolicy, parseSnpPolicy, type SnpPolicy,
  // snp/appraise
  appraiseSnp, verifySnp, type SnpEvidence, type SnpAppraisalOptions, type VerifySnpOptions,
  // snp/errors
  type SnpErrorCode,
  // provenance (the Sigstore bundle verifier is injected: @ccinfer/node has one; the sigstore libraries need Node)
  appraiseProvenance, checkIdentity, type ProvenanceInput, type SigstoreBundleVerifier, type VerifiedSigstoreBundle,
  type ProvenanceClaim, parseProvenancePolicy, KNOWN_PREDICATES, type ProvenancePolicy, parseInTotoStatement,
  predicateMeasurements, IN_TOTO_PAYLOAD_TYPE, type InTotoStatement, type InTotoSubject, signerIdentity, FULCIO_OID,
  type SignerIdentity, type ProvenanceErrorCode,
  // tdx/parse
  parseTdxQuote, hasTdAttribute, TD_ATTR, type TdxQuote, type TdReportBody, type EnclaveReport, type QuoteHeader,
  // tdx/pck
  parseSgxExtension, pckExtension, pckCaType, SGX_EXTENSION_OID, type SgxExtension,
  // tdx/verify
  parsePckChain, type PckChain,
  // tdx/collateral
  tcbInfoUrl, qeIdentityUrl, pckCrlUrl, decodeIssuerChainHeader, parseTcbInfoResponse, parseQeIdentityResponse,
  normalizeCrl, collateralFromDcapQvl, PCS_BASE, ROOT_CA_CRL_URL, type TdxCollateral, type TcbInfo, type QeIdentity,
  type TcbLevel, type UpdateType,
  // tdx/fetch
  fetchTdxCollateral, type FetchTdxCollateralOptions,
  // tdx/tcb
  evaluateTdxTcb, type TdxTcbStatus, type TdxTcbFailure, type TcbEvaluation,
  // tdx/policy
  parseTdxPolicy, resolveTdxPolicy, DEFAULT_TDX_POLICY, type TdxPolicy,
  // tdx/eventlog
  parseCcel, replayRtmrs, verifyEventLog, type CcelEvent,
  // tdx/appraise
  appraiseTdxQuote, verifyTdxQuote, type TdxClaims, type AppraiseTdxOptions,
  // tdx/errors
  type TdxErrorCode,
  // nvidia/parse
  parseNvidiaReport, parseOpaqueData, OpaqueType, type NvidiaReport, type OpaqueData, type MeasurementBlock,
  type DeviceKind,
  // nvidia/verify
  identifyDevice, leafFwid, checkFwid, checkNvidiaNonce, verifyNvidiaReportSignature, verifyDeviceChain, ueid,
  type GpuArch, type GpuChip,
  // nvidia/rim
  parseRim, verifyRim, compareGolden, driverRimId, vbiosRimId, type Rim, type RimMeasurement, type GoldenResult,
  type MeasurementMismatch,
  // nvidia/ocsp
  buildOcspRequest, parseOcspResponse, checkOcspResponse, certIdFor, type OcspMode, type OcspResponse,
  type OcspResult,
  // nvidia/nras
  verifyNrasToken, verifyNras, parseDetachedEat, type NrasOptions, type NrasResult, type VerifyNrasOptions,
  // nvidia/collateral
  rimUrl, parseRimServiceResponse, RIM_SERVICE_URL, NVIDIA_OCSP_URL, NRAS_JWKS_URL,
  // nvidia/policy
  parseGpuPolicy, evaluateDevicePolicy, evaluateSystemPolicy, type GpuPolicy, type GpuMode,
  // nvidia/topology
  checkPpcieTopology, checkFeatureFlags, checkDistinctDevices, type PpcieTopology, type AppraisedDevice,
  // nvidia/appraise
  appraiseNvidiaDevice, verifyGpu, type GpuClaims, type NvidiaDeviceEvidence, type NvidiaAppraisalOptions,
  type VerifyGpuOptions, type RimInput,
  // nvidia/errors
  type NvidiaErrorCode,
  // appraise
  appraise, initdataDigest, type AppraiseOptions, type Appraisal,
  // ear
  earFromDocument, signEar, EAR_PROFILE, type EarClaims, type EarSubmod, type EarStatus, type TrustworthinessVector,
  // policy-init
  policyFromBundle,
  // measure/snp: computed SEV-SNP launch measurements
  measureSnpLaunch, type SnpMeasureOptions, type SnpMeasurement, VCPU_TYPES, cpuidSignature, type VmmType,
  parseOvmf, type OvmfImage, type SevMetadataSection, type LaunchStep, type DirectBootBlobs, type MeasureErrorCode,
} from '@ccinfer/verifier';
