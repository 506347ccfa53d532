/**
 * The initial VMSA (VM save area) of each vCPU, as KVM hands it to SNP_LAUNCH_UPDATE with PAGE_TYPE_VMSA.
 * Layout: AMD64 Architecture Programmer's Manual Vol. 2, Appendix B, Table B-4 "VMSA Layout, State Save Area for
 * SEV-ES" (each segment register is `{ u16 selector, u16 attrib, u32 limit, u64 base }`). Values: the x86 reset
 * state (Intel SDM Vol. 3 §9.1.1 / APM Vol. 2 §14.1.3) in the VMSA's compressed attribute format, as QEMU/KVM set
 * it, with the VMM-specific differences noted where they apply.
 */
import { ConfigError } from '@ccinfer/core';
import { PAGE_SIZE } from './page-info.js';

/**
 * Which VMM built the VMSA (and issued the launch): QEMU/KVM, Amazon EC2 or Google Compute Engine. They differ in a
 * few reset-state values and, for EC2, in where the CPUID page falls in the launch order.
 */
export type VmmType = 'qemu' | 'ec2' | 'gce';

/**
 * CPUID Fn0000_0001_EAX signatures of the QEMU CPU models (family, model, stepping), which KVM places in RDX at
 * reset (APM Vol. 2 §14.1.3: "EDX contains processor identification information").
 */
export const VCPU_TYPES: Readonly<Record<string, { family: number; model: number; stepping: number }>> = {
  EPYC: { family: 23, model: 1, stepping: 2 },
  'EPYC-v1': { family: 23, model: 1, stepping: 2 },
  'EPYC-v2': { family: 23, model: 1, stepping: 2 },
  'EPYC-v3': { family: 23, model: 1, stepping: 2 },
  'EPYC-v4': { family: 23, model: 1, stepping: 2 },
  'EPYC-Milan': { family: 25, model: 1, stepping: 1 },
  'EPYC-Genoa': { family: 25, model: 17, stepping: 0 },
  'EPYC-Turin': { family: 26, model: 0, stepping: 0 },
};

/**
 * Encodes CPUID Fn0000_0001_EAX (APM Vol. 3, CPUID Fn0000_0001_EAX): stepping [3:0], base model [7:4], base family
 * [11:8], extended model [19:16], extended family [27:20]; families above 0xF use base family 0xF plus the extension.
 */
export function cpuidSignature(family: number, model: number, stepping: number): number {
  const baseFamily = Math.min(family, 0xf);
  const extFamily = family > 0xf ? family - 0xf : 0;
  return ((extFamily & 0xff) << 20) | (((model >> 4) & 0xf) << 16) | ((baseFamily & 0xf) << 8) | ((model & 0xf) << 4) | (stepping & 0xf);
}

/** The CPUID signature for a vCPU type name (case-insensitive). */
export function vcpuSignature(name: string): number {
  const key = Object.keys(VCPU_TYPES).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) {
    throw new ConfigError('ERR_MEASURE_VCPU_TYPE', `unknown vCPU type ${name}; known: ${Object.keys(VCPU_TYPES).join(', ')}`, { fields: ['vcpuType'] });
  }
  const t = VCPU_TYPES[key]!;
  return cpuidSignature(t.family, t.model, t.stepping);
}

/**
 * How each VMM's reset state differs from QEMU/KVM's (the reference). GCE puts 0x600 in RDX whatever the CPU
 * model, leaves MXCSR and FCW zero and programs a different PAT. EC2 keeps KVM's PAT but also puts the fixed
 * 0x600 (family 6, model 0, stepping 0) in RDX whatever the CPU model, leaves MXCSR and FCW zero, and loads CS
 * (BSP only) and SS with the Accessed bit clear (0x9A / 0x92) and TR as a busy 16-bit TSS (0x83, APM Vol. 2 §4.8.3
 * system-segment type 3) instead of a busy 32-bit one (0x8B). The EC2 values are those published from AWS with
 * sev-snp-measure's `--vmm-type ec2` (0.0.6, 2023), RDX updated from 0 to 0x600 in April 2026 to follow EC2's
 * current VMSA (checked there against a live c6a instance); instances launched with the older VMSA show a digest
 * this profile does not reproduce.
 */
interface VmmProfile {
  /** RDX at reset; `undefined`: the vCPU type's CPUID signature. */
  rdx: number | undefined;
  mxcsr: number;
  fcw: number;
  gPat: bigint;
  bspCsAttrib: number;
  ssAttrib: number;
  trAttrib: number;
}

