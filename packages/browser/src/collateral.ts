/**
 * Collateral without CORS. AMD KDS and Intel PCS send no CORS headers, so a page cannot fetch from them. The
 * browser client takes collateral, in this order (docs/architecture.md "Layers inside the verifier"): from the evidence bundle (the gateway attaches
 * it), from the cache (memory, IndexedDB, or an offline file made by `ccinfer collateral fetch`), and only
 * then from the network — through a collateral proxy the application runs, or directly from a server that does
 * send CORS headers (a PCCS). Everything is verified after retrieval, so neither the proxy nor the cache is
 * trusted for content.
 */
import { ConfigError, type Cache, type CacheEntry, type Fetcher } from '@ccinfer/core';

/**
 * A Fetcher that sends every collateral request through `proxy`: a URL template whose `{url}` is replaced by
 * the percent-encoded vendor URL (`https://app.example/collateral?u={url}`), or a function. Method, headers
 * and body (OCSP is a POST) are passed on unchanged.
 */
export function proxiedFetcher(proxy: string | ((url: string) => string), fetcher: Fetcher): Fetcher {
  if (typeof proxy === 'string' && !proxy.includes('{url}')) {
    throw new ConfigError('ERR_COLLATERAL_PROXY_URL', `collateral proxy "${proxy}" has no {url} placeholder`, { fields: ['collateralProxy'] });
  }
  const rewrite = typeof proxy === 'function' ? proxy : (url: string) => proxy.replace('{url}', encodeURIComponent(url));
  return (url, init) => fetcher(rewrite(url), init);
}

/** Memory in front of a persistent cache: reads fall through and are promoted; writes go to both. */
export class TieredCache implements Cache {
  constructor(
    private readonly front: Cache,
    private readonly back: Promise<Cache | undefined>,
  ) {}
  async get(key: string): Promise<CacheEntry | undefined> {
    const hit = await this.front.get(key);
    if (hit) return hit;
    const back = await this.back;
    const e = await back?.get(key);
    if (e) await this.front.set(key, e);
    return e;
  }
  async set(key: string, entry: CacheEntry): Promise<void> {
    await this.front.set(key, entry);
    await (await this.back)?.set(key, entry);
  }
  async delete(key: string): Promise<void> {
    await this.front.delete?.(key);
    await (await this.back)?.delete?.(key);
  }
}
