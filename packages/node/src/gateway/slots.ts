/** Small pieces the gateway's handlers share: the operational log hook and a concurrency limit. */

/** Operational events (never plaintext, never key material). */
export type GatewayLog = (event: string, detail?: Record<string, unknown>) => void;

/**
 * A count of work items allowed at once. Work that buffers attacker-sized input or asks hardware for signed
 * reports is admitted only while a slot is free; the caller answers 503 + Retry-After otherwise.
 */
export class Slots {
  private used = 0;
  constructor(readonly max: number) {}
  /** Takes a slot; false when all are in use. */
  take(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }
  release(): void {
    this.used--;
  }
}
