/**
 * The check ids the Intel TDX appraisal records (tdx/appraise.ts, tdx/policy.ts), in the order it records
 * them. docs/checks.md describes each one; test/docs/checks.test.ts keeps the two in step and fails when the
 * code records an id that is in no table.
 */
export const TDX_CHECKS = [
  'tdx.quote.parse',
  'tdx.pck.parse',
  'tdx.collateral',
  'tdx.pck.chain',
  'tdx.pck.crl',
  'tdx.collateral.tcbInfo',
  'tdx.collateral.qeIdentity',
  'tdx.collateral.rootCrl',
  'tdx.qe.signature',
  'tdx.qe.reportData',
  'tdx.qe.identity',
  'tdx.quote.signature',
  'tdx.module',
  'tdx.tcb',
  'tdx.eventLog',
  // Policy rules (tdx/policy.ts).
  'tdx.policy.tcbStatus',
  'tdx.policy.tcbEvaluationDataNumber',
  'tdx.policy.attributes',
  'tdx.policy.mrTd',
  'tdx.policy.rtmr0',
  'tdx.policy.rtmr1',
  'tdx.policy.rtmr2',
  'tdx.policy.rtmr3',
  'tdx.policy.mrConfigId',
  'tdx.policy.mrOwner',
  'tdx.policy.mrSeam',
  'tdx.policy.initdata',
] as const;

export type TdxCheckId = (typeof TDX_CHECKS)[number];
