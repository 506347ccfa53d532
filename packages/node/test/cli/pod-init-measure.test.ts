/**
 * `ccinfer pod init --kata-config` / `--measurement`: a policy that pins a pod never seen. The launch digest is
 * computed from a Kata-shaped configuration around the conformance vectors' OVMF tail (the same computation as
 * `ccinfer measure snp`), and a client holding only the written policy.json accepts a simulated pod whose signed
 * report carries that MEASUREMENT and the written initdata's digest as HOST_DATA — and refuses any other.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerificationError, fromHex } from '@ccinfer/core';
import { parsePolicyText } from '@ccinfer/verifier';
import { cli } from './io.js';
import { createSecureClient } from '../../src/client.js';
import { createGateway } from '../../src/gateway/index.js';
import { createSimulatedProvider, type SimulatedProviderOptions } from '../../src/simulator.js';
import { startModelServer, demoReply, type ModelServer } from '../../src/demo/model-server.js';
import { expectCode } from '../../../../test-support/helpers.js';
import { readJson, vectorsDir } from '../../../../test-support/vectors.js';

const vectors = vectorsDir('measure/snp');
const expected = readJson(vectors, 'expected.json');
const digest = (name: string): string => (expected.cases as { name: string; expected_launch_digest: string }[]).find((c) => c.name === name)!.expected_launch_digest;
const root = mkdtempSync(join(tmpdir(), 'ccinfer-pod-init-measure-'));
const empty = join(root, 'empty');
writeFileSync(empty, '');
let n = 0;
const outDir = (): string => join(root, `out${n++}`);

/** A runtime configuration laid out like Kata's `configuration-qemu-nvidia-gpu-snp.toml`. */
function kataConfig(params: string, vcpus: number): string {
  const p = join(root, `kata-${n++}.toml`);
  writeFileSync(p, [
    '[hypervisor.qemu]',
    'path = "/opt/kata/bin/qemu-system-x86_64"',
    `kernel = ${JSON.stringify(empty)}`,
    `initrd = ${JSON.stringify(empty)}`,
    `firmware = ${JSON.stringify(join(vectors, 'ovmf_AmdSev_suffix.bin'))}`,
    `kernel_params = ${JSON.stringify(params)}`,
    `default_vcpus = ${vcpus}`,
    'machine_type = "q35"',
    'confidential_guest = true',
    'sev_snp_guest = true',
    '',
    '[runtime]',
    'static_sandbox_resource_mgmt = true',
  ].join('\n'));
  return p;
}

const IMAGES = ['--model-image', 'registry.example/vllm:1', '--gateway-image', 'registry.example/ccinfer-gateway:0.1.0'];
async function podInit(extra: string[]) {
  const dir = outDir();
  const r = await cli(['pod', 'init', ...IMAGES, '--out', dir, ...extra]);
  return { dir, ...r };
}

let model: ModelServer;
beforeAll(async () => {
  model = await startModelServer();
});
afterAll(async () => {
  await model.close();
  rmSync(root, { recursive: true, force: true });
});

const body = { model: 'ccinfer-demo-1', messages: [{ role: 'user', content: 'hello' }] };

/** The client's refusal: ERR_SESSION_REJECTED, carrying the appraisal's typed codes in its document. */
async function expectRejected(r: Awaited<ReturnType<typeof infer>>, checkId: string, code: string): Promise<void> {
  expect('err' in r.result).toBe(true);
  await expectCode(Promise.reject((r.result as { err: unknown }).err), VerificationError, 'ERR_SESSION_REJECTED');
  expect(r.codes).toEqual([code]);
  expect(r.failed).toEqual([`${checkId}:${code}`]);
  expect(r.ohttp).toBe(0); // refused before a single request byte reached the pod
}

/** Starts a simulated SNP pod with one GPU and asks a client holding only `policyPath` for one completion. */
async function infer(policyPath: string, pod: SimulatedProviderOptions) {
  const provider = await createSimulatedProvider({ tee: 'snp', gpus: 1, ...pod });
  const gateway = await createGateway({ upstream: model.url, evidence: provider });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const policy = parsePolicyText(readFileSync(policyPath, 'utf8'));
  const checks: string[] = [];
  const codes: string[] = [];
  const failed: string[] = [];
  // The client's defaults: reference values required (requireReferenceValues), a GPU required.
  const client = createSecureClient({ endpoint: url, anchors: provider.anchors, policy, fetcher: undefined, onCheck: (c) => checks.push(`${c.id}:${c.status}`) });
  client.on('rejected', (e) => {
    codes.push(...(e.document?.errors.map((x) => x.code) ?? []));
    failed.push(...(e.document?.checks.filter((c) => c.status === 'failed').map((c) => `${c.id}:${c.code}`) ?? []));
  });
  try {
    const result = await client.infer(body).then((v) => ({ v }), (err: unknown) => ({ err }));
    return { result, checks, codes, failed, ohttp: gateway.stats.ohttp };
  } finally {
    await gateway.close();
  }
}

