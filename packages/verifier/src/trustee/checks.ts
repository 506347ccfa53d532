/**
 * The check ids a Trustee EAR appraisal records (trustee/ear.ts). Per-submodule steps carry the submodule's
 * name (`trustee.cpu0.status`), written `<submod>` here. docs/checks.md describes each one;
 * test/docs/checks.test.ts keeps the two in step.
 */
export const TRUSTEE_CHECKS = [
  'trustee.signature',
  'trustee.profile',
  'trustee.submods',
  'trustee.<submod>.nonce',
  'trustee.<submod>.status',
] as const;

export type TrusteeCheckId = (typeof TRUSTEE_CHECKS)[number];
