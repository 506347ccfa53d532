export type { SessionErrorCode } from './errors.js';
export {
  decodeBundle,
  encodeBundle,
  decodeAttestRequest,
  encodeAttestRequest,
  BUNDLE_VERSION,
  BUNDLE_LIMITS,
  NONCE_LENGTH,
  SNP_REPORT_LENGTH,
  TDX_COLLATERAL_KEYS,
  type EvidenceBundle,
  type CpuEvidence,
  type SnpEvidence,
  type TdxEvidence,
  type GpuEvidence,
  type Collateral,
  type AttestRequest,
} from './bundle.js';
export { ccinferV1Binding, bindingInputOf, verifyBinding, type BindingScheme, type BindingInput } from './binding.js';
export * from './binding-trustee.js';
export { sealToKeyConfig, openSealed, type SealOptions } from './seal.js';
export { webCryptoSessionCrypto, type SessionCrypto, type X25519KeyPair, type PrivateKeyHandle, type AeadKeyHandle } from './backend.js';
export {
  parseKeyConfig,
  encodeKeyConfig,
  parseKeyConfigList,
  encodeKeyConfigList,
  selectAlgorithm,
  type KeyConfig,
  type SymmetricAlgorithm,
} from './keyconfig.js';
export {
  KEM_X25519_HKDF_SHA256,
  KDF_HKDF_SHA256,
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  SUPPORTED_ALGORITHMS,
  generateGatewayKey,
  importGatewayKey,
  type GatewayKey,
  type RawKeyPair,
} from './hpke.js';
export {
  MEDIA_TYPE_REQUEST,
  MEDIA_TYPE_RESPONSE,
  MEDIA_TYPE_CHUNKED_REQUEST,
  MEDIA_TYPE_CHUNKED_RESPONSE,
  CHUNK_SIZE,
  MAX_SEALED_CHUNK,
  encapsulateRequest,
  decapsulateRequest,
  ChunkedRequestEncoder,
  ChunkedRequestDecoder,
  ChunkedResponseEncoder,
  ChunkedResponseDecoder,
  decryptResponseStream,
  type KeyLookup,
  type EncapsulateOptions,
  type DecapsulateOptions,
} from './ohttp.js';
export {
  encodeRequest,
  decodeRequest,
  encodeResponse,
  decodeResponse,
  encodeResponseHead,
  encodeContentChunk,
  encodeResponseEnd,
  BhttpResponseDecoder,
  BHTTP_LIMITS,
  type BhttpRequest,
  type BhttpResponse,
  type BhttpResponseEvent,
  type Fields,
} from './bhttp.js';
export { encodeVarint, readVarint } from './varint.js';
