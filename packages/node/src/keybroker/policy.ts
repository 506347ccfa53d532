/**
 * Resource policies: which appraisal policy (docs/policy.md — measurements, initdata digest as HOST_DATA /
 * MRCONFIGID, GPU count / mode / driver / VBIOS, …) a pod must satisfy to receive each resource.
 *
 *   { "version": 1,
 *     "resources": { "<repository>/<type>/<tag>": { "policy": <ccinfer policy> },
 *                    "<repository>/<type>/*":     { "policy": … }, … } }
 *
 * `*` matches one whole segment. The most specific entry wins (exact segments counted left to right). A
 * resource no entry covers is never released.
 */
import { ConfigError } from '@ccinfer/core';
import { parsePolicy, type Policy } from '@ccinfer/verifier';
import type { ResourceId } from './store.js';

export interface ResourcePolicyEntry {
  pattern: string;
  policy: Policy;
  /** The policy JSON as given (for GET /kbs/v0/resource-policy). */
  source: unknown;
}

export interface ResourcePolicies {
  version: 1;
  entries: ResourcePolicyEntry[];
}

const PATTERN = /^(\*|[A-Za-z0-9_][A-Za-z0-9._-]{0,127})\/(\*|[A-Za-z0-9_][A-Za-z0-9._-]{0,127})\/(\*|[A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/;

export function parseResourcePolicies(json: unknown): ResourcePolicies {
  const errs: string[] = [];
  const entries: ResourcePolicyEntry[] = [];
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('ERR_POLICY_INVALID', 'resource policies must be a JSON object', { fields: ['$'] });
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'version' && k !== 'resources') errs.push(`$.${k}: unknown field`);
  if (o['version'] !== 1) errs.push('$.version: must be 1');
  const res = o['resources'];
  if (typeof res !== 'object' || res === null || Array.isArray(res)) errs.push('$.resources: must be an object');
  else {
    for (const [pattern, v] of Object.entries(res)) {
      const path = `$.resources["${pattern}"]`;
      if (!PATTERN.test(pattern)) {
        errs.push(`${path}: not <repository>/<type>/<tag> (segments may be *)`);
        continue;
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).join(',') !== 'policy') {
        errs.push(`${path}: must be { "policy": … }`);
        continue;
      }
      try {
        entries.push({ pattern, policy: parsePolicy((v as { policy: unknown }).policy), source: (v as { policy: unknown }).policy });
      } catch (err) {
        if (err instanceof ConfigError) errs.push(...(err.fields.length ? err.fields : [err.message]).map((f) => `${path}.policy ${f}`));
        else throw err;
      }
    }
  }
  if (errs.length) throw new ConfigError('ERR_POLICY_INVALID', `invalid resource policies: ${errs.join('; ')}`, { fields: errs });
  return { version: 1, entries };
}

/** The most specific entry covering `id`, or undefined (then the resource is never released). */
export function policyFor(policies: ResourcePolicies, id: ResourceId): ResourcePolicyEntry | undefined {
  const segs = [id.repository, id.type, id.tag];
  let best: { e: ResourcePolicyEntry; score: number } | undefined;
  for (const e of policies.entries) {
    const p = e.pattern.split('/');
    if (!p.every((s, i) => s === '*' || s === segs[i])) continue;
    const score = p.reduce((acc, s, i) => acc + (s === '*' ? 0 : 4 >> i), 0);
    if (!best || score > best.score) best = { e, score };
  }
  return best?.e;
}
