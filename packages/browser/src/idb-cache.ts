/**
 * A collateral cache in IndexedDB, so a page that reloads does not ask AMD, Intel or NVIDIA (or the collateral
 * proxy) again. Collateral is public and signed; the cache is untrusted for content like the network is.
 */
import { CollateralError, ConfigError, type Cache, type CacheEntry } from '@ccinfer/core';

const STORE = 'collateral';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new CollateralError('ERR_IDB_FAILED', 'IndexedDB request failed', { cause: r.error }));
  });
}

export class IndexedDbCache implements Cache {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creating when needed) the database `name`. */
  static async open(name = 'ccinfer-collateral'): Promise<IndexedDbCache> {
    const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!idb) throw new ConfigError('ERR_IDB_UNAVAILABLE', 'IndexedDB is not available in this environment', { fields: ['indexedDb'] });
    const open = idb.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    return new IndexedDbCache(await req(open));
  }

  private store(mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const v = (await req(this.store('readonly').get(key))) as CacheEntry | undefined;
    return v && v.value instanceof Uint8Array ? v : undefined;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    await req(this.store('readwrite').put(entry.expiresAt === undefined ? { value: entry.value } : { value: entry.value, expiresAt: entry.expiresAt }, key));
  }

  async delete(key: string): Promise<void> {
    await req(this.store('readwrite').delete(key));
  }

  close(): void {
    this.db.close();
  }
}
