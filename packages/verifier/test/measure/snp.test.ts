/**
 * SEV-SNP launch-digest calculator against the public expected values in `measure/snp/` (13 cases from a public
 * measurement tool's test suite), plus one negative test per error code and a property test of the OVMF parser.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcinferError, ConfigError, ParseError, fromHex, toHex } from '@ccinfer/core';
import { measureSnpLaunch, parseOvmf, cpuidSignature, VCPU_TYPES, type SnpMeasureOptions } from '../../src/index.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';
import { readBytes, readJson, vectorsDir } from '../../../../test-support/vectors.js';

const dir = vectorsDir('measure/snp');

interface Case {
  name: string;
  ovmf: string;
  vcpus: number;
  vcpu_type: string | null;
  vmm_type: string;
  guest_features: number;
  kernel: string | null;
  initrd: string | null;
  append: string | null;
  ovmf_hash?: string;
  expected_launch_digest?: string;
  expected_error?: string;
}

function options(c: Case): SnpMeasureOptions {
  const empty = new Uint8Array(0);
  return {
    ovmf: readBytes(dir, c.ovmf),
    vcpus: c.vcpus,
    ...(c.vcpu_type !== null ? { vcpuType: c.vcpu_type } : {}),
    vmm: c.vmm_type.toLowerCase() as NonNullable<SnpMeasureOptions['vmm']>,
    guestFeatures: BigInt(c.guest_features),
    // The vectors use an empty file for kernel and initrd ("empty file") or no direct boot at all (null).
    ...(c.kernel !== null ? { directBoot: { kernel: empty, ...(c.initrd !== null ? { initrd: empty } : {}), append: c.append ?? '' } } : {}),
    ...(c.ovmf_hash !== undefined && /^[0-9a-f]{96}$/.test(c.ovmf_hash) ? { ovmfHash: fromHex(c.ovmf_hash) } : {}),
  };
}

describe('SEV-SNP launch digest: public expected values', () => {
  const expected = readJson<{ cases: Case[]; vcpu_signatures: Record<string, string> } & Record<string, string>>(dir, 'expected.json');
  const cases = expected.cases;

  it('has the 13 cases', () => expect(cases).toHaveLength(13));

  it('covers QEMU, EC2 and GCE', () => expect(new Set(cases.map((c) => c.vmm_type.toLowerCase()))).toEqual(new Set(['qemu', 'ec2', 'gce'])));

  it.each(cases.filter((c) => c.expected_launch_digest).map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const m = await measureSnpLaunch(options(c));
    expect(toHex(m.measurement)).toBe(c.expected_launch_digest);
    expect(m.measurement).toHaveLength(48);
  });

  it.each(cases.filter((c) => c.expected_error).map((c) => [c.name, c] as const))('%s is refused', async (_n, c) => {
    await expectCode(measureSnpLaunch(options(c)), ConfigError, 'ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED');
  });

  it('ovmfHash is the digest after the firmware pages', async () => {
    const c = cases.find((x) => x.name === 'snp_default')!;
    const m = await measureSnpLaunch(options(c));
    expect(toHex(m.ovmfHash)).toBe(expected!['ovmf_hash_of_ovmf_AmdSev_suffix.bin']);
    expect(m.steps.at(-1)).toMatchObject({ gpa: 0xfffffffff000, pageType: 'Vmsa' });
    expect(m.steps.find((s) => s.pageType === 'Normal')).toMatchObject({ gpa: 0x810000 });
  });

  it('vCPU signatures match the documented family / model / stepping', () => {
    for (const [name, text] of Object.entries(expected!.vcpu_signatures)) {
      const [, f, m, s] = /family (\d+), model (\d+), stepping (\d+)/.exec(text)!.map(Number);
      expect(VCPU_TYPES[name]).toEqual({ family: f, model: m, stepping: s });
    }
    expect(cpuidSignature(25, 17, 0)).toBe(0x00a10f10);
  });

  it('parses the footer table and SEV metadata', () => {
    const o = parseOvmf(readBytes(dir, 'ovmf_AmdSev_suffix.bin'));
    expect(o.gpa).toBe(2 ** 32 - 4096);
    expect(o.sevEsResetEip).toBe(0x80b004);
    expect(o.sections.map((s) => s.type)).toEqual([1, 1, 2, 3, 4, 0x10, 1]);
  });

  const base = (): SnpMeasureOptions => ({ ovmf: readBytes(dir, 'ovmf_AmdSev_suffix.bin'), vcpus: 1, vcpuType: 'EPYC-Milan' });

  it('refuses bad options with ERR_MEASURE_OPTIONS', async () => {
    for (const bad of [
      { vcpus: 0 },
      { vcpus: 1.5 },
      { vcpus: 513 },
      { guestFeatures: 0x20n },
      { guestFeatures: 1n << 64n },
      { ovmfHash: new Uint8Array(32) },
      { vmm: 'nitro' as never },
      { vmm: 'EC2' as never },
      { vmm: 'toString' as never },
      { vcpuSignature: 0x800f12 },
    ] as Partial<SnpMeasureOptions>[]) {
      await expectCode(measureSnpLaunch({ ...base(), ...bad }), ConfigError, 'ERR_MEASURE_OPTIONS');
    }
    const { vcpuType: _omitted, ...noType } = base();
    await expectCode(measureSnpLaunch(noType), ConfigError, 'ERR_MEASURE_OPTIONS');
  });

  it('refuses an unknown vCPU type with ERR_MEASURE_VCPU_TYPE', async () => {
    await expectCode(measureSnpLaunch({ ...base(), vcpuType: 'EPYC-Nonexistent' }), ConfigError, 'ERR_MEASURE_VCPU_TYPE');
  });

  it('refuses malformed images with typed parse errors', async () => {
    const img = readBytes(dir, 'ovmf_AmdSev_suffix.bin');
    await expectCode(measureSnpLaunch({ ...base(), ovmf: img.subarray(0, 4000) }), ParseError, 'ERR_MEASURE_IMAGE_SIZE');
    await expectCode(measureSnpLaunch({ ...base(), ovmf: new Uint8Array(4096) }), ParseError, 'ERR_MEASURE_OVMF_FOOTER');
    const badMeta = img.slice();
    badMeta[4096 - 0x554] = 0; // "ASEV" signature
    await expectCode(measureSnpLaunch({ ...base(), ovmf: badMeta }), ParseError, 'ERR_MEASURE_OVMF_METADATA');
    const badType = img.slice();
    badType[4096 - 0x554 + 16 + 8] = 0x7f; // first section's type
    expectCodeSync(() => parseOvmf(badType), ParseError, 'ERR_MEASURE_OVMF_METADATA');
  });

  it('OVMF parser only throws typed errors on mutated tails', () => {
    const img = readBytes(dir, 'ovmf_AmdSev_suffix.bin');
    fc.assert(
      fc.property(fc.integer({ min: 0xa00, max: 4095 }), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const m = img.slice();
        m[at] = m[at]! ^ mask;
        try {
          parseOvmf(m);
        } catch (e) {
          expect(e).toBeInstanceOf(CcinferError);
        }
      }),
    );
  });
});

describe('EC2 launch: the documented differences from QEMU', () => {
  const ovmf = (): Uint8Array => readBytes(dir, 'ovmf_AmdSev_suffix.bin');
  const directBoot = { kernel: new Uint8Array(0), initrd: new Uint8Array(0), append: '' };

  it('adds the CPUID page after every other metadata section, the rest in table order', async () => {
    const qemu = await measureSnpLaunch({ ovmf: ovmf(), vcpus: 1, vcpuType: 'EPYC-v4', directBoot });
    const ec2 = await measureSnpLaunch({ ovmf: ovmf(), vcpus: 1, vmm: 'ec2', directBoot });
    const key = (s: { gpa: number; pageType: string }): string => `${s.pageType}@${s.gpa.toString(16)}`;
    const cpuid = qemu.steps.filter((s) => s.pageType === 'Cpuid').map(key);
    expect(cpuid).toEqual(['Cpuid@80e000']);
    expect(ec2.steps.slice(-2).map(key)).toEqual([...cpuid, 'Vmsa@fffffffff000']);
    expect(ec2.steps.filter((s) => s.pageType !== 'Cpuid').map(key)).toEqual(qemu.steps.filter((s) => s.pageType !== 'Cpuid').map(key));
    expect(ec2.ovmfHash).toEqual(qemu.ovmfHash);
  });

  it('puts 0x600 in RDX whatever the vCPU type, so the type does not change the digest', async () => {
    const none = await measureSnpLaunch({ ovmf: ovmf(), vcpus: 2, vmm: 'ec2' });
    const milan = await measureSnpLaunch({ ovmf: ovmf(), vcpus: 2, vmm: 'ec2', vcpuType: 'EPYC-Milan' });
    expect(none.vcpuSignature).toBe(0x600);
    expect(milan.vcpuSignature).toBe(0x600);
    expect(milan.measurement).toEqual(none.measurement);
    await expectCode(measureSnpLaunch({ ovmf: ovmf(), vcpus: 1, vmm: 'ec2', vcpuType: 'EPYC-Nonexistent' }), ConfigError, 'ERR_MEASURE_VCPU_TYPE');
  });

  it('VMSA: only CS (BSP), SS, TR attributes, RDX, MXCSR and FCW differ from QEMU', async () => {
    const { buildVmsa } = await import('../../src/measure/snp/vmsa.js');
    const diff = (a: Uint8Array, b: Uint8Array): number[] => [...a.keys()].filter((i) => a[i] !== b[i]);
    const sig = cpuidSignature(23, 1, 2);
    for (const [bsp, resetEip] of [[true, 0xfffffff0], [false, 0x80b004]] as const) {
      const q = buildVmsa({ resetEip, bsp, rdx: sig, sevFeatures: 0x21n, vmm: 'qemu' });
      const e = buildVmsa({ resetEip, bsp, rdx: 0x600, sevFeatures: 0x21n, vmm: 'ec2' });
      const v = new DataView(e.buffer);
      expect(v.getUint16(0x12, true)).toBe(bsp ? 0x9a : 0x9b); // CS.attrib
      expect(v.getUint16(0x22, true)).toBe(0x92); // SS.attrib
      expect(v.getUint16(0x92, true)).toBe(0x83); // TR.attrib
      expect(v.getBigUint64(0x310, true)).toBe(0x600n); // RDX
      expect(v.getUint32(0x408, true)).toBe(0); // MXCSR
      expect(v.getUint16(0x410, true)).toBe(0); // x87 FCW
      expect(v.getBigUint64(0x268, true)).toBe(0x0007040600070406n); // G_PAT as under KVM
      // Offsets of the bytes that differ: CS attrib (BSP only), SS, TR, RDX, MXCSR (0x1F80), FCW (0x37F).
      expect(diff(q, e)).toEqual([...(bsp ? [0x12] : []), 0x22, 0x92, 0x310, 0x311, 0x312, 0x408, 0x409, 0x410, 0x411]);
    }
  });

  it('a kernel for an image without the kernel-hashes section is refused for EC2 too', async () => {
    await expectCode(
      measureSnpLaunch({ ovmf: readBytes(dir, 'ovmf_OvmfX64_suffix.bin'), vcpus: 1, vmm: 'ec2', directBoot }),
      ConfigError,
      'ERR_MEASURE_KERNEL_HASHES_UNSUPPORTED',
    );
  });
});

describe('computed reference value, no first contact', () => {
  it('a policy pinning the computed measurement accepts a pod launched that way and refuses another', async () => {
    const { verifySnp, parsePolicy } = await import('../../src/index.js');
    const { simulatedAmd, mintSnpEvidence } = await import('../../src/testing.js');
    const { measurement } = await measureSnpLaunch({
      ovmf: readBytes(dir, 'ovmf_AmdSev_suffix.bin'),
      vcpus: 4,
      vcpuType: 'EPYC-Genoa',
      directBoot: { kernel: new Uint8Array([1, 2, 3]), append: 'console=hvc0' },
    });
    const policy = parsePolicy({ version: 1, snp: { measurements: [toHex(measurement)] } });
    const sim = await simulatedAmd('Genoa');
    const now = new Date('2026-06-01T00:00:00Z');
    const pod = await mintSnpEvidence(sim, { measurement });
    const ok = await verifySnp({ report: pod.report, leaf: pod.leaf, chain: pod.chain, crl: pod.crl }, { anchors: sim.anchors, now, policy: policy.snp! });
    expect(ok.ok).toBe(true);
    expect(ok.checks.find((c) => c.id === 'snp.policy.measurement')?.status).toBe('passed');
    const other = await measureSnpLaunch({
      ovmf: readBytes(dir, 'ovmf_AmdSev_suffix.bin'),
      vcpus: 4,
      vcpuType: 'EPYC-Genoa',
      directBoot: { kernel: new Uint8Array([1, 2, 3]), append: 'console=hvc0 agent.debug_console' },
    });
    const tampered = await mintSnpEvidence(sim, { measurement: other.measurement });
    const refused = await verifySnp({ report: tampered.report, leaf: tampered.leaf, chain: tampered.chain, crl: tampered.crl }, { anchors: sim.anchors, now, policy: policy.snp! });
    expect(refused.ok).toBe(false);
    expect(refused.errors.map((e) => e.code)).toEqual(['ERR_SNP_POLICY_MEASUREMENT']);
  });
});
