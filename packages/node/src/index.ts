/**
 * @ccinfer/node — Node adapters for ccinfer: the CLI entry, and (re-exported) the runtime-agnostic API.
 */
export { main as runCli } from './cli/main.js';
export type { CliIo, Command } from './cli/types.js';
export { createSecureClient, bundleAppraiser, type CreateSecureClientOptions, type BundleAppraiserOptions } from './client.js';
export { nodeSessionCrypto } from './session-crypto.js';
/** Signed provenance: the Sigstore bundle verifier (offline, shipped public-good trusted root) for `snp.provenance`. */
export { sigstoreBundleVerifier, SIGSTORE_TRUSTED_ROOT, SIGSTORE_TRUSTED_ROOT_SOURCE, type SigstoreBundleVerifierOptions } from './provenance.js';
export { DiskCache, defaultCacheDir, type DiskCacheOptions } from './disk-cache.js';
export {
  createGateway,
  createSimulatedProvider,
  createConfigfsProvider,
  createCocoProvider,
  nvattestDevices,
  nvmlDevices,
  createCollateralAttacher,
  assembleBundle,
  type Gateway,
  type GatewayOptions,
  type EvidenceProvider,
  type SimulatedProvider,
  type ConfigfsOptions,
  type CocoOptions,
  type CocoProvider,
  type NvattestOptions,
  type NvmlOptions,
  type CollateralAttacher,
  type CollateralAttacherOptions,
} from './gateway/index.js';
export { startModelServer, DEMO_MODEL, type ModelServer } from './demo/model-server.js';
export * from './keybroker/index.js';
export * from '@ccinfer/core';
export { parsePolicy, parsePolicyText, policyFromBundle, parseAnchors, PINNED_ANCHORS, type Policy, type TrustAnchors } from '@ccinfer/verifier';
