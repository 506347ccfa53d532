/** Error codes of @ccinfer/browser (stable public API). */
export type BrowserErrorCode =
  | 'ERR_UPLOAD_NOT_ATTESTED' // VerificationError: sealFor() got a document that is not an accepted appraisal
  | 'ERR_UPLOAD_READ' // SessionError: the File / Blob could not be read
  | 'ERR_UPLOAD_NETWORK' // TransportError: the encrypted upload did not reach the gateway
  | 'ERR_UPLOAD_PART' // SessionError: an Uploads API call (parts of a large upload) answered no usable id
  | 'ERR_IDB_UNAVAILABLE' // ConfigError: IndexedDB requested where there is none
  | 'ERR_IDB_FAILED' // CollateralError: IndexedDB refused to open or answer
  | 'ERR_COLLATERAL_PROXY_URL'; // ConfigError: the collateral proxy template has no {url}

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<BrowserErrorCode, true> {}
}
