/**
 * `@ccinfer/core`: the runtime-agnostic base of ccinfer — the error classes, byte and hash helpers, the injected
 * `Clock` / `Fetcher` / `Cache`, the verification document, the ccinfer/1 evidence bundle and its binding, the
 * encrypted session (HPKE, chunked Oblivious HTTP, Binary HTTP) and `SecureClient`.
 *
 * Building blocks the ccinfer packages share among themselves (the strict DER reader, `ByteReader`, the Trustee
 * binding internals, varints, Binary HTTP streaming pieces) are in `@ccinfer/core/internal`, which is not API.
 */
export {
  CcinferError,
  ParseError,
  VerificationError,
  CollateralError,
  PolicyError,
  ConfigError,
  SessionError,
  TransportError,
  asCcinferError,
  type ErrorCode,
  type CcinferErrorCode,
  type CcinferErrorCodes,
  type CoreErrorCode,
  type CcinferErrorOptions,
} from './errors.js';
export { toHex, fromHex, toBase64, fromBase64, toBase64Url, fromBase64Url, utf8, fromUtf8, concat, equalBytes } from './bytes.js';
export { subtle, setCryptoProvider, digest, sha256, sha384, sha512, randomBytes, type CryptoProvider, type HashName } from './crypto.js';
export {
  systemClock,
  MemoryCache,
  fetchBytes,
  cachedFetch,
  type Clock,
  type Fetcher,
  type Cache,
  type CacheEntry,
  type FetchBytesOptions,
  type FetchedBytes,
} from './runtime.js';
export {
  encodeCollateralFile,
  parseCollateralFile,
  loadCollateralFile,
  RecordingCache,
  COLLATERAL_FILE_FORMAT,
  type CollateralFile,
  type CollateralFileErrorCode,
} from './collateral-file.js';
export type { Jwk, JwtClaims } from './jose-types.js';
export { CheckList, type Check, type CheckStatus, type CheckListener, type TeeKind, type VerificationDocument } from './document.js';
export {
  // session/errors
  type SessionErrorCode,
  // session/bundle
  decodeBundle, encodeBundle, decodeAttestRequest, encodeAttestRequest, BUNDLE_VERSION, BUNDLE_LIMITS, NONCE_LENGTH,
  SNP_REPORT_LENGTH, TDX_COLLATERAL_KEYS, type EvidenceBundle, type CpuEvidence, type SnpCpuEvidence, type TdxEvidence,
  type GpuEvidence, type Collateral, type AttestRequest,
  // session/binding
  ccinferV1Binding, ccinferV1TextBinding, CCINFER_BINDINGS, verifyBinding, type BindingScheme,
  // session/seal
  sealToKeyConfig, openSealed, type SealOptions,
  // session/backend
  webCryptoSessionCrypto, type SessionCrypto, type X25519KeyPair, type PrivateKeyHandle, type AeadKeyHandle,
  // session/keyconfig
  parseKeyConfig, encodeKeyConfig, parseKeyConfigList, encodeKeyConfigList, type KeyConfig, type SymmetricAlgorithm,
  // session/hpke
  KEM_X25519_HKDF_SHA256, KDF_HKDF_SHA256, AEAD_AES_128_GCM, AEAD_AES_256_GCM, SUPPORTED_ALGORITHMS,
  generateGatewayKey, importGatewayKey, type GatewayKey, type RawKeyPair,
  // session/ohttp
  MEDIA_TYPE_REQUEST, MEDIA_TYPE_RESPONSE, MEDIA_TYPE_CHUNKED_REQUEST, MEDIA_TYPE_CHUNKED_RESPONSE, CHUNK_SIZE,
  MAX_SEALED_CHUNK, encapsulateRequest, decapsulateRequest, ChunkedRequestEncoder, ChunkedRequestDecoder,
  ChunkedResponseEncoder, ChunkedResponseDecoder, decryptResponseStream, type KeyLookup, type EncapsulateOptions,
  type DecapsulateOptions,
  // session/bhttp
  encodeRequest, decodeRequest, encodeResponse, decodeResponse, BhttpResponseDecoder, BHTTP_LIMITS,
  type BhttpRequest, type BhttpResponse, type BhttpResponseEvent, type Fields,
  // session/binding-trustee
  trusteeKbsBinding, type TrusteeBindingErrorCode, type TeePubKey,
} from './session/index.js';
export {
  // client/secure-client
  SecureClient, ATTEST_PATH, OHTTP_PATH, PROBLEM_PREFIX, type SecureClientOptions, type SecureClientEvents,
  type Appraiser, type AttestedDocument, type ExportedEvidence, type ChatBody, type InferInit,
  // client/sse
  parseSse, type SseEvent,
  // client/chat
  type ChatMessage, type ChatCompletionRequest, type ChatCompletion, type ChatCompletionChunk, type CompletionUsage,
  // client/errors
  type ClientErrorCode,
} from './client/index.js';
