/** Intel PCS v4 URL builders, response parsers and the caching fetcher (fake fetch, simulated collateral). */
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, CollateralError, MemoryCache, ParseError, toHex, utf8 } from '@ccinfer/core';
import {
  decodeIssuerChainHeader,
  normalizeCrl,
  pckCrlUrl,
  qeIdentityUrl,
  tcbInfoUrl,
  ROOT_CA_CRL_URL,
  type TdxCollateral,
} from '../../src/tdx/collateral.js';
import { fetchTdxCollateral } from '../../src/tdx/fetch.js';
import { appraiseTdx } from '../../src/tdx/appraise.js';
import { SIMULATED_NOW, mintIntelPki, mintTdxCollateral, mintTdxQuote, type SimulatedIntelPki } from '../../src/testing/tdx.js';
import { toPem } from '../../src/testing/x509.js';
import { expectCode, expectCodeSync } from '../helpers.js';

let pki: SimulatedIntelPki;
let coll: TdxCollateral;
beforeAll(async () => {
  pki = await mintIntelPki();
  coll = await mintTdxCollateral(pki);
});

describe('PCS v4 URLs and headers', () => {
  it('builds the PCS URLs', () => {
    expect(tcbInfoUrl('00806F050000')).toBe('https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=00806f050000');
    expect(tcbInfoUrl('00806f050000', { update: 'early' })).toBe('https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=00806f050000&update=early');
    expect(qeIdentityUrl({ update: 'standard', base: 'https://pccs.example' })).toBe('https://pccs.example/tdx/certification/v4/qe/identity?update=standard');
    expect(pckCrlUrl('processor')).toBe('https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=processor&encoding=der');
    expectCodeSync(() => tcbInfoUrl('xyz'), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
  });

  it('decodes URL-encoded issuer chain headers', () => {
    const pem = toPem([pki.tcbSigningDer, pki.rootDer]);
    expect(new TextDecoder().decode(decodeIssuerChainHeader(encodeURIComponent(pem)))).toBe(pem);
    expectCodeSync(() => decodeIssuerChainHeader(null), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
    expectCodeSync(() => decodeIssuerChainHeader('%E0%A4%A'), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
    expectCodeSync(() => decodeIssuerChainHeader('hello'), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
  });

  it('accepts CRLs as DER, PEM or hex', () => {
    const d = coll.pckCrl;
    expect(normalizeCrl(d)).toBe(d);
    expect(normalizeCrl(utf8(toPem(d, 'X509 CRL')))).toEqual(d);
    expect(normalizeCrl(utf8(toHex(d)))).toEqual(d);
    expectCodeSync(() => normalizeCrl(utf8('nope')), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
  });
});

function fakePcs(c: TdxCollateral, opts: { fail429?: number; dropHeader?: boolean } = {}): { fetcher: (url: string) => Promise<Response>; calls: string[] } {
  const calls: string[] = [];
  let throttled = opts.fail429 ?? 0;
  const chain = (b: Uint8Array): string => encodeURIComponent(new TextDecoder().decode(b));
  const fetcher = async (url: string): Promise<Response> => {
    calls.push(url);
    if (throttled > 0) {
      throttled--;
      return new Response('slow down', { status: 429, headers: { 'retry-after': '0' } });
    }
    const u = new URL(url);
    const h = (name: string, v: Uint8Array): Record<string, string> => (opts.dropHeader ? {} : { [name]: chain(v) });
    if (u.pathname.endsWith('/tdx/certification/v4/tcb')) return new Response(c.tcbInfo as Uint8Array<ArrayBuffer>, { headers: h('TCB-Info-Issuer-Chain', c.tcbInfoIssuerChain) });
    if (u.pathname.endsWith('/qe/identity')) return new Response(c.qeIdentity as Uint8Array<ArrayBuffer>, { headers: h('SGX-Enclave-Identity-Issuer-Chain', c.qeIdentityIssuerChain) });
    if (u.pathname.endsWith('/pckcrl')) return new Response(c.pckCrl as Uint8Array<ArrayBuffer>, { headers: h('SGX-PCK-CRL-Issuer-Chain', c.pckCrlIssuerChain!) });
    if (url === ROOT_CA_CRL_URL) return new Response(c.rootCaCrl as Uint8Array<ArrayBuffer>);
    return new Response('not found', { status: 404 });
  };
  return { fetcher, calls };
}

describe('fetchTdxCollateral', () => {
  it('fetches, caches until nextUpdate, and is served from cache afterwards', async () => {
    const { fetcher, calls } = fakePcs(coll);
    const cache = new MemoryCache();
    const got = await fetchTdxCollateral({ fmspc: '00806f050000', ca: 'platform', now: SIMULATED_NOW, fetcher, cache });
    expect(got.tcbInfo).toEqual(coll.tcbInfo);
    expect(new TextDecoder().decode(got.tcbInfoIssuerChain)).toBe(new TextDecoder().decode(coll.tcbInfoIssuerChain));
    expect(calls.length).toBe(4);
    await fetchTdxCollateral({ fmspc: '00806f050000', ca: 'platform', now: SIMULATED_NOW, cache });
    expect(calls.length).toBe(4);
    // After the TCB Info's nextUpdate the cache entry is stale: no fetcher → missing.
    await expectCode(fetchTdxCollateral({ fmspc: '00806f050000', ca: 'platform', now: new Date('2025-08-01T00:00:00Z'), cache }), CollateralError, 'ERR_TDX_COLLATERAL_MISSING');
  });

  it('backs off on 429 and passes update=early', async () => {
    const { fetcher, calls } = fakePcs(coll, { fail429: 1 });
    await fetchTdxCollateral({ fmspc: '00806f050000', ca: 'platform', now: SIMULATED_NOW, fetcher, update: 'early', fetch: { sleep: async () => undefined } });
    expect(calls.length).toBe(5);
    expect(calls.some((u) => u.includes('update=early'))).toBe(true);
  });

  it('a response without its issuer chain header is malformed', async () => {
    const { fetcher } = fakePcs(coll, { dropHeader: true });
    await expectCode(fetchTdxCollateral({ fmspc: '00806f050000', ca: 'platform', now: SIMULATED_NOW, fetcher }), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
  });

  it('appraisal fetches collateral when none is supplied', async () => {
    const { quote } = await mintTdxQuote(pki);
    const { fetcher } = fakePcs(coll);
    const checks = new CheckList();
    const claims = await appraiseTdx(quote, { now: SIMULATED_NOW, anchors: pki.anchors, fetcher, cache: new MemoryCache(), checks });
    expect(claims.tcbStatus).toBe('UpToDate');
    expect(checks.checks.find((c) => c.id === 'tdx.collateral')?.detail).toBe('fetched');
  });
});
