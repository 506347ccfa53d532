/**
 * @ccinfer/browser — verify a confidential pod from a web page, then talk to it and upload to it end-to-end
 * encrypted. Web APIs only. Re-exports the runtime-agnostic API of @ccinfer/core and @ccinfer/verifier.
 */
export { createSecureClient, browserAppraiser, BrowserSecureClient, type BrowserClientOptions, type UploadOptions } from './client.js';
export { sealFor, sealParts, UPLOAD_CHUNK, type SealProgress, type ProgressListener } from './seal.js';
export { IndexedDbCache } from './idb-cache.js';
export { proxiedFetcher, TieredCache } from './collateral.js';
export type { BrowserErrorCode } from './errors.js';
export * from '@ccinfer/core';
export * from '@ccinfer/verifier';
// Both packages name a type SnpEvidence: the verifier's (input of verifySnp) is the one exported here; the
// bundle's is EvidenceBundle['cpu'].
export type { SnpEvidence } from '@ccinfer/verifier';
