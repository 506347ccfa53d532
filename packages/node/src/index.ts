/**
 * `@ccinfer/node`: the relying party's side on Node — a `SecureClient` that appraises a pod and talks to it
 * end-to-end encrypted (undici transport, node:crypto session backend, collateral cached on disk), plus the
 * policy and trust-anchor helpers its options take, and the error classes it throws.
 *
 * This entry loads no pod-side code. The other roles are subpaths:
 * `@ccinfer/node/gateway` (the pod gateway and its evidence providers), `@ccinfer/node/keybroker` (the KBS-
 * protocol key broker), `@ccinfer/node/simulator` (a simulated pod and the demo model server, for tests and
 * demos) and `@ccinfer/node/cli` (the `ccinfer` command).
 *
 * @example
 * ```ts
 * import { createSecureClient, parsePolicy } from '@ccinfer/node';
 * const client = createSecureClient({ endpoint: 'https://pod.example', policy: parsePolicy(policyJson) });
 * const reply = await client.fetch('https://pod.example/v1/chat/completions', { method: 'POST', body });
 * ```
 */
export { createSecureClient, bundleAppraiser, type CreateSecureClientOptions, type BundleAppraiserOptions } from './client.js';
export { nodeSessionCrypto } from './session-crypto.js';
/** Signed provenance: the Sigstore bundle verifier (offline, shipped public-good trusted root) for `snp.provenance`. */
export { sigstoreBundleVerifier, SIGSTORE_TRUSTED_ROOT, SIGSTORE_TRUSTED_ROOT_SOURCE, type SigstoreBundleVerifierOptions } from './provenance.js';
export { DiskCache, defaultCacheDir, type DiskCacheOptions } from './disk-cache.js';
export {
  SecureClient,
  MemoryCache,
  systemClock,
  CcinferError,
  ParseError,
  VerificationError,
  CollateralError,
  PolicyError,
  ConfigError,
  SessionError,
  TransportError,
  type ErrorCode,
  type SecureClientOptions,
  type SecureClientEvents,
  type AttestedDocument,
  type ChatBody,
  type ChatMessage,
  type ChatCompletionRequest,
  type ChatCompletion,
  type ChatCompletionChunk,
  type CompletionUsage,
  type Jwk,
  type JwtClaims,
  type SseEvent,
  type VerificationDocument,
  type Check,
  type CheckStatus,
  type Cache,
  type CacheEntry,
  type Clock,
  type Fetcher,
} from '@ccinfer/core';
export { parsePolicy, parsePolicyText, policyFromBundle, parseAnchors, PINNED_ANCHORS, type Policy, type TrustAnchors } from '@ccinfer/verifier';
