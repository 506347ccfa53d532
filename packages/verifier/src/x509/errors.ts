/** Error codes of the X.509 module. */
export type X509ErrorCode =
  | 'ERR_X509_MALFORMED'
  | 'ERR_X509_PEM_INVALID'
  | 'ERR_X509_UNSUPPORTED_ALGORITHM'
  | 'ERR_X509_SIGNATURE_INVALID'
  | 'ERR_X509_KEY_INVALID' // SubjectPublicKeyInfo WebCrypto refuses to import (EC point off its curve, bad RSA key)
  | 'ERR_X509_EXPIRED'
  | 'ERR_X509_NOT_YET_VALID'
  | 'ERR_X509_ISSUER_MISMATCH'
  | 'ERR_X509_NOT_CA'
  | 'ERR_X509_PATH_LENGTH'
  | 'ERR_X509_CRITICAL_EXTENSION'
  | 'ERR_X509_UNTRUSTED_ROOT'
  | 'ERR_X509_CHAIN_EMPTY'
  | 'ERR_X509_CHAIN_LENGTH'
  | 'ERR_X509_CRL_MALFORMED'
  | 'ERR_X509_CRL_SIGNATURE_INVALID'
  | 'ERR_X509_CRL_EXPIRED'
  | 'ERR_X509_CRL_ISSUER_MISMATCH';

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<X509ErrorCode, true> {}
}
