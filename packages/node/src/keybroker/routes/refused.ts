/** A refusal decided by the appraisal. */
import { PolicyError, type ErrorCode } from '@ccinfer/core';

/** Carries the appraisal's own error code (e.g. ERR_SNP_POLICY_DEBUG) into the audit log and the answer. */
export class AppraisalRefused extends PolicyError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}
