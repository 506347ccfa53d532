/** Small pieces the gateway's handlers share: the operational log hook, a concurrency limit and its 503. */
import type { ServerResponse } from 'node:http';
import { sendProblem } from './problem.js';

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

/**
 * The gateway's own 503 when a limit is reached (not the upstream's: `gateway-busy`, docs/wire-protocol.md
 * "Errors before decryption"). Sent before the request body is read, so nothing of it was decrypted.
 */
export function sendBusy(res: ServerResponse, what: string): void {
  res.setHeader('retry-after', '1');
  sendProblem(res, 503, 'gateway-busy', `too many ${what} in progress; retry shortly`);
}
