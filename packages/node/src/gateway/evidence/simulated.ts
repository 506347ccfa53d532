/**
 * The `simulated` evidence provider: a pod without hardware. Evidence is minted by `@ccinfer/verifier/testing`
 * — SEV-SNP reports signed by a simulated VCEK (ARK → ASK → VCEK), and GPU / NVSwitch SPDM reports from a
 * simulated NVIDIA device hierarchy (8 GPUs + 4 switches form a PPCIe system) — so it verifies only against
 * the simulator's anchors, never against the pinned AMD / NVIDIA roots.
 */
import type { EvidenceBundle } from '@ccinfer/core';
import { initdataDigest, type TrustAnchors } from '@ccinfer/verifier';
import { encodeReport, mintDevices, signReport, simulatedPodMaterial, type ReportFields, type SimulatedPodMaterial } from '@ccinfer/verifier/testing';
import { assembleBundle, type DeviceEvidenceSource, type EvidenceProvider, type EvidenceRequest } from './provider.js';

export interface SimulatedProviderOptions {
  /** Number of simulated GPUs (default 0). */
  gpus?: number;
  /** Number of simulated NVSwitches; 4 with 8 GPUs makes a PPCIe system (default 0). */
  switches?: number;
  /** CoCo initdata document; HOST_DATA is its digest (`initdataDigest`). */
  initdata?: string;
  /** Report fields to set (measurement, policy, TCB, …) — or to get wrong, for negative tests. */
  report?: ReportFields;
  /** Replaces the simulated devices. */
  devices?: DeviceEvidenceSource;
  /** Last-moment change to the bundle (tampering in tests and in `ccinfer demo`). */
  mutate?: (bundle: EvidenceBundle) => EvidenceBundle | Promise<EvidenceBundle>;
}

export interface SimulatedProvider extends EvidenceProvider {
  /** Anchors that accept this provider's evidence (AMD + NVIDIA, flagged simulated) and nothing real. */
  readonly anchors: TrustAnchors;
  readonly material: SimulatedPodMaterial;
}

export async function createSimulatedProvider(options: SimulatedProviderOptions = {}): Promise<SimulatedProvider> {
  const material = await simulatedPodMaterial();
  const { amd, nvidia } = material;
  const leaf = await amd.mintLeaf({ kind: 'vcek', ...(options.report?.reportedTcb ? { tcb: options.report.reportedTcb } : {}) });
  // HOST_DATA = the CoCo initdata digest, as the host sets it at launch.
  const hostData = options.initdata !== undefined ? await initdataDigest(options.initdata, 32) : undefined;
  // The ARK-signed CRL travels in the bundle (DESIGN.md §4.1 collateral), so a client needs no AMD KDS access.
  const crl = await amd.mintCrl();
  const gpus = options.gpus ?? 0;
  const switches = options.switches ?? 0;
  const devices: DeviceEvidenceSource = options.devices ?? { collect: (nonce) => mintDevices(nvidia, nonce, gpus, switches) };
  return {
    name: 'simulated',
    material,
    anchors: material.anchors,
    async collect(request: EvidenceRequest): Promise<EvidenceBundle> {
      const bundle = await assembleBundle(
        request,
        {
          async report(reportData) {
            const fields: ReportFields = { ...(hostData ? { hostData } : {}), ...options.report, reportData };
            return { tee: 'snp', report: await signReport(encodeReport(fields, amd.product, 'vcek'), leaf.key), leaf: leaf.der, chain: [amd.askDer, amd.arkDer] };
          },
        },
        devices,
        { collateral: { snp: { crl } }, ...(options.initdata !== undefined ? { initdata: options.initdata } : {}) },
      );
      return options.mutate ? options.mutate(bundle) : bundle;
    },
  };
}
