/**
 * Simulated pods' evidence bundles: SEV-SNP CPU evidence bound (ccinfer/1) to a nonce, a key config and any
 * number of simulated GPUs / NVSwitches. With `switches: 4` and `gpus: 8` the devices form a consistent PPCIe
 * topology. Like a real gateway, the pod attaches its devices' RIMs and OCSP responses (`collateral.nvidia`),
 * so the strict default GPU policy accepts it without network access. Any part can be changed afterwards to
 * mint the tampered pods tests need.
 */
import { ccinferV1Binding, concat, randomBytes, type BindingScheme, type EvidenceBundle, type GpuEvidence } from '@ccinfer/core';
import type { TrustAnchors } from '../anchors.js';
import { STATUS_ENABLED } from '../nvidia/parse.js';
import { createSimulatedNvidia, mintGpuEvidence, mintNvidiaCollateral, switchOpaque, type NvidiaCollateralSpec, type SimulatedNvidia } from './nvidia.js';
import { encodeReport, signReport, simulatedAmd, type ReportFields, type SimulatedAmd } from './snp.js';
import { mintIntelPki, mintTdxCollateral, mintTdxQuote, type SimulatedIntelPki, type TdxQuoteSpec } from './tdx.js';
import { initdataDigest } from '../initdata.js';

export interface BundleSpec {
  nonce: Uint8Array;
  keyConfig: Uint8Array;
  /** CPU TEE; default `snp`. */
  tee?: 'snp' | 'tdx';
  /** TDX quote fields (MRTD, RTMRs, attributes, …). */
  quote?: TdxQuoteSpec;
  /** TDX collateral and the devices' OCSP responses are minted valid around this time (default: the current time). */
  now?: Date;
  gpus?: number;
  /** NVSwitches; 4 with 8 GPUs makes a PPCIe system. */
  switches?: number;
  report?: ReportFields;
  initdata?: string;
  binding?: BindingScheme;
  /** Nonce placed in the GPU SPDM requests (default: `nonce`). */
  gpuNonce?: Uint8Array;
  /**
   * The devices' RIMs and OCSP responses in `collateral.nvidia` (default: both, when there are devices);
   * `false` mints a pod that carries none, as the lab setups that need `requireRim: false, ocsp: 'skip'`.
   */
  nvidiaCollateral?: boolean | Omit<NvidiaCollateralSpec, 'now'>;
  /**
   * Replaces the minted devices before they are bound and their collateral minted (to mint pods that list a
   * device twice, for example); receives the devices `gpus` / `switches` produced.
   */
  editDevices?: (devices: { gpus: GpuEvidence[]; switches: GpuEvidence[] }) => { gpus: GpuEvidence[]; switches: GpuEvidence[] } | Promise<{ gpus: GpuEvidence[]; switches: GpuEvidence[] }>;
}

export interface SimulatedPodMaterial {
  amd: SimulatedAmd;
  intel: SimulatedIntelPki;
  nvidia: SimulatedNvidia;
  /** Anchors accepting this simulated hardware (AMD + NVIDIA), flagged simulated. */
  anchors: TrustAnchors;
}

let shared: Promise<SimulatedPodMaterial> | undefined;

/** One simulated AMD (Genoa), Intel and NVIDIA hierarchy per process. */
export function simulatedPodMaterial(): Promise<SimulatedPodMaterial> {
  shared ??= (async () => {
    const [amd, intel, nvidia] = await Promise.all([simulatedAmd('Genoa'), mintIntelPki(), createSimulatedNvidia()]);
    return podMaterialFrom(amd, intel, nvidia);
  })();
  return shared;
}

