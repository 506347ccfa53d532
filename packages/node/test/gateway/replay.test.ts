/** ReplayGuard: one admission per HPKE enc and key, bounded per key, dropped with the key. */
import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../src/gateway/replay.js';

const enc = (b: number): Uint8Array => new Uint8Array(32).fill(b);

describe('ReplayGuard', () => {
  it('admits an enc once per key; the same enc under another key is a different request', () => {
    const g = new ReplayGuard(10);
    expect(g.admit(1, enc(7))).toBe('fresh');
    expect(g.admit(1, enc(7))).toBe('replayed');
    expect(g.admit(2, enc(7))).toBe('fresh');
    expect(g.count(1)).toBe(1);
  });

  it('a key that has admitted maxPerKey requests refuses new ones, and still knows its replays', () => {
    const g = new ReplayGuard(2);
    expect([g.admit(1, enc(1)), g.admit(1, enc(2)), g.admit(1, enc(3))]).toEqual(['fresh', 'fresh', 'full']);
    expect(g.admit(1, enc(1))).toBe('replayed');
    expect(g.count(1)).toBe(2);
  });

  it('forget drops a retired key’s record', () => {
    const g = new ReplayGuard(2);
    g.admit(1, enc(1));
    g.forget(1);
    expect(g.count(1)).toBe(0);
    expect(g.admit(1, enc(1))).toBe('fresh');
  });
});
