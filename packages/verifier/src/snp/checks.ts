/**
 * The check ids the SEV-SNP appraisal records (snp/appraise.ts, snp/policy.ts, the provenance rule), in the
 * order it records them. docs/checks.md describes each one; test/docs/checks.test.ts keeps the two in step
 * and fails when the code records an id that is in no table.
 */
export const SNP_CHECKS = [
  'snp.parse',
  'snp.endorsementKey',
  'snp.productLine',
  'snp.chain',
  'snp.revocation',
  'snp.tcbBinding',
  'snp.signature',
  'snp.reportData',
  // Policy rules (snp/policy.ts): every rule is evaluated and recorded, then the first refusal stops.
  'snp.policy.debug',
  'snp.policy.migrationAgent',
  'snp.policy.smt',
  'snp.policy.vmpl',
  'snp.policy.productLine',
  'snp.policy.signingKey',
  'snp.policy.provisionalFirmware',
  'snp.policy.minTcb',
  'snp.policy.minFirmware',
  'snp.policy.measurement',
  'snp.policy.hostData',
  // Build provenance of the launch measurement (provenance/appraise.ts), when the policy asks for it.
  'snp.provenance.bundle',
  'snp.provenance.identity',
  'snp.provenance.statement',
  'snp.provenance.measurement',
] as const;

export type SnpCheckId = (typeof SNP_CHECKS)[number];
