/** A refusal decided by the appraisal. */
import { PolicyError } from '@ccinfer/core';

/** Carries the appraisal's own error code (e.g. ERR_SNP_POLICY_DEBUG) into the audit log and the answer. */
export class AppraisalRefused extends PolicyError {
  constructor(code: string, message: string) {
    super(code as `ERR_${string}`, message);
  }
}
