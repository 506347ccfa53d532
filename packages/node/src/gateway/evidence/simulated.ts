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

export async function createSimulatedProvider(options: SimulatedProviderOptions = {}): Promise<SimulatedProvider> {
  const material = await simulatedPodMaterial();
  const tdx = options.tee === 'tdx';
  const cpu = tdx
    ? tdxSource(material, options, options.initdata !== undefined ? await initdataDigest(options.initdata, { tee: 'tdx' }) : undefined)
    : await snpSource(material, options);
  // The ARK-signed CRL (SNP) or Intel's PCS responses (TDX) travel in the bundle, so a client needs no
  // AMD KDS or Intel PCS access. Minted once, valid for weeks around the provider's start.
  const cpuCollateral = tdx ? { tdx: await mintTdxBundleCollateral(material.intel) } : { snp: { crl: await material.amd.mintCrl() } };
  const gpus = options.gpus ?? 0;
  const switches = options.switches ?? 0;
  const devices: DeviceEvidenceSource = options.devices ?? { collect: (nonce) => mintDevices(material.nvidia, nonce, gpus, switches) };
  const nv = options.nvidiaCollateral ?? true;
  const provider: SimulatedProvider = {
    name: 'simulated',
    material,
    anchors: material.anchors,
    async referencePolicy() {
      return policyFromBundle(await provider.collect({ nonce: randomBytes(32), keyConfig: new Uint8Array(0) }));
    },
    async collect(request: EvidenceRequest): Promise<EvidenceBundle> {
      const bundle = await assembleBundle(request, cpu, devices, { collateral: { ...cpuCollateral }, ...(options.initdata !== undefined ? { initdata: options.initdata } : {}) });
      const all = [...bundle.gpus, ...bundle.switches];
      // Collateral is not part of the binding: it is signed by the vendors, not by the pod.
      if (nv !== false && all.length > 0) bundle.collateral = { ...bundle.collateral, nvidia: await mintNvidiaCollateral(material.nvidia, all, nv === true ? {} : nv) };
      return options.mutate ? options.mutate(bundle) : bundle;
    },
  };
  return provider;
}
