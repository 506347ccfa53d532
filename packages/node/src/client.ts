/**
 * Node entry points for relying parties: `createSecureClient` (SecureClient over undici) and
 * `bundleAppraiser`, the Appraiser that runs the docs/checks.md "Bundle appraisal" checklist on a pod's evidence bundle.
 */
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import {
  MemoryCache,
  SecureClient,
  type Appraiser,
  type AttestedDocument,
  type Cache,
  type CheckListener,
  type Clock,
  type Fetcher,
  type SecureClientOptions,
} from '@ccinfer/core';
import { appraise, ChainCache, PINNED_ANCHORS, type Policy, type SigstoreBundleVerifier, type TrustAnchors } from '@ccinfer/verifier';
import { sigstoreBundleVerifier } from './provenance.js';
import { defaultDiskCache } from './disk-cache.js';
import { nodeSessionCrypto } from './session-crypto.js';

export interface BundleAppraiserOptions {
  policy?: Policy | undefined;
  /** Trust anchors; default the pinned AMD / Intel / NVIDIA roots. Replaceable, never switchable off. */
  anchors?: TrustAnchors | undefined;
  /** Collateral fetcher (AMD KDS, Intel PCS, NVIDIA). createSecureClient defaults it to its transport; pass
   *  `fetcher: undefined` explicitly for bundle-and-cache-only appraisal. */
  fetcher?: Fetcher | undefined;
  /** Collateral cache. bundleAppraiser defaults it to memory; createSecureClient to a DiskCache in the default
   *  directory (`$XDG_CACHE_HOME/ccinfer` or `~/.cache/ccinfer`), so collateral outlives the process: pass
   *  `cache: undefined` explicitly for memory only. Cached items are verified like fetched ones. */
  cache?: Cache | undefined;
  clock?: Clock | undefined;
  /** Called as each check completes (the CLI prints them live). */
  onCheck?: CheckListener | undefined;
  /**
   * Accept a pod whose CPU measurement or initdata digest (HOST_DATA / MRCONFIGID) the policy does not pin.
   * Default false: a client refuses to send anything to a VM that could be running anyone's software
   * (`ERR_POLICY_UNPINNED`); in Kata every pod of one guest image has the same measurement, so both are needed.
   */
  allowUnpinnedMeasurements?: boolean | undefined;
  /**
   * The signed provenance a policy's `snp.provenance` release identity is checked against: the release's Sigstore
   * bundle (parsed JSON), given by the caller (e.g. downloaded with the release; the pod does not serve it).
   * `verifyBundle` defaults to `sigstoreBundleVerifier()` (offline, the shipped public-good trusted root).
   */
  provenance?: { bundle: unknown; subjectDigest?: string | undefined; verifyBundle?: SigstoreBundleVerifier | undefined } | undefined;
}

/**
 * The Appraiser for ccinfer/1 bundles: `@ccinfer/verifier`'s `appraise` (docs/checks.md "Bundle appraisal": decode,
 * nonce echo, CPU, binding, initdata, every GPU and NVSwitch, topology, policy) with this client's nonce.
 * The key config is handed to the session only from an `ok` document.
 */
export function bundleAppraiser(o: BundleAppraiserOptions = {}): Appraiser {
  const cache = o.cache ?? new MemoryCache();
  const chainCache = new ChainCache();
  const p = o.provenance;
  const provenance = p ? { bundle: p.bundle, subjectDigest: p.subjectDigest, verifyBundle: p.verifyBundle ?? sigstoreBundleVerifier() } : undefined;
  return async (bytes: Uint8Array, nonce: Uint8Array): Promise<AttestedDocument> => {
    const a = await appraise(bytes, {
      nonce,
      policy: o.policy,
      anchors: o.anchors ?? PINNED_ANCHORS,
      fetcher: o.fetcher,
      cache,
      chainCache,
      clock: o.clock,
      onCheck: o.onCheck,
      requireReferenceValues: o.allowUnpinnedMeasurements !== true,
      provenance,
      // A pod with no attested GPU only when the policy says gpu.count.min 0 (ERR_NV_POLICY_NO_GPU).
      requireGpu: true,
    });
    return { ...a.document, keyConfig: a.document.ok && a.keyConfig ? a.keyConfig : new Uint8Array(0) };
  };
}

export interface CreateSecureClientOptions extends Omit<SecureClientOptions, 'appraise' | 'fetch'>, BundleAppraiserOptions {
  /** Replaces the default bundle appraiser. */
  appraise?: Appraiser;
  fetch?: Fetcher;
  /** Undici dispatcher (connection pool, proxy) for requests to the pod. */
  dispatcher?: Dispatcher;
}

/**
 * A SecureClient for Node: undici transport, the bundle appraiser with the pinned roots, and session crypto on
 * node:crypto (`crypto` option to override).
 */
export function createSecureClient(o: CreateSecureClientOptions): SecureClient {
  const fetch: Fetcher =
    o.fetch ?? ((url, init) => undiciFetch(url, { ...(init as object), ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}) } as never) as unknown as Promise<Response>);
  const { appraise, dispatcher: _d, policy, anchors, fetcher, cache, onCheck, allowUnpinnedMeasurements, provenance, ...rest } = o;
  const maxAge = o.maxEvidenceAgeSeconds ?? policy?.freshness?.maxEvidenceAgeSeconds;
  return new SecureClient({
    ...rest,
    ...(maxAge !== undefined ? { maxEvidenceAgeSeconds: maxAge } : {}),
    crypto: o.crypto ?? nodeSessionCrypto,
    fetch,
    appraise: appraise ?? bundleAppraiser({ policy, anchors, fetcher: 'fetcher' in o ? fetcher : fetch, cache: 'cache' in o ? cache : defaultDiskCache(), clock: o.clock, onCheck, allowUnpinnedMeasurements, provenance }),
  });
}