/** The pod material of three hierarchies, with anchors accepting all three (and flagged simulated). */
export function podMaterialFrom(amd: SimulatedAmd, intel: SimulatedIntelPki, nvidia: SimulatedNvidia): SimulatedPodMaterial {
  return {
    amd,
    intel,
    nvidia,
    anchors: { amd: amd.anchors.amd, intel: intel.anchors.intel, nvidiaDevice: nvidia.anchors.nvidiaDevice, nvidiaRim: nvidia.anchors.nvidiaRim, simulated: true },
  };
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

const DAY = 86_400_000;

/**
 * The DCAP collateral a TDX pod carries (docs/wire-protocol.md "Evidence bundle" `collateral.tdx`, Intel PCS responses and issuer
 * chains) for the simulated Intel PKI, issued a day before `now` and valid for 30 days after it.
 */
export async function mintTdxBundleCollateral(intel: SimulatedIntelPki, now: Date = new Date()): Promise<Map<string, Uint8Array>> {
  const window = { issueDate: new Date(now.getTime() - DAY), nextUpdate: new Date(now.getTime() + 30 * DAY) };
  const c = await mintTdxCollateral(intel, { tcbInfo: window, qeIdentity: window, crlThisUpdate: window.issueDate, crlNextUpdate: window.nextUpdate });
  const tdx = new Map<string, Uint8Array>([
    ['tcbInfo', c.tcbInfo],
    ['tcbInfoIssuerChain', c.tcbInfoIssuerChain],
    ['qeIdentity', c.qeIdentity],
    ['qeIdentityIssuerChain', c.qeIdentityIssuerChain],
    ['pckCrl', c.pckCrl],
    ['rootCaCrl', c.rootCaCrl],
  ]);
  if (c.pckCrlIssuerChain) tdx.set('pckCrlIssuerChain', c.pckCrlIssuerChain);
  return tdx;
}

/** A complete, correctly bound bundle from a simulated SNP or TDX pod. */
export async function mintBundle(spec: BundleSpec, material?: SimulatedPodMaterial): Promise<{ bundle: EvidenceBundle; anchors: TrustAnchors }> {
  const m = material ?? (await simulatedPodMaterial());
  const minted = await mintDevices(m.nvidia, spec.gpuNonce ?? spec.nonce, spec.gpus ?? 0, spec.switches ?? 0);
  const devices = spec.editDevices ? await spec.editDevices(minted) : minted;
  const scheme = spec.binding ?? ccinferV1Binding;
  const bound = await scheme.compute({ nonce: spec.nonce, keyConfig: spec.keyConfig, gpuReports: devices.gpus.map((d) => d.report), switchReports: devices.switches.map((d) => d.report) });
  const reportData = concat(bound, new Uint8Array(64 - bound.length));
  const all = [...devices.gpus, ...devices.switches];
  const nv = spec.nvidiaCollateral ?? true;
  const nvidia =
    nv !== false && all.length > 0 ? await mintNvidiaCollateral(m.nvidia, all, { ...(nv === true ? {} : nv), ...(spec.now ? { now: spec.now } : {}) }) : undefined;
  const common = {
    v: 1 as const,
    nonce: spec.nonce,
    keyConfig: spec.keyConfig,
    gpus: devices.gpus,
    switches: devices.switches,
    ...(spec.initdata !== undefined ? { initdata: spec.initdata } : {}),
  };
  if (spec.tee === 'tdx') {
    const mrConfigId = spec.initdata !== undefined ? await initdataDigest(spec.initdata, { tee: 'tdx' }) : undefined;
    const [{ quote }, tdx] = await Promise.all([
      mintTdxQuote(m.intel, { version: 4, ...spec.quote, reportData, ...(mrConfigId ? { mrConfigId } : {}) }),
      mintTdxBundleCollateral(m.intel, spec.now),
    ]);
    return { bundle: { ...common, cpu: { tee: 'tdx', quote }, collateral: { tdx, ...(nvidia ? { nvidia } : {}) } }, anchors: m.anchors };
  }
  const hostData = spec.initdata !== undefined && !spec.report?.hostData ? { hostData: await initdataDigest(spec.initdata, { tee: 'snp' }) } : {};
  const leaf = await m.amd.mintLeaf({ kind: 'vcek', ...(spec.report?.reportedTcb ? { tcb: spec.report.reportedTcb } : {}) });
  const report = await signReport(encodeReport({ ...hostData, ...spec.report, reportData }, m.amd.product), leaf.key);
  return {
    bundle: { ...common, cpu: { tee: 'snp', report, leaf: leaf.der, chain: [m.amd.askDer, m.amd.arkDer] }, collateral: { snp: { crl: await m.amd.mintCrl() }, ...(nvidia ? { nvidia } : {}) } },
    anchors: m.anchors,
  };
}
