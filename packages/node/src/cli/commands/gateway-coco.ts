/**
 * `ccinfer gateway --evidence coco`: the flags of the CoCo Attestation Agent provider and the GPU collectors
 * (`--aa-url`, `--gpu aa|nvattest|nvml|none`, `--nvattest CMD`, `--nvswitches`, `--nvml-library FILE`).
 */
import { createCocoProvider, nvattestDevices, nvmlDevices, type CocoProvider, type DeviceEvidenceSource } from '../../gateway/index.js';
import { UsageError, type FlagTable } from '../types.js';

export const cocoFlags = {
  'aa-url': { type: 'string', arg: 'URL', help: 'coco: the Attestation Agent REST API', fallback: 'http://127.0.0.1:8006' },
  gpu: { type: 'string', arg: 'aa|nvattest|nvml|none', help: "coco: GPU evidence from the agent, nvattest, libnvidia-ml through koffi, or none", fallback: 'none' },
  nvattest: { type: 'string', arg: 'CMD', help: 'coco --gpu nvattest: the nvattest command' },
  nvswitches: { type: 'boolean', help: 'coco --gpu nvattest: collect NVSwitch evidence too' },
  'nvml-library': { type: 'string', arg: 'FILE', help: 'coco --gpu nvml: the libnvidia-ml.so.1 to load (or CCINFER_NVML_LIBRARY)' },
} as const satisfies FlagTable;

export interface CocoFlagValues {
  'aa-url'?: string | undefined;
  gpu?: string | undefined;
  nvattest?: string | undefined;
  nvswitches?: boolean | undefined;
  'nvml-library'?: string | undefined;
}

/** True when any coco-only flag is set (they mean nothing to the other providers). */
export function usesCocoFlags(v: CocoFlagValues): boolean {
  return v['aa-url'] !== undefined || v.gpu !== undefined || v.nvattest !== undefined || v.nvswitches !== undefined || v['nvml-library'] !== undefined;
}

function gpuSource(v: CocoFlagValues): 'aa' | 'none' | DeviceEvidenceSource {
  const gpu = v.gpu ?? 'none';
  if ((v.nvattest !== undefined || v.nvswitches) && gpu !== 'nvattest') throw new UsageError('--nvattest and --nvswitches go with --gpu nvattest');
  if (v['nvml-library'] !== undefined && gpu !== 'nvml') throw new UsageError('--nvml-library goes with --gpu nvml');
  if (gpu === 'aa' || gpu === 'none') return gpu;
  if (gpu === 'nvattest') return nvattestDevices({ ...(v.nvattest ? { command: v.nvattest } : {}), switches: v.nvswitches === true });
  if (gpu === 'nvml') return nvmlDevices(v['nvml-library'] ? { library: v['nvml-library'] } : {});
  throw new UsageError('--gpu must be aa, nvattest, nvml or none');
}

export async function cocoProvider(v: CocoFlagValues, extra: { initdata?: string; snpLeaf?: Uint8Array }): Promise<CocoProvider> {
  const url = v['aa-url'];
  if (url !== undefined) {
    try {
      new URL(url);
    } catch {
      throw new UsageError(`--aa-url ${url} is not a URL`);
    }
  }
  return createCocoProvider({ ...(url ? { url } : {}), gpu: gpuSource(v), ...extra });
}
