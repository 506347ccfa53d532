/**
 * `--gpu nvattest`: an executable stand-in for `nvattest collect-evidence` prints NVIDIA's real PPCIe evidence
 * (shared/vectors/nvidia hgx-h100-590.12-ppcie-8gpu-4switch, NVIDIA's own serialization, verbatim) and records
 * its arguments; the collector spawns it, and refuses evidence for another nonce or of another shape.
 */
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcinferError, fromHex, toHex } from '@ccinfer/core';
import { nvattestDevices, parseNvattestEvidence } from '../../../src/gateway/evidence/gpu/nvattest.js';
import { readBytes, readText, vectorsDir } from '../../../../../test-support/vectors.js';
import { expectCode, expectCodeSync } from '../../../../../test-support/helpers.js';

const dir = vectorsDir('nvidia');
const SET = 'hgx-h100-590.12-ppcie-8gpu-4switch';
let tmp: string;
let script: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ccinfer-nvattest-'));
  if (!dir) return;
  copyFileSync(join(dir, SET, 'source_gpu_evidence.json'), join(tmp, 'gpu.json'));
  copyFileSync(join(dir, SET, 'source_switch_evidence.json'), join(tmp, 'nvswitch.json'));
  script = join(tmp, 'nvattest');
  // $1 collect-evidence, $3 = gpu | nvswitch; the arguments are logged for the test to check.
  writeFileSync(script, `#!/bin/sh\necho "$@" >> "${tmp}/args"\n[ "$1" = collect-evidence ] || exit 3\ncat "${tmp}/$3.json"\n`);
  chmodSync(script, 0o755);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!dir)('nvattest collector with real NVIDIA evidence', () => {
  it('collects 8 GPUs and 4 NVSwitches, byte for byte the vectors', async () => {
    const nonce = fromHex(readText(dir!, SET, 'nonce.txt').trim());
    const { gpus, switches } = await nvattestDevices({ command: script, switches: true }).collect(nonce);
    expect([gpus.length, switches.length]).toEqual([8, 4]);
    for (let i = 0; i < 8; i++) expect(toHex(gpus[i]!.report)).toBe(toHex(readBytes(dir!, SET, 'gpus', `gpu${i}`, 'report.bin')));
    for (let i = 0; i < 4; i++) expect(toHex(switches[i]!.report)).toBe(toHex(readBytes(dir!, SET, 'switches', `switch${i}`, 'report.bin')));
    expect(new TextDecoder().decode(gpus[0]!.certChain)).toContain('-----BEGIN CERTIFICATE-----');
    const args = readFileSync(join(tmp, 'args'), 'utf8').trim().split('\n');
    expect(args).toEqual([`collect-evidence --device gpu --nonce ${toHex(nonce)} --format json`, `collect-evidence --device nvswitch --nonce ${toHex(nonce)} --format json`]);
  });

  it('refuses evidence for another nonce (ERR_GATEWAY_NVATTEST)', async () => {
    await expectCode(nvattestDevices({ command: script }).collect(new Uint8Array(32)), CcinferError, 'ERR_GATEWAY_NVATTEST');
  });

  it('refuses a failing command and malformed output (ERR_GATEWAY_NVATTEST)', async () => {
    await expectCode(nvattestDevices({ command: join(tmp, 'missing') }).collect(new Uint8Array(32)), CcinferError, 'ERR_GATEWAY_NVATTEST');
    const nonce = readText(dir!, SET, 'nonce.txt').trim();
    const good = JSON.parse(readFileSync(join(tmp, 'gpu.json'), 'utf8'))[0];
    const n = fromHex(nonce);
    const bad = [
      'not json',
      '{}',
      JSON.stringify([{ ...good, extra: '1' }]),
      JSON.stringify([{ ...good, version: 1 }]),
      JSON.stringify([{ ...good, evidence: undefined }]),
      JSON.stringify([{ ...good, nonce: 'zz' }]),
      JSON.stringify([{ ...good, evidence: '!!' }]),
      JSON.stringify([{ ...good, arch: 'LS10' }]), // a switch where GPUs were asked for
    ];
    for (const b of bad) expectCodeSync(() => parseNvattestEvidence(b, n, 'gpu'), CcinferError, 'ERR_GATEWAY_NVATTEST');
  });
});
