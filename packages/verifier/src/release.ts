/**
 * Sealed key release: a model owner's secret (typically the key that decrypts the weights) is sealed to the
 * key an appraised pod proved it holds, and only when the appraisal passes.
 *
 *   releaseTo(bundle, policy, secret, { nonce, now, … })
 *     1. appraise(bundle, { nonce, policy, … })  — the same checklist every client runs (docs/checks.md);
 *     2. document.ok false → nothing is sealed: { sealed: undefined, document };
 *     3. otherwise seal `secret` to the attested key:
 *        - ccinfer/1 (and any scheme whose key is an RFC 9458 key config): HPKE single-shot, the session
 *          suites (`sealToKeyConfig`), opened in the pod with `openSealed`;
 *        - trustee-kbs/0.4.0: a flattened JWE to the runtime data's `tee-pubkey` (trustee/jwe.ts), which the
 *          guest's Confidential Data Hub decrypts.
 */
import { ConfigError, sealToKeyConfig, sha256, toHex, trusteeKbsBinding, utf8, type EvidenceBundle, type VerificationDocument } from '@ccinfer/core';
import { decodeTrusteeKeyConfig } from '@ccinfer/core/internal';
import { appraise, type AppraiseOptions } from './appraise.js';
import type { EarClaims } from './ear.js';
import type { Policy } from './policy.js';
import { jweToTeePubKey } from './trustee/jwe.js';

/**
 * `nonce` is the caller's fresh nonce (ccinfer/1). Under `trustee-kbs/0.4.0` it is the nonce derived from the
 * KBS runtime data (`bundleFromKbsAttestation(...).nonce`): the caller must itself have checked that the
 * runtime data's `nonce` is the challenge it issued, once (the key broker does).
 */
export interface ReleaseOptions extends Omit<AppraiseOptions, 'policy'> {
  /** Bound as HPKE AAD (e.g. the resource name); the pod must open with the same label. */
  label?: string | undefined;
}

export interface Release {
  /** The sealed secret; undefined when the appraisal failed (then nothing was sealed). */
  sealed: Uint8Array | undefined;
  /** `hpke` (ccinfer sealed secret) or `jwe` (flattened JWE JSON, UTF-8). */
  format: 'hpke' | 'jwe' | undefined;
  document: VerificationDocument;
  ear: EarClaims;
  /** SHA-256 over the canonical JSON of the document: what audit logs record. */
  documentDigest: string;
}

/** Hex SHA-256 of the verification document serialized with sorted keys (stable across runs). */
export async function documentDigest(doc: VerificationDocument): Promise<string> {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
  return toHex(await sha256(utf8(JSON.stringify(sorted(doc)))));
}

/**
 * Appraises `bundleOrEvidence` against `policy` (the same `appraise` checklist as every client), then seals
 * `secret` to the key the evidence binds; seals nothing when the appraisal fails (`sealed` undefined, the
 * document says why). `requireReferenceValues` defaults to true here: a secret is released only to pinned
 * software (an unpinned measurement or initdata digest fails with `ERR_POLICY_UNPINNED` unless the caller passes
 * false), and only to a pod with an attested GPU unless the policy says `gpu.count.min: 0` (`ERR_NV_POLICY_NO_GPU`).
 *
 * Format follows `options.binding`: ccinfer/1 (default) gives `hpke`, RFC 9180 single-shot HPKE to the attested
 * key config with `label` (default empty) as AAD, opened in the pod with `openSealed`; `trusteeKbsBinding` gives
 * `jwe`, a flattened JWE (UTF-8 JSON) to the runtime data's `tee-pubkey`. Other options as for `appraise`
 * (`nonce` is required: an `audit` appraisal establishes no freshness and releases nothing; anchors default to
 * the pinned roots; no `fetcher` means nothing is fetched). Throws ConfigError `ERR_OPTIONS_INVALID` for an empty `secret` or a `policy` that is not a parsed
 * policy.
 *
 * @example
 * ```ts
 * import { parsePolicy } from '@ccinfer/verifier';
 * import { releaseTo } from '@ccinfer/verifier/trustee';
 *
 * const r = await releaseTo(bundle, parsePolicy(policyJson), weightsKey, { nonce, label: 'models/llama/key', fetcher: fetch });
 * if (!r.sealed) throw new Error(`not released: ${r.document.errors.map((e) => e.code).join(', ')}`);
 * audit.write({ digest: r.documentDigest, format: r.format }); // then send r.sealed to the pod
 * ```
 */
export async function releaseTo(bundleOrEvidence: Uint8Array | EvidenceBundle, policy: Policy, secret: Uint8Array, options: ReleaseOptions): Promise<Release> {
  if (!(secret instanceof Uint8Array) || secret.length === 0) throw new ConfigError('ERR_OPTIONS_INVALID', 'secret must be non-empty bytes', { fields: ['secret'] });
  if (!policy || policy.version !== 1) throw new ConfigError('ERR_OPTIONS_INVALID', 'policy must be a parsed policy (parsePolicy)', { fields: ['policy'] });
  // A secret is released only to pinned software: unpinned measurements fail unless the caller says otherwise.
  // Nor to a pod without an attested GPU, unless the policy allows CPU-only pods (gpu.count.min 0).
  const a = await appraise(bundleOrEvidence, { requireReferenceValues: true, ...options, policy, requireGpu: true });
  const digest = await documentDigest(a.document);
  if (!a.document.ok || !a.keyConfig) return { sealed: undefined, format: undefined, document: a.document, ear: a.ear, documentDigest: digest };
  if ((options.binding ?? undefined) === trusteeKbsBinding) {
    const { runtime } = decodeTrusteeKeyConfig(a.keyConfig);
    const jwe = await jweToTeePubKey(runtime['tee-pubkey'], secret);
    return { sealed: utf8(JSON.stringify(jwe)), format: 'jwe', document: a.document, ear: a.ear, documentDigest: digest };
  }
  return { sealed: await sealToKeyConfig(a.keyConfig, secret, options.label ?? ''), format: 'hpke', document: a.document, ear: a.ear, documentDigest: digest };
}
