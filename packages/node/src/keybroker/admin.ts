/**
 * The admin interface's authentication, as Trustee's KBS does it (kbs/docs/admin.md, "AuthenticatedAuthorization"
 * with `bearer_jwt` + `regex_acl`): `Authorization: Bearer <JWT>` signed by a configured admin key (PEM SPKI
 * or JWK; EdDSA / ES256 / ES384), with `exp` required, optional `iss` / `aud` checks, and a `role` claim whose
 * ACL (regexes anchored with ^/kbs … $) must allow the request path. Without a configured key every admin
 * request is refused (Trustee's `DenyAll`).
 */
import { VerificationError } from '@ccinfer/core';
import { importJWK, importSPKI, jwtVerify, type JWK } from 'jose';

export interface AdminAuthOptions {
  /** PEM SubjectPublicKeyInfo or a public JWK (with `alg`). */
  publicKey: string | JWK;
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

function fail(msg: string, cause?: unknown): VerificationError {
  return new VerificationError('ERR_KBS_ADMIN_AUTH', msg, cause === undefined ? undefined : { cause });
}

export async function createAdminAuthenticator(o: AdminAuthOptions | undefined): Promise<AdminAuthenticator> {
  if (!o) {
    return async () => {
      throw fail('the admin interface is disabled (no admin key configured)');
    };
  }
  const alg = typeof o.publicKey === 'string' ? (o.algorithm ?? 'EdDSA') : (o.publicKey.alg ?? o.algorithm ?? 'EdDSA');
  const key = typeof o.publicKey === 'string' ? await importSPKI(o.publicKey, alg) : await importJWK(o.publicKey, alg);
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
