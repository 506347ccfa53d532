/**
 * The Node disk cache: one file per key (SHA-256 of the key), entries with expiry, atomic writes, a size bound
 * with eviction (expired first, then least recently used), and corrupted entries treated as misses.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CollateralError, MemoryCache, cachedFetch, utf8 } from '@ccinfer/core';
import { DiskCache, defaultCacheDir, defaultDiskCache } from '../src/disk-cache.js';
import { cliCache } from '../src/cli/args.js';
import { UsageError, type CliIo } from '../src/cli/types.js';
import { cli } from './cli/io.js';
import { expectCode, flip } from '../../../test-support/helpers.js';

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'ccinfer-cache-')), 'c');
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const KEY = 'https://kdsintf.amd.com/vcek/v1/Genoa/crl';

describe('DiskCache', () => {
  it('stores each key in a file named by its SHA-256, with its expiry, readable by another instance', async () => {
    const c = new DiskCache({ dir });
    await c.set(KEY, { value: utf8('crl bytes'), expiresAt: 1_900_000_000_000 });
    await c.set('no-expiry', { value: utf8('forever') });
    expect((await readdir(dir)).sort()).toEqual([sha(KEY), sha('no-expiry')].sort());
    const other = new DiskCache({ dir });
    expect(await other.get(KEY)).toEqual({ value: utf8('crl bytes'), expiresAt: 1_900_000_000_000 });
    expect(await other.get('no-expiry')).toEqual({ value: utf8('forever') });
    expect(await other.get('absent')).toBeUndefined();
    await other.delete(KEY);
    expect(await c.get(KEY)).toBeUndefined();
  });

  it('writes atomically: no temporary file remains, and a rewrite replaces the entry whole', async () => {
    const c = new DiskCache({ dir });
    await c.set(KEY, { value: new Uint8Array(1000).fill(1) });
    await c.set(KEY, { value: new Uint8Array(10).fill(2) });
    expect(await readdir(dir)).toEqual([sha(KEY)]);
    expect((await c.get(KEY))?.value).toEqual(new Uint8Array(10).fill(2));
  });

  it.each([
    ['truncated', (f: Uint8Array) => f.subarray(0, f.length - 1)],
    ['a flipped value bit', (f: Uint8Array) => flip(f, f.length - 1)],
    ['a flipped header bit', (f: Uint8Array) => flip(f, 24)],
    ['another format', () => utf8('{"value":"AAAA"}')],
    ['empty', () => new Uint8Array(0)],
  ])('treats an entry file that is %s as a miss, and removes it', async (_what, damage) => {
    const c = new DiskCache({ dir });
    await c.set(KEY, { value: utf8('crl bytes'), expiresAt: 1_900_000_000_000 });
    const path = c.pathOf(KEY);
    await writeFile(path, damage(new Uint8Array(await readFile(path))));
    expect(await c.get(KEY)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it("never serves one key's entry for another (a file copied under another name)", async () => {
    const c = new DiskCache({ dir });
    await c.set('a', { value: utf8('A') });
    await writeFile(c.pathOf('b'), await readFile(c.pathOf('a')));
    expect(await c.get('b')).toBeUndefined();
    expect((await c.get('a'))?.value).toEqual(utf8('A'));
  });

  it('evicts expired entries first, then the least recently used, to stay within maxEntries', async () => {
    let now = 1_800_000_000_000;
    const c = new DiskCache({ dir, maxEntries: 3, now: () => now });
    const present = async (): Promise<string[]> => (await readdir(dir)).sort();
    await c.set('old', { value: utf8('1') });
    now += 1000;
    await c.set('expired', { value: utf8('2'), expiresAt: now + 500 });
    now += 1000;
    await c.set('used', { value: utf8('3') });
    now += 1000;
    await c.get('old'); // now the most recently used
    await c.set('new', { value: utf8('4') });
    // Over the bound by one: the expired entry goes although it was used more recently than `used`.
    expect(await present()).toEqual([sha('old'), sha('used'), sha('new')].sort());
    now += 1000;
    await c.set('newer', { value: utf8('5') });
    // Then the least recently used: `used` (written before `old` was read).
    expect(await present()).toEqual([sha('old'), sha('new'), sha('newer')].sort());
  });

  it('stays within maxBytes, and does not store an entry larger than the bound', async () => {
    const c = new DiskCache({ dir, maxBytes: 4096 });
    for (let i = 0; i < 8; i++) await c.set(`k${i}`, { value: new Uint8Array(1000).fill(i) });
    const names = await readdir(dir);
    let total = 0;
    for (const n of names) total += (await readFile(join(dir, n))).length;
    expect(total).toBeLessThanOrEqual(4096);
    expect(names).toContain(sha('k7'));
    await c.set('huge', { value: new Uint8Array(8192) });
    expect(await c.get('huge')).toBeUndefined();
  });

  it('a cache that cannot be written misses instead of failing', async () => {
    const file = join(dir, '..', 'not-a-dir');
    await writeFile(file, 'x');
    const c = new DiskCache({ dir: file });
    await expect(c.set(KEY, { value: utf8('v') })).resolves.toBeUndefined();
    expect(await c.get(KEY)).toBeUndefined();
  });

  it('serves cachedFetch across processes: the second run needs no network', async () => {
    const now = new Date();
    let calls = 0;
    const fetcher = async (): Promise<Response> => (calls++, new Response(utf8('body') as Uint8Array<ArrayBuffer>));
    await cachedFetch(KEY, { fetcher, cache: new DiskCache({ dir }), now, ttlMs: 60_000, missingCode: 'ERR_SNP_CRL_UNAVAILABLE' });
    expect(await cachedFetch(KEY, { cache: new DiskCache({ dir }), now, missingCode: 'ERR_SNP_CRL_UNAVAILABLE' })).toEqual(utf8('body'));
    expect(calls).toBe(1);
    // Expired: a miss again, and without a fetcher that is "unavailable".
    await expectCode(cachedFetch(KEY, { cache: new DiskCache({ dir }), now: new Date(now.getTime() + 60_001), missingCode: 'ERR_SNP_CRL_UNAVAILABLE' }), CollateralError, 'ERR_SNP_CRL_UNAVAILABLE');
  });
});

describe('cache directory and CLI flags', () => {
  it('defaults to $XDG_CACHE_HOME/ccinfer, else $HOME/.cache/ccinfer; a relative XDG_CACHE_HOME is ignored', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/ccinfer');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/home/u' })).toBe('/home/u/.cache/ccinfer');
    expect(defaultCacheDir({})).toBeUndefined();
    expect(defaultDiskCache(undefined, {})).toBeUndefined();
    expect(defaultDiskCache(undefined, { HOME: '/home/u' })?.dir).toBe('/home/u/.cache/ccinfer');
  });

  it('--cache-dir picks the directory, --no-cache keeps collateral in memory, both at once is a usage error', () => {
    const io = { env: { HOME: '/home/u' } } as unknown as CliIo;
    expect((cliCache(io, { 'cache-dir': dir }) as DiskCache).dir).toBe(dir);
    expect((cliCache(io, {}) as DiskCache).dir).toBe('/home/u/.cache/ccinfer');
    expect(cliCache(io, { 'no-cache': true })).toBeInstanceOf(MemoryCache);
    expect(cliCache({ env: {} } as unknown as CliIo, {})).toBeInstanceOf(MemoryCache);
    expect(() => cliCache(io, { 'cache-dir': dir, 'no-cache': true })).toThrow(UsageError);
  });

  it('the commands accept the flags (exit 2 when combined)', async () => {
    const junk = join(dir, '..', 'junk.cbor');
    await writeFile(junk, 'not a bundle');
    expect((await cli(['verify', 'bundle', junk, '--cache-dir', dir])).code).toBe(1);
    expect((await cli(['verify', 'bundle', junk, '--cache-dir', dir, '--no-cache'])).code).toBe(2);
    expect((await cli(['attest', 'http://127.0.0.1:9', '--cache-dir', dir, '--no-cache'])).code).toBe(2);
    expect((await cli(['gateway', '--upstream', 'http://127.0.0.1:9', '--evidence', 'simulated', '--attach-collateral', '--no-attach-collateral'])).code).toBe(2);
  });
});

describe('DiskCache reads only regular files of bounded size (review F9)', () => {
  it('a symlink or FIFO planted in place of an entry is a miss, not a hang or a huge read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ccinfer-cache-planted-'));
    const cache = new DiskCache({ dir, maxBytes: 1024 });
    await cache.set('a', { value: Uint8Array.of(1, 2, 3) });
    expect((await cache.get('a'))?.value).toEqual(Uint8Array.of(1, 2, 3));
    symlinkSync('/dev/zero', cache.pathOf('b'));
    expect(await cache.get('b')).toBeUndefined();
    execFileSync('mkfifo', [cache.pathOf('c')]);
    expect(await cache.get('c')).toBeUndefined();
  });
});
