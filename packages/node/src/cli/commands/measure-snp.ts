/**
 * `ccinfer measure snp`: the SEV-SNP launch MEASUREMENT a pod must report, computed from the images it boots
 * (OVMF, and for a measured direct boot the kernel, initrd and command line) instead of learned from the pod.
 */
import { fromHex, toHex } from '@ccinfer/core';
import { measureSnpLaunch, type DirectBootBlobs, type SnpMeasureOptions, type VmmType } from '@ccinfer/verifier';
import { parseKataConfig } from '../../kata-config.js';
import { parse, readInput } from '../args.js';
import { UsageError, type CliIo, type Command } from '../types.js';

const usage =
  'ccinfer measure snp (--ovmf FILE [--kernel FILE [--initrd FILE] [--append TEXT]] | --kata-config FILE) [--vcpus N] [--vcpu-type NAME] [--vmm qemu|gce] [--guest-features HEX] [--ovmf-hash HEX] [--json]';

/** Kata's SNP runtime starts QEMU with this CPU model (runtime `qemu_amd64.go`); `--vcpu-type` overrides it. */
const KATA_SNP_CPU_MODEL = 'EPYC-v4';

function intFlag(value: string, flag: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new UsageError(`${flag} must be a positive integer\nusage: ${usage}`);
  return Number(value);
}

function hexBigInt(value: string, flag: string): bigint {
  if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(value)) throw new UsageError(`${flag} must be a hex value of at most 64 bits\nusage: ${usage}`);
  return BigInt(value.startsWith('0x') ? value : `0x${value}`);
}

interface Inputs {
  ovmf: Uint8Array;
  vcpus: number | undefined;
  vcpuType: string | undefined;
  directBoot: DirectBootBlobs | undefined;
  notes: string[];
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
  return {
    ovmf,
    vcpus: cfg.vcpus,
    vcpuType: KATA_SNP_CPU_MODEL,
    directBoot: { kernel, ...(initrd ? { initrd } : {}), append: append ?? cfg.kernelParams },
    notes,
  };
}

async function fromFlags(io: CliIo, v: Record<string, string | boolean | undefined>): Promise<Inputs> {
  if (typeof v['ovmf'] !== 'string') throw new UsageError(`missing --ovmf or --kata-config\nusage: ${usage}`);
  if (v['kernel'] === undefined && (v['initrd'] !== undefined || v['append'] !== undefined)) {
    throw new UsageError(`--initrd and --append need --kernel (measured direct boot)\nusage: ${usage}`);
  }
  const ovmf = await readInput(io, v['ovmf'], 'OVMF image');
  const kernel = typeof v['kernel'] === 'string' ? await readInput(io, v['kernel'], 'kernel') : undefined;
  const initrd = typeof v['initrd'] === 'string' ? await readInput(io, v['initrd'], 'initrd') : undefined;
  const append = typeof v['append'] === 'string' ? v['append'] : undefined;
  return {
    ovmf,
    vcpus: undefined,
    vcpuType: undefined,
    directBoot: kernel ? { kernel, ...(initrd ? { initrd } : {}), ...(append !== undefined ? { append } : {}) } : undefined,
    notes: [],
  };
}

export const measureSnpCommand: Command = {
  name: 'measure snp',
  summary: 'compute the SEV-SNP launch measurement of OVMF (+ kernel, initrd, command line) or a Kata configuration',
  usage,
  async run(args, io) {
    const { values } = parse(args, {
      ovmf: { type: 'string' },
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      append: { type: 'string' },
      'kata-config': { type: 'string' },
      vcpus: { type: 'string' },
      'vcpu-type': { type: 'string' },
      vmm: { type: 'string' },
      'guest-features': { type: 'string' },
      'ovmf-hash': { type: 'string' },
      json: { type: 'boolean' },
    }, usage);
    const kata = values['kata-config'];
    if (kata !== undefined && (values.ovmf !== undefined || values.kernel !== undefined || values.initrd !== undefined)) {
      throw new UsageError(`--kata-config names the images itself: drop --ovmf/--kernel/--initrd\nusage: ${usage}`);
    }
    const vmm = values.vmm ?? 'qemu';
    if (vmm !== 'qemu' && vmm !== 'gce') throw new UsageError(`--vmm must be qemu or gce (EC2 launches are not supported)\nusage: ${usage}`);
    let ovmfHash: Uint8Array | undefined;
    if (values['ovmf-hash'] !== undefined) {
      if (!/^[0-9a-fA-F]{96}$/.test(values['ovmf-hash'])) throw new UsageError(`--ovmf-hash must be 48 bytes of hex\nusage: ${usage}`);
      ovmfHash = fromHex(values['ovmf-hash'].toLowerCase());
    }
    const inputs = kata !== undefined ? await fromKata(io, kata, values.append) : await fromFlags(io, values);
    const vcpus = values.vcpus !== undefined ? intFlag(values.vcpus, '--vcpus') : inputs.vcpus;
    if (vcpus === undefined) throw new UsageError(`missing --vcpus\nusage: ${usage}`);
    const vcpuType = values['vcpu-type'] ?? inputs.vcpuType;
    const options: SnpMeasureOptions = {
      ovmf: inputs.ovmf,
      vcpus,
      vmm: vmm as VmmType,
      ...(vcpuType !== undefined ? { vcpuType } : {}),
      ...(values['guest-features'] !== undefined ? { guestFeatures: hexBigInt(values['guest-features'], '--guest-features') } : {}),
      ...(inputs.directBoot ? { directBoot: inputs.directBoot } : {}),
      ...(ovmfHash ? { ovmfHash } : {}),
    };
    const m = await measureSnpLaunch(options);
    const features = `0x${(options.guestFeatures ?? 1n).toString(16)}`;
    if (values.json) {
      io.stdout(JSON.stringify({
        measurement: toHex(m.measurement),
        ovmfHash: toHex(m.ovmfHash),
        vcpus,
        vcpuSignature: `0x${m.vcpuSignature.toString(16)}`,
        vmm,
        guestFeatures: features,
        directBoot: inputs.directBoot !== undefined,
        notes: inputs.notes,
        steps: m.steps,
      }, null, 2) + '\n');
    } else {
      io.stdout(`${toHex(m.measurement)}\n`);
      io.stderr(`ccinfer measure snp: ${vcpus} vCPU(s), signature 0x${m.vcpuSignature.toString(16)}, vmm ${vmm}, SEV features ${features}, ${inputs.directBoot ? 'measured direct boot' : 'no kernel hashes'}\n`);
      for (const n of inputs.notes) io.stderr(`  note: ${n}\n`);
    }
    return 0;
  },
};
