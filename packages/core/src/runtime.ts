/**
 * Injected dependencies: time, network and cache. `core`, `verifier` and `browser` never reach for a global
 * clock, `fetch` or storage on their own; the outermost public call takes these from its options and only
 * there falls back to the platform defaults.
 */
import { BoundedMap } from './bounded-map.js';
import { CcinferError, CollateralError, TransportError, type ErrorCode } from './errors.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A `fetch`-shaped function. Node's undici, the browser's `fetch` or a test fake. */
export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

export interface CacheEntry {
  value: Uint8Array;
  /** Epoch milliseconds after which the entry is stale; absent = until evicted. */
  expiresAt?: number;
}

/** A byte cache for collateral (certificates, CRLs, TCB info, RIMs). Keys are URLs or derived ids. */
export interface Cache {
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry): Promise<void>;
  delete?(key: string): Promise<void>;
}

/** In-memory cache, bounded by entry count (least recently used evicted first). */
export class MemoryCache implements Cache {
  private readonly map: BoundedMap<string, CacheEntry>;
  constructor(maxEntries = 512) {
    this.map = new BoundedMap(maxEntries);
  }
  async get(key: string): Promise<CacheEntry | undefined> {
    return this.map.get(key);
  }
  async set(key: string, entry: CacheEntry): Promise<void> {
    this.map.set(key, entry);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
}

export interface FetchBytesOptions {
  fetcher: Fetcher;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Retries after the first attempt, on network errors, timeouts, 429 and 5xx. Default 2. */
  retries?: number;
  /** First back-off delay; doubled per retry, capped at 8 s; `Retry-After` seconds honoured up to that cap. */
  backoffMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  method?: string;
  body?: Uint8Array;
  /** Largest body accepted. Default 4 MiB. */
  maxBytes?: number;
  /** Injected for tests; default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
}

export interface FetchedBytes {
  body: Uint8Array;
  headers: Headers;
  status: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * GET (or POST) with timeouts, bounded retries with exponential back-off on 429/5xx and network errors,
 * a size cap and cancellation. Collateral servers are untrusted for content (everything fetched is verified
 * by signature) but we still bound what we read from them.
 */
export async function fetchBytes(url: string, opts: FetchBytesOptions): Promise<FetchedBytes> {
  const retries = opts.retries ?? 2;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  const sleep = opts.sleep ?? defaultSleep;
  let delay = opts.backoffMs ?? 250;
  let last: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (opts.signal?.aborted) throw new TransportError('ERR_FETCH_ABORTED', `request to ${url} aborted`, { cause: opts.signal.reason });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new TransportError('ERR_FETCH_TIMEOUT', `no answer from ${url} in ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => ac.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let retryAfterMs: number | undefined;
    try {
      const init: RequestInit = { method: opts.method ?? 'GET', signal: ac.signal };
      if (opts.headers) init.headers = opts.headers;
      if (opts.body) init.body = opts.body as Uint8Array<ArrayBuffer>;
      const res = await opts.fetcher(url, init);
      if (res.status === 429 || res.status >= 500) {
        const header = res.headers.get('retry-after');
        const ra = header === null ? NaN : Number(header);
        if (Number.isFinite(ra) && ra >= 0) retryAfterMs = Math.min(ra * 1000, 8000);
        last = new TransportError('ERR_FETCH_HTTP_STATUS', `${url} answered HTTP ${res.status}`, { status: res.status });
        await res.body?.cancel().catch(() => undefined);
      } else if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new TransportError('ERR_FETCH_HTTP_STATUS', `${url} answered HTTP ${res.status}`, { status: res.status });
      } else {
        return { body: await readCapped(res, maxBytes, url), headers: res.headers, status: res.status };
      }
    } catch (err) {
      if (err instanceof TransportError && err.code !== 'ERR_FETCH_TIMEOUT' && err.code !== 'ERR_FETCH_HTTP_STATUS') throw err;
      if (err instanceof TransportError && err.code === 'ERR_FETCH_HTTP_STATUS' && err.status !== undefined && err.status < 500 && err.status !== 429) throw err;
      if (opts.signal?.aborted) throw new TransportError('ERR_FETCH_ABORTED', `request to ${url} aborted`, { cause: opts.signal.reason });
      last = ac.signal.aborted && ac.signal.reason instanceof TransportError ? ac.signal.reason : err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (attempt < retries) {
      await sleep(retryAfterMs ?? delay);
      delay = Math.min(delay * 2, 8000);
    }
  }
  if (last instanceof TransportError) throw last;
  throw new TransportError('ERR_FETCH_FAILED', `request to ${url} failed`, { cause: last });
}

async function readCapped(res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new TransportError('ERR_FETCH_TOO_LARGE', `${url}: body of ${declared} bytes exceeds ${maxBytes}`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new TransportError('ERR_FETCH_TOO_LARGE', `${url}: body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Collateral lookup in the order of docs/architecture.md "Layers inside the verifier": what the caller already has (the bundle), then the cache, then
 * the network. A missing fetcher with nothing cached is `missingCode`, so callers can tell "unavailable"
 * from "invalid".
 */
/**
 * The error for a collateral fetch that failed: a cancelled appraisal is the caller's doing, not missing
 * collateral, so fetchBytes' `ERR_FETCH_ABORTED` stays; anything else is `missingCode`.
 */
export function collateralFetchFailure(url: string, missingCode: ErrorCode, cause: unknown, signal: AbortSignal | undefined): CcinferError {
  if (signal?.aborted && cause instanceof CcinferError && cause.code === 'ERR_FETCH_ABORTED') return cause;
  return new CollateralError(missingCode, `could not fetch ${url}`, { cause });
}

export async function cachedFetch(
  url: string,
  opts: { fetcher?: Fetcher; cache?: Cache; now: Date; ttlMs?: number; missingCode: ErrorCode } & Omit<FetchBytesOptions, 'fetcher'>,
): Promise<Uint8Array> {
  const hit = await opts.cache?.get(url);
  if (hit && (hit.expiresAt === undefined || hit.expiresAt > opts.now.getTime())) return hit.value;
  if (!opts.fetcher) throw new CollateralError(opts.missingCode, `${url} is not cached and no fetcher is configured`);
  let body: Uint8Array;
  try {
    ({ body } = await fetchBytes(url, { ...opts, fetcher: opts.fetcher }));
  } catch (cause) {
    throw collateralFetchFailure(url, opts.missingCode, cause, opts.signal);
  }
  const entry: CacheEntry = { value: body };
  if (opts.ttlMs !== undefined) entry.expiresAt = opts.now.getTime() + opts.ttlMs;
  await opts.cache?.set(url, entry);
  return body;
}
