/**
 * Evidence providers: where the gateway gets the CPU report and the device (GPU / NVSwitch) SPDM evidence
 * for one attest request. The order of docs/binding.md "ccinfer/1" (pod side) is fixed here, once, for every provider:
 * device evidence first, with the client's nonce; then the binding digest (docs/binding.md) over nonce, key config and
 * device reports; then the CPU report with REPORT_DATA = binding.
 */
import { ccinferV1Binding, type BindingScheme, type Collateral, type CpuEvidence, type EvidenceBundle, type GpuEvidence } from '@ccinfer/core';

export interface EvidenceRequest {
  nonce: Uint8Array;
  /** The gateway's current key config (encoded): the key the evidence vouches for. */
  keyConfig: Uint8Array;
}

export interface EvidenceProvider {
  readonly name: string;
  collect(request: EvidenceRequest): Promise<EvidenceBundle>;
}

/** A CPU report, with the TDX CC event log (CCEL) when the source has one (the verifier replays it). */
export type CpuReport = CpuEvidence & { eventLog?: Uint8Array };

/** CPU attestation: a report whose REPORT_DATA is the given 64 bytes. */
export interface CpuEvidenceSource {
  report(reportData: Uint8Array): Promise<CpuReport>;
}

/** GPU / NVSwitch SPDM evidence, each with the client nonce in its GET_MEASUREMENTS request. */
export interface DeviceEvidenceSource {
  collect(nonce: Uint8Array): Promise<{ gpus: GpuEvidence[]; switches: GpuEvidence[] }>;
}

export const noDevices: DeviceEvidenceSource = { collect: async () => ({ gpus: [], switches: [] }) };

export interface AssembleOptions {
  binding?: BindingScheme;
  initdata?: string;
  collateral?: Collateral;
}

export async function assembleBundle(
  request: EvidenceRequest,
  cpu: CpuEvidenceSource,
  devices: DeviceEvidenceSource,
  options: AssembleOptions = {},
): Promise<EvidenceBundle> {
  const { gpus, switches } = await devices.collect(request.nonce);
  const scheme = options.binding ?? ccinferV1Binding;
  const binding = await scheme.compute({
    nonce: request.nonce,
    keyConfig: request.keyConfig,
    gpuReports: gpus.map((g) => g.report),
    switchReports: switches.map((s) => s.report),
  });
  const { eventLog, ...cpuEvidence } = await cpu.report(binding);
  const bundle: EvidenceBundle = { v: 1, nonce: request.nonce, keyConfig: request.keyConfig, cpu: cpuEvidence, gpus, switches };
  // The client resolves a named scheme among the ccinfer schemes it knows; ccinfer/1 is the unnamed default.
  if (scheme !== ccinferV1Binding) bundle.binding = scheme.name;
  if (eventLog) bundle.eventLog = eventLog;
  if (options.initdata !== undefined) bundle.initdata = options.initdata;
  if (options.collateral) bundle.collateral = options.collateral;
  return bundle;
}
