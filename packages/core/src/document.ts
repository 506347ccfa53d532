/**
 * The verification document (docs/wire-protocol.md "Verification document"; check ids in docs/checks.md): what was checked, in order, with the outcome of each step.
 * A check that was not performed is recorded as `skipped` with the reason; it never counts as passed.
 */
import { CcinferError, type ErrorCode } from './errors.js';

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface Check {
  id: string;
  /** True only when the check ran and passed. */
  ok: boolean;
  status: CheckStatus;
  code?: ErrorCode;
  detail?: string;
}

export type TeeKind = 'snp' | 'tdx' | 'gpu' | 'nras' | 'bundle';

export interface VerificationDocument {
  ok: boolean;
  tee: TeeKind;
  verifiedAt: string;
  claims: Record<string, unknown>;
  checks: Check[];
  errors: { code: ErrorCode; message: string }[];
  warnings: string[];
  /** Set when the appraisal was performed by a remote service (NRAS, Trustee AS) rather than locally. */
  delegated?: boolean;
}

export type CheckListener = (check: Check) => void;

/**
 * Records checks while an appraisal runs. `run` executes a step, recording `passed` or the error's code; the
 * first failure stops the appraisal (fail closed), so later steps are never reported as passed.
 */
export class CheckList {
  readonly checks: Check[] = [];
  readonly warnings: string[] = [];
  readonly errors: { code: ErrorCode; message: string }[] = [];

  constructor(private readonly listener?: CheckListener) {}

  private push(c: Check): void {
    this.checks.push(c);
    this.listener?.(c);
  }

  async run<T>(id: string, step: () => T | Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    try {
      const value = await step();
      const d = detail?.(value);
      this.push(d === undefined ? { id, ok: true, status: 'passed' } : { id, ok: true, status: 'passed', detail: d });
      return value;
    } catch (err) {
      const e = err instanceof CcinferError ? err : new CcinferError('ERR_INTERNAL', `step ${id} failed unexpectedly`, { cause: err });
      this.push({ id, ok: false, status: 'failed', code: e.code, detail: e.message });
      this.errors.push({ code: e.code, message: e.message });
      throw e;
    }
  }

  pass(id: string, detail?: string): void {
    this.push(detail === undefined ? { id, ok: true, status: 'passed' } : { id, ok: true, status: 'passed', detail });
  }

  skip(id: string, reason: string): void {
    this.push({ id, ok: false, status: 'skipped', detail: reason });
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /**
   * Appends what another list recorded (checks in its order, warnings, errors). Lets independent steps run
   * concurrently on their own lists and still be reported in a fixed order.
   */
  absorb(other: CheckList): void {
    for (const c of other.checks) this.push(c);
    this.warnings.push(...other.warnings);
    this.errors.push(...other.errors);
  }

  /** Builds the document. `ok` is true when no check failed and no error was recorded. */
  document(tee: TeeKind, verifiedAt: Date, claims: Record<string, unknown>): VerificationDocument {
    return {
      ok: this.errors.length === 0 && this.checks.every((c) => c.status !== 'failed'),
      tee,
      verifiedAt: verifiedAt.toISOString(),
      claims,
      checks: this.checks,
      errors: this.errors,
      warnings: this.warnings,
    };
  }
}
