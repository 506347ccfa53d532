/**
 * GPU / NVSwitch appraisal policy (docs/policy.md `gpu`): claims against allowlists, no crypto. Absent
 * allowlists are "not checked" and reported as skipped; the security switches default strict
 * (`requireRim: true`, `ocsp: "require"`).
 */
import { PolicyError, type ErrorCode } from '@ccinfer/core';
import { bool, COLLATERAL_MODES, enumList, int, object, oneOf, stringList, type FieldErrors } from '../policy-schema.js';
import type { OcspMode } from './ocsp.js';
import type { Arch } from './verify.js';
import type { RuleOutcome } from '../policy-outcome.js';

export type GpuMode = 'single' | 'ppcie' | 'any';

export interface GpuPolicy {
  count?: { min?: number; max?: number };
  archs?: Arch[];
  /** `single`: no PPCIe (feature flag 2 / protected PCIe) devices; `ppcie`: 8 GPUs + 4 switches in PPCIe. Default `any`. */
  mode?: GpuMode;
  driverVersions?: string[];
  vbiosVersions?: string[];
  /** Every device's driver and VBIOS RIMs must be obtained, verified and matched. Default true. */
  requireRim?: boolean;
  /**
   * OCSP for the device and RIM signer chains (docs/policy.md "Unavailable collateral"): `require` (default)
   * every certificate `good`; `allow-unavailable` an answer that can be had is checked (`unknown` accepted with
   * a warning, `revoked` always refused), none is a skipped check with a warning; `skip` none is looked for.
   */
  ocsp?: OcspMode;
}

const KEYS = ['count', 'archs', 'mode', 'driverVersions', 'vbiosVersions', 'requireRim', 'ocsp'] as const;

export function parseGpuPolicy(v: unknown, path: string, errs: FieldErrors): GpuPolicy | undefined {
  const o = object(v, path, errs, KEYS);
  if (!o) return undefined;
  const p: GpuPolicy = {};
  const c = object(o['count'], `${path}.count`, errs, ['min', 'max']);
  if (c) {
    const min = int(c['min'], `${path}.count.min`, errs, 0, 64);
    const max = int(c['max'], `${path}.count.max`, errs, 0, 64);
    p.count = {};
    if (min !== undefined) p.count.min = min;
    if (max !== undefined) p.count.max = max;
    if (min !== undefined && max !== undefined && min > max) errs.push(`${path}.count: min > max`);
  }
  const archs = enumList(o['archs'], `${path}.archs`, errs, ['hopper', 'blackwell', 'ls10'] as const);
  if (archs) p.archs = archs;
  const mode = oneOf(o['mode'], `${path}.mode`, errs, ['single', 'ppcie', 'any'] as const);
  if (mode) p.mode = mode;
  const d = stringList(o['driverVersions'], `${path}.driverVersions`, errs);
  if (d) p.driverVersions = d;
  const vb = stringList(o['vbiosVersions'], `${path}.vbiosVersions`, errs);
  if (vb) p.vbiosVersions = vb;
  const r = bool(o['requireRim'], `${path}.requireRim`, errs);
  if (r !== undefined) p.requireRim = r;
  const ocsp = oneOf(o['ocsp'], `${path}.ocsp`, errs, COLLATERAL_MODES);
  if (ocsp) p.ocsp = ocsp;
  return p;
}

function reject(code: ErrorCode, field: string, msg: string, expected: unknown, actual: unknown): PolicyError {
  return new PolicyError(code, msg, { field, expected, actual });
}

