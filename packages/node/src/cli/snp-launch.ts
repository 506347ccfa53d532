/**
 * The SEV-SNP launch measurement from CLI flags: the one place `ccinfer measure snp` and `ccinfer pod init
 * --kata-config` turn an OVMF image (+ kernel, initrd, command line) or a Kata runtime configuration into the
 * `measureSnpLaunch` inputs, so both commands compute the same digest for the same flags.
 */
import { fromHex } from '@ccinfer/core';
import { measureSnpLaunch, type DirectBootBlobs, type SnpMeasureOptions, type SnpMeasurement, type VmmType } from '@ccinfer/verifier';
import { parseKataConfig } from '../kata-config.js';
import { readInput } from './args.js';
import { UsageError, type CliIo, type FlagTable } from './types.js';

/** Kata's SNP runtime starts QEMU with this CPU model (runtime `qemu_amd64.go`); `--vcpu-type` overrides it. */
const KATA_SNP_CPU_MODEL = 'EPYC-v4';

/**
 * The flags that change the launch digest (`parseArgs` option specs with their `--help` lines), for commands that
 * compute it.
 */
export const SNP_LAUNCH_FLAGS = {
  ovmf: { type: 'string', arg: 'FILE', help: 'the OVMF firmware image (or --kata-config)' },
  kernel: { type: 'string', arg: 'FILE', help: 'the kernel, for measured direct boot' },
  initrd: { type: 'string', arg: 'FILE', help: 'the initrd (needs --kernel)' },
  append: { type: 'string', arg: 'TEXT', help: 'the kernel command line (needs --kernel)' },
  'kata-config': { type: 'string', arg: 'FILE', help: 'a Kata runtime configuration naming the images' },
  vcpus: { type: 'string', arg: 'N', help: 'vCPU count (required unless --kata-config names it)' },
  'vcpu-type': { type: 'string', arg: 'NAME', help: 'the vCPU model (e.g. EPYC-v4)', fallback: 'EPYC-v4 with --kata-config' },
  vmm: { type: 'string', arg: 'qemu|ec2|gce', help: 'the launching VMM', fallback: 'qemu' },
  'guest-features': { type: 'string', arg: 'HEX', help: 'SEV_FEATURES of the VMSA' },
  'ovmf-hash': { type: 'string', arg: 'HEX', help: 'the 48-byte OVMF digest instead of --ovmf' },
} as const satisfies FlagTable;

/** Parsed values of {@link SNP_LAUNCH_FLAGS}; a command may define only some of them. */
export type SnpLaunchFlags = { [K in keyof typeof SNP_LAUNCH_FLAGS]?: string | undefined };

/** Where the images came from, for the notes a command prints or writes. */
export interface SnpLaunchSource {
  kataConfig: string | undefined;
  ovmf: string;
  kernel: string | undefined;
  initrd: string | undefined;
  append: string | undefined;
}

export interface SnpLaunchResult extends SnpMeasurement {
  vcpus: number;
  vcpuType: string | undefined;
  vmm: VmmType;
  /** SEV_FEATURES of the VMSAs, as hex (`0x1` unless `--guest-features`). */
  guestFeatures: string;
  directBoot: boolean;
  source: SnpLaunchSource;
  /** What the caller must know about the value (e.g. a command line Kata extends at run time). */
  notes: string[];
}

interface Inputs {
  ovmf: Uint8Array;
  vcpus: number | undefined;
  vcpuType: string | undefined;
  directBoot: DirectBootBlobs | undefined;
  source: SnpLaunchSource;
  notes: string[];
}

function intFlag(value: string, flag: string, usage: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new UsageError(`${flag} must be a positive integer\nusage: ${usage}`);
  return Number(value);
}

function hexBigInt(value: string, flag: string, usage: string): bigint {
  if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(value)) throw new UsageError(`${flag} must be a hex value of at most 64 bits\nusage: ${usage}`);
  return BigInt(value.startsWith('0x') ? value : `0x${value}`);
}

