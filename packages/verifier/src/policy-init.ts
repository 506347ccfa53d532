/**
 * A policy (docs/policy.md) pinning what an evidence bundle shows: the launch measurement (SNP) or MRTD and
 * RTMRs (TDX), HOST_DATA / MRCONFIGID, the reported TCB as the minimum, the device count and topology. It
 * trusts whatever the bundle contained, so appraise the bundle first (trust on first use) and review it.
 */
import { decodeBundle, toHex, type EvidenceBundle, type GpuEvidence } from '@ccinfer/core';
import { parseReport } from './nvidia/parse.js';
import { identifyDevice } from './nvidia/verify.js';
import { parsePolicy, type Policy } from './policy.js';
import { parseCertificates } from './x509/index.js';
import { decodeTcb, parseSnpReport, productFromCpuid } from './snp/parse.js';
import { parseTdxQuote } from './tdx/parse.js';

/**
 * Writes the policy a bundle satisfies (trust on first use): SNP `measurements`, `vmpl`, `hostData` (also when
 * zero: clients require it pinned), `productLines` and the reported TCB as `minTcb`; or TDX `mrTd`, `rtmr0`..`rtmr3`,
 * `mrConfigId` and `mrSeam`; and the GPUs it shows: the exact `count` (`{ min: 0, max: 0 }` for a CPU-only pod, the
 * explicit allowance clients need to accept one), and with GPUs their `archs`, `driverVersions` and `vbiosVersions`
 * (from each leaf certificate and report) and `mode` (`ppcie` when the bundle has NVSwitches, else `single`).
 * Security switches are left out, so their strict defaults apply.
 *
 * Nothing is verified here: it pins whatever the bundle shows. Appraise the bundle first, then review the
 * result before relying on it (`ccinfer policy init --from BUNDLE` does the same). Throws a ParseError for a
 * bundle that does not decode or parse.
 *
 * @example
 * ```ts
 * import { appraise, policyFromBundle } from '@ccinfer/verifier';
 *
 * const policy = policyFromBundle(savedBundle); // review it, store it, then appraise against it
 * const { document } = await appraise(savedBundle, { audit: true, policy });
 * ```
 */
export function policyFromBundle(input: Uint8Array | EvidenceBundle): Policy {
  const b = input instanceof Uint8Array ? decodeBundle(input) : input;
  const policy: Record<string, unknown> = { version: 1 };
  if (b.cpu.tee === 'snp') {
    const r = parseSnpReport(b.cpu.report);
    const product = productFromCpuid(r.cpuid);
    const snp: Record<string, unknown> = { measurements: [toHex(r.measurement)], vmpl: [r.vmpl] };
    // Pinned even when zero (no initdata): clients need HOST_DATA pinned, and zero says "this VM has none".
    snp['hostData'] = [toHex(r.hostData)];
    if (product) {
      snp['productLines'] = [product];
      const t = decodeTcb(r.reportedTcbRaw, product);
      snp['minTcb'] = Object.fromEntries(Object.entries(t).filter(([k]) => ['bootloader', 'tee', 'snp', 'microcode', 'fmc'].includes(k)));
    }
    policy['snp'] = snp;
  } else {
    const q = parseTdxQuote(b.cpu.quote).body;
    policy['tdx'] = {
      mrTd: [toHex(q.mrTd)],
      rtmr0: [toHex(q.rtmrs[0]!)],
      rtmr1: [toHex(q.rtmrs[1]!)],
      rtmr2: [toHex(q.rtmrs[2]!)],
      rtmr3: [toHex(q.rtmrs[3]!)],
      mrConfigId: [toHex(q.mrConfigId)],
      mrSeam: [toHex(q.mrSeam)],
    };
  }
  policy['gpu'] = b.gpus.length === 0 ? { count: { min: 0, max: 0 } } : { count: { min: b.gpus.length, max: b.gpus.length }, ...gpuPins(b.gpus), mode: b.switches.length > 0 ? 'ppcie' : 'single' };
  return parsePolicy(policy);
}

/** The distinct architectures, driver and VBIOS versions the GPUs report (NVSwitches carry neither version). */
function gpuPins(gpus: readonly GpuEvidence[]): Record<string, string[]> {
  const archs = new Set<string>();
  const drivers = new Set<string>();
  const vbioses = new Set<string>();
  for (const g of gpus) {
    // parseCertificates refuses an empty chain (ERR_X509_MALFORMED), so there is a leaf.
    const device = identifyDevice(parseCertificates(g.certChain)[0]!);
    const o = parseReport(g.report, device.kind).response.opaque;
    archs.add(device.arch);
    if (o.driverVersion !== undefined) drivers.add(o.driverVersion);
    if (o.vbiosVersion !== undefined) vbioses.add(o.vbiosVersion);
  }
  const out: Record<string, string[]> = { archs: [...archs] };
  if (drivers.size) out['driverVersions'] = [...drivers];
  if (vbioses.size) out['vbiosVersions'] = [...vbioses];
  return out;
}
