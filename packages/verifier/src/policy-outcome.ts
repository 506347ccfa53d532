/**
 * The outcome model of policy rules, shared by every stack (snp/policy.ts, tdx/policy.ts, nvidia/policy.ts).
 * A policy is evaluated whole, without stopping at the first refusal, so that a verification document lists
 * every rule the evidence breaks; only then does the first refusal stop the appraisal (docs/checks.md).
 */
import { PolicyError, type CheckList } from '@ccinfer/core';

/** One rule's outcome: passed (with `detail`), refused with a PolicyError, or skipped (no reference value). */
export interface RuleOutcome {
  /** The check id, `<stack>.policy.<rule>`. */
  id: string;
  error?: PolicyError;
  /** Why the rule was not evaluated; reported as skipped, never as passed. */
  skipped?: string;
  detail?: string;
  /** A skip that also becomes a document warning (an unpinned measurement). */
  warn?: boolean;
}

/**
 * The outcome of a rule written as a check that throws its PolicyError: refused on a PolicyError, passed with
 * the detail it returns otherwise. Any other error is a bug and propagates.
 */
export function ruleOutcome(id: string, rule: () => string | undefined | void): RuleOutcome {
  try {
    const detail = rule();
    return typeof detail === 'string' ? { id, detail } : { id };
  } catch (err) {
    if (err instanceof PolicyError) return { id, error: err };
    throw err;
  }
}

/**
 * Records every outcome on `checks` in order (a refusal as a failed check with its code, a skip with its
 * reason and, when asked, a warning) and returns the first refusal, which the caller throws once its other
 * rules are recorded.
 */
export async function recordOutcomes(checks: CheckList, outcomes: readonly RuleOutcome[]): Promise<PolicyError | undefined> {
  let first: PolicyError | undefined;
  for (const o of outcomes) {
    if (o.error) {
      first ??= o.error;
      const error = o.error;
      await checks.run(o.id, () => {
        throw error;
      }).catch(() => undefined);
    } else if (o.skipped) {
      checks.skip(o.id, o.skipped);
      if (o.warn) checks.warn(o.skipped);
    } else checks.pass(o.id, o.detail);
  }
  return first;
}
