/**
 * JSON Web Key and JWT claims types for the public API.
 *
 * Why not jose's `JWK` / `JWTPayload`: jose is ESM-only, so a CommonJS consumer's declarations (`.d.cts`) that
 * import its types fail to type-check under `moduleResolution: node16` / `nodenext` (TS1479). These are
 * structural equivalents of the registered members; jose values are assignable to them and back.
 */

/** A JSON Web Key (RFC 7517 §4, members of RFC 7518 §6): registered members typed, any other member allowed. */
export interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  x5c?: string[];
  [member: string]: unknown;
}

/** JWT claims (RFC 7519 §4.1 registered claims typed; private claims as `unknown`). */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}