async function fromKata(io: CliIo, path: string, append: string | undefined): Promise<Inputs> {
  const cfg = parseKataConfig(new TextDecoder().decode(await readInput(io, path, 'Kata configuration')));
  const [ovmf, kernel, initrd] = await Promise.all([
    readInput(io, cfg.firmware, 'firmware (hypervisor.qemu.firmware)'),
    readInput(io, cfg.kernel, 'kernel (hypervisor.qemu.kernel)'),
    cfg.initrd === undefined ? undefined : readInput(io, cfg.initrd, 'initrd (hypervisor.qemu.initrd)'),
  ]);
  const notes: string[] = [];
  if (append === undefined) {
    notes.push('the command line is kernel_params from the configuration; the Kata runtime adds its own parameters, so pass the pod\'s full command line with --append for an exact value');
  }
  const cmdline = append ?? cfg.kernelParams;
  return {
    ovmf,
    vcpus: cfg.vcpus,
    vcpuType: KATA_SNP_CPU_MODEL,
    directBoot: { kernel, ...(initrd ? { initrd } : {}), append: cmdline },
    source: { kataConfig: path, ovmf: cfg.firmware, kernel: cfg.kernel, initrd: cfg.initrd, append: cmdline },
    notes,
  };
}

async function fromFlags(io: CliIo, v: SnpLaunchFlags, usage: string): Promise<Inputs> {
  if (v.ovmf === undefined) throw new UsageError(`missing --ovmf or --kata-config\nusage: ${usage}`);
  if (v.kernel === undefined && (v.initrd !== undefined || v.append !== undefined)) {
    throw new UsageError(`--initrd and --append need --kernel (measured direct boot)\nusage: ${usage}`);
  }
  const ovmf = await readInput(io, v.ovmf, 'OVMF image');
  const kernel = v.kernel !== undefined ? await readInput(io, v.kernel, 'kernel') : undefined;
  const initrd = v.initrd !== undefined ? await readInput(io, v.initrd, 'initrd') : undefined;
  return {
    ovmf,
    vcpus: undefined,
    vcpuType: undefined,
    directBoot: kernel ? { kernel, ...(initrd ? { initrd } : {}), ...(v.append !== undefined ? { append: v.append } : {}) } : undefined,
    source: { kataConfig: undefined, ovmf: v.ovmf, kernel: v.kernel, initrd: v.initrd, append: v.append },
    notes: [],
  };
}

/**
 * Computes the launch digest the flags describe. Usage errors (missing or malformed flags, unreadable files)
 * are `UsageError`s; a configuration or image that cannot describe an SNP launch fails with the typed codes of
 * `parseKataConfig` (`ERR_KATA_CONFIG`) and `measureSnpLaunch` (`ERR_MEASURE_…`).
 */
export async function snpLaunchFromFlags(io: CliIo, values: SnpLaunchFlags, usage: string): Promise<SnpLaunchResult> {
  const kata = values['kata-config'];
  if (kata !== undefined && (values.ovmf !== undefined || values.kernel !== undefined || values.initrd !== undefined)) {
    throw new UsageError(`--kata-config names the images itself: drop --ovmf/--kernel/--initrd\nusage: ${usage}`);
  }
  const vmm = values.vmm ?? 'qemu';
  if (vmm !== 'qemu' && vmm !== 'ec2' && vmm !== 'gce') throw new UsageError(`--vmm must be qemu, ec2 or gce\nusage: ${usage}`);
  let ovmfHash: Uint8Array | undefined;
  if (values['ovmf-hash'] !== undefined) {
    if (!/^[0-9a-fA-F]{96}$/.test(values['ovmf-hash'])) throw new UsageError(`--ovmf-hash must be 48 bytes of hex\nusage: ${usage}`);
    ovmfHash = fromHex(values['ovmf-hash'].toLowerCase());
  }
  const inputs = kata !== undefined ? await fromKata(io, kata, values.append) : await fromFlags(io, values, usage);
  const vcpus = values.vcpus !== undefined ? intFlag(values.vcpus, '--vcpus', usage) : inputs.vcpus;
  if (vcpus === undefined) throw new UsageError(`missing --vcpus\nusage: ${usage}`);
  const vcpuType = values['vcpu-type'] ?? inputs.vcpuType;
  const options: SnpMeasureOptions = {
    ovmf: inputs.ovmf,
    vcpus,
    vmm,
    ...(vcpuType !== undefined ? { vcpuType } : {}),
    ...(values['guest-features'] !== undefined ? { guestFeatures: hexBigInt(values['guest-features'], '--guest-features', usage) } : {}),
    ...(inputs.directBoot ? { directBoot: inputs.directBoot } : {}),
    ...(ovmfHash ? { ovmfHash } : {}),
  };
  const m = await measureSnpLaunch(options);
  return {
    ...m,
    vcpus,
    vcpuType,
    vmm,
    guestFeatures: `0x${(options.guestFeatures ?? 1n).toString(16)}`,
    directBoot: inputs.directBoot !== undefined,
    source: inputs.source,
    notes: inputs.notes,
  };
}
