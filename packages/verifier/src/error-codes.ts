/**
 * Every module of this package that registers its codes in the closed `CcinferErrorCode` union (core's
 * `CcinferErrorCodes` interface, by declaration merging). A registration takes effect only in a program that
 * contains its file, so each entry point imports this one: code reached from `@ccinfer/verifier/testing` or
 * `/sigstore` alone still type-checks its codes.
 */
export type { VerifierErrorCode } from './errors.js';
export type { InitdataErrorCode } from './initdata.js';
export type { MeasureErrorCode } from './measure/errors.js';
export type { NvidiaErrorCode } from './nvidia/errors.js';
export type { PolicyErrorCode } from './policy.js';
export type { ProvenanceErrorCode } from './provenance/errors.js';
export type { SnpErrorCode } from './snp/errors.js';
export type { TdxErrorCode } from './tdx/errors.js';
export type { TrusteeErrorCode } from './trustee/errors.js';
export type { X509ErrorCode } from './x509/errors.js';
