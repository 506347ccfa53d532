/**
 * The `tdx` section of the appraisal policy (docs/policy.md `tdx`) and its application to verified claims. No crypto.
 * Security switches default strict: only `UpToDate` is accepted, DEBUG TDs are refused, SEPT_VE_DISABLE is
 * required (without it the VMM can inject #VE on private-memory faults; dcap-qvl requires it too), and a TD
 * bound to a service TD (MRSERVICETD ≠ 0) is refused unless allowed. An absent allowlist is not checked and
 * the appraisal says so in its warnings.
 */
import { PolicyError, toHex } from '@ccinfer/core';
import { bool, enumList, hexList, int, object, type FieldErrors } from '../policy-schema.js';
import type { TdxTcbStatus } from './tcb.js';
import { ruleOutcome, type RuleOutcome } from '../policy-outcome.js';

export const TDX_TCB_STATUSES: readonly TdxTcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'TDRelaunchAdvised',
  'TDRelaunchAdvisedConfigurationNeeded',
  'Revoked',
];

export const TDX_ALLOWLISTS = ['mrTd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3', 'mrConfigId', 'mrOwner', 'mrSeam'] as const;
export type TdxAllowlist = (typeof TDX_ALLOWLISTS)[number];

export interface TdxPolicy {
  /** Allowlists of 48-byte values (lowercase hex). Absent = not checked (reported). */
  mrTd?: string[];
  rtmr0?: string[];
  rtmr1?: string[];
  rtmr2?: string[];
  rtmr3?: string[];
  mrConfigId?: string[];
  mrOwner?: string[];
  mrSeam?: string[];
  /** Default ["UpToDate"]. `Revoked` can never be accepted. */
  acceptedTcbStatus?: TdxTcbStatus[];
  /** Default false. */
  allowDebug?: boolean;
  /** Default true. */
  requireSeptVeDisable?: boolean;
  /** Accept MRSERVICETD ≠ 0 (TD 1.5 service-TD binding). Default false. */
  allowServiceTd?: boolean;
  /**
   * Lowest accepted `tcbEvaluationDataNumber` of the TCB Info and of the QE Identity. Intel raises it with every
   * TCB recovery; collateral from before the latest one is still signed and may still be before its
   * `nextUpdate`, but it rates platforms by outdated rules. Absent: any number (not checked).
   */
  minTcbEvaluationDataNumber?: { tcbInfo?: number; qeIdentity?: number };
}

export type ResolvedTdxPolicy = TdxPolicy & Required<Pick<TdxPolicy, 'acceptedTcbStatus' | 'allowDebug' | 'requireSeptVeDisable' | 'allowServiceTd'>>;

export const DEFAULT_TDX_POLICY: Readonly<ResolvedTdxPolicy> = Object.freeze({
  acceptedTcbStatus: ['UpToDate' as TdxTcbStatus],
  allowDebug: false,
  requireSeptVeDisable: true,
  allowServiceTd: false,
});

