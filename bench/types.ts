/** A benchmark case: timed with tinybench (median of the samples), or a measured value such as a size. */
export interface BenchCase {
  /** JSON case name, e.g. `snp.cold`. */
  name: string;
  /** What is measured, for the table. */
  title: string;
  fn?: () => unknown | Promise<unknown>;
  /**
   * For non-timed cases (sizes, one long run, rates measured in their own loop): the value, its unit, optionally
   * its ratios to other figures of the same run (printed as given) and figures for the JSON row (`details`).
   */
  measure?: () => Promise<{ value: number; unit: string; ratios?: Record<string, number>; details?: Record<string, unknown> }>;
  /** Budget in ms (median), checked and printed. */
  budgetMs?: number;
  /** Name of the case this one is compared to (ratio printed as this / other). */
  compareTo?: string[];
}
