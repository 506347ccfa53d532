/**
 * Error codes of the session layer (stable public API, CONTRIBUTING.md "Errors"). All are thrown as
 * {@link SessionError}s except where a module says otherwise (the binding check is a VerificationError).
 */
import { SessionError, type CcinferErrorOptions } from '../errors.js';

export type SessionErrorCode =
  // bundle.ts — evidence bundle and attest request (docs/wire-protocol.md)
  | 'ERR_BUNDLE_TOO_LARGE'
  | 'ERR_BUNDLE_NOT_A_BUNDLE' // does not even start as a CBOR map: another kind of file (JSON, PEM, text)
  | 'ERR_BUNDLE_CBOR_MALFORMED' // not well-formed CBOR, or trailing bytes
  | 'ERR_BUNDLE_CBOR_NOT_CANONICAL' // indefinite length or a length not in its shortest form
  | 'ERR_BUNDLE_CBOR_UNSUPPORTED' // tags, floats, simple values, negative integers, too deep
  | 'ERR_BUNDLE_DUPLICATE_KEY'
  | 'ERR_BUNDLE_VERSION'
  | 'ERR_BUNDLE_MISSING_FIELD'
  | 'ERR_BUNDLE_UNKNOWN_FIELD'
  | 'ERR_BUNDLE_FIELD_TYPE'
  | 'ERR_BUNDLE_FIELD_SIZE'
  | 'ERR_BUNDLE_TEE_UNKNOWN'
  // binding.ts
  | 'ERR_SESSION_BINDING_INPUT' // inputs the scheme cannot encode (nonce size, > 255 devices)
  | 'ERR_SESSION_BINDING_MISMATCH' // VerificationError: REPORT_DATA is not the binding of this bundle
  // keyconfig.ts — RFC 9458 §3
  | 'ERR_KEYCONFIG_TRUNCATED'
  | 'ERR_KEYCONFIG_TRAILING_BYTES'
  | 'ERR_KEYCONFIG_UNSUPPORTED_KEM'
  | 'ERR_KEYCONFIG_ALGORITHMS_LENGTH'
  | 'ERR_KEYCONFIG_NO_SUPPORTED_SUITE'
  | 'ERR_KEYCONFIG_PUBLIC_KEY'
  // hpke.ts / ohttp.ts — RFC 9458 and draft-ietf-ohai-chunked-ohttp-08
  | 'ERR_OHTTP_TRUNCATED' // a message or stream that ends early (incl. before the final chunk)
  | 'ERR_OHTTP_KEY_ID' // the key identifier is not one of ours (key-config-mismatch)
  | 'ERR_OHTTP_SUITE' // KEM/KDF/AEAD not the configured ones (key-config-mismatch)
  | 'ERR_OHTTP_DECRYPT' // AEAD open failed: tampered, reordered, replayed or mis-framed chunk
  | 'ERR_OHTTP_EMPTY_CHUNK' // a non-final chunk with an empty plaintext (draft §6)
  | 'ERR_OHTTP_CHUNK_TOO_LARGE'
  | 'ERR_OHTTP_TOO_MANY_CHUNKS'
  | 'ERR_OHTTP_VARINT' // non-minimal or oversized variable-length integer where we forbid it
  | 'ERR_OHTTP_STATE' // API misuse: sealing after the final chunk
  | 'ERR_OHTTP_ENCAPSULATION' // HPKE setup failed (bad encapsulated key)
  // request-stream.ts
  | 'ERR_SESSION_BODY' // a streamed request body failed, or yielded something that is not bytes
  // bhttp.ts — RFC 9292
  | 'ERR_BHTTP_TRUNCATED'
  | 'ERR_BHTTP_FRAMING'
  | 'ERR_BHTTP_STATUS'
  | 'ERR_BHTTP_FIELD'
  | 'ERR_BHTTP_PADDING'
  | 'ERR_BHTTP_TOO_LARGE';

export function sessionError(code: SessionErrorCode, message: string, options?: CcinferErrorOptions): SessionError {
  return new SessionError(code, message, options);
}
