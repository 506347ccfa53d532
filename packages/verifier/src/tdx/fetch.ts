/**
 * Fetching TDX collateral from Intel PCS v4 (or a PCCS with the same API), cached until each item's own
 * `nextUpdate` — Intel's terms require caching, and the items are signed, so the cache and the transport are
 * untrusted for content (everything is verified after retrieval). Retries with back-off on 429/5xx come from
 * core `fetchBytes`.
 */
import { CollateralError, ParseError, concat, fetchBytes, type Cache, type FetchBytesOptions, type Fetcher } from '@ccinfer/core';
import { ByteReader, collateralFetchFailure } from '@ccinfer/core/internal';
import { parseCrl } from '../x509/crl.js';
import {
  ISSUER_CHAIN_HEADERS,
  ROOT_CA_CRL_URL,
  decodeIssuerChainHeader,
  normalizeCrl,
  pckCrlUrl,
  qeIdentityUrl,
  tcbInfoUrl,
  topLevelMembers,
  type TdxCollateral,
  type UpdateType,
} from './collateral.js';

export interface FetchTdxCollateralOptions {
  fmspc: string;
  ca: 'platform' | 'processor';
  now: Date;
  fetcher?: Fetcher;
  cache?: Cache;
  /** `update=early` fetches the TCB recovery Intel is about to publish (tdx.md §9.2). */
  update?: UpdateType;
  /** PCS or PCCS base URL. */
  base?: string;
  rootCaCrlUrl?: string;
  fetch?: Omit<FetchBytesOptions, 'fetcher'>;
}

interface Item {
  body: Uint8Array;
  chain: Uint8Array | undefined;
}

function frame(item: Item): Uint8Array {
  const chain = item.chain ?? new Uint8Array(0);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, chain.length);
  return concat(len, chain, item.body);
}

function unframe(bytes: Uint8Array): Item {
  const r = new ByteReader(bytes, 'ERR_TDX_COLLATERAL_MALFORMED');
  const n = r.u32be('chain length');
  const chain = r.bytesView(n, 'chain');
  return { chain: n ? chain : undefined, body: r.bytesView(r.remaining, 'body') };
}

/** nextUpdate of a PCS JSON document, read (unverified) for cache expiry only. */
function jsonNextUpdate(body: Uint8Array, member: string): number | undefined {
  try {
    const raw = topLevelMembers(body).get(member);
    const v = raw && (JSON.parse(new TextDecoder().decode(raw)) as { nextUpdate?: unknown }).nextUpdate;
    const t = typeof v === 'string' ? Date.parse(v) : NaN;
    return Number.isNaN(t) ? undefined : t;
  } catch {
    return undefined;
  }
}

function crlNextUpdate(body: Uint8Array): number | undefined {
  try {
    return parseCrl(normalizeCrl(body)).nextUpdate?.getTime();
  } catch {
    return undefined;
  }
}

async function getItem(
  url: string,
  headers: readonly string[] | undefined,
  expiry: (body: Uint8Array) => number | undefined,
  opts: FetchTdxCollateralOptions,
): Promise<Item> {
  const hit = await opts.cache?.get(url);
  if (hit && hit.expiresAt !== undefined && hit.expiresAt > opts.now.getTime()) return unframe(hit.value);
  if (!opts.fetcher) throw new CollateralError('ERR_TDX_COLLATERAL_MISSING', `${url} is not cached and no fetcher is configured`);
  let res: Awaited<ReturnType<typeof fetchBytes>>;
  try {
    res = await fetchBytes(url, { ...opts.fetch, fetcher: opts.fetcher });
  } catch (cause) {
    throw collateralFetchFailure(url, 'ERR_TDX_COLLATERAL_MISSING', cause, opts.fetch?.signal ?? undefined);
  }
  let chain: Uint8Array | undefined;
  if (headers) {
    const name = headers.find((h) => res.headers.get(h) !== null);
    if (!name) throw new ParseError('ERR_TDX_COLLATERAL_MALFORMED', `${url}: response has no ${headers.join(' / ')} header`);
    chain = decodeIssuerChainHeader(res.headers.get(name));
  }
  const item: Item = { body: res.body, chain };
  const expiresAt = expiry(res.body);
  // Cache only what says how long it is good for; never past its own nextUpdate.
  if (expiresAt !== undefined) await opts.cache?.set(url, { value: frame(item), expiresAt });
  return item;
}

/** All collateral for a platform (FMSPC from the PCK, CA from the PCK leaf's issuer). */
export async function fetchTdxCollateral(opts: FetchTdxCollateralOptions): Promise<TdxCollateral> {
  const u = opts.update ? { update: opts.update } : {};
  const b = opts.base ? { base: opts.base } : {};
  const [tcb, qe, pck, root] = await Promise.all([
    getItem(tcbInfoUrl(opts.fmspc, { ...u, ...b }), ISSUER_CHAIN_HEADERS.tcbInfo, (x) => jsonNextUpdate(x, 'tcbInfo'), opts),
    getItem(qeIdentityUrl({ ...u, ...b }), ISSUER_CHAIN_HEADERS.qeIdentity, (x) => jsonNextUpdate(x, 'enclaveIdentity'), opts),
    getItem(pckCrlUrl(opts.ca, b), ISSUER_CHAIN_HEADERS.pckCrl, crlNextUpdate, opts),
    getItem(opts.rootCaCrlUrl ?? ROOT_CA_CRL_URL, undefined, crlNextUpdate, opts),
  ]);
  const out: TdxCollateral = {
    tcbInfo: tcb.body,
    tcbInfoIssuerChain: tcb.chain!,
    qeIdentity: qe.body,
    qeIdentityIssuerChain: qe.chain!,
    pckCrl: pck.body,
    rootCaCrl: root.body,
  };
  if (pck.chain) out.pckCrlIssuerChain = pck.chain;
  return out;
}
