/**
 * `--gpu nvml`: the collector against a stand-in libnvidia-ml.so.1 compiled from fixtures/fake-nvml.c with gcc
 * at test time, returning a real H100 report and certificate chain (shared/vectors/nvidia) — and every refusal:
 * CC off (as a real driver answers it), devtools mode, failing calls, lengths beyond their buffers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CcinferError, fromHex, toHex } from '@ccinfer/core';
import { nvmlDevices } from '../../../src/gateway/evidence/gpu/nvml.js';
import { readBytes, readText, vectorsDir } from '../../../../../test-support/vectors.js';
import { expectCode } from '../../../../../test-support/helpers.js';
import { FAKE_NVML_ENV as ENV, compileFakeNvml } from './fixtures/fake-nvml.js';

const dir = vectorsDir('nvidia');
const SET = 'h100-pcie-550.90.07-nvtrust2025-nrasv4';
let tmp: string;
let lib: string;

function set(vars: Record<string, string>): void {
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, { FAKE_NVML_REPORT: join(dir!, SET, 'report.bin'), FAKE_NVML_CERT: join(dir!, SET, 'cert_chain.pem'), FAKE_NVML_NONCE_OUT: join(tmp, 'nonces') }, vars);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ccinfer-nvml-'));
  lib = compileFakeNvml(tmp);
});
afterEach(() => {
  for (const k of ENV) delete process.env[k];
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!dir)('NVML collector (stand-in libnvidia-ml.so.1)', () => {
  const nonce = (): Uint8Array => fromHex(readText(dir!, SET, 'nonce.txt').trim());

  it('collects each GPU’s real report and attestation chain, with our nonce in the request', async () => {
    set({ FAKE_NVML_COUNT: '2' });
    const nvml = nvmlDevices({ library: lib });
    const { gpus, switches } = await nvml.collect(nonce());
    expect(gpus).toHaveLength(2);
    expect(switches).toHaveLength(0);
    expect(toHex(gpus[0]!.report)).toBe(toHex(readBytes(dir!, SET, 'report.bin')));
    expect(toHex(gpus[1]!.certChain)).toBe(toHex(readBytes(dir!, SET, 'cert_chain.pem')));
    expect(readFileSync(join(tmp, 'nonces'), 'utf8').trim().split('\n').slice(-2)).toEqual([toHex(nonce()), toHex(nonce())]);
    expect(await nvml.mode()).toEqual({ environment: 2, ccFeature: 1, devToolsMode: 0, multiGpuMode: 0, ppcie: false });
  });

  it('the library path comes from CCINFER_NVML_LIBRARY when not given', async () => {
    set({ CCINFER_NVML_LIBRARY: lib });
    try {
      expect((await nvmlDevices().collect(nonce())).gpus).toHaveLength(1);
    } finally {
      delete process.env['CCINFER_NVML_LIBRARY'];
    }
  });

  it('PPCIe mode (multiGpuMode 1, ccFeature 0) collects and says so', async () => {
    set({ FAKE_NVML_MODE: 'ppcie' });
    const nvml = nvmlDevices({ library: lib });
    expect((await nvml.mode()).ppcie).toBe(true);
    expect((await nvml.collect(nonce())).gpus).toHaveLength(1);
  });

  it('refuses CC off before asking for evidence (ERR_GATEWAY_NVML_CC_OFF)', async () => {
    set({ FAKE_NVML_MODE: 'off' });
    await expectCode(nvmlDevices({ library: lib }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML_CC_OFF');
  });

  it('refuses devtools mode (ERR_GATEWAY_NVML_DEVTOOLS)', async () => {
    set({ FAKE_NVML_MODE: 'devtools' });
    await expectCode(nvmlDevices({ library: lib }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML_DEVTOOLS');
  });

  it('refuses lengths beyond their buffers and absurd device counts (ERR_GATEWAY_NVML_BOUNDS)', async () => {
    for (const vars of [{ FAKE_NVML_LIE: 'report' }, { FAKE_NVML_LIE: 'cert' }, { FAKE_NVML_COUNT: '65' }, { FAKE_NVML_REPORT: join(tmp, 'missing') }]) {
      set(vars);
      await expectCode(nvmlDevices({ library: lib }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML_BOUNDS');
    }
  });

  it('reports failing calls, a lying library and a missing library (ERR_GATEWAY_NVML)', async () => {
    const calls = ['nvmlInit_v2', 'nvmlSystemGetConfComputeState', 'nvmlSystemGetConfComputeSettings', 'nvmlDeviceGetCount_v2', 'nvmlDeviceGetConfComputeGpuAttestationReport', 'nvmlDeviceGetConfComputeGpuCertificate'];
    for (const call of calls) {
      set({ FAKE_NVML_FAIL: call });
      await expectCode(nvmlDevices({ library: lib }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML');
    }
    set({ FAKE_NVML_MODE: 'disagree' });
    await expectCode(nvmlDevices({ library: lib }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML');
    set({ FAKE_NVML_MODE: 'nvle' }); // multiGpuMode 2: a mode the collector does not know
    await expectCode(nvmlDevices({ library: lib }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML');
    await expectCode(nvmlDevices({ library: join(tmp, 'nope.so') }).collect(nonce()), CcinferError, 'ERR_GATEWAY_NVML');
  });
});
