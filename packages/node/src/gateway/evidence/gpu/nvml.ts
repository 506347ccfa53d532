/**
 * GPU evidence straight from the driver (`--gpu nvml`): `libnvidia-ml.so.1` through the koffi FFI (prebuilt,
 * no compiler at install), in the container that holds the GPUs. The calls and struct layouts are NVML's
 * (nvml.h, as NVIDIA's attestation SDK uses them in `nvml_client.cpp`; sizes and offsets checked against a real
 * H200 driver and its header by tools/nvml-probe):
 *
 *   nvmlSystemGetConfComputeState     {u32 environment, ccFeature, devToolsMode}                        12 B
 *   nvmlSystemGetConfComputeSettings  {u32 version = sizeof | 1 << 24, environment, ccFeature,
 *                                      devToolsMode, multiGpuMode}                                       20 B
 *   nvmlDeviceGetConfComputeGpuAttestationReport
 *                                     {u32 isCecAttestationReportPresent, attestationReportSize,
 *                                      cecAttestationReportSize, u8 nonce[32], attestationReport[0x2000],
 *                                      cecAttestationReport[0x1000]}                                 12,332 B
 *   nvmlDeviceGetConfComputeGpuCertificate
 *                                     {u32 certChainSize, attestationCertChainSize, u8 certChain[0x1000],
 *                                      attestationCertChain[0x1400]}                                  9,224 B
 *
 * A driver with confidential computing off answers the report and certificate calls with the generic
 * NVML_ERROR_UNKNOWN (999, measured on an H200 with driver 580.159.04), so the mode is read first and an
 * unprotected GPU is refused by name: CC on ⇔ ccFeature = 1, or multiGpuMode = 1 (protected PCIe); devtools
 * mode (devToolsMode = 1) leaves the GPU open to debugging and is refused too. Every length the library
 * reports is checked against the buffer it describes. NVSwitch evidence needs NSCQ, not NVML: on a PPCIe
 * system take the switches from `nvattest`. Calls run on koffi's worker threads (`.async`): a report request
 * takes the driver a while, and the gateway keeps serving meanwhile.
 */
import { gatewayError } from '../errors.js';
import type { DeviceEvidenceSource } from '../provider.js';
import type { GpuEvidence } from '@ccinfer/core';

export interface NvmlOptions {
  /** The NVML library. Default `$CCINFER_NVML_LIBRARY`, else `libnvidia-ml.so.1` (the loader's search path). */
  library?: string;
}

const NVML_SUCCESS = 0;
const STATE_SIZE = 12;
const SETTINGS_SIZE = 20;
/** nvmlSystemConfComputeSettings_v1: the struct size in the low bits, version 1 in bits 24+ (NVML_STRUCT_VERSION). */
const SETTINGS_VERSION = SETTINGS_SIZE | (1 << 24);
const REPORT_MAX = 0x2000;
const CEC_MAX = 0x1000;
const REPORT_STRUCT_SIZE = 12 + 32 + REPORT_MAX + CEC_MAX;
const CERT_MAX = 0x1000;
const ATTESTATION_CERT_MAX = 0x1400;
const CERT_STRUCT_SIZE = 8 + CERT_MAX + ATTESTATION_CERT_MAX;
/** More GPUs than an evidence bundle may carry is not a real system. */
const MAX_DEVICES = 64;

export interface NvmlMode {
  environment: number;
  ccFeature: number;
  devToolsMode: number;
  multiGpuMode: number;
  ppcie: boolean;
}

interface Nvml {
  nvmlInit_v2(): Promise<number>;
  nvmlShutdown(): Promise<number>;
  nvmlSystemGetConfComputeState(state: Uint8Array): Promise<number>;
  nvmlSystemGetConfComputeSettings(settings: Uint8Array): Promise<number>;
  nvmlDeviceGetCount_v2(count: number[]): Promise<number>;
  nvmlDeviceGetHandleByIndex_v2(index: number, device: unknown[]): Promise<number>;
  nvmlDeviceGetConfComputeGpuAttestationReport(device: unknown, report: Uint8Array): Promise<number>;
  nvmlDeviceGetConfComputeGpuCertificate(device: unknown, cert: Uint8Array): Promise<number>;
}

