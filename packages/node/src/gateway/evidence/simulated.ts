/**
 * The `simulated` evidence provider: a pod without hardware. Evidence is minted by `@ccinfer/verifier/testing`
 * — SEV-SNP reports signed by a simulated VCEK (ARK → ASK → VCEK) or TDX quotes v4 signed through a simulated
 * PCK chain, and GPU / NVSwitch SPDM reports from a simulated NVIDIA device hierarchy (8 GPUs + 4 switches
 * form a PPCIe system) — so it verifies only against the simulator's anchors, never against the pinned
 * AMD / Intel / NVIDIA roots.
 *
 * Like a gateway on real hardware, it attaches the signed collateral a client would otherwise fetch
 * (docs/wire-protocol.md "Evidence bundle"): the ARK-signed CRL (SNP) or Intel's PCS responses (TDX), and for every device its driver
 * and VBIOS RIMs and OCSP responses for the device and RIM signer chains, produced when the evidence is.
 */
import { randomBytes, type EvidenceBundle } from '@ccinfer/core';
import { initdataDigest, policyFromBundle, type Policy, type TrustAnchors } from '@ccinfer/verifier';
import {
  encodeReport,
  mintDevices,
  mintNvidiaCollateral,
  mintTdxBundleCollateral,
  mintTdxQuote,
  signReport,
  simulatedPodMaterial,
  type NvidiaCollateralSpec,
  type ReportFields,
  type SimulatedPodMaterial,
  type TdxQuoteSpec,
} from '@ccinfer/verifier/testing';
import { assembleBundle, type CpuEvidenceSource, type DeviceEvidenceSource, type EvidenceProvider, type EvidenceRequest } from './provider.js';

export interface SimulatedProviderOptions {
  /** CPU TEE (default `snp`). */
  tee?: 'snp' | 'tdx';
  /** Number of simulated GPUs (default 0). */
  gpus?: number;
  /** Number of simulated NVSwitches; 4 with 8 GPUs makes a PPCIe system (default 0). */
  switches?: number;
  /** CoCo initdata document; HOST_DATA (SNP) or MRCONFIGID (TDX) is its digest (`initdataDigest`). */
  initdata?: string;
  /** SNP report fields to set (measurement, policy, TCB, …) — or to get wrong, for negative tests. */
  report?: ReportFields;
  /** TDX quote fields to set (MRTD, RTMRs, attributes, …). */
  quote?: TdxQuoteSpec;
  /** Replaces the simulated devices. */
  devices?: DeviceEvidenceSource;
  /** The devices' RIMs and OCSP responses in `collateral.nvidia` (default: both); `false` attaches none. */
  nvidiaCollateral?: boolean | Omit<NvidiaCollateralSpec, 'now'>;
  /**
   * The simulated vendor hierarchy to sign with (e.g. one loaded with `loadSimulatedHierarchy`, so several
   * simulated pods chain to the same roots). Default: this process's own (`simulatedPodMaterial`).
   */
  material?: SimulatedPodMaterial;
  /** Last-moment change to the bundle (tampering in tests and in `ccinfer demo`). */
  mutate?: (bundle: EvidenceBundle) => EvidenceBundle | Promise<EvidenceBundle>;
}

export interface SimulatedProvider extends EvidenceProvider {
  /** Anchors that accept this provider's evidence (AMD, Intel, NVIDIA, flagged simulated) and nothing real. */
  readonly anchors: TrustAnchors;
  readonly material: SimulatedPodMaterial;
  /** A policy pinning this simulated pod's measurements (as `ccinfer policy init` would from its evidence). */
  referencePolicy(): Promise<Policy>;
}

async function snpSource(material: SimulatedPodMaterial, options: SimulatedProviderOptions): Promise<CpuEvidenceSource> {
  const { amd } = material;
  const leaf = await amd.mintLeaf({ kind: 'vcek', ...(options.report?.reportedTcb ? { tcb: options.report.reportedTcb } : {}) });
  // HOST_DATA = the CoCo initdata digest, as the host sets it at launch.
  const hostData = options.initdata !== undefined ? await initdataDigest(options.initdata, { tee: 'snp' }) : undefined;
  return {
    async report(reportData) {
      const fields: ReportFields = { ...(hostData ? { hostData } : {}), ...options.report, reportData };
      return { tee: 'snp', report: await signReport(encodeReport(fields, amd.product, 'vcek'), leaf.key), leaf: leaf.der, chain: [amd.askDer, amd.arkDer] };
    },
  };
}

