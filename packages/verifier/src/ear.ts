/**
 * Attestation results as EAR (draft-ietf-rats-ear-01): one submodule per attested component (`cpu0`, `gpu0..`,
 * `nvswitch0..`) with `ear.status` and an AR4SI trustworthiness vector (draft-ietf-rats-ar4si-07 §2.3), and an
 * optional JWT signature with `jose`.
 *
 * Tiers (AR4SI §2.3.1): 0 "no claim", 2..31 affirming, 32..95 warning, 96..127 contraindicated. The codes
 * used here: instance-identity 2 (recognized), hardware 2 (genuine), runtime-opaque 2 (encrypted memory,
 * TEE), configuration 2 (approved) / 32 (unverified: no reference value configured), executables 2 (approved)
 * / 32 (unverified) / 96 (contraindicated: an appraisal step failed).
 */
import { SignJWT } from 'jose';
import { toBase64Url, type VerificationDocument } from '@ccinfer/core';

export type EarStatus = 'affirming' | 'warning' | 'contraindicated' | 'none';

export interface TrustworthinessVector {
  'instance-identity'?: number;
  configuration?: number;
  executables?: number;
  hardware?: number;
  'runtime-opaque'?: number;
}

export interface EarSubmod {
  'ear.status': EarStatus;
  'ear.trustworthiness-vector': TrustworthinessVector;
  'ear.appraisal-policy-id': string;
}

export interface EarClaims {
  eat_profile: 'tag:github.com,2023:veraison/ear';
  iat: number;
  'ear.verifier-id': { developer: string; build: string };
  eat_nonce: string;
  submods: Record<string, EarSubmod>;
}

export const EAR_PROFILE = 'tag:github.com,2023:veraison/ear' as const;
export const VERIFIER_BUILD = 'ccinfer 0.1.0';

function statusOf(v: TrustworthinessVector): EarStatus {
  const worst = Math.max(...Object.values(v).map((x) => x ?? 0));
  return worst >= 96 ? 'contraindicated' : worst >= 32 ? 'warning' : worst >= 2 ? 'affirming' : 'none';
}

/**
 * Derives EAR submodules from the document's checks: a component whose checks all passed is affirming, with
 * `executables` / `configuration` lowered to warning when its reference-value checks were skipped; a
 * component with a failed check (or not reached because an earlier step failed) is contraindicated.
 */
export function earFromDocument(doc: VerificationDocument, components: { submod: string; prefix: string }[], nonce: Uint8Array, policyId = 'ccinfer/policy'): EarClaims {
  const submods: Record<string, EarSubmod> = {};
  for (const { submod, prefix } of components) {
    const mine = doc.checks.filter((c) => c.id === prefix || c.id.startsWith(`${prefix}.`));
    const failed = mine.some((c) => c.status === 'failed') || !doc.ok;
    const unverified = mine.some((c) => c.status === 'skipped' && /measurement|hostData|mrTd|rtmr|driver|vbios|rim/i.test(c.id));
    const vector: TrustworthinessVector = failed
      ? { 'instance-identity': 96, hardware: 96, executables: 96, configuration: 96 }
      : { 'instance-identity': 2, hardware: 2, 'runtime-opaque': 2, configuration: unverified ? 32 : 2, executables: unverified ? 32 : 2 };
    submods[submod] = { 'ear.status': statusOf(vector), 'ear.trustworthiness-vector': vector, 'ear.appraisal-policy-id': policyId };
  }
  return {
    eat_profile: EAR_PROFILE,
    iat: Math.floor(new Date(doc.verifiedAt).getTime() / 1000),
    'ear.verifier-id': { developer: 'ccinfer', build: VERIFIER_BUILD },
    eat_nonce: toBase64Url(nonce),
    submods,
  };
}

/**
 * Signs EAR claims (from `appraise(...).ear` or {@link earFromDocument}) as a compact JWT with `jose`: protected
 * header `{ alg, typ: 'JWT', kid? }`, payload the claims unchanged. `alg` defaults to `ES384` and must match
 * `key` (a WebCrypto private key: P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA); `kid` is included only
 * when given. Nothing is checked about the claims: sign only what your appraisal produced.
 *
 * @example
 * ```ts
 * import { appraise, signEar } from '@ccinfer/verifier';
 *
 * const { ear } = await appraise(bundle, { nonce, policy });
 * const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
 * const jwt = await signEar(ear, privateKey, 'ES384', 'verifier-key-1');
 * ```
 */
export async function signEar(ear: EarClaims, key: CryptoKey, alg: 'ES256' | 'ES384' | 'EdDSA' = 'ES384', kid?: string): Promise<string> {
  return new SignJWT(ear as unknown as Record<string, unknown>)
    .setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })
    .sign(key);
}