type KoffiFunction = { async(...args: unknown[]): void };

const SIGNATURES: Record<keyof Nvml, [string, string[]]> = {
  nvmlInit_v2: ['int', []],
  nvmlShutdown: ['int', []],
  nvmlSystemGetConfComputeState: ['int', ['void *']],
  nvmlSystemGetConfComputeSettings: ['int', ['void *']],
  nvmlDeviceGetCount_v2: ['int', ['_Out_ uint32_t *']],
  nvmlDeviceGetHandleByIndex_v2: ['int', ['uint32_t', '_Out_ void **']],
  nvmlDeviceGetConfComputeGpuAttestationReport: ['int', ['void *', 'void *']],
  nvmlDeviceGetConfComputeGpuCertificate: ['int', ['void *', 'void *']],
};

async function load(path: string): Promise<Nvml> {
  let lib: { func(name: string, result: string, args: string[]): KoffiFunction };
  try {
    const mod = (await import('koffi')) as unknown as { default?: { load(p: string): typeof lib }; load?(p: string): typeof lib };
    const koffi = mod.default ?? (mod as { load(p: string): typeof lib });
    lib = koffi.load(path);
  } catch (cause) {
    throw gatewayError('ERR_GATEWAY_NVML', `cannot load ${path}`, { cause });
  }
  const out: Record<string, unknown> = {};
  for (const [name, [result, args]] of Object.entries(SIGNATURES)) {
    try {
      const f = lib.func(name, result, args);
      out[name] = (...a: unknown[]): Promise<number> =>
        new Promise((resolve, reject) => f.async(...a, (err: unknown, rc: number) => (err ? reject(gatewayError('ERR_GATEWAY_NVML', `${name} failed`, { cause: err })) : resolve(rc))));
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_NVML', `${path} lacks ${name} (a driver without confidential computing support)`, { cause });
    }
  }
  return out as unknown as Nvml;
}

function check(rc: number, call: string): void {
  if (rc !== NVML_SUCCESS) throw gatewayError('ERR_GATEWAY_NVML', `${call} returned NVML error ${rc}`);
}

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

/** Reads and judges the system's confidential-computing mode. */
async function readMode(nvml: Nvml): Promise<NvmlMode> {
  const state = new Uint8Array(STATE_SIZE);
  check(await nvml.nvmlSystemGetConfComputeState(state), 'nvmlSystemGetConfComputeState');
  const settings = new Uint8Array(SETTINGS_SIZE);
  new DataView(settings.buffer).setUint32(0, SETTINGS_VERSION, true);
  check(await nvml.nvmlSystemGetConfComputeSettings(settings), 'nvmlSystemGetConfComputeSettings');
  const mode = { environment: u32(state, 0), ccFeature: u32(state, 4), devToolsMode: u32(state, 8), multiGpuMode: u32(settings, 16), ppcie: false };
  // The two calls describe one system; disagreement means the library is not telling the truth.
  if (u32(settings, 4) !== mode.environment || u32(settings, 8) !== mode.ccFeature || u32(settings, 12) !== mode.devToolsMode) {
    throw gatewayError('ERR_GATEWAY_NVML', 'nvmlSystemGetConfComputeState and ...Settings disagree');
  }
  // multiGpuMode 0 = none, 1 = protected PCIe; newer headers add 2 = NVLink encryption (NVLE). A value we do
  // not know is refused rather than read as "not protected PCIe" (tools/nvml-probe/README.md).
  if (mode.multiGpuMode > 1) throw gatewayError('ERR_GATEWAY_NVML', `multiGpuMode ${mode.multiGpuMode} is not a mode this collector knows (0 none, 1 protected PCIe)`);
  mode.ppcie = mode.multiGpuMode === 1;
  if (mode.ccFeature !== 1 && !mode.ppcie) throw gatewayError('ERR_GATEWAY_NVML_CC_OFF', 'confidential computing is off on this system (nvidia-smi conf-compute -f): the GPUs have no evidence to give');
  if (mode.devToolsMode !== 0) throw gatewayError('ERR_GATEWAY_NVML_DEVTOOLS', 'confidential computing is in devtools mode: the GPUs are open to debugging and their evidence proves nothing');
  return mode;
}