function tdxSource(material: SimulatedPodMaterial, options: SimulatedProviderOptions, mrConfigId: Uint8Array | undefined): CpuEvidenceSource {
  return {
    async report(reportData) {
      // TDREPORT.REPORTDATA = the binding; MRCONFIGID = the initdata digest, as the VMM sets it at TD launch.
      const { quote } = await mintTdxQuote(material.intel, { version: 4, ...options.quote, reportData, ...(mrConfigId ? { mrConfigId } : {}) });
      return { tee: 'tdx', quote };
    },
  };
}

/**
 * The simulated CPU: SNP reports signed by the simulated VCEK or TDX quotes through the simulated PCK chain,
 * HOST_DATA / MRCONFIGID = the initdata digest. Also the stand-in Attestation Agent's attester.
 */
export async function simulatedCpuSource(
  material: SimulatedPodMaterial,
  options: Pick<SimulatedProviderOptions, 'tee' | 'initdata' | 'report' | 'quote'>,
): Promise<CpuEvidenceSource> {
  return options.tee === 'tdx'
    ? tdxSource(material, options, options.initdata !== undefined ? await initdataDigest(options.initdata, { tee: 'tdx' }) : undefined)
    : snpSource(material, options);
}

/**
 * Attaches the simulator's vendor collateral to a bundle, as a gateway on real hardware attaches the vendors':
 * the ARK-signed CRL (SNP) or Intel's PCS responses (TDX), so a client needs no AMD KDS or Intel PCS access
 * (minted once, valid for weeks around the call), and for every device its RIMs and OCSP responses. Collateral
 * is not part of the binding: it is signed by the vendors, not by the pod.
 */
export async function simulatedCollateral(
  material: SimulatedPodMaterial,
  tee: 'snp' | 'tdx',
  nvidia: boolean | Omit<NvidiaCollateralSpec, 'now'> = true,
): Promise<(bundle: EvidenceBundle) => Promise<EvidenceBundle>> {
  const cpu = tee === 'tdx' ? { tdx: await mintTdxBundleCollateral(material.intel) } : { snp: { crl: await material.amd.mintCrl() } };
  return async (bundle) => {
    const out: EvidenceBundle = { ...bundle, collateral: { ...bundle.collateral, ...cpu } };
    const all = [...bundle.gpus, ...bundle.switches];
    if (nvidia !== false && all.length > 0) out.collateral = { ...out.collateral, nvidia: await mintNvidiaCollateral(material.nvidia, all, nvidia === true ? {} : nvidia) };
    return out;
  };
}

export async function createSimulatedProvider(options: SimulatedProviderOptions = {}): Promise<SimulatedProvider> {
  const material = options.material ?? (await simulatedPodMaterial());
  const tdx = options.tee === 'tdx';
  const cpu = await simulatedCpuSource(material, options);
  const attach = await simulatedCollateral(material, tdx ? 'tdx' : 'snp', options.nvidiaCollateral ?? true);
  const gpus = options.gpus ?? 0;
  const switches = options.switches ?? 0;
  const devices: DeviceEvidenceSource = options.devices ?? { collect: (nonce) => mintDevices(material.nvidia, nonce, gpus, switches) };
  const provider: SimulatedProvider = {
    name: 'simulated',
    material,
    anchors: material.anchors,
    async referencePolicy() {
      return policyFromBundle(await provider.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(0) }));
    },
    async collect(request: EvidenceRequest): Promise<EvidenceBundle> {
      const bundle = await attach(await assembleBundle(request, cpu, devices, options.initdata !== undefined ? { initdata: options.initdata } : {}));
      return options.mutate ? options.mutate(bundle) : bundle;
    },
  };
  return provider;
}
