/**
 * @ccinfer/verifier/testing — simulated vendor roots and evidence for tests, demos and the simulated pod.
 * Everything minted here verifies only against the simulator's own anchors (`sim.anchors`), which mark the
 * verification document as SIMULATED; the pinned vendor roots reject it.
 */
import type {} from './error-codes.js'; // registers every code of this package in CcinferErrorCode
export {
  generateKey,
  mintCertificate,
  mintCrl,
  sign,
  name,
  extension,
  algorithmIdentifier,
  p1363ToDer,
  toPem,
  type KeyPair,
  type KeyKind,
  type SigAlg,
  type CertificateSpec,
  type CrlSpec,
  type ExtensionSpec,
} from './testing/x509.js';
export {
  createSimulatedAmd,
  simulatedAmd,
  mintSnpEvidence,
  encodeReport,
  encodeTcb,
  signReport,
  defaultChipId,
  DEFAULT_TCB,
  type SimulatedAmd,
  type ReportFields,
  type TcbSpec,
  type LeafOptions,
  type MintedSnpEvidence,
} from './testing/snp.js';
export {
  mintIntelPki,
  mintPck,
  sgxExtensionDer,
  mintTdxQuote,
  mintTcbInfo,
  mintQeIdentity,
  mintTdxCollateral,
  tcbInfoJson,
  simulateTdx,
  defaultTcbLevels,
  defaultSgxComponents,
  DEFAULT_FMSPC,
  SIMULATED_NOW as TDX_SIMULATED_NOW,
  type SimulatedIntelPki,
  type PckSpec,
  type TdxQuoteSpec,
  type QeSpec,
  type TcbInfoSpec,
  type TcbLevelSpec,
  type IdentityLevelSpec,
  type QeIdentitySpec,
  type TdxCollateralSpec,
  type MintedTdxQuote,
} from './testing/tdx.js';
export {
  createSimulatedNvidia,
  mintDevice,
  mintSpdmReport,
  mintGpuEvidence,
  gpuOpaque,
  switchOpaque,
  defaultBlocks,
  encodeVbiosVersion,
  mintRim,
  rimMeasurementsFrom,
  mintOcspResponse,
  mintNvidiaCollateral,
  GPU_DRIVER_RIM_INDICES,
  GPU_VBIOS_RIM_INDICES,
  createSimulatedNras,
  mintNrasToken,
  type SimulatedNvidia,
  type DeviceSpec,
  type MintedDevice,
  type SpdmReportSpec,
  type OpaqueFieldSpec,
  type GpuOpaqueSpec,
  type SwitchOpaqueSpec,
  type MintedGpuEvidence,
  type RimSpec,
  type OcspResponseSpec,
  type NvidiaCollateralSpec,
  type NvidiaCollateral,
  type SimulatedNras,
  type NrasTokenSpec,
} from './testing/nvidia.js';
export { mintBundle, mintDevices, mintTdxBundleCollateral, simulatedPodMaterial, type BundleSpec, type SimulatedPodMaterial } from './testing/bundle.js';
export { mintKbsAttestation, mintTrusteeEar, type KbsAttestationSpec, type MintedKbsAttestation, type TrusteeEarSpec } from './testing/trustee.js';
/**
 * A simulated vendor hierarchy saved as JSON and loaded again (`ccinfer gateway --sim-hierarchy DIR`), so
 * restarted simulated pods and simulated replicas chain to the same simulated roots, as real pods do.
 */
export {
  saveSimulatedHierarchy,
  loadSimulatedHierarchy,
  SIMULATED_HIERARCHY_FORMAT,
  type SavedSimulatedHierarchy,
  type SimulatorStateErrorCode,
} from './testing/state.js';
