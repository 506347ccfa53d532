/**
 * `@ccinfer/node/gateway`: the pod gateway (a sidecar in the confidential VM that answers attests and relays
 * Oblivious HTTP to the model server) and the evidence providers it collects evidence with.
 *
 * @example
 * ```ts
 * import { createConfigfsProvider, createGateway } from '@ccinfer/node/gateway';
 * const gateway = await createGateway({ upstream: 'http://127.0.0.1:8000', evidence: createConfigfsProvider() });
 * await gateway.listen(8443, '0.0.0.0');
 * ```
 */
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { problemJson, type ProblemName } from './problem.js';
export { FORWARDED_HEADER, type PeerSource } from './peers.js';
export { createCollateralAttacher, type CollateralAttacher, type CollateralAttacherOptions, type CollateralAttacherErrorCode } from './collateral.js';
export { assembleBundle, noDevices, type EvidenceProvider, type EvidenceRequest, type CpuEvidenceSource, type DeviceEvidenceSource } from './evidence/provider.js';
export { createConfigfsProvider, parseNvidiaEvidenceJson, type ConfigfsOptions, type TsmFs, type GatewayErrorCode } from './evidence/configfs.js';
export { createCocoProvider, type CocoOptions, type CocoProvider } from './evidence/coco.js';
export { AaClient, DEFAULT_AA_URL, type AaApi, type AaInfo, type AaClientOptions, type AaFetch } from './evidence/aa-client.js';
export { aaDevices } from './evidence/gpu/aa.js';
export { nvattestDevices, parseNvattestEvidence, type NvattestOptions } from './evidence/gpu/nvattest.js';
export { nvmlDevices, type NvmlOptions, type NvmlMode } from './evidence/gpu/nvml.js';