describe('ccinfer pod init: the launch measurement pinned with no first contact', () => {
  it('--kata-config computes the digest measure snp computes (the public vector) and pins it with the initdata digest', async () => {
    const config = kataConfig('console=ttyS0 loglevel=7', 1);
    const { dir, code, out, err } = await podInit(['--tee', 'snp', '--gpus', '1', '--kata-config', config, '--guest-features', '0x21']);
    expect(code).toBe(0);
    expect(err).toContain('note:'); // kernel_params as configured: the note says to pass the full command line
    const measurement = digest('snp_default');
    const measured = await cli(['measure', 'snp', '--kata-config', config, '--guest-features', '0x21']);
    expect(measured.out).toBe(`${measurement}\n`); // one computation for both commands
    expect(out).toContain(`MEASUREMENT (launch digest, computed): ${measurement}`);
    const policy = parsePolicyText(readFileSync(join(dir, 'policy.json'), 'utf8'));
    expect(policy.snp?.measurements).toEqual([measurement]);
    expect(policy.snp?.hostData).toHaveLength(1);
    const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
    expect(readme).toContain(measurement);
    expect(readme).toContain(`the Kata configuration ${config}`);
    expect(readme).toContain('1 vCPU(s) of type EPYC-v4');
    expect(readme).toContain('"console=ttyS0 loglevel=7"');
    expect(readme).not.toContain('It is left out on purpose');

    const initdata = readFileSync(join(dir, 'initdata.toml'), 'utf8');
    const policyPath = join(dir, 'policy.json');
    // The pod that booted those images with that initdata: accepted, with both pins checked.
    const ok = await infer(policyPath, { initdata, report: { measurement: fromHex(measurement) } });
    expect('v' in ok.result).toBe(true);
    expect((ok.result as { v: { choices: { message: { content: string } }[] } }).v.choices[0]!.message.content).toBe(demoReply('hello'));
    for (const id of ['snp.policy.measurement', 'snp.policy.hostData', 'policy.referenceValues', 'initdata.digest']) {
      expect(ok.checks, id).toContain(`${id}:passed`);
    }
    expect(ok.checks.filter((c) => c.endsWith(':failed'))).toEqual([]);
    expect(ok.ohttp).toBe(1);

    // Booted from other images (another vCPU count): another measurement, refused before any request byte.
    const otherMeasurement = digest('snp_with_multiple_vcpus_default');
    const wrongImage = await infer(policyPath, { initdata, report: { measurement: fromHex(otherMeasurement) } });
    await expectRejected(wrongImage, 'snp.policy.measurement', 'ERR_SNP_POLICY_MEASUREMENT');

    // The same images running someone else's initdata (other containers): HOST_DATA refused.
    const otherInitdata = initdata.replace('default ExecProcessRequest := false', 'default ExecProcessRequest := true');
    expect(otherInitdata).not.toBe(initdata);
    const wrongInitdata = await infer(policyPath, { initdata: otherInitdata, report: { measurement: fromHex(measurement) } });
    await expectRejected(wrongInitdata, 'snp.policy.hostData', 'ERR_SNP_POLICY_HOST_DATA');
  });

  it('--measurement (repeatable) pins given values next to a computed one; README.txt says which is which', async () => {
    const config = kataConfig('agent.log=debug', 4);
    const given = digest('snp_gce_default').toUpperCase();
    const computed = digest('snp_with_multiple_vcpus_default');
    const { dir, code, out } = await podInit(['--tee', 'snp', '--kata-config', config, '--append', '', '--guest-features', '0x21', '--measurement', given, '--measurement', computed]);
    expect(code).toBe(0);
    const policy = parsePolicyText(readFileSync(join(dir, 'policy.json'), 'utf8'));
    expect(policy.snp?.measurements).toEqual([computed, given.toLowerCase()]); // the computed one is pinned once
    expect(out).toContain(`MEASUREMENT (launch digest, given): ${given.toLowerCase()}`);
    const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
    expect(readme).toContain(`${given.toLowerCase()}\n     given with --measurement.`);
    expect(readme).toContain('4 vCPU(s) of type EPYC-v4');

    const only = await podInit(['--tee', 'snp', '--gpus', '0', '--measurement', given]);
    expect(only.code).toBe(0);
    expect(parsePolicyText(readFileSync(join(only.dir, 'policy.json'), 'utf8')).snp?.measurements).toEqual([given.toLowerCase()]);
    expect(readFileSync(join(only.dir, 'README.txt'), 'utf8')).not.toContain('computed from');
  });

  it('refuses what it cannot compute, and writes nothing', async () => {
    const m = digest('snp_default');
    const config = kataConfig('', 1);
    const badConfig = join(root, 'bad-kata.toml');
    writeFileSync(badConfig, '[hypervisor.qemu]\nkernel = "/k"\n'); // no firmware: ERR_KATA_CONFIG
    for (const extra of [
      ['--tee', 'tdx', '--measurement', m], // no MRTD calculator: refused, not invented
      ['--tee', 'tdx', '--kata-config', config],
      ['--tee', 'snp', '--measurement', 'abcd'],
      ['--tee', 'snp', '--measurement', m, '--measurement', m.toUpperCase()],
      ['--tee', 'snp', '--vcpus', '2'], // a launch flag without the images
      ['--tee', 'snp', '--kata-config', config, '--ovmf', empty],
      ['--tee', 'snp', '--kata-config', join(root, 'missing.toml')],
      ['--tee', 'snp', '--kata-config', badConfig],
    ]) {
      const r = await podInit(extra);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.err).not.toBe('');
      expect(existsSync(r.dir), extra.join(' ')).toBe(false);
    }
    const tdx = await podInit(['--tee', 'tdx', '--measurement', m]);
    expect(tdx.err).toContain('MRTD computation');
    expect((await podInit(['--tee', 'snp', '--kata-config', badConfig])).err).toContain('ERR_KATA_CONFIG');
  });
});

describe('without --kata-config or --measurement', () => {
  it('without a measurement the pod is refused with ERR_POLICY_UNPINNED (the first-contact gap this closes)', async () => {
    const { dir } = await podInit(['--tee', 'snp', '--gpus', '1']);
    const initdata = readFileSync(join(dir, 'initdata.toml'), 'utf8');
    const r = await infer(join(dir, 'policy.json'), { initdata, report: { measurement: fromHex(digest('snp_default')) } });
    await expectRejected(r, 'policy.referenceValues', 'ERR_POLICY_UNPINNED');
  });
});
