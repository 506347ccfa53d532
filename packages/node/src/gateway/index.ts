export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { problemJson, type ProblemName } from './problem.js';
export { createCollateralAttacher, type CollateralAttacher, type CollateralAttacherOptions, type CollateralAttacherErrorCode } from './collateral.js';
export { assembleBundle, noDevices, type EvidenceProvider, type EvidenceRequest, type CpuEvidenceSource, type DeviceEvidenceSource } from './evidence/provider.js';
export { createSimulatedProvider, type SimulatedProvider, type SimulatedProviderOptions } from './evidence/simulated.js';
export { createConfigfsProvider, parseNvidiaEvidenceJson, type ConfigfsOptions, type TsmFs, type GatewayErrorCode } from './evidence/configfs.js';
