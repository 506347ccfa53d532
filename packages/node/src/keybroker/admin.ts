/**
 * The admin interface's authentication, as Trustee's KBS does it (kbs/docs/admin.md, "AuthenticatedAuthorization"
 * with `bearer_jwt` + `regex_acl`): `Authorization: Bearer <JWT>` signed by a configured admin key (PEM SPKI
 * or JWK; EdDSA / ES256 / ES384), with `exp` required, optional `iss` / `aud` checks, and a `role` claim whose
 * ACL (regexes anchored with ^/kbs … $) must allow the request path. Without a configured key every admin
 * request is refused (Trustee's `DenyAll`).
 */
import { ConfigError, VerificationError, type Jwk } from '@ccinfer/core';
import { importJWK, importSPKI, jwtVerify, type JWK } from 'jose';

export interface AdminAuthOptions {
  /** PEM SubjectPublicKeyInfo or a public JWK (with `alg`). */
  publicKey: string | Jwk;
  /** JWS algorithm of a PEM key. Default EdDSA (Trustee's admin keys are Ed25519). */
  algorithm?: 'EdDSA' | 'ES256' | 'ES384';
  issuer?: string;
  audience?: string;
  /** role → allowed endpoint regexes. Default { "kbs-admin": resource writes and the resource policy }. */
  acls?: Record<string, string[]>;
}

export const DEFAULT_ADMIN_ACLS: Record<string, string[]> = {
  'kbs-admin': ['^/kbs/v0/resource/.+$', '^/kbs/v0/resource-policy$', '^/kbs/v0/audit$'],
};

export type AdminAuthenticator = (authorization: string | undefined, path: string, now: Date) => Promise<{ role: string; subject: string | undefined }>;

/**
 * The admin key types accepted, by JWS algorithm (RFC 8037 §3.1, RFC 7518 §3.4): an asymmetric public key.
 * A symmetric `oct` key would make the configured "public key" a shared secret that signs admin tokens, and RSA
 * is not an admin key type Trustee issues; both are refused at configuration.
 */
const ADMIN_KEY_TYPES = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', webcrypto: { name: 'Ed25519' } },
  ES256: { kty: 'EC', crv: 'P-256', webcrypto: { name: 'ECDSA', namedCurve: 'P-256' } },
  ES384: { kty: 'EC', crv: 'P-384', webcrypto: { name: 'ECDSA', namedCurve: 'P-384' } },
} as const;
type AdminAlg = keyof typeof ADMIN_KEY_TYPES;

function badKey(msg: string, cause?: unknown): ConfigError {
  return new ConfigError('ERR_OPTIONS_INVALID', msg, { fields: ['admin.publicKey'], ...(cause === undefined ? {} : { cause }) });
}

/** Imports the admin public key, refusing anything but an Ed25519 / P-256 / P-384 public key matching `alg`. */
async function importAdminKey(o: AdminAuthOptions): Promise<{ key: CryptoKey; alg: AdminAlg }> {
  const jwk = typeof o.publicKey === 'string' ? undefined : o.publicKey;
  const alg = jwk?.alg ?? o.algorithm ?? 'EdDSA';
  if (!Object.hasOwn(ADMIN_KEY_TYPES, alg)) throw badKey(`admin key algorithm ${alg} is not one of EdDSA, ES256, ES384`);
  const want = ADMIN_KEY_TYPES[alg as AdminAlg];
  if (jwk) {
    if (jwk.kty !== want.kty || jwk.crv !== want.crv) throw badKey(`admin JWK must be kty ${want.kty} crv ${want.crv} for ${alg} (got kty ${String(jwk.kty)} crv ${String(jwk.crv)})`);
    if ('d' in jwk) throw badKey('the admin JWK holds a private key; configure the public key only');
  }
  let key: CryptoKey;
  try {
    const k = jwk ? await importJWK(jwk as JWK, alg) : await importSPKI(o.publicKey as string, alg);
    if (k instanceof Uint8Array) throw badKey('the admin key is symmetric');
    key = k;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw badKey(`the admin key is not a ${want.crv} public key usable with ${alg}`, err);
  }
  const a = key.algorithm as { name: string; namedCurve?: string };
  if (key.type !== 'public' || a.name !== want.webcrypto.name || ('namedCurve' in want.webcrypto && a.namedCurve !== want.webcrypto.namedCurve)) {
    throw badKey(`the admin key is not a ${want.crv} public key`);
  }
  return { key, alg: alg as AdminAlg };
}

function fail(msg: string, cause?: unknown): VerificationError {
  return new VerificationError('ERR_KBS_ADMIN_AUTH', msg, cause === undefined ? undefined : { cause });
}

export async function createAdminAuthenticator(o: AdminAuthOptions | undefined): Promise<AdminAuthenticator> {
  if (!o) {
    return async () => {
      throw fail('the admin interface is disabled (no admin key configured)');
    };
  }
  const { key, alg } = await importAdminKey(o);
  const acls = Object.entries(o.acls ?? DEFAULT_ADMIN_ACLS).map(([role, res]) => ({ role, res: res.map((r) => new RegExp(r)) }));
  return async (authorization, path, now) => {
    const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (!m) throw fail('no admin bearer token');
    let payload;
    try {
      ({ payload } = await jwtVerify(m[1]!, key, {
        algorithms: [alg],
        currentDate: now,
        requiredClaims: ['exp'],
        ...(o.issuer ? { issuer: o.issuer } : {}),
        ...(o.audience ? { audience: o.audience } : {}),
      }));
    } catch (err) {
      throw fail('Admin Token could not be verified', err);
    }
    const role = payload['role'];
    if (typeof role !== 'string') throw fail('the admin token has no role claim');
    if (!acls.some((a) => a.role === role && a.res.some((r) => r.test(path)))) throw fail(`role ${role} may not use ${path}`);
    return { role, subject: payload.sub };
  };
}
