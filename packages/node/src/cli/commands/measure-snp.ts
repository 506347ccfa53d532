/**
 * `ccinfer measure snp`: the SEV-SNP launch MEASUREMENT a pod must report, computed from the images it boots
 * (OVMF, and for a measured direct boot the kernel, initrd and command line) instead of learned from the pod.
 */
import { toHex } from '@ccinfer/core';
import { parse } from '../args.js';
import { SNP_LAUNCH_FLAGS, snpLaunchFromFlags } from '../snp-launch.js';
import type { Command, FlagTable } from '../types.js';

const usage =
  'ccinfer measure snp (--ovmf FILE [--kernel FILE [--initrd FILE] [--append TEXT]] | --kata-config FILE) [--vcpus N] [--vcpu-type NAME] [--vmm qemu|ec2|gce] [--guest-features HEX] [--ovmf-hash HEX] [--json]';

const flags = {
  ...SNP_LAUNCH_FLAGS,
  json: { type: 'boolean', help: 'print the result as JSON' },
} as const satisfies FlagTable;

export const measureSnpCommand: Command = {
  name: 'measure snp',
  summary: 'compute the SEV-SNP launch measurement of OVMF (+ kernel, initrd, command line) or a Kata configuration',
  usage,
  options: flags,
  example: 'ccinfer measure snp --ovmf OVMF.fd --kernel vmlinuz --initrd initrd.img --append "console=ttyS0" --vcpus 4 --vcpu-type EPYC-v4',
  async run(args, io) {
    const { values } = parse(args, flags, usage);
    const m = await snpLaunchFromFlags(io, values, usage);
    if (values.json) {
      io.stdout(JSON.stringify({
        measurement: toHex(m.measurement),
        ovmfHash: toHex(m.ovmfHash),
        vcpus: m.vcpus,
        vcpuSignature: `0x${m.vcpuSignature.toString(16)}`,
        vmm: m.vmm,
        guestFeatures: m.guestFeatures,
        directBoot: m.directBoot,
        notes: m.notes,
        steps: m.steps,
      }, null, 2) + '\n');
    } else {
      io.stdout(`${toHex(m.measurement)}\n`);
      io.stderr(`ccinfer measure snp: ${m.vcpus} vCPU(s), signature 0x${m.vcpuSignature.toString(16)}, vmm ${m.vmm}, SEV features ${m.guestFeatures}, ${m.directBoot ? 'measured direct boot' : 'no kernel hashes'}\n`);
      for (const n of m.notes) io.stderr(`  note: ${n}\n`);
    }
    return 0;
  },
};
