/** `ccinfer measure snp`: the public expected launch digests from the CLI, Kata configurations, exit statuses. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ccinfer/core';
import { cli } from './io.js';
import { parseKataConfig } from '../../src/kata-config.js';
import { expectCodeSync } from '../../../../test-support/helpers.js';
import { readJson, vectorsDir } from '../../../../test-support/vectors.js';

const dir = vectorsDir('measure/snp');
const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-cli-measure-'));
const empty = join(tmp, 'empty');
writeFileSync(empty, '');

function kataToml(extra: string, firmware = join(dir, 'ovmf_AmdSev_suffix.bin')): string {
  return [
    '# Kata-shaped runtime configuration (configuration-qemu-nvidia-gpu-snp.toml layout)',
    '[hypervisor.qemu]',
    'path = "/opt/kata/bin/qemu-system-x86_64"',
    `kernel = ${JSON.stringify(empty)}`,
    `initrd = ${JSON.stringify(empty)}`,
    `firmware = ${JSON.stringify(firmware)}`,
    'machine_type = "q35"',
    'confidential_guest = true',
    'sev_snp_guest = true',
    extra,
    '',
    '[runtime]',
    'static_sandbox_resource_mgmt = true',
  ].join('\n');
}

function writeConfig(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('ccinfer measure snp', () => {
  const expected = readJson(dir, 'expected.json');
  const digest = (name: string): string => (expected.cases as any[]).find((c) => c.name === name).expected_launch_digest;
  const ovmf = (): string => join(dir, 'ovmf_AmdSev_suffix.bin');

  it('measured direct boot (snp_default)', async () => {
    const r = await cli(['measure', 'snp', '--ovmf', ovmf(), '--kernel', empty, '--initrd', empty, '--append', 'console=ttyS0 loglevel=7', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--guest-features', '0x21']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${digest('snp_default')}\n`);
  });

  it('--json prints the steps; --ovmf-hash skips the firmware pages', async () => {
    const args = ['measure', 'snp', '--ovmf', ovmf(), '--kernel', empty, '--initrd', empty, '--vcpus', '4', '--vcpu-type', 'EPYC-v4', '--guest-features', '21', '--json'];
    const r = await cli(args);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.measurement).toBe(digest('snp_with_multiple_vcpus_default'));
    expect(j.steps.filter((s: any) => s.pageType === 'Vmsa')).toHaveLength(4);
    const again = await cli([...args, '--ovmf-hash', j.ovmfHash]);
    expect(JSON.parse(again.out).measurement).toBe(j.measurement);
  });

  it('GCE without a vCPU type; OvmfPkgX64 without a kernel', async () => {
    const gce = await cli(['measure', 'snp', '--ovmf', ovmf(), '--kernel', empty, '--initrd', empty, '--vcpus', '1', '--vmm', 'gce']);
    expect(gce.out).toBe(`${digest('snp_gce_default')}\n`);
    const x64 = await cli(['measure', 'snp', '--ovmf', join(dir, 'ovmf_OvmfX64_suffix.bin'), '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--guest-features', '0x21']);
    expect(x64.out).toBe(`${digest('snp_with_ovmfx64_without_default')}\n`);
  });

  it('EC2 (snp_ec2_default): the vCPU type is optional and does not change the digest', async () => {
    const base = ['measure', 'snp', '--ovmf', ovmf(), '--kernel', empty, '--initrd', empty, '--vcpus', '1', '--vmm', 'ec2', '--guest-features', '0x21'];
    const typed = await cli([...base, '--vcpu-type', 'EPYC-v4']);
    expect(typed.code).toBe(0);
    expect(typed.out).toBe(`${digest('snp_ec2_default')}\n`);
    const untyped = await cli([...base, '--json']);
    expect(JSON.parse(untyped.out)).toMatchObject({ measurement: digest('snp_ec2_default'), vmm: 'ec2', vcpuSignature: '0x600' });
    expect(JSON.parse(untyped.out).steps.at(-2)).toMatchObject({ pageType: 'Cpuid' });
  });

  it('a Kata configuration and the files it names', async () => {
    const one = writeConfig('kata1.toml', kataToml('kernel_params = "console=ttyS0 loglevel=7"\ndefault_vcpus = 1'));
    const r = await cli(['measure', 'snp', '--kata-config', one, '--guest-features', '0x21']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${digest('snp_default')}\n`);
    expect(r.err).toContain('note:');
    const four = writeConfig('kata4.toml', kataToml('kernel_params = "agent.log=debug"\ndefault_vcpus = 4'));
    const r4 = await cli(['measure', 'snp', '--kata-config', four, '--append', '', '--guest-features', '0x21', '--json']);
    expect(JSON.parse(r4.out)).toMatchObject({ measurement: digest('snp_with_multiple_vcpus_default'), vcpus: 4, notes: [] });
  });

  it('refusals and usage errors', async () => {
    // A kernel for an image without the kernel-hashes section: refused (caller input → 2).
    const refused = await cli(['measure', 'snp', '--ovmf', join(dir, 'ovmf_OvmfX64_suffix.bin'), '--kernel', empty, '--vcpus', '1', '--vcpu-type', 'EPYC-v4']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED');
    // An image that is not OVMF: unparsable input → 1.
    const zeros = join(tmp, 'zeros.bin');
    writeFileSync(zeros, new Uint8Array(4096));
    const unparsable = await cli(['measure', 'snp', '--ovmf', zeros, '--vcpus', '1', '--vcpu-type', 'EPYC-v4']);
    expect(unparsable.code).toBe(1);
    expect(unparsable.err).toContain('ERR_MEASURE_OVMF_FOOTER');
    for (const args of [
      [],
      ['--ovmf', ovmf()],
      ['--ovmf', ovmf(), '--vcpus', '0', '--vcpu-type', 'EPYC-v4'],
      ['--ovmf', ovmf(), '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--vmm', 'nitro'],
      ['--ovmf', ovmf(), '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--ovmf-hash', 'abcd'],
      ['--ovmf', ovmf(), '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--guest-features', 'xyz'],
      ['--ovmf', ovmf(), '--vcpus', '1', '--vcpu-type', 'EPYC-Unknown'],
      ['--ovmf', ovmf(), '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--append', 'x'],
      ['--ovmf', '/nonexistent', '--vcpus', '1', '--vcpu-type', 'EPYC-v4'],
      ['--kata-config', '/nonexistent'],
      ['--kata-config', writeConfig('k.toml', kataToml('')), '--ovmf', ovmf()],
      ['--kata-config', writeConfig('nofw.toml', kataToml('', '/nonexistent/OVMF.fd'))],
      ['--kata-config', writeConfig('bad.toml', '[hypervisor.qemu\nkernel = 1')],
    ]) {
      expect((await cli(['measure', 'snp', ...args])).code, args.join(' ')).toBe(2);
    }
  });
});

describe('parseKataConfig', () => {
  it('reads the launch keys', () => {
    const c = parseKataConfig('[hypervisor.qemu]\nfirmware = "/f"\nkernel = "/k"\nimage = "/img"\nkernel_params = "a=b"\ndefault_vcpus = 2\n');
    expect(c).toEqual({ firmware: '/f', kernel: '/k', initrd: undefined, kernelParams: 'a=b', vcpus: 2 });
  });

  it('refuses what cannot describe an SNP launch with ERR_KATA_CONFIG', () => {
    for (const text of [
      'not toml [',
      '[hypervisor.clh]\nfirmware = "/f"',
      '[hypervisor.qemu]\nkernel = "/k"',
      '[hypervisor.qemu]\nfirmware = "/f"',
      '[hypervisor.qemu]\nfirmware = "/f"\nkernel = "/k"\nsev_snp_guest = false',
      '[hypervisor.qemu]\nfirmware = "/f"\nkernel = "/k"\ninitrd = "/i"\nimage = "/img"',
      '[hypervisor.qemu]\nfirmware = "/f"\nkernel = "/k"\ndefault_vcpus = 1.5',
      '[hypervisor.qemu]\nfirmware = "/f"\nkernel = 3',
    ]) {
      expectCodeSync(() => parseKataConfig(text), ConfigError, 'ERR_KATA_CONFIG');
    }
  });
});
