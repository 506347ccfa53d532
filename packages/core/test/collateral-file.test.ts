import { describe, expect, it } from 'vitest';
import { ConfigError, MemoryCache, RecordingCache, encodeCollateralFile, loadCollateralFile, parseCollateralFile } from '../src/index.js';
import { expectCodeSync } from '../../../test-support/helpers.js';

describe('ccinfer-collateral/1 file', () => {
  it('round-trips entries with and without expiry, and loads them into a cache', async () => {
    const bytes = encodeCollateralFile(
      [
        ['https://kdsintf.amd.com/vcek/v1/Genoa/crl', { value: new Uint8Array([1, 2, 3]), expiresAt: 1_800_000_000_000 }],
        ['ocsp:ab', { value: new Uint8Array([4]) }],
      ],
      new Date('2026-11-28T00:00:00Z'),
    );
    const f = parseCollateralFile(bytes);
    expect(f.createdAt).toBe('2026-11-28T00:00:00.000Z');
    expect([...f.entries]).toEqual([
      ['https://kdsintf.amd.com/vcek/v1/Genoa/crl', { value: new Uint8Array([1, 2, 3]), expiresAt: 1_800_000_000_000 }],
      ['ocsp:ab', { value: new Uint8Array([4]) }],
    ]);
    const cache = new MemoryCache();
    expect(await loadCollateralFile(cache, new TextDecoder().decode(bytes))).toBe(2);
    expect((await cache.get('ocsp:ab'))?.value).toEqual(new Uint8Array([4]));
  });

  it.each([
    ['not JSON', '{'],
    ['another format', '{"format":"x","createdAt":"2026-01-01T00:00:00Z","entries":[]}'],
    ['no date', '{"format":"ccinfer-collateral/1","createdAt":"soon","entries":[]}'],
    ['entries not an array', '{"format":"ccinfer-collateral/1","createdAt":"2026-01-01T00:00:00Z","entries":{}}'],
    ['an entry without a value', '{"format":"ccinfer-collateral/1","createdAt":"2026-01-01T00:00:00Z","entries":[{"key":"a"}]}'],
    ['bad expiry', '{"format":"ccinfer-collateral/1","createdAt":"2026-01-01T00:00:00Z","entries":[{"key":"a","value":"AA==","expiresAt":"x"}]}'],
    ['a repeated key', '{"format":"ccinfer-collateral/1","createdAt":"2026-01-01T00:00:00Z","entries":[{"key":"a","value":"AA=="},{"key":"a","value":"AA=="}]}'],
    ['bad base64', '{"format":"ccinfer-collateral/1","createdAt":"2026-01-01T00:00:00Z","entries":[{"key":"a","value":"@@"}]}'],
  ])('ERR_COLLATERAL_FILE_INVALID: %s', (_why, text) => {
    expectCodeSync(() => parseCollateralFile(text), ConfigError, 'ERR_COLLATERAL_FILE_INVALID');
  });

  it('RecordingCache records what was written and what was found in the inner cache', async () => {
    const inner = new MemoryCache();
    await inner.set('old', { value: new Uint8Array([1]) });
    const r = new RecordingCache(inner);
    await r.set('new', { value: new Uint8Array([2]) });
    expect((await r.get('old'))?.value).toEqual(new Uint8Array([1]));
    expect(await r.get('missing')).toBeUndefined();
    expect([...r.written.keys()].sort()).toEqual(['new', 'old']);
    expect((await inner.get('new'))?.value).toEqual(new Uint8Array([2]));
  });
});
