/**
 * Multi-GPU rules over already-appraised devices (docs/checks.md "Bundle appraisal", `topology.*`; NVIDIA ppcie-verifier topology
 * check, nvtrust multi-GPU rule). The inputs are claims of devices whose signatures verified, so the PDIs
 * compared here are signed values.
 */
import { VerificationError } from '@ccinfer/core';
import type { GpuClaims } from './appraise.js';

/** FEATURE_FLAG 2: Protected PCIe (both NVIDIA SDKs agree on this value; 0/1 they do not). */
export const FEATURE_PPCIE = 2;
export const PPCIE_GPUS = 8;
export const PPCIE_SWITCHES = 4;

/** nvtrust: all GPUs of one system must carry the same feature flag (mixing MPT/SPT/PPCIe fails). */
export function checkFeatureFlags(gpus: readonly GpuClaims[]): void {
  const flags = new Set(gpus.map((g) => g.featureFlag));
  if (flags.size > 1) {
    throw new VerificationError('ERR_NV_FEATURE_FLAG_MIXED', `GPUs carry different feature flags: ${[...flags].join(', ')}`);
  }
}

/** One appraised device of a bundle: its check id prefix, its report as sent and its claims. */
export interface AppraisedDevice {
  id: string;
  report: Uint8Array;
  claims: GpuClaims;
}

/**
 * Every GPU and NVSwitch of a bundle must be a different device: a device listed twice (the same report, or
 * two fresh reports from one device) would count twice toward `gpu.count` and stand in for a device that is
 * not attested. A device is known by its report bytes, its leaf certificate serial (the NRAS `ueid`, unique per
 * device) and its PDI (the per-device BROM certificate serial; an NVSwitch also reports it as DEVICE_PDI).
 * Runs before topology and counts, in every mode.
 */
export function checkDistinctDevices(devices: readonly AppraisedDevice[]): void {
  const owner = new Map<string, string>();
  devices.forEach((d, k) => {
    const twin = devices.slice(0, k).find((o) => sameFromEnd(o.report, d.report));
    if (twin) throw new VerificationError('ERR_NV_DEVICE_DUPLICATE', `${d.id} is the same report as ${twin.id}: each device counts once`);
  });
  for (const d of devices) {
    const c = d.claims;
    const keys = new Map<string, string>([[`ueid ${c.ueid}`, `leaf certificate serial (ueid) ${c.ueid}`]]);
    for (const pdi of [c.pdi, c.devicePdi]) if (pdi !== null) keys.set(`pdi ${pdi}`, `PDI ${pdi}`);
    for (const [key, what] of keys) {
      const first = owner.get(key);
      if (first !== undefined) throw new VerificationError('ERR_NV_DEVICE_DUPLICATE', `${d.id} is the device ${first} already is (${what}): each device counts once`);
      owner.set(key, d.id);
    }
  }
}

/**
 * Byte equality, compared from the end: reports of identical GPUs share their first kilobytes (request, equal
 * measurements) and differ at once in their signatures, so this stays cheap for a bundle of 12 devices.
 */
function sameFromEnd(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

export interface PpcieTopology {
  /** The 4 switch PDIs every GPU sees (big-endian hex, sorted). */
  switchPdis: string[];
  /** The 8 GPU PDIs every switch lists (hex as reported, sorted). */
  gpuPdis: string[];
}

function mismatch(msg: string): never {
  throw new VerificationError('ERR_NV_TOPOLOGY_MISMATCH', msg);
}

const ZERO = '0000000000000000';
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * PPCIe (8 GPUs + 4 NVSwitches in one CVM): exactly 8 GPU and 4 switch evidences; every GPU in PPCIe mode
 * (FEATURE_FLAG 2, protected PCIe on); every GPU sees the same 4 distinct non-zero switch PDIs; the switches'
 * own PDIs are exactly that set, each once; every switch lists the same 8 distinct GPU PDIs, and those are
 * exactly the attested GPUs' own PDIs (from their BROM certificates; a GPU without one fails).
 */
export function checkPpcieTopology(gpus: readonly GpuClaims[], switches: readonly GpuClaims[]): PpcieTopology {
  if (gpus.length !== PPCIE_GPUS || switches.length !== PPCIE_SWITCHES) {
    throw new VerificationError('ERR_NV_TOPOLOGY_COUNT', `PPCIe needs ${PPCIE_GPUS} GPUs and ${PPCIE_SWITCHES} NVSwitches, got ${gpus.length} and ${switches.length}`);
  }
  if (gpus.some((g) => g.kind !== 'gpu') || switches.some((s) => s.kind !== 'switch')) mismatch('device kinds do not match their roles');
  checkFeatureFlags(gpus);
  if (gpus.some((g) => g.featureFlag !== FEATURE_PPCIE || g.protectedPcie !== true)) {
    mismatch('every GPU must report FEATURE_FLAG PPCIe and protected PCIe enabled');
  }

  let seen: string[] | undefined;
  gpus.forEach((g, i) => {
    const set = sorted(new Set((g.switchPdis ?? []).filter((p) => p !== ZERO)));
    if (set.length !== PPCIE_SWITCHES) mismatch(`GPU ${i} sees ${set.length} distinct switch PDIs, not ${PPCIE_SWITCHES}`);
    if (seen && !same(seen, set)) mismatch(`GPU ${i} sees other switches than GPU 0`);
    seen = set;
  });
  const own = switches.map((s, j) => s.devicePdi ?? mismatch(`switch ${j} reports no DEVICE_PDI`));
  if (new Set(own).size !== own.length) mismatch('two switches report the same PDI');
  if (!same(sorted(own), seen!)) mismatch('the switches present are not the switches the GPUs are connected to');

  let listed: string[] | undefined;
  switches.forEach((s, j) => {
    const list = s.gpuPdis ?? [];
    const set = sorted(new Set(list.filter((p) => p !== ZERO)));
    if (set.length !== PPCIE_GPUS || list.length !== PPCIE_GPUS) mismatch(`switch ${j} lists ${set.length} distinct GPU PDIs, not ${PPCIE_GPUS}`);
    if (listed && !same(listed, set)) mismatch(`switch ${j} lists other GPUs than switch 0`);
    listed = set;
  });
  // Each GPU's own PDI (its BROM certificate serial) must be one the switches list: a GPU whose PDI cannot be
  // derived cannot be placed in the topology, so it fails here rather than switching the rule off for all.
  const gpuOwn = gpus.map((g, i) => g.pdi ?? mismatch(`GPU ${i}: its PDI cannot be derived from its BROM certificate, so it cannot be matched to the switches' lists`));
  if (!same(sorted(gpuOwn), listed!)) mismatch('the GPUs the switches list are not the GPUs attested');
  return { switchPdis: seen!, gpuPdis: listed! };
}
