/**
 * The expected SEV-SNP launch MEASUREMENT of a QEMU/KVM-style launch of OVMF (optionally with a measured direct
 * kernel boot), replayed page by page in the order the VMM issues SNP_LAUNCH_UPDATE (AMD SEV-SNP Firmware ABI,
 * pub. 56860, §8.17): the firmware image as normal pages, then OVMF's SEV metadata sections, then one VMSA per
 * vCPU. QEMU, EC2 and GCE launches differ in a few reset-state values (`vmsa.ts`), GCE in one page type and EC2
 * in the position of the CPUID page. Pure computation on caller-supplied bytes: runs in browsers and Node alike.
 */
import { ConfigError, ParseError } from '@ccinfer/core';
import { snapshot } from '@ccinfer/core/internal';
import { directBootHashes, hashesPage, HASHES_TABLE_BYTES, type DirectBootBlobs } from './hashes.js';
import { parseOvmf, SEV_HASH_TABLE_RV_GUID, SevSectionType, type OvmfImage, type SevMetadataSection } from './ovmf.js';
import { LaunchDigest, PageType, type LaunchStep } from './page-info.js';
import { buildVmsa, vcpuSignature, VMM_PROFILES, type VmmType } from './vmsa.js';

/** KVM places every vCPU's VMSA at this GPA (the last page below 2^48) for SNP_LAUNCH_UPDATE. */
const VMSA_GPA = 0xfffffffff000;
/** The architectural reset vector CS:IP = F000:FFF0 with CS base 0xFFFF0000 (BSP). */
const BSP_RESET_EIP = 0xfffffff0;
const MAX_VCPUS = 512;

export interface SnpMeasureOptions {
  /** The OVMF image (or a page-multiple tail of it when `ovmfHash` is given). */
  ovmf: Uint8Array;
  /** Number of vCPUs: one VMSA each. */
  vcpus: number;
  /** A vCPU type from `VCPU_TYPES` (e.g. `EPYC-Milan`), giving the CPUID signature placed in RDX. */
  vcpuType?: string;
  /** The CPUID signature directly, instead of `vcpuType`. */
  vcpuSignature?: number;
  /**
   * The VMM that launches the guest; default `qemu`. `ec2` and `gce` put a fixed value in RDX, so they need no
   * vCPU type (one given is still checked by name but does not change the digest).
   */
  vmm?: VmmType;
  /** VMSA SEV_FEATURES; default 0x1 (SNPActive only). Hosts that enable DebugSwap use 0x21. */
  guestFeatures?: bigint;
  /** Measured direct boot: the kernel, initrd and command line whose hashes QEMU writes into OVMF's hashes page. */
  directBoot?: DirectBootBlobs;
  /** The 48-byte digest after the firmware's normal pages, replacing their replay (e.g. for a huge image). */
  ovmfHash?: Uint8Array;
}

export interface SnpMeasurement {
  /** The 48-byte launch digest, as the attestation report's MEASUREMENT field. */
  measurement: Uint8Array;
  /** The digest after the OVMF pages (the value `ovmfHash` accepts). */
  ovmfHash: Uint8Array;
  /** The value measured in each VMSA's RDX: the vCPU type's CPUID signature (QEMU) or the VMM's fixed value. */
  vcpuSignature: number;
  /** Every page after the OVMF image, in launch order. */
  steps: LaunchStep[];
}

function invalid(field: string, message: string): never {
  throw new ConfigError('ERR_MEASURE_OPTIONS', message, { fields: [field] });
}

function checkOptions(o: SnpMeasureOptions): { rdx: number; vmm: VmmType; features: bigint } {
  if (!Number.isInteger(o.vcpus) || o.vcpus < 1 || o.vcpus > MAX_VCPUS) invalid('vcpus', `vcpus must be an integer from 1 to ${MAX_VCPUS}`);
  const vmm = o.vmm ?? 'qemu';
  if (!Object.hasOwn(VMM_PROFILES, vmm)) invalid('vmm', `unsupported VMM ${String(vmm)} (qemu, ec2 or gce)`);
  if (o.vcpuType !== undefined && o.vcpuSignature !== undefined) invalid('vcpuSignature', 'give vcpuType or vcpuSignature, not both');
  let signature: number | undefined;
  if (o.vcpuType !== undefined) signature = vcpuSignature(o.vcpuType);
  else if (o.vcpuSignature !== undefined) {
    if (!Number.isInteger(o.vcpuSignature) || o.vcpuSignature < 0 || o.vcpuSignature > 0xffffffff) invalid('vcpuSignature', 'vcpuSignature must be a 32-bit value');
    signature = o.vcpuSignature;
  }
  // EC2 and GCE put a fixed value in RDX whatever the CPU model; QEMU the model's CPUID signature.
  const rdx = VMM_PROFILES[vmm].rdx ?? signature;
  if (rdx === undefined) invalid('vcpuType', 'vcpuType (or vcpuSignature) is required for a QEMU launch');
  const features = o.guestFeatures ?? 1n;
  // SEV_FEATURES bit 0 (SNPActive) must be set for an SNP guest (APM Vol. 2 §15.36.1); the field is 64 bits.
  if (features < 0n || features >= 1n << 64n || (features & 1n) !== 1n) invalid('guestFeatures', 'guestFeatures must be a 64-bit value with SNPActive (bit 0) set');
  if (o.ovmfHash !== undefined && o.ovmfHash.length !== 48) invalid('ovmfHash', 'ovmfHash must be 48 bytes');
  return { rdx, vmm, features };
}