/** Per-device rules: arch, driver and VBIOS allowlists (versions compared case-insensitively, as NVML). */
export function evaluateDevicePolicy(
  id: string,
  facts: { arch: Arch; driverVersion: string | undefined; vbiosVersion: string | undefined; kind: 'gpu' | 'switch' },
  policy: GpuPolicy = {},
): RuleOutcome[] {
  const out: RuleOutcome[] = [];
  const rid = (r: string): string => `${id}.policy.${r}`;
  if (policy.archs && !policy.archs.includes(facts.arch)) {
    out.push({ id: rid('arch'), error: reject('ERR_NV_POLICY_ARCH', 'arch', `architecture ${facts.arch} is not allowed`, policy.archs, facts.arch) });
  } else out.push(policy.archs ? { id: rid('arch'), detail: `${facts.arch} allowed` } : { id: rid('arch'), skipped: `no gpu.archs in the policy: arch ${facts.arch} NOT CHECKED` });
  const list = (name: 'driverVersions' | 'vbiosVersions', code: ErrorCode, actual: string | undefined, applies: boolean): void => {
    const allowed = policy[name];
    const r = rid(name === 'driverVersions' ? 'driver' : 'vbios');
    if (!applies) return;
    if (!allowed) out.push({ id: r, skipped: `no gpu.${name} in the policy: ${actual ?? 'none'} NOT CHECKED` });
    else if (actual !== undefined && allowed.some((a) => a.toLowerCase() === actual.toLowerCase())) out.push({ id: r, detail: `${actual} allowed` });
    else out.push({ id: r, error: reject(code, name, `version ${actual ?? 'none'} is not in gpu.${name}`, allowed, actual) });
  };
  list('driverVersions', 'ERR_NV_POLICY_DRIVER', facts.driverVersion, facts.kind === 'gpu');
  list('vbiosVersions', 'ERR_NV_POLICY_VBIOS', facts.vbiosVersion, facts.kind === 'gpu');
  return out;
}

/**
 * System rules: GPU count and mode (PPCIe or not) over all appraised devices. With `requireGpu` (clients that
 * send data, sealed release) a pod with no attested GPU is refused unless the policy says `gpu.count.min: 0`,
 * the one explicit way to accept a CPU-only pod: a confidential-inference client must not silently send its
 * prompts to a pod whose accelerator, if any, is outside the attested boundary.
 */
export function evaluateSystemPolicy(facts: { gpus: number; switches: number; ppcie: boolean }, policy: GpuPolicy = {}, requireGpu = false): RuleOutcome[] {
  const out: RuleOutcome[] = [];
  const { min, max } = policy.count ?? {};
  if (requireGpu) {
    if (facts.gpus === 0 && min === undefined) {
      out.push({ id: 'gpu.policy.required', error: reject('ERR_NV_POLICY_NO_GPU', 'count.min', 'the pod attested no GPU; a CPU-only pod is accepted only with gpu.count.min 0 in the policy', { min: 1 }, 0) });
    } else out.push({ id: 'gpu.policy.required', detail: facts.gpus === 0 ? 'CPU-only pod allowed by gpu.count.min 0' : `${facts.gpus} attested GPU(s)` });
  }
  if ((min !== undefined && facts.gpus < min) || (max !== undefined && facts.gpus > max)) {
    out.push({ id: 'gpu.policy.count', error: reject('ERR_NV_POLICY_COUNT', 'count', `${facts.gpus} GPUs outside ${min ?? 0}..${max ?? '∞'}`, policy.count, facts.gpus) });
  } else out.push(policy.count ? { id: 'gpu.policy.count', detail: `${facts.gpus} GPUs` } : { id: 'gpu.policy.count', skipped: `no gpu.count in the policy: ${facts.gpus} GPUs NOT CHECKED` });
  const mode = policy.mode ?? 'any';
  if ((mode === 'single' && facts.ppcie) || (mode === 'ppcie' && !facts.ppcie)) {
    out.push({ id: 'gpu.policy.mode', error: reject('ERR_NV_POLICY_MODE', 'mode', `system is ${facts.ppcie ? 'PPCIe' : 'not PPCIe'}`, mode, facts.ppcie ? 'ppcie' : 'single') });
  } else out.push({ id: 'gpu.policy.mode', detail: `${facts.ppcie ? 'ppcie' : 'single'} (policy ${mode})` });
  return out;
}
