/**
 * `ccinfer policy init --from FILE`: a policy (docs/policy.md) that pins what an evidence bundle shows — the
 * measurements, HOST_DATA / MRCONFIGID, the reported TCB as the minimum, the device count and topology.
 * Review it before use: it trusts whatever the bundle contained, so appraise the bundle first. The command
 * prints, for review, each value it pinned and what pinning it means.
 */
import { parsePolicy, policyFromBundle, type Policy } from '@ccinfer/verifier';
import { parse, readInput, required } from '../args.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer policy init --from FILE [--out FILE]';

const options = {
  from: { type: 'string', arg: 'FILE', help: 'an evidence bundle, e.g. from `ccinfer attest URL --save FILE` (required)' },
  out: { type: 'string', arg: 'FILE', help: 'write the policy there (the review goes to stdout)', fallback: 'the policy to stdout, the review to stderr' },
} as const satisfies FlagTable;

/** Why each pinned key is there: what a pod must keep showing to be accepted (docs/policy.md). */
const WHY: Record<string, string> = {
  'snp.measurements': 'the launch measurement: the firmware, kernel, initrd and command line the VM booted — other software is refused',
  'snp.vmpl': 'the privilege level that signed the report (0: the guest kernel, not a paravisor)',
  'snp.hostData': 'HOST_DATA: the digest of the initdata (the pod configuration) the host supplied at launch',
  'snp.productLines': 'the AMD product line the report came from',
  'snp.minTcb': 'the reported TCB as the minimum: a rollback to older firmware or microcode is refused',
  'tdx.mrTd': 'MRTD: the TD firmware measured at build time — other firmware is refused',
  'tdx.rtmr0': 'RTMR0: the firmware configuration measured at boot',
  'tdx.rtmr1': 'RTMR1: the kernel',
  'tdx.rtmr2': 'RTMR2: the kernel command line and initrd',
  'tdx.rtmr3': 'RTMR3: runtime extensions (zero when unused)',
  'tdx.mrConfigId': 'MRCONFIGID: the initdata digest (the pod configuration)',
  'tdx.mrSeam': 'MRSEAM: the Intel TDX module version',
  'gpu.count': 'exactly this many GPUs: a dropped or added device is refused',
  'gpu.mode': 'the GPU topology: single (no NVSwitch) or ppcie (protected PCIe with NVSwitches)',
  'gpu.archs': 'the GPU (and NVSwitch: ls10) architectures the certificates and GPU_INFO showed',
  'gpu.driverVersions': "the driver version from the driver RIM: another driver's measurements are refused",
  'gpu.vbiosVersions': "the VBIOS version from the VBIOS RIM: another VBIOS is refused",
};

function review(policy: Policy): string {
  const lines = ['pinned (review each before trusting it: they are whatever the bundle showed):'];
  for (const [section, body] of Object.entries(policy)) {
    if (section === 'version' || typeof body !== 'object' || body === null) continue;
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      lines.push(`  ${section}.${key} = ${JSON.stringify(value)}`, `      ${WHY[`${section}.${key}`] ?? 'pinned as shown'}`);
    }
  }
  return lines.join('\n') + '\n';
}

export const policyInitCommand: Command = {
  name: 'policy init',
  summary: 'write a policy pinning the measurements an evidence bundle shows',
  usage,
  options,
  example: 'ccinfer policy init --from pod.cbor --out policy.json',
  async run(args, io) {
    const { values } = parse(args, options, usage);
    const bytes = await readInput(io, required(values.from, '--from', usage), 'bundle');
    let policy: Policy;
    try {
      policy = policyFromBundle(bytes);
    } catch (err) {
      throw new UsageError(`${values.from} is not a ccinfer/1 evidence bundle: ${(err as Error).message}`);
    }
    parsePolicy(policy); // what we write must be a policy we accept
    const text = JSON.stringify(policy, null, 2) + '\n';
    if (values.out) {
      await io.writeFile(values.out, text);
      io.stdout(`wrote ${values.out}\n${review(policy)}`);
    } else {
      io.stdout(text);
      io.stderr(review(policy));
    }
    return EXIT.ACCEPTED;
  },
};
