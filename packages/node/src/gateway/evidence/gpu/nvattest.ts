/**
 * GPU / NVSwitch evidence from NVIDIA's attestation CLI (`--gpu nvattest`, NVIDIA/attestation-sdk):
 *
 *   nvattest collect-evidence --device gpu|nvswitch --nonce <64 hex> --format json
 *
 * prints a JSON array of `{arch, nonce (hex), evidence (base64), certificate (base64 PEM)}`, with
 * `version` and, for GPUs, `driver_version` / `vbios_version` strings (NVIDIA's evidence serialization,
 * nv-attestation-sdk-cpp `src/gpu/evidence.cpp` to_json; the same as nvtrust's PPCIe test data). Every entry must echo our nonce: evidence for
 * another nonce would fail the client's SPDM check anyway, but refusing here names the fault.
 */
import { execFile } from 'node:child_process';
import { equalBytes, fromBase64, fromHex, toHex, type GpuEvidence } from '@ccinfer/core';
import { gatewayError } from '../errors.js';
import type { DeviceEvidenceSource } from '../provider.js';

export interface NvattestOptions {
  /** The executable. Default `nvattest` (from PATH). */
  command?: string;
  /** Also collect NVSwitch evidence (PPCIe systems). Default false. */
  switches?: boolean;
  /** Default 120 s per collection. */
  timeoutMs?: number;
  /** Runs argv and resolves stdout (injectable). Default `execFile`, no shell. */
  run?: (argv: string[], timeoutMs: number) => Promise<string>;
}

const execRun = (argv: string[], timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 32 * 1024 * 1024, timeout: timeoutMs }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

const REQUIRED = ['arch', 'nonce', 'evidence', 'certificate'];
const OPTIONAL = ['version', 'driver_version', 'vbios_version'];

/** Parses `collect-evidence --format json` output for `device`, requiring every entry to carry `nonce`. */
export function parseNvattestEvidence(out: string, nonce: Uint8Array, device: 'gpu' | 'nvswitch'): GpuEvidence[] {
  let v: unknown;
  try {
    v = JSON.parse(out);
  } catch (cause) {
    throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} output is not JSON`, { cause });
  }
  if (!Array.isArray(v)) throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} output must be a JSON array`);
  return v.map((e: unknown, i) => {
    const o = e as Record<string, unknown>;
    const keys = typeof e === 'object' && e !== null && !Array.isArray(e) ? Object.keys(o) : [];
    if (!REQUIRED.every((k) => keys.includes(k)) || !keys.every((k) => (REQUIRED.includes(k) || OPTIONAL.includes(k)) && typeof o[k] === 'string')) {
      throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} entry ${i} must be {arch, nonce, evidence, certificate[, version, driver_version, vbios_version]} strings`);
    }
    const arch = (o['arch'] as string).toUpperCase();
    if ((device === 'nvswitch') !== (arch === 'LS10')) throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} entry ${i} has architecture ${arch}`);
    let echoed: Uint8Array;
    try {
      echoed = fromHex(o['nonce'] as string);
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} entry ${i} nonce is not hex`, { cause });
    }
    if (!equalBytes(echoed, nonce)) throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} entry ${i} is evidence for another nonce`);
    try {
      return { report: fromBase64(o['evidence'] as string), certChain: fromBase64(o['certificate'] as string) };
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_NVATTEST', `nvattest ${device} entry ${i} evidence or certificate is not base64`, { cause });
    }
  });
}

export function nvattestDevices(o: NvattestOptions = {}): DeviceEvidenceSource {
  const run = o.run ?? execRun;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const collect = async (device: 'gpu' | 'nvswitch', nonce: Uint8Array): Promise<GpuEvidence[]> => {
    const argv = [o.command ?? 'nvattest', 'collect-evidence', '--device', device, '--nonce', toHex(nonce), '--format', 'json'];
    let out: string;
    try {
      out = await run(argv, timeoutMs);
    } catch (cause) {
      throw gatewayError('ERR_GATEWAY_NVATTEST', `${argv[0]} collect-evidence --device ${device} failed`, { cause });
    }
    return parseNvattestEvidence(out, nonce, device);
  };
  return {
    async collect(nonce) {
      const gpus = await collect('gpu', nonce);
      const switches = o.switches ? await collect('nvswitch', nonce) : [];
      return { gpus, switches };
    },
  };
}
