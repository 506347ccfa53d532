/**
 * The offline collateral file (`ccinfer collateral fetch` writes it; browser clients load it): a snapshot of
 * the collateral cache an appraisal of one bundle filled — AMD KDS certificates and CRLs, Intel PCS TCB Info,
 * QE Identity and CRLs, NVIDIA RIMs and OCSP responses — under the same keys the verifier looks them up by.
 * Every item in it is signed by its vendor and verified after it is read, so the file needs no integrity
 * protection of its own: a tampered item fails its signature check like a tampered network answer would.
 *
 *   { "format": "ccinfer-collateral/1", "createdAt": ISO-8601,
 *     "entries": [ { "key": string, "value": base64, "expiresAt"?: epoch-ms } ] }
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from './bytes.js';
import { ConfigError } from './errors.js';
import type { Cache, CacheEntry } from './runtime.js';

export const COLLATERAL_FILE_FORMAT = 'ccinfer-collateral/1';

/** Error codes of the collateral file codec (stable public API). */
export type CollateralFileErrorCode = 'ERR_COLLATERAL_FILE_INVALID'; // ConfigError: not a ccinfer-collateral/1 document

export interface CollateralFile {
  createdAt: string;
  entries: Map<string, CacheEntry>;
}

export function encodeCollateralFile(entries: Iterable<[string, CacheEntry]>, createdAt: Date): Uint8Array {
  const list = [...entries].map(([key, e]) => ({ key, value: toBase64(e.value), ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}) }));
  return utf8(JSON.stringify({ format: COLLATERAL_FILE_FORMAT, createdAt: createdAt.toISOString(), entries: list }, null, 1) + '\n');
}

export function parseCollateralFile(input: Uint8Array | string): CollateralFile {
  const bad = (why: string, cause?: unknown): ConfigError =>
    new ConfigError('ERR_COLLATERAL_FILE_INVALID', `not a ${COLLATERAL_FILE_FORMAT} file: ${why}`, cause === undefined ? {} : { cause });
  let doc: unknown;
  try {
    doc = JSON.parse(typeof input === 'string' ? input : fromUtf8(input));
  } catch (cause) {
    throw bad('not JSON', cause);
  }
  const d = doc as { format?: unknown; createdAt?: unknown; entries?: unknown };
  if (typeof d !== 'object' || d === null || d.format !== COLLATERAL_FILE_FORMAT) throw bad('format is not ' + COLLATERAL_FILE_FORMAT);
  if (typeof d.createdAt !== 'string' || Number.isNaN(Date.parse(d.createdAt))) throw bad('createdAt is not a date');
  if (!Array.isArray(d.entries)) throw bad('entries is not an array');
  const entries = new Map<string, CacheEntry>();
  d.entries.forEach((e: unknown, i) => {
    const x = e as { key?: unknown; value?: unknown; expiresAt?: unknown };
    if (typeof x !== 'object' || x === null || typeof x.key !== 'string' || typeof x.value !== 'string') throw bad(`entries[${i}] needs a string key and a base64 value`);
    if (x.expiresAt !== undefined && !Number.isSafeInteger(x.expiresAt)) throw bad(`entries[${i}].expiresAt is not epoch milliseconds`);
    if (entries.has(x.key)) throw bad(`entries[${i}] repeats key ${x.key}`);
    let value: Uint8Array;
    try {
      value = fromBase64(x.value);
    } catch (cause) {
      throw bad(`entries[${i}].value is not base64`, cause);
    }
    entries.set(x.key, x.expiresAt === undefined ? { value } : { value, expiresAt: x.expiresAt as number });
  });
  return { createdAt: d.createdAt, entries };
}

/** Copies a collateral file's entries into a cache. */
export async function loadCollateralFile(cache: Cache, file: CollateralFile | Uint8Array | string): Promise<number> {
  const f = file instanceof Uint8Array || typeof file === 'string' ? parseCollateralFile(file) : file;
  for (const [k, v] of f.entries) await cache.set(k, v);
  return f.entries.size;
}

/**
 * A cache that remembers every entry an appraisal used through it — fetched and written, or found in the
 * inner cache — so that exactly what one bundle needs can be written to a collateral file.
 */
export class RecordingCache implements Cache {
  readonly written = new Map<string, CacheEntry>();
  constructor(private readonly inner?: Cache) {}
  async get(key: string): Promise<CacheEntry | undefined> {
    const own = this.written.get(key);
    if (own) return own;
    const hit = await this.inner?.get(key);
    if (hit) this.written.set(key, hit);
    return hit;
  }
  async set(key: string, entry: CacheEntry): Promise<void> {
    this.written.set(key, entry);
    await this.inner?.set(key, entry);
  }
}
