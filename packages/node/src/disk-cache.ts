/**
 * A collateral cache on disk (core `Cache`): one file per key under a directory, so collateral fetched by one
 * `ccinfer` run, client process or gateway is reused by the next instead of asking AMD / Intel / NVIDIA again.
 *
 * The cache is untrusted for content, like the network it saves a trip to: the verifier verifies everything it
 * reads from it by signature. This module only makes sure it never hands out bytes that are not what was
 * stored under that key: every file carries its key and the SHA-256 of its value, and a file that does not
 * check out (truncated, bit-flipped, another key, another format) is a miss and is removed.
 *
 * File: `<sha256(key) hex>`; contents `"ccinfer-cache/1\n"`, u32be header length, header JSON
 * `{ key, expiresAt, size, sha256 }`, value. Writes go to a temporary file that is renamed into place, so a
 * reader (another process included) sees the old entry or the new one, never half of one. The directory is
 * bounded in bytes and entries: over the bound, expired entries go first, then the least recently used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { lutimes, mkdir, open, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Cache, CacheEntry } from '@ccinfer/core';

const MAGIC = new TextEncoder().encode('ccinfer-cache/1\n');
const NAME = /^[0-9a-f]{64}$/;

export interface DiskCacheOptions {
  /** Directory; default {@link defaultCacheDir}. Created (mode 0700) on first write. */
  dir?: string;
  /** Total bytes of entry files kept. Default 64 MiB. */
  maxBytes?: number;
  /** Entry files kept. Default 4096. */
  maxEntries?: number;
  /** Clock for eviction of expired entries (epoch ms). Default `Date.now`. */
  now?: () => number;
}

/**
 * `$XDG_CACHE_HOME/ccinfer`, else `$HOME/.cache/ccinfer` (XDG Base Directory spec: a relative XDG_CACHE_HOME is
 * invalid and ignored). Undefined when the environment names neither, so the caller falls back to memory.
 */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string | undefined {
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'ccinfer');
  const home = env['HOME'];
  return home && isAbsolute(home) ? join(home, '.cache', 'ccinfer') : undefined;
}

const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

interface Header {
  key: string;
  expiresAt: number | null;
  size: number;
  sha256: string;
}

/** Encodes one entry file. */
function encodeEntry(key: string, entry: CacheEntry): Uint8Array {
  const header: Header = { key, expiresAt: entry.expiresAt ?? null, size: entry.value.length, sha256: sha256Hex(entry.value) };
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(MAGIC.length + 4 + h.length + entry.value.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, h.length);
  out.set(h, MAGIC.length + 4);
  out.set(entry.value, MAGIC.length + 4 + h.length);
  return out;
}

/** Decodes an entry file for `key`; undefined for anything that is not exactly a well-formed entry for it. */
function decodeEntry(key: string, file: Uint8Array): CacheEntry | undefined {
  if (file.length < MAGIC.length + 4 || !MAGIC.every((b, i) => file[i] === b)) return undefined;
  const n = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(MAGIC.length);
  const start = MAGIC.length + 4 + n;
  if (start > file.length) return undefined;
  let h: Partial<Header>;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(MAGIC.length + 4, start))) as Partial<Header>;
  } catch {
    return undefined;
  }
  if (typeof h !== 'object' || h === null || h.key !== key || h.size !== file.length - start || typeof h.sha256 !== 'string') return undefined;
  if (h.expiresAt !== null && !(typeof h.expiresAt === 'number' && Number.isFinite(h.expiresAt))) return undefined;
  const value = file.slice(start);
  if (sha256Hex(value) !== h.sha256) return undefined;
  return h.expiresAt === null ? { value } : { value, expiresAt: h.expiresAt };
}

