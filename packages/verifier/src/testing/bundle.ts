/**
 * Simulated pods' evidence bundles: SEV-SNP CPU evidence bound (ccinfer/1) to a nonce, a key config and any
 * number of simulated GPUs / NVSwitches. With `switches: 4` and `gpus: 8` the devices form a consistent PPCIe
 * topology. Any part can be changed afterwards to mint the tampered pods tests need.
 */
import { ccinferV1Binding, concat, randomBytes, type BindingScheme, type EvidenceBundle, type GpuEvidence } from '@ccinfer/core';
import type { TrustAnchors } from '../anchors.js';
import { STATUS_ENABLED } from '../nvidia/parse.js';
import { createSimulatedNvidia, mintGpuEvidence, switchOpaque, type SimulatedNvidia } from './nvidia.js';
import { encodeReport, signReport, simulatedAmd, type ReportFields, type SimulatedAmd } from './snp.js';

export interface BundleSpec {
  nonce: Uint8Array;
  keyConfig: Uint8Array;
  gpus?: number;
  /** NVSwitches; 4 with 8 GPUs makes a PPCIe system. */
  switches?: number;
  report?: ReportFields;
  initdata?: string;
  binding?: BindingScheme;
  /** Nonce placed in the GPU SPDM requests (default: `nonce`). */
  gpuNonce?: Uint8Array;
}

export interface SimulatedPodMaterial {
  amd: SimulatedAmd;
  nvidia: SimulatedNvidia;
  /** Anchors accepting this simulated hardware (AMD + NVIDIA), flagged simulated. */
  anchors: TrustAnchors;
}

let shared: Promise<SimulatedPodMaterial> | undefined;

/** One simulated AMD (Genoa) + NVIDIA hierarchy per process. */
export function simulatedPodMaterial(): Promise<SimulatedPodMaterial> {
  shared ??= (async () => {
    const [amd, nvidia] = await Promise.all([simulatedAmd('Genoa'), createSimulatedNvidia()]);
    return { amd, nvidia, anchors: { ...amd.anchors, nvidiaDevice: nvidia.anchors.nvidiaDevice, nvidiaRim: nvidia.anchors.nvidiaRim, simulated: true } };
  })();
  return shared;
}

/** Mints the device evidence of a system: GPUs and (PPCIe) switches with consistent PDIs. */
export async function mintDevices(nvidia: SimulatedNvidia, nonce: Uint8Array, gpus: number, switches: number): Promise<{ gpus: GpuEvidence[]; switches: GpuEvidence[] }> {
  const gpuPdis = Array.from({ length: gpus }, () => randomBytes(8));
  const switchPdis = Array.from({ length: switches }, () => randomBytes(8));
  const ppcie = switches > 0;
  // GPUs report the 18 NVLink peers little-endian; switches report their own PDI and the GPUs'.
  const links = (): Uint8Array[] => Array.from({ length: 18 }, (_, i) => (i < switches ? switchPdis[i]!.slice().reverse() : new Uint8Array(8)));
  const g = await Promise.all(
    gpuPdis.map((pdi) =>
      mintGpuEvidence(nvidia, { nonce, device: { pdi }, gpu: ppcie ? { featureFlag: 2, protectedPcie: STATUS_ENABLED, switchPdis: links() } : {} }),
    ),
  );
  const s = await Promise.all(
    switchPdis.map((pdi) => mintGpuEvidence(nvidia, { nonce, device: { chip: 'LS10', pdi }, opaque: switchOpaque({ devicePdi: pdi, gpuPdis }) })),
  );
  const enc = new TextEncoder();
  return {
    gpus: g.map((x) => ({ report: x.report, certChain: enc.encode(x.certChain) })),
    switches: s.map((x) => ({ report: x.report, certChain: enc.encode(x.certChain) })),
  };
}

/** A complete, correctly bound bundle from a simulated SNP pod. */
export async function mintBundle(spec: BundleSpec, material?: SimulatedPodMaterial): Promise<{ bundle: EvidenceBundle; anchors: TrustAnchors }> {
  const m = material ?? (await simulatedPodMaterial());
  const devices = await mintDevices(m.nvidia, spec.gpuNonce ?? spec.nonce, spec.gpus ?? 0, spec.switches ?? 0);
  const scheme = spec.binding ?? ccinferV1Binding;
  const bound = await scheme.compute({ nonce: spec.nonce, keyConfig: spec.keyConfig, gpuReports: devices.gpus.map((d) => d.report), switchReports: devices.switches.map((d) => d.report) });
  const reportData = concat(bound, new Uint8Array(64 - bound.length));
  const leaf = await m.amd.mintLeaf({ kind: 'vcek', ...(spec.report?.reportedTcb ? { tcb: spec.report.reportedTcb } : {}) });
  const report = await signReport(encodeReport({ ...spec.report, reportData }, m.amd.product), leaf.key);
  const bundle: EvidenceBundle = {
    v: 1,
    nonce: spec.nonce,
    keyConfig: spec.keyConfig,
    cpu: { tee: 'snp', report, leaf: leaf.der, chain: [m.amd.askDer, m.amd.arkDer] },
    gpus: devices.gpus,
    switches: devices.switches,
    collateral: { snp: { crl: await m.amd.mintCrl() } },
    ...(spec.initdata !== undefined ? { initdata: spec.initdata } : {}),
  };
  return { bundle, anchors: m.anchors };
}
