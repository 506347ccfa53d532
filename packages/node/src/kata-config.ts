/**
 * The launch inputs of a Kata Containers QEMU runtime configuration (`configuration-qemu-*-snp.toml`,
 * `[hypervisor.qemu]`): which firmware, kernel and initrd QEMU boots, with which kernel parameters and how many
 * vCPUs. Only the keys that change the SEV-SNP launch measurement are read; the paths are returned as written
 * (they name files on the Kata host).
 */
import { ConfigError } from '@ccinfer/core';
import { parse as parseToml, TomlError } from 'smol-toml';

export type KataConfigErrorCode = 'ERR_KATA_CONFIG';

export interface KataLaunchConfig {
  /** OVMF image (`firmware`). */
  firmware: string;
  /** Guest kernel (`kernel`), booted directly: its hash is measured (QEMU `kernel-hashes=on`). */
  kernel: string;
  /** Guest initrd (`initrd`); absent when the rootfs is a disk `image` (which is not part of the launch digest). */
  initrd: string | undefined;
  /** `kernel_params`, as configured (Kata adds its own parameters around them; see the CLI docs). */
  kernelParams: string;
  /** `default_vcpus` (boot vCPUs; Kata's default is 1). */
  vcpus: number;
}

function bad(field: string, message: string, cause?: unknown): never {
  throw new ConfigError('ERR_KATA_CONFIG', message, { fields: [field], ...(cause === undefined ? {} : { cause }) });
}

function optionalString(section: Record<string, unknown>, key: string): string | undefined {
  const v = section[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') bad(`hypervisor.qemu.${key}`, `hypervisor.qemu.${key} must be a string`);
  return v === '' ? undefined : v;
}

/** Parses the TOML text of a Kata runtime configuration. @throws ConfigError `ERR_KATA_CONFIG` */
export function parseKataConfig(text: string): KataLaunchConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    bad('toml', `not valid TOML${err instanceof TomlError ? ` (line ${err.line})` : ''}`, err);
  }
  const hv = doc['hypervisor'];
  const qemu = typeof hv === 'object' && hv !== null ? (hv as Record<string, unknown>)['qemu'] : undefined;
  if (typeof qemu !== 'object' || qemu === null || Array.isArray(qemu)) bad('hypervisor.qemu', 'no [hypervisor.qemu] section');
  const q = qemu as Record<string, unknown>;
  if (q['sev_snp_guest'] !== undefined && q['sev_snp_guest'] !== true) bad('hypervisor.qemu.sev_snp_guest', 'sev_snp_guest is not true: this runtime does not launch SEV-SNP guests');
  const firmware = optionalString(q, 'firmware') ?? bad('hypervisor.qemu.firmware', 'hypervisor.qemu.firmware is required to compute a launch digest');
  const kernel = optionalString(q, 'kernel') ?? bad('hypervisor.qemu.kernel', 'hypervisor.qemu.kernel is required');
  const initrd = optionalString(q, 'initrd');
  const image = optionalString(q, 'image');
  if (initrd !== undefined && image !== undefined) bad('hypervisor.qemu.image', 'both initrd and image are set');
  const rawVcpus = q['default_vcpus'] ?? 1;
  // default_vcpus may be written as a float (newer runtimes accept fractional CPU requests for sizing); QEMU boots
  // that many whole vCPUs, so only whole values are accepted here rather than guessing a rounding rule.
  const vcpus = typeof rawVcpus === 'bigint' ? Number(rawVcpus) : rawVcpus;
  if (typeof vcpus !== 'number' || !Number.isInteger(vcpus) || vcpus < 1) bad('hypervisor.qemu.default_vcpus', 'default_vcpus must be a whole number ≥ 1');
  return { firmware, kernel, initrd, kernelParams: optionalString(q, 'kernel_params') ?? '', vcpus };
}

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<KataConfigErrorCode, true> {}
}