export const VMM_PROFILES: Readonly<Record<VmmType, VmmProfile>> = {
  qemu: { rdx: undefined, mxcsr: 0x1f80, fcw: 0x37f, gPat: 0x0007040600070406n, bspCsAttrib: 0x9b, ssAttrib: 0x93, trAttrib: 0x8b },
  ec2: { rdx: 0x600, mxcsr: 0, fcw: 0, gPat: 0x0007040600070406n, bspCsAttrib: 0x9a, ssAttrib: 0x92, trAttrib: 0x83 },
  gce: { rdx: 0x600, mxcsr: 0, fcw: 0, gPat: 0x00070106n, bspCsAttrib: 0x9b, ssAttrib: 0x93, trAttrib: 0x8b },
};

export interface VmsaInput {
  /** CS:IP of this vCPU: the architectural reset vector 0xFFFFFFF0 for the BSP, OVMF's SEV-ES reset block for APs. */
  resetEip: number;
  /** The BSP (the only vCPU that starts at the architectural reset vector). */
  bsp: boolean;
  /** RDX at reset (APM Vol. 2 §14.1.3: processor identification, the CPUID Fn0000_0001_EAX signature under QEMU). */
  rdx: number;
  /** SEV_FEATURES (APM Vol. 2 §15.35.2, VMSA offset 0x3B0): bit 0 SNPActive, bit 5 DebugSwap, … */
  sevFeatures: bigint;
  vmm: VmmType;
}

function segment(v: DataView, at: number, selector: number, attrib: number, limit: number, base: number): void {
  v.setUint16(at, selector, true);
  v.setUint16(at + 2, attrib, true);
  v.setUint32(at + 4, limit, true);
  v.setBigUint64(at + 8, BigInt(base), true);
}

/** Builds one vCPU's 4 KiB VMSA page. */
export function buildVmsa(input: VmsaInput): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE);
  const v = new DataView(page.buffer);
  const p = VMM_PROFILES[input.vmm];
  // Real-mode reset state: CS selector 0xF000 with its base at the top of the reset segment, data segments at 0.
  // Attributes in the VMSA's 12-bit packed form: 0x9B code (present, S, exec/read, accessed), 0x93 data (present,
  // S, read/write, accessed), 0x82 LDT, 0x8B busy 32-bit TSS (the EC2 variants differ only in those bits).
  const csBase = (input.resetEip & 0xffff0000) >>> 0;
  const ip = input.resetEip & 0xffff;
  const data = 0x93;
  segment(v, 0x000, 0, data, 0xffff, 0); // ES
  segment(v, 0x010, 0xf000, input.bsp ? p.bspCsAttrib : 0x9b, 0xffff, csBase); // CS
  segment(v, 0x020, 0, p.ssAttrib, 0xffff, 0); // SS
  segment(v, 0x030, 0, data, 0xffff, 0); // DS
  segment(v, 0x040, 0, data, 0xffff, 0); // FS
  segment(v, 0x050, 0, data, 0xffff, 0); // GS
  segment(v, 0x060, 0, 0, 0xffff, 0); // GDTR
  segment(v, 0x070, 0, 0x82, 0xffff, 0); // LDTR
  segment(v, 0x080, 0, 0, 0xffff, 0); // IDTR
  segment(v, 0x090, 0, p.trAttrib, 0xffff, 0); // TR
  v.setBigUint64(0x0d0, 0x1000n, true); // EFER.SVME: required set for an SEV-ES guest
  v.setBigUint64(0x148, 0x40n, true); // CR4.MCE
  v.setBigUint64(0x158, 0x10n, true); // CR0.ET
  v.setBigUint64(0x160, 0x400n, true); // DR7 reset value
  v.setBigUint64(0x168, 0xffff0ff0n, true); // DR6 reset value
  v.setBigUint64(0x170, 0x2n, true); // RFLAGS: bit 1 is always set
  v.setBigUint64(0x178, BigInt(ip), true); // RIP
  v.setBigUint64(0x268, p.gPat, true); // G_PAT (APM Vol. 2 §A.3: power-on value under QEMU/EC2)
  v.setBigUint64(0x310, BigInt(input.rdx >>> 0), true); // RDX
  v.setBigUint64(0x3b0, input.sevFeatures, true); // SEV_FEATURES
  v.setBigUint64(0x3e8, 0x1n, true); // XCR0: x87 only
  v.setUint32(0x408, p.mxcsr, true); // MXCSR
  v.setUint16(0x410, p.fcw, true); // x87 FCW
  return page;
}
