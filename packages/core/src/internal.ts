/**
 * `@ccinfer/core/internal`: building blocks the other ccinfer packages share (`@ccinfer/verifier`,
 * `@ccinfer/node`, `@ccinfer/browser`). **Not API**: names here may change or go in any release, without a
 * major version bump. Applications import from `@ccinfer/core` only.
 */
export { BoundedMap } from './bounded-map.js';
export { parseFail } from './errors.js';
export { ByteReader, isZero, snapshot, reverse } from './bytes.js';
export { webcrypto, bs } from './crypto.js';
export {
  Tag,
  decodeDer,
  children,
  expectTag,
  sequence,
  readOid,
  readUnsigned,
  readSmallInt,
  readBoolean,
  readBitStringBytes,
  readBitFlags,
  readOctets,
  readString,
  readTime,
  tlv,
  der,
  type DerNode,
} from './der.js';
export { definedOnly } from './object.js';
export { duplicateJsonKey } from './json.js';
export {
  // session/binding
  bindingInputOf, type BindingInput,
  // session/keyconfig
  selectAlgorithm, keyConfigDigest, KEY_CONFIG_HEADER,
  // session/bhttp: the streaming pieces of a response (the gateway seals each as it is produced) and of a request
  encodeResponseHead, encodeContentChunk, encodeResponseEnd, encodeRequestHead, encodeMessageEnd,
  BhttpRequestDecoder, type BhttpRequestEvent, type BhttpRequestHead,
  // session/varint
  encodeVarint, readVarint,
  // session/binding-trustee
  canonicalJson, parseTeePubKey, parseKbsRuntimeData, trusteeDigest, trusteeGpuNonce, trusteePrimaryRuntimeData,
  trusteeReportData, encodeTrusteeKeyConfig, decodeTrusteeKeyConfig, parseTrusteeAdditionalEvidence,
  encodeTrusteeAdditionalEvidence, isSwitchArch, trusteeReportData64, type KbsRuntimeData, type TrusteeNvidiaDevice,
} from './session/index.js';
export { HOP_BY_HOP } from './session/bhttp.js';
// session/request-stream: a request body encrypted as it is sent (SecureClient, the browser's uploads)
export { encryptRequestStream, MAX_CONTENT_PER_CHUNK, type BodySource, type RequestStreamOptions } from './session/request-stream.js';
// client/secure-client: bodies above this size are streamed
export { STREAM_THRESHOLD } from './client/secure-client.js';
/** The one rule for a failed collateral fetch (a caller's abort stays ERR_FETCH_ABORTED), shared by cachedFetch and TDX's own PCS fetcher. */
export { collateralFetchFailure } from './runtime.js';
