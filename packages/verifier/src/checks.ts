/**
 * Every check id a verifier appraisal can record, by stack: one table per stack next to its code
 * (snp/checks.ts, tdx/checks.ts, nvidia/checks.ts, trustee/checks.ts) and the bundle appraisal's own steps
 * here. docs/checks.md has one section per table; test/docs/checks.test.ts checks that the page lists exactly
 * these ids and that the code records no id outside them, so an id read in a verification document greps to
 * its table and its code.
 *
 * Device ids are written with the slot placeholders the page uses: `gpu<i>` for the i-th GPU of a bundle and
 * `switch<j>` for the j-th NVSwitch.
 */
import { DEVICE_CHECKS, GPU_ONLY_CHECKS, NRAS_CHECKS } from './nvidia/checks.js';
import { SNP_CHECKS } from './snp/checks.js';
import { TDX_CHECKS } from './tdx/checks.js';
import { TRUSTEE_CHECKS } from './trustee/checks.js';

/** The bundle appraisal's own steps (appraise.ts), around the CPU and device steps of the stacks. */
export const BUNDLE_CHECKS = [
  'bundle.decode',
  'nonce.echo',
  'binding.reportData',
  'initdata.digest',
  'gpu<i>.role',
  'switch<j>.role',
  'devices.distinct',
  'topology.ppcie',
  'topology.featureFlags',
  'gpu.policy.required',
  'gpu.policy.count',
  'gpu.policy.mode',
  'policy.referenceValues',
] as const;

/** The device steps of nvidia/checks.ts under both slot prefixes (NVSwitches without the GPU-only ones). */
const DEVICE_IDS: readonly string[] = [
  ...DEVICE_CHECKS.map((c) => `gpu<i>.${c}`),
  ...DEVICE_CHECKS.filter((c) => !GPU_ONLY_CHECKS.includes(c)).map((c) => `switch<j>.${c}`),
];

/** Check ids by table, in the order of docs/checks.md's sections. */
export const CHECK_TABLES: Readonly<Record<'bundle' | 'snp' | 'tdx' | 'nvidia' | 'nras' | 'trustee', readonly string[]>> = {
  bundle: BUNDLE_CHECKS,
  snp: SNP_CHECKS,
  tdx: TDX_CHECKS,
  nvidia: DEVICE_IDS,
  nras: NRAS_CHECKS,
  trustee: TRUSTEE_CHECKS,
};
