/**
 * The appraisal policy document (docs/policy.md). `parsePolicy` validates the whole document and reports
 * every bad field at once in a ConfigError (`fields`). Unknown fields are errors, not ignored: a misspelt
 * allowlist must never silently turn into "not checked".
 */
import { ConfigError } from '@ccinfer/core';
import { duplicateJsonKey } from '@ccinfer/core/internal';
import { int, object, type FieldErrors } from './policy-schema.js';
import { parseSnpPolicy, type SnpPolicy } from './snp/policy.js';
import { parseGpuPolicy, type GpuPolicy } from './nvidia/policy.js';
import { parseTdxPolicy, type TdxPolicy } from './tdx/policy.js';

/** Codes of the policy document (`parsePolicy`, `parsePolicyText`) and of the bundle appraisal's pin check. */
export type PolicyErrorCode = 'ERR_POLICY_INVALID' | 'ERR_POLICY_DUPLICATE_KEY' | 'ERR_POLICY_UNPINNED';

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<PolicyErrorCode, true> {}
}

export interface FreshnessPolicy {
  /** How long an attested session key may be used before re-attesting. Default 3600. */
  maxEvidenceAgeSeconds?: number;
  /** Accept collateral this many seconds past its nextUpdate. Default 0. */
  collateralGraceSeconds?: number;
}

export interface Policy {
  version: 1;
  snp?: SnpPolicy;
  gpu?: GpuPolicy;
  tdx?: TdxPolicy;
  freshness?: FreshnessPolicy;
}

type SectionParser = (v: unknown, path: string, errs: FieldErrors) => unknown;

/** Section parsers by key; each TEE module contributes its own. */
const SECTIONS: Record<string, SectionParser> = {
  snp: parseSnpPolicy,
  gpu: parseGpuPolicy,
  tdx: parseTdxPolicy,
  freshness: (v, path, errs) => {
    const o = object(v, path, errs, ['maxEvidenceAgeSeconds', 'collateralGraceSeconds']);
    if (!o) return undefined;
    const f: FreshnessPolicy = {};
    const age = int(o['maxEvidenceAgeSeconds'], `${path}.maxEvidenceAgeSeconds`, errs, 1, 86_400 * 30);
    const grace = int(o['collateralGraceSeconds'], `${path}.collateralGraceSeconds`, errs, 0, 86_400 * 30);
    if (age !== undefined) f.maxEvidenceAgeSeconds = age;
    if (grace !== undefined) f.collateralGraceSeconds = grace;
    return f;
  },
};

/**
 * Validates a parsed JSON policy document (docs/policy.md: `version: 1` and the optional sections `snp`, `tdx`,
 * `gpu`, `freshness`) and returns it typed. Everything is checked at once: unknown keys (a misspelt allowlist
 * must not silently become "not checked"), types, hex lengths (48-byte SNP measurements and TDX registers,
 * 32-byte HOST_DATA), enums and integer ranges. Throws ConfigError `ERR_POLICY_INVALID` whose `fields` lists
 * every bad field (`$.snp.measurements[0]: …`).
 *
 * Defaults are not filled in; they apply at appraisal: an absent allowlist is not checked (and is reported as
 * skipped, with a warning), and every security switch is strict unless the policy relaxes it (SNP: no debug, no
 * migration agent, VMPL 0, no provisional firmware, `revocation: 'require'`; TDX: `acceptedTcbStatus:
 * ['UpToDate']`, no debug, SEPT_VE_DISABLE required, no service TD; GPU: `requireRim: true`, `ocsp: 'require'`;
 * `freshness.maxEvidenceAgeSeconds` 3600, `collateralGraceSeconds` 0).
 *
 * @example
 * ```ts
 * import { ConfigError, duplicateJsonKey } from '@ccinfer/core';
 * import { parsePolicy } from '@ccinfer/verifier';
 *
 * try {
 *   const policy = parsePolicy({ version: 1, snp: { measurements: [measurementHex] }, gpu: { mode: 'single' } });
 * } catch (err) {
 *   if (err instanceof ConfigError) console.error(err.code, err.fields); // ERR_POLICY_INVALID, every bad field
 * }
 * ```
 */
export function parsePolicy(json: unknown): Policy {
  const errs: FieldErrors = [];
  const o = object(json, '$', errs, ['version', ...Object.keys(SECTIONS)]);
  if (!o) throw new ConfigError('ERR_POLICY_INVALID', errs[0] ?? 'policy must be a JSON object', { fields: errs.length ? errs : ['$'] });
  if (o['version'] !== 1) errs.push('$.version: must be 1');
  const policy: Record<string, unknown> = { version: 1 };
  for (const [key, parse] of Object.entries(SECTIONS)) {
    const section = parse(o[key], `$.${key}`, errs);
    if (section !== undefined) policy[key] = section;
  }
  if (errs.length) throw new ConfigError('ERR_POLICY_INVALID', `invalid policy: ${errs.join('; ')}`, { fields: errs });
  return policy as unknown as Policy;
}

/**
 * Parses JSON text that holds policies (a `--policy FILE`, a key broker's resource policies): ConfigError
 * `ERR_POLICY_INVALID` when it is not JSON (its one field carries the parser's reason and position, so a stray
 * comma can be found), `ERR_POLICY_DUPLICATE_KEY` (its `fields` name the path, e.g.
 * `$.snp.measurements`) when an object at any depth repeats a member name: `JSON.parse` would keep the last
 * one, so a reviewer could read a different pin from the one enforced.
 */
export function parsePolicyJson(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('ERR_POLICY_INVALID', 'policy is not valid JSON', { cause, fields: [`$: not JSON: ${(cause as Error).message}`] });
  }
  const dup = duplicateJsonKey(text);
  if (dup !== undefined) throw new ConfigError('ERR_POLICY_DUPLICATE_KEY', `duplicate key ${dup} in the policy`, { fields: [`${dup}: duplicate key`] });
  return json;
}

/**
 * Parses policy JSON text (e.g. a `--policy FILE`) with `parsePolicyJson` (strict: no duplicate keys at any
 * depth, `ERR_POLICY_DUPLICATE_KEY`), then validates it with `parsePolicy`. Prefer it to
 * `parsePolicy(JSON.parse(text))`, which cannot see repeated keys.
 *
 * @example
 * ```ts
 * const policy = parsePolicyText(await (await fetch('/policy.json')).text());
 * ```
 */
export function parsePolicyText(text: string): Policy {
  return parsePolicy(parsePolicyJson(text));
}