export class DiskCache implements Cache {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: DiskCacheOptions = {}) {
    const dir = options.dir ?? defaultCacheDir();
    if (!dir) throw new Error('no cache directory: set XDG_CACHE_HOME or HOME, or pass dir');
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxEntries = options.maxEntries ?? 4096;
    this.now = options.now ?? Date.now;
  }

  /** The file holding `key`: the SHA-256 of the key, so any key (URLs included) is a safe file name. */
  pathOf(key: string): string {
    return join(this.dir, sha256Hex(key));
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const path = this.pathOf(key);
    let file: Uint8Array;
    try {
      file = await readRegularFile(path, this.maxBytes);
    } catch {
      return undefined;
    }
    const entry = decodeEntry(key, file);
    if (!entry) {
      // Not trusted, not kept: the next set() replaces it, and until then it costs a read per get.
      await unlink(path).catch(() => undefined);
      return undefined;
    }
    // mtime = last use, for least-recently-used eviction.
    const t = new Date(this.now());
    await lutimes(path, t, t).catch(() => undefined);
    return entry;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    const file = encodeEntry(key, entry);
    if (file.length > this.maxBytes) return;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const path = this.pathOf(key);
      const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, file, { mode: 0o600 });
        const t = new Date(this.now());
        await utimes(tmp, t, t);
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      await this.evict(path);
    } catch {
      // A cache that cannot be written is a cache that misses: collateral is fetched again next time.
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch(() => undefined);
  }

  /** Brings the directory under its bounds: expired entries first, then least recently used; never `keep`. */
  private async evict(keep: string): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => NAME.test(n));
    const files = (
      await Promise.all(
        names.map(async (n) => {
          const path = join(this.dir, n);
          try {
            const s = await stat(path);
            return { path, size: s.size, used: s.mtimeMs };
          } catch {
            return undefined;
          }
        }),
      )
    ).filter((f): f is { path: string; size: number; used: number } => f !== undefined);
    let total = files.reduce((n, f) => n + f.size, 0);
    let count = files.length;
    if (total <= this.maxBytes && count <= this.maxEntries) return;
    const now = this.now();
    const expired = new Set<string>();
    await Promise.all(
      files.map(async (f) => {
        const e = await readRegularFile(f.path, this.maxBytes).then(headerExpiry, () => undefined);
        if (e !== undefined && e <= now) expired.add(f.path);
      }),
    );
    files.sort((a, b) => Number(expired.has(b.path)) - Number(expired.has(a.path)) || a.used - b.used);
    for (const f of files) {
      if (total <= this.maxBytes && count <= this.maxEntries) break;
      if (f.path === keep) continue;
      await unlink(f.path).catch(() => undefined);
      total -= f.size;
      count--;
    }
  }
}

/** expiresAt from an entry file's header, without checking the value (eviction order only). */
function headerExpiry(file: Uint8Array): number | undefined {
  if (file.length < MAGIC.length + 4) return undefined;
  const n = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(MAGIC.length);
  try {
    const h = JSON.parse(new TextDecoder().decode(file.subarray(MAGIC.length + 4, MAGIC.length + 4 + n))) as Partial<Header>;
    return typeof h.expiresAt === 'number' ? h.expiresAt : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cache a Node client or gateway uses unless told otherwise: a DiskCache in `dir` (or the default
 * directory), or, when no directory can be determined, undefined (callers fall back to memory).
 */
export function defaultDiskCache(dir?: string, env?: Record<string, string | undefined>): DiskCache | undefined {
  const d = dir ?? defaultCacheDir(env);
  return d ? new DiskCache({ dir: d }) : undefined;
}

/**
 * Reads a cache file only if it is a regular file no larger than `max` bytes, opened without following a
 * symlink: whoever can write the directory must not be able to make a read hang (a FIFO, /dev/zero) or exhaust
 * memory. Its content is never trusted anyway (the verifier re-verifies every item).
 */
async function readRegularFile(path: string, max: number): Promise<Uint8Array> {
  const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > max) throw new Error('not a cache file');
    const out = new Uint8Array(st.size);
    let at = 0;
    while (at < out.length) {
      const { bytesRead } = await fh.read(out, at, out.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return out.subarray(0, at);
  } finally {
    await fh.close();
  }
}
