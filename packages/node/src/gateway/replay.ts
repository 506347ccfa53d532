/**
 * Replay protection for encapsulated requests. RFC 9458 §6.5 leaves anti-replay to the gateway: anyone who
 * captured a request can send the same bytes again, and they open again. Every honest request carries a fresh
 * HPKE `enc` (RFC 9180 §5.1: a new ephemeral key per SetupBaseS), so a repeated `enc` under the same gateway
 * key is a replay. Each key's `enc`s are remembered for the life of that key; rotation bounds the memory: when
 * the current key has admitted `maxPerKey` requests the gateway rotates, and a retired key's set is dropped.
 */

export type Admission = 'fresh' | 'replayed' | 'full';

export class ReplayGuard {
  /** key identifier → the `enc`s admitted under it (as one-byte strings: 32 characters per X25519 `enc`). */
  private readonly seen = new Map<number, Set<string>>();

  constructor(readonly maxPerKey: number) {}

  /**
   * Records `enc` under `keyId`. `replayed`: seen before under this key (refuse); `full`: the key has admitted
   * `maxPerKey` requests and remembers no more (refuse; the client re-attests to the next key).
   * Check-and-record is synchronous, so two concurrent copies of one request cannot both be admitted.
   */
  admit(keyId: number, enc: Uint8Array): Admission {
    let set = this.seen.get(keyId);
    if (!set) this.seen.set(keyId, (set = new Set()));
    const k = String.fromCharCode(...enc);
    if (set.has(k)) return 'replayed';
    if (set.size >= this.maxPerKey) return 'full';
    set.add(k);
    return 'fresh';
  }

  /** Requests admitted under `keyId` so far. */
  count(keyId: number): number {
    return this.seen.get(keyId)?.size ?? 0;
  }

  /** Drops a retired key's record (its requests no longer open, so they cannot be replayed). */
  forget(keyId: number): void {
    this.seen.delete(keyId);
  }
}