function bounded(n: number, max: number, what: string): number {
  if (n === 0 || n > max) throw gatewayError('ERR_GATEWAY_NVML_BOUNDS', `${what} is ${n} bytes; expected 1..${max}`);
  return n;
}

async function deviceEvidence(nvml: Nvml, index: number, nonce: Uint8Array): Promise<GpuEvidence> {
  const handle: unknown[] = [null];
  check(await nvml.nvmlDeviceGetHandleByIndex_v2(index, handle), `nvmlDeviceGetHandleByIndex_v2(${index})`);
  const report = new Uint8Array(REPORT_STRUCT_SIZE);
  report.set(nonce, 12); // the caller's nonce goes into the SPDM GET_MEASUREMENTS request
  check(await nvml.nvmlDeviceGetConfComputeGpuAttestationReport(handle[0], report), `nvmlDeviceGetConfComputeGpuAttestationReport(${index})`);
  const reportSize = bounded(u32(report, 4), REPORT_MAX, `GPU ${index} attestationReportSize`);
  if (u32(report, 8) > CEC_MAX) throw gatewayError('ERR_GATEWAY_NVML_BOUNDS', `GPU ${index} cecAttestationReportSize exceeds ${CEC_MAX}`);
  const cert = new Uint8Array(CERT_STRUCT_SIZE);
  check(await nvml.nvmlDeviceGetConfComputeGpuCertificate(handle[0], cert), `nvmlDeviceGetConfComputeGpuCertificate(${index})`);
  if (u32(cert, 0) > CERT_MAX) throw gatewayError('ERR_GATEWAY_NVML_BOUNDS', `GPU ${index} certChainSize exceeds ${CERT_MAX}`);
  // The attestation chain (device leaf first) is the one that certifies the report key, as NVIDIA's SDK uses it.
  const certSize = bounded(u32(cert, 4), ATTESTATION_CERT_MAX, `GPU ${index} attestationCertChainSize`);
  return { report: report.slice(44, 44 + reportSize), certChain: cert.slice(8 + CERT_MAX, 8 + CERT_MAX + certSize) };
}

/** The NVML collector; the library is loaded at the first collection. */
export function nvmlDevices(o: NvmlOptions = {}): DeviceEvidenceSource & { mode(): Promise<NvmlMode> } {
  const path = o.library ?? process.env['CCINFER_NVML_LIBRARY'] ?? 'libnvidia-ml.so.1';
  let nvml: Promise<Nvml> | undefined;
  const session = async <T>(f: (n: Nvml) => Promise<T>): Promise<T> => {
    nvml ??= load(path);
    const n = await nvml.catch((err: unknown) => {
      nvml = undefined;
      throw err;
    });
    check(await n.nvmlInit_v2(), 'nvmlInit_v2');
    try {
      return await f(n);
    } finally {
      await n.nvmlShutdown();
    }
  };
  return {
    mode: () => session(readMode),
    collect: (nonce) =>
      session(async (n) => {
        await readMode(n);
        const count = [0];
        check(await n.nvmlDeviceGetCount_v2(count), 'nvmlDeviceGetCount_v2');
        if (count[0]! > MAX_DEVICES) throw gatewayError('ERR_GATEWAY_NVML_BOUNDS', `${count[0]} GPUs exceed ${MAX_DEVICES}`);
        // One device at a time: NVML serializes them anyway, and the nonce buffer is per call.
        const gpus: GpuEvidence[] = [];
        for (let i = 0; i < count[0]!; i++) gpus.push(await deviceEvidence(n, i, nonce));
        return { gpus, switches: [] };
      }),
  };
}