/** The policy with its strict defaults filled in. */
export function resolveTdxPolicy(p: TdxPolicy | undefined): ResolvedTdxPolicy {
  const out: ResolvedTdxPolicy = { ...DEFAULT_TDX_POLICY, acceptedTcbStatus: [...DEFAULT_TDX_POLICY.acceptedTcbStatus] };
  if (!p) return out;
  for (const [k, v] of Object.entries(p)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

const ACCEPTABLE = TDX_TCB_STATUSES.filter((s) => s !== 'Revoked');

/** Validates the `tdx` section of a policy document (wired into `parsePolicy`); bad fields go to `errs`. */
export function parseTdxPolicy(v: unknown, path: string, errs: FieldErrors): TdxPolicy | undefined {
  const o = object(v, path, errs, [...TDX_ALLOWLISTS, 'acceptedTcbStatus', 'allowDebug', 'requireSeptVeDisable', 'allowServiceTd', 'minTcbEvaluationDataNumber']);
  if (!o) return undefined;
  const p: TdxPolicy = {};
  for (const k of TDX_ALLOWLISTS) {
    const list = hexList(o[k], `${path}.${k}`, errs, 48);
    if (list) p[k] = list;
  }
  const st = enumList(o['acceptedTcbStatus'], `${path}.acceptedTcbStatus`, errs, ACCEPTABLE);
  if (st) p.acceptedTcbStatus = st;
  for (const k of ['allowDebug', 'requireSeptVeDisable', 'allowServiceTd'] as const) {
    const b = bool(o[k], `${path}.${k}`, errs);
    if (b !== undefined) p[k] = b;
  }
  const minPath = `${path}.minTcbEvaluationDataNumber`;
  const min = object(o['minTcbEvaluationDataNumber'], minPath, errs, ['tcbInfo', 'qeIdentity']);
  if (min) {
    const m: NonNullable<TdxPolicy['minTcbEvaluationDataNumber']> = {};
    for (const k of ['tcbInfo', 'qeIdentity'] as const) {
      const n = int(min[k], `${minPath}.${k}`, errs, 0, 0xffff_ffff);
      if (n !== undefined) m[k] = n;
    }
    p.minTcbEvaluationDataNumber = m;
  }
  return p;
}

/** What the policy reads from a verified quote. */
export interface TdxPolicyInput {
  tcbStatus: TdxTcbStatus;
  debug: boolean;
  septVeDisable: boolean;
  mrServiceTd: Uint8Array | undefined;
  mrTd: Uint8Array;
  rtmrs: readonly Uint8Array[];
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrSeam: Uint8Array;
}

const CODES: Record<TdxAllowlist, 'ERR_TDX_MRTD_MISMATCH' | 'ERR_TDX_RTMR_MISMATCH' | 'ERR_TDX_MRCONFIGID_MISMATCH' | 'ERR_TDX_MROWNER_MISMATCH' | 'ERR_TDX_MRSEAM_MISMATCH'> = {
  mrTd: 'ERR_TDX_MRTD_MISMATCH',
  rtmr0: 'ERR_TDX_RTMR_MISMATCH',
  rtmr1: 'ERR_TDX_RTMR_MISMATCH',
  rtmr2: 'ERR_TDX_RTMR_MISMATCH',
  rtmr3: 'ERR_TDX_RTMR_MISMATCH',
  mrConfigId: 'ERR_TDX_MRCONFIGID_MISMATCH',
  mrOwner: 'ERR_TDX_MROWNER_MISMATCH',
  mrSeam: 'ERR_TDX_MRSEAM_MISMATCH',
};

function value(input: TdxPolicyInput, k: TdxAllowlist): Uint8Array {
  switch (k) {
    case 'rtmr0':
    case 'rtmr1':
    case 'rtmr2':
    case 'rtmr3':
      return input.rtmrs[Number(k[4])]!;
    default:
      return input[k];
  }
}

/** TCB status against `acceptedTcbStatus` (run even when the measurement checks would fail, so it is reported). */
export function checkTdxTcbStatus(status: TdxTcbStatus, policy: ResolvedTdxPolicy): void {
  if (!policy.acceptedTcbStatus.includes(status) || status === 'Revoked') {
    throw new PolicyError('ERR_TDX_TCB_STATUS', `TCB status ${status} is not accepted`, { field: 'tcbStatus', expected: policy.acceptedTcbStatus, actual: status });
  }
}

/**
 * The collateral's evaluation numbers against `minTcbEvaluationDataNumber` (Intel PCS API v4: TCB Info and
 * Enclave Identity `tcbEvaluationDataNumber`, raised at each TCB recovery). Returns what was compared, or
 * undefined when the policy sets no minimum.
 */
export function checkTdxTcbEvaluationDataNumber(got: { tcbInfo: number; qeIdentity: number }, policy: TdxPolicy): string | undefined {
  const min = policy.minTcbEvaluationDataNumber;
  if (!min || (min.tcbInfo === undefined && min.qeIdentity === undefined)) return undefined;
  for (const k of ['tcbInfo', 'qeIdentity'] as const) {
    const want = min[k];
    if (want !== undefined && got[k] < want) {
      throw new PolicyError('ERR_TDX_TCB_EVAL_NUMBER', `${k === 'tcbInfo' ? 'TCB Info' : 'QE Identity'} tcbEvaluationDataNumber ${got[k]} is below the policy minimum ${want} (collateral from before Intel's TCB recovery)`, { field: `minTcbEvaluationDataNumber.${k}`, expected: want, actual: got[k] });
    }
  }
  return `TCB Info #${got.tcbInfo}, QE Identity #${got.qeIdentity} ≥ policy minimum`;
}

/** TD attributes and service-TD binding. */
export function checkTdxAttributes(input: TdxPolicyInput, policy: ResolvedTdxPolicy): void {
  if (input.debug && !policy.allowDebug) throw new PolicyError('ERR_TDX_DEBUG', 'the TD is in DEBUG mode', { field: 'debug', expected: false, actual: true });
  if (!input.septVeDisable && policy.requireSeptVeDisable) {
    throw new PolicyError('ERR_TDX_SEPT_VE_DISABLE', 'TDATTRIBUTES.SEPT_VE_DISABLE is not set', { field: 'tdAttributes', expected: 'SEPT_VE_DISABLE', actual: false });
  }
  if (input.mrServiceTd && input.mrServiceTd.some((b) => b !== 0) && !policy.allowServiceTd) {
    throw new PolicyError('ERR_TDX_MRSERVICETD', 'the TD is bound to a service TD (MRSERVICETD is not zero)', { field: 'mrServiceTd', expected: 'zero', actual: toHex(input.mrServiceTd) });
  }
}

/** The allowlists whose absence is warned about: without them any TD software would be accepted. */
const WARN_UNPINNED: ReadonlySet<TdxAllowlist> = new Set(['mrTd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3', 'mrConfigId']);

/**
 * One outcome per allowlist (`tdx.policy.<name>`): passed, failed with its PolicyError, or skipped when the
 * policy has no reference value for it — reported as NOT CHECKED, never as passed.
 */
function evaluateTdxMeasurements(input: TdxPolicyInput, policy: TdxPolicy): RuleOutcome[] {
  return TDX_ALLOWLISTS.map((k) => {
    const id = `tdx.policy.${k}`;
    const actual = toHex(value(input, k));
    const list = policy[k];
    if (!list) return { id, skipped: `no tdx.${k} allowlist in the policy: ${k} ${actual} NOT CHECKED`, warn: WARN_UNPINNED.has(k) };
    if (list.some((h) => h.toLowerCase() === actual)) return { id, detail: `${k} ${actual} is allowed` };
    return { id, error: new PolicyError(CODES[k], `${k} ${actual} is not in the policy allowlist`, { field: k, expected: list, actual }) };
  });
}

/**
 * Evaluates every TDX policy rule, as evaluateSnpPolicy does (none stops the others, so a document lists all
 * that failed): TCB status, the collateral's evaluation numbers when the policy sets a minimum, TD attributes,
 * then the measurement allowlists. Check ids are `tdx.policy.<rule>`.
 */
export function evaluateTdxPolicy(input: TdxPolicyInput, evaluationNumbers: { tcbInfo: number; qeIdentity: number }, policy: ResolvedTdxPolicy): RuleOutcome[] {
  const out = [ruleOutcome('tdx.policy.tcbStatus', () => {
    checkTdxTcbStatus(input.tcbStatus, policy);
    return input.tcbStatus;
  })];
  if (policy.minTcbEvaluationDataNumber) out.push(ruleOutcome('tdx.policy.tcbEvaluationDataNumber', () => checkTdxTcbEvaluationDataNumber(evaluationNumbers, policy)));
  out.push(ruleOutcome('tdx.policy.attributes', () => checkTdxAttributes(input, policy)));
  return [...out, ...evaluateTdxMeasurements(input, policy)];
}

