/**
 * The ccinfer error model.
 *
 * Every error the SDK throws is a {@link CcinferError} with a stable `code` (`ERR_…`) and, where another
 * error caused it, the ES2022 `cause`. Subclasses follow the appraisal stages, so callers can branch on the
 * class (which stage failed) or on the code (exactly what failed). Codes are public API: adding one is a
 * minor change, renaming or removing one is a major change. Messages are for people and may change.
 *
 * `instanceof` works across duplicate installs of the package: classes are branded with a registry symbol
 * (`Symbol.for`) rather than compared by identity.
 */

import type { ClientErrorCode } from './client/errors.js';
import type { CollateralFileErrorCode } from './collateral-file.js';
import type { TrusteeBindingErrorCode } from './session/binding-trustee.js';
import type { SessionErrorCode } from './session/errors.js';

/** Codes of the core helpers shared by every stage (byte codecs, DER, crypto access, fetching, options). */
export type CoreErrorCode =
  | 'ERR_INTERNAL' // a bug: never the outcome of bad input
  | 'ERR_HEX_INVALID'
  | 'ERR_BASE64_INVALID'
  | 'ERR_UTF8_INVALID'
  | 'ERR_DER_MALFORMED'
  | 'ERR_CRYPTO_UNAVAILABLE'
  | 'ERR_FETCH_ABORTED'
  | 'ERR_FETCH_FAILED'
  | 'ERR_FETCH_HTTP_STATUS'
  | 'ERR_FETCH_TIMEOUT'
  | 'ERR_FETCH_TOO_LARGE'
  | 'ERR_OPTIONS_INVALID';

/**
 * The registry of every error code the SDK can throw. Each module that owns codes declares them as a union
 * (`SnpErrorCode`, `TdxErrorCode`, …) and adds it here by declaration merging, next to the union:
 *
 * ```ts
 * declare module '@ccinfer/core' {
 *   interface CcinferErrorCodes extends Record<SnpErrorCode, true> {}
 * }
 * ```
 *
 * so the set stays closed (a code nobody declared does not compile) while core never imports the verifier.
 */
export interface CcinferErrorCodes
  extends Record<CoreErrorCode | SessionErrorCode | ClientErrorCode | CollateralFileErrorCode | TrusteeBindingErrorCode, true> {}

/** The closed union of every module's codes: constructing an error with an undeclared code fails to compile. */
export type CcinferErrorCode = keyof CcinferErrorCodes & `ERR_${string}`;

/** Alias of {@link CcinferErrorCode}, the name the constructors and helpers have always used. */
export type ErrorCode = CcinferErrorCode;

const BRAND = Symbol.for('ccinfer.error.kinds');

interface Branded {
  [BRAND]?: readonly string[];
}

export interface CcinferErrorOptions {
  cause?: unknown;
}

export class CcinferError extends Error {
  /** Stable identifier of this class, used for cross-install `instanceof`. */
  static readonly kind: string = 'CcinferError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: CcinferErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = (new.target as typeof CcinferError).kind;
    const kinds: string[] = [];
    for (let c = new.target as unknown; typeof c === 'function' && 'kind' in c; c = Object.getPrototypeOf(c)) {
      kinds.push((c as typeof CcinferError).kind);
    }
    Object.defineProperty(this, BRAND, { value: Object.freeze(kinds), enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const kinds = (value as Branded)[BRAND];
    return Array.isArray(kinds) && kinds.includes(this.kind);
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Bytes that do not have the structure their specification defines. Carries the byte offset when known. */
export class ParseError extends CcinferError {
  static override readonly kind: string = 'ParseError';
  readonly offset: number | undefined;
  constructor(code: ErrorCode, message: string, options?: CcinferErrorOptions & { offset?: number }) {
    super(code, message, options);
    this.offset = options?.offset;
  }
}

/**
 * Throws a {@link ParseError}: the one helper every parser uses instead of a local `fail` / `malformed`, so a
 * parse failure always carries its code, the byte offset when the parser knows it, and the cause.
 */
export function parseFail(code: ErrorCode, message: string, where?: { offset?: number | undefined; cause?: unknown }): never {
  const options: CcinferErrorOptions & { offset?: number } = {};
  if (where?.offset !== undefined) options.offset = where.offset;
  if (where?.cause !== undefined) options.cause = where.cause;
  throw new ParseError(code, message, options);
}

/** A signature, certificate chain, digest or binding that does not verify. */
export class VerificationError extends CcinferError {
  static override readonly kind: string = 'VerificationError';
}

/** Collateral (certificates, CRLs, TCB info, RIMs, OCSP) that is missing, stale or unobtainable. */
export class CollateralError extends CcinferError {
  static override readonly kind: string = 'CollateralError';
}

/** Genuine evidence whose claims the appraisal policy does not accept. */
export class PolicyError extends CcinferError {
  static override readonly kind: string = 'PolicyError';
  readonly field: string | undefined;
  readonly expected: unknown;
  readonly actual: unknown;
  constructor(
    code: ErrorCode,
    message: string,
    options?: CcinferErrorOptions & { field?: string; expected?: unknown; actual?: unknown },
  ) {
    super(code, message, options);
    this.field = options?.field;
    this.expected = options?.expected;
    this.actual = options?.actual;
  }
}

/** Invalid options, policy documents or anchors supplied by the caller. `fields` lists every bad field. */
export class ConfigError extends CcinferError {
  static override readonly kind: string = 'ConfigError';
  readonly fields: readonly string[];
  constructor(code: ErrorCode, message: string, options?: CcinferErrorOptions & { fields?: readonly string[] }) {
    super(code, message, options);
    this.fields = options?.fields ?? [];
  }
}

/** Encrypted-session failures: key configs, HPKE, OHTTP/BHTTP framing. */
export class SessionError extends CcinferError {
  static override readonly kind: string = 'SessionError';
}

/** Network and peer failures outside the cryptographic checks (HTTP status, timeouts, aborted requests). */
export class TransportError extends CcinferError {
  static override readonly kind: string = 'TransportError';
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, options?: CcinferErrorOptions & { status?: number }) {
    super(code, message, options);
    this.status = options?.status;
  }
}

/** Wraps an unknown thrown value so that the SDK only ever surfaces CcinferErrors. */
export function asCcinferError(err: unknown, code: ErrorCode, message: string): CcinferError {
  return err instanceof CcinferError ? err : new CcinferError(code, message, { cause: err });
}
