/**
 * The one wrapper every `verify…` entry point uses around its `appraise…` form (verifySnp, verifyTdx,
 * verifyGpu, verifyNras and the bundle's appraise): it owns the clock default, the check list, the rule for
 * errors that escape the appraisal, and the warning for simulated trust anchors, so the stacks cannot drift.
 */
import { CcinferError, CheckList, ConfigError, systemClock, type CheckListener, type Clock, type TeeKind, type VerificationDocument } from '@ccinfer/core';

/** The options every verification entry point takes for time and progress. */
export interface VerificationRunOptions {
  /** Verification time; default the clock's now. */
  now?: Date | undefined;
  /** Default the system clock. */
  clock?: Clock | undefined;
  /** Called with each check as it is recorded (ignored when `checks` is given: that list has its own). */
  onCheck?: CheckListener | undefined;
  /** Record into this list instead of a new one. */
  checks?: CheckList | undefined;
}

/** The warning a document carries when the trust anchors are the simulator's, first in its warnings. */
export const SIMULATED_ANCHORS_WARNING = 'SIMULATED trust anchors: this is not evidence from vendor hardware';

/** The verification time (the options' `now`, else the clock's, else the system clock's) and the check list. */
export function startVerification(options: VerificationRunOptions): { now: Date; checks: CheckList } {
  return { now: options.now ?? (options.clock ?? systemClock).now(), checks: options.checks ?? new CheckList(options.onCheck) };
}

/**
 * Records an error that escaped an appraisal. Evidence problems are recorded by the check that failed; one
 * thrown outside any check is added to the document's errors. A ConfigError no check recorded is the caller's
 * mistake (bad options or anchors) and is thrown, as is anything that is not a CcinferError (a bug).
 */
export function recordEscaped(checks: CheckList, err: unknown): void {
  if (!(err instanceof CcinferError)) throw err;
  if (checks.errors.some((e) => e.code === err.code)) return;
  if (err instanceof ConfigError) throw err;
  checks.errors.push({ code: err.code, message: err.message });
}

/**
 * Runs `appraise` at the options' time on a check list and returns the verification document of `tee`, with
 * the claims `claims()` gives after the appraisal (also when it failed part way).
 */
export async function runVerification(
  tee: Exclude<TeeKind, 'bundle'>,
  options: VerificationRunOptions,
  simulated: boolean,
  appraise: (now: Date, checks: CheckList) => Promise<unknown>,
  claims: () => Record<string, unknown>,
): Promise<VerificationDocument> {
  const { now, checks } = startVerification(options);
  try {
    await appraise(now, checks);
  } catch (err) {
    recordEscaped(checks, err);
  }
  const doc = checks.document(tee, now, claims());
  if (simulated) doc.warnings.unshift(SIMULATED_ANCHORS_WARNING);
  return doc;
}