/**
 * The order in which the VMM adds OVMF's metadata sections. QEMU and GCE follow the metadata table; EC2 adds every
 * other section first and the CPUID page(s) last (the "two-pass" order published with sev-snp-measure's
 * `--vmm-type ec2`). The order matters because each PAGE_INFO chains the digest so far.
 */
function launchOrder(sections: readonly SevMetadataSection[], vmm: VmmType): readonly SevMetadataSection[] {
  if (vmm !== 'ec2') return sections;
  const isCpuid = (s: SevMetadataSection): boolean => s.type === SevSectionType.Cpuid;
  return [...sections.filter((s) => !isCpuid(s)), ...sections.filter(isCpuid)];
}

/** OVMF's metadata sections as SNP_LAUNCH_UPDATE pages (OvmfSevMetadata.asm section types). */
async function measureSection(ld: LaunchDigest, ovmf: OvmfImage, s: SevMetadataSection, o: SnpMeasureOptions, vmm: VmmType): Promise<void> {
  switch (s.type) {
    case SevSectionType.SnpSecMem:
      // GCE adds OVMF's pre-validated memory as unmeasured pages instead of zero pages.
      return ld.unmeasuredPages(s.gpa, s.size, vmm === 'gce' ? PageType.Unmeasured : PageType.Zero);
    case SevSectionType.SvsmCaa:
      return ld.unmeasuredPages(s.gpa, s.size, PageType.Zero);
    case SevSectionType.SnpSecrets:
      return ld.unmeasuredPages(s.gpa, s.size, PageType.Secrets);
    case SevSectionType.Cpuid:
      return ld.unmeasuredPages(s.gpa, s.size, PageType.Cpuid);
    case SevSectionType.SnpKernelHashes: {
      if (o.directBoot === undefined) return ld.unmeasuredPages(s.gpa, s.size, PageType.Zero);
      const table = ovmf.table.get(SEV_HASH_TABLE_RV_GUID);
      const tableGpa = table !== undefined && table.length >= 4 ? new DataView(table.buffer, table.byteOffset).getUint32(0, true) : undefined;
      if (tableGpa === undefined || tableGpa < s.gpa || tableGpa + HASHES_TABLE_BYTES > s.gpa + s.size) {
        throw new ConfigError('ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED', 'the OVMF hashes table does not lie inside its SNP_KERNEL_HASHES section', { fields: ['directBoot'] });
      }
      const page = hashesPage(await directBootHashes(o.directBoot), s.size, tableGpa - s.gpa);
      return ld.normalPages(s.gpa, page);
    }
    default:
      return undefined;
  }
}

/**
 * Computes the SEV-SNP launch digest (report MEASUREMENT) of OVMF launched by QEMU/KVM, Amazon EC2 or GCE.
 *
 * @throws ConfigError `ERR_MEASURE_OPTIONS`, `ERR_MEASURE_VCPU_TYPE`, `ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED`
 *   (a kernel was given but the image cannot measure one); ParseError `ERR_MEASURE_IMAGE_SIZE`,
 *   `ERR_MEASURE_OVMF_FOOTER`, `ERR_MEASURE_OVMF_METADATA`.
 * @example
 * ```ts
 * const { measurement } = await measureSnpLaunch({ ovmf, vcpus: 4, vcpuType: 'EPYC-Milan',
 *   directBoot: { kernel, initrd, append: 'console=ttyS0' } });
 * ```
 */
export async function measureSnpLaunch(options: SnpMeasureOptions): Promise<SnpMeasurement> {
  const { rdx, vmm, features } = checkOptions(options);
  // One copy at the boundary: the caller cannot change the image between parsing and hashing.
  const ovmf = parseOvmf(snapshot(options.ovmf));
  if (options.directBoot !== undefined && !ovmf.sections.some((s) => s.type === SevSectionType.SnpKernelHashes)) {
    throw new ConfigError('ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED', "a kernel was given but the OVMF metadata has no SNP_KERNEL_HASHES section (build OvmfPkg/AmdSev)", { fields: ['directBoot'] });
  }
  if (options.vcpus > 1 && ovmf.sevEsResetEip === undefined) {
    throw new ParseError('ERR_MEASURE_OVMF_FOOTER', 'the OVMF image has no SEV-ES reset block, so application processors cannot start');
  }
  const firmware = new LaunchDigest(options.ovmfHash);
  if (options.ovmfHash === undefined) await firmware.normalPages(ovmf.gpa, ovmf.data);
  const ovmfHash = firmware.value;

  const ld = new LaunchDigest(ovmfHash);
  for (const s of launchOrder(ovmf.sections, vmm)) await measureSection(ld, ovmf, s, options, vmm);
  for (let i = 0; i < options.vcpus; i++) {
    const resetEip = i === 0 ? BSP_RESET_EIP : ovmf.sevEsResetEip!;
    await ld.vmsaPage(VMSA_GPA, buildVmsa({ resetEip, bsp: i === 0, rdx, sevFeatures: features, vmm }));
  }
  return { measurement: ld.value, ovmfHash, vcpuSignature: rdx, steps: ld.steps };
}
