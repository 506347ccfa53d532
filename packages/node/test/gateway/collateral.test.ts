/**
 * Gateway-attached collateral for real pods: a configfs provider (in-memory configfs-tsm) whose bundles carry
 * no collateral, a fake AMD KDS / Intel PCS / NVIDIA RIM + OCSP serving simulated collateral, and a client
 * with no fetcher at all (as a browser, which cannot reach the vendors) that must accept the pod on the
 * attached collateral alone — and fail closed without it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CcinferError, MemoryCache, decodeBundle, encodeBundle, fromHex, randomBytes, toBase64, utf8, type Clock, type EvidenceBundle } from '@ccinfer/core';
import { KDS_BASE, RIM_SERVICE_URL, crlUrl, parseCrl, parsePolicy, type Policy } from '@ccinfer/verifier';
import {
  defaultBlocks,
  encodeReport,
  gpuOpaque,
  mintDevice,
  mintNvidiaCollateral,
  mintSpdmReport,
  mintTdxBundleCollateral,
  mintTdxQuote,
  signReport,
  simulatedPodMaterial,
  type MintedDevice,
  type SimulatedAmd,
  type SimulatedPodMaterial,
} from '@ccinfer/verifier/testing';
import { createSecureClient } from '../../src/client.js';
import { createCollateralAttacher, createConfigfsProvider, createGateway, type CollateralAttacherOptions, type EvidenceProvider, type Gateway } from '../../src/gateway/index.js';
import { SNP_AUX, fakeVendors, memoryTsm } from './fake-vendors.js';

let m: SimulatedPodMaterial;
let leaf: Awaited<ReturnType<SimulatedAmd['mintLeaf']>>;
let device: MintedDevice;
let rims: Map<string, Uint8Array>;
let tdx: Map<string, Uint8Array>;

async function gpuReport(nonce: Uint8Array): Promise<Uint8Array> {
  return mintSpdmReport({ nonce, blocks: defaultBlocks(64), opaque: gpuOpaque({ chip: 'GH100' }), signer: device.leafKey });
}

beforeAll(async () => {
  m = await simulatedPodMaterial();
  leaf = await m.amd.mintLeaf({ kind: 'vcek' });
  // One GPU with a stable certificate chain, as real hardware has: its collateral can be cached.
  device = await mintDevice(m.nvidia, {});
  ({ rims } = await mintNvidiaCollateral(m.nvidia, [{ report: await gpuReport(randomBytes(32)), certChain: device.certChainPem }], { ocsp: false }));
  tdx = await mintTdxBundleCollateral(m.intel);
});

/** A configfs provider on an in-memory configfs-tsm: SNP (VCEK, ASK, ARK in auxblob) or TDX, and `gpus` GPUs. */
function configfs(tee: 'snp' | 'tdx', gpus = 0): EvidenceProvider {
  const fs = memoryTsm(async (inblob) =>
    tee === 'snp'
      ? { provider: 'sev_guest', outblob: await signReport(encodeReport({ reportData: inblob }, m.amd.product, 'vcek'), leaf.key), auxblob: SNP_AUX(leaf.der, m) }
      : { provider: 'tdx_guest', outblob: (await mintTdxQuote(m.intel, { version: 4, reportData: inblob })).quote },
  );
  const gpuJson = async (nonceHex: string): Promise<string> => {
    const list = await Promise.all(
      Array.from({ length: gpus }, async () => ({ evidence: toBase64(await gpuReport(fromHex(nonceHex))), certificate: toBase64(utf8(device.certChainPem)) })),
    );
    return JSON.stringify({ evidence_list: list });
  };
  return createConfigfsProvider({ fs, ...(gpus ? { gpuCommand: ['nvattest-collect'], run: async (argv: string[]) => gpuJson(argv.at(-1)!) } : {}) });
}

const request = () => ({ nonce: randomBytes(32), keyConfig: randomBytes(41) });
const gpuPolicy: () => Policy = () => parsePolicy({ version: 1, gpu: { mode: 'single', count: { min: 1, max: 1 } } });
const SNP_CRL = (): string => crlUrl(m.amd.product, 'vcek', KDS_BASE);

let open: Gateway[] = [];
afterEach(async () => {
  await Promise.all(open.map((g) => g.close()));
  open = [];
});

async function pod(evidence: EvidenceProvider, attachCollateral: CollateralAttacherOptions | false): Promise<string> {
  const gateway = await createGateway({ upstream: 'http://127.0.0.1:9', evidence, attachCollateral });
  open.push(gateway);
  return (await gateway.listen(0, '127.0.0.1')).url;
}

/** These configfs pods have no GPU: accepted only because the policy says so (gpu.count.min 0). */
const cpuOnly = (): Policy => parsePolicy({ version: 1, gpu: { count: { min: 0 } } });

/** A browser-style client: no fetcher (vendors unreachable), memory cache only. */
function browserLike(url: string, policy: Policy = cpuOnly()) {
  const seen: string[] = [];
  const rejected: string[] = [];
  const client = createSecureClient({ endpoint: url, anchors: m.anchors, policy, fetcher: undefined, cache: undefined, allowUnpinnedMeasurements: true, onCheck: (c) => seen.push(`${c.id}:${c.status}`) });
  client.on('rejected', (e) => rejected.push(...(e.document?.errors.map((x) => x.code) ?? [])));
  return { client, seen, rejected };
}

function logger(): { events: { event: string; detail?: Record<string, unknown> }[]; log: NonNullable<CollateralAttacherOptions['log']> } {
  const events: { event: string; detail?: Record<string, unknown> }[] = [];
  return { events, log: (event, detail) => void events.push(detail ? { event, detail } : { event }) };
}

describe('gateway-attached collateral', () => {
  it('SNP + GPU on configfs: a client with no fetcher accepts the pod on the attached CRL, RIMs and OCSP alone', async () => {
    const vendors = await fakeVendors(m, { rims });
    vendors.ocspKnows(device.certs);
    const url = await pod(configfs('snp', 1), { fetcher: vendors.fetcher, cache: new MemoryCache() });
    const { client, seen } = browserLike(url, gpuPolicy());
    const doc = await client.attest();
    expect(doc.ok).toBe(true);
    for (const id of ['snp.revocation', 'binding.reportData', 'gpu0.ocsp', 'gpu0.rim.driver', 'gpu0.rim.vbios', 'gpu0.rim.driver.ocsp', 'gpu0.measurements']) expect(seen).toContain(`${id}:passed`);
    expect(vendors.calls).toContain(`GET ${SNP_CRL()}`);
    expect(vendors.calls.filter((c) => c.startsWith(`GET ${RIM_SERVICE_URL}`))).toHaveLength(2);
    // Device chain (leaf and root excepted) and the RIM signer chain (root excepted), each asked once.
    const ocspCalls = vendors.calls.filter((c) => c.startsWith('POST ')).length;
    expect(ocspCalls).toBe(device.certs.length - 2 + 2);

    // Later attests are served from the gateway's cache: no vendor is asked again.
    const before = vendors.calls.length;
    expect((await client.attest({ force: true })).ok).toBe(true);
    expect(vendors.calls.length).toBe(before);
  });

  it('without attached collateral the same client fails closed (the CRL is unobtainable)', async () => {
    const url = await pod(configfs('snp'), false);
    const { client, rejected } = browserLike(url);
    await expect(client.attest()).rejects.toBeInstanceOf(CcinferError);
    expect(rejected).toEqual(['ERR_SNP_CRL_UNAVAILABLE']);
  });

  it("TDX on configfs: Intel's PCS collateral for the quote's FMSPC is attached, and the client appraises with it", async () => {
    const vendors = await fakeVendors(m, { tdx });
    const url = await pod(configfs('tdx'), { fetcher: vendors.fetcher, cache: new MemoryCache() });
    const { client, seen } = browserLike(url);
    expect((await client.attest()).ok).toBe(true);
    for (const id of ['tdx.collateral', 'tdx.collateral.tcbInfo', 'tdx.collateral.qeIdentity', 'tdx.collateral.rootCrl', 'tdx.tcb']) expect(seen).toContain(`${id}:passed`);
    expect(vendors.calls.filter((c) => c.includes('/tdx/certification/v4/tcb?fmspc='))).toHaveLength(1);

    const bare = await pod(configfs('tdx'), false);
    const b = browserLike(bare);
    await expect(b.client.attest()).rejects.toBeInstanceOf(CcinferError);
    expect(b.rejected).toEqual(['ERR_TDX_COLLATERAL_MISSING']);
  });

  it('changes nothing but `collateral`: the bound evidence is the provider’s, byte for byte', async () => {
    const vendors = await fakeVendors(m, { rims });
    vendors.ocspKnows(device.certs);
    const bundle = await configfs('snp', 1).collect(request());
    expect(bundle.collateral).toBeUndefined();
    const attached = await createCollateralAttacher({ fetcher: vendors.fetcher, cache: new MemoryCache() }).attach(bundle);
    expect(attached.collateral?.snp?.crl).toBeInstanceOf(Uint8Array);
    expect([...(attached.collateral?.nvidia?.rims?.keys() ?? [])].sort()).toEqual([...rims.keys()].sort());
    expect(attached.collateral?.nvidia?.ocsp?.length).toBe(device.certs.length - 2 + 2);
    const { collateral: _c, ...rest } = attached;
    expect(encodeBundle(rest)).toEqual(encodeBundle(bundle));
    // And the result is a bundle the client's decoder accepts.
    expect(decodeBundle(encodeBundle(attached)).collateral?.snp).toBeDefined();
  });

  it('keeps what the provider attached and fetches only what is missing', async () => {
    const vendors = await fakeVendors(m, { rims });
    const bundle = await configfs('snp').collect(request());
    const own = await m.amd.mintCrl();
    const attached = await createCollateralAttacher({ fetcher: vendors.fetcher, cache: new MemoryCache() }).attach({ ...bundle, collateral: { snp: { crl: own } } });
    expect(attached.collateral?.snp?.crl).toBe(own);
    expect(vendors.calls).toEqual([]);
  });

  it('caches a CRL until its nextUpdate, never past the bounded TTL', async () => {
    const vendors = await fakeVendors(m);
    const cache = new MemoryCache();
    const now = Date.now();
    const clock: Clock = { now: () => new Date(now) };
    const attached = await createCollateralAttacher({ fetcher: vendors.fetcher, cache, clock, maxTtlMs: 3_600_000 }).attach(await configfs('snp').collect(request()));
    const next = parseCrl(attached.collateral!.snp!.crl).nextUpdate!.getTime();
    const entry = await cache.get(SNP_CRL());
    expect(entry?.expiresAt).toBe(Math.min(next, now + 3_600_000));
    const long = new MemoryCache();
    await createCollateralAttacher({ fetcher: vendors.fetcher, cache: long, clock, maxTtlMs: Number.MAX_SAFE_INTEGER / 2 }).attach(await configfs('snp').collect(request()));
    expect((await long.get(SNP_CRL()))?.expiresAt).toBe(next);
  });

  it('a vendor failure leaves the item out, is logged, and is not retried before retryAfterMs', async () => {
    const vendors = await fakeVendors(m);
    vendors.fail(SNP_CRL(), 503);
    let t = Date.now();
    const { events, log } = logger();
    const attacher = createCollateralAttacher({ fetcher: vendors.fetcher, cache: new MemoryCache(), clock: { now: () => new Date(t) }, log, retryAfterMs: 60_000, fetch: { retries: 0 } });
    const b1 = await attacher.attach(await configfs('snp').collect(request()));
    expect(b1.collateral).toBeUndefined();
    expect(events).toEqual([{ event: 'collateral-unavailable', detail: { item: SNP_CRL(), code: 'ERR_GATEWAY_COLLATERAL_UNAVAILABLE', cause: 'ERR_FETCH_HTTP_STATUS' } }]);
    expect(vendors.calls).toHaveLength(1);

    vendors.fail(SNP_CRL());
    await attacher.attach(await configfs('snp').collect(request()));
    expect(vendors.calls).toHaveLength(1);
    t += 60_000;
    const b3 = await attacher.attach(await configfs('snp').collect(request()));
    expect(vendors.calls).toHaveLength(2);
    expect(b3.collateral?.snp?.crl).toBeInstanceOf(Uint8Array);
  });

  it('a vendor answer that is not a CRL is not attached', async () => {
    const bundle = await configfs('snp').collect(request());
    const { events, log } = logger();
    const junk = async (): Promise<Response> => new Response('<html>maintenance</html>');
    const out = await createCollateralAttacher({ fetcher: junk, cache: new MemoryCache(), log }).attach(bundle);
    expect(out.collateral).toBeUndefined();
    expect(events.map((e) => e.event)).toEqual(['collateral-unavailable']);
    expect(events[0]!.detail?.['code']).toMatch(/^ERR_/);
  });

  it('a hanging vendor does not hold the attest past deadlineMs; the fetch finishes into the cache', async () => {
    const vendors = await fakeVendors(m);
    vendors.fail(SNP_CRL(), 'hang');
    const { events, log } = logger();
    const attacher = createCollateralAttacher({ fetcher: vendors.fetcher, cache: new MemoryCache(), log, deadlineMs: 100, fetch: { timeoutMs: 400, retries: 0 } });
    const started = Date.now();
    const out = await attacher.attach(await configfs('snp').collect(request()));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(out.collateral).toBeUndefined();
    expect(events.map((e) => e.event)).toContain('collateral-late');
  });

  it('concurrent attests share one fetch per item', async () => {
    const vendors = await fakeVendors(m);
    const attacher = createCollateralAttacher({ fetcher: vendors.fetcher, cache: new MemoryCache() });
    const p = configfs('snp');
    const bundles: EvidenceBundle[] = await Promise.all([1, 2, 3].map(async () => attacher.attach(await p.collect(request()))));
    for (const b of bundles) expect(b.collateral?.snp?.crl).toBeInstanceOf(Uint8Array);
    expect(vendors.calls).toEqual([`GET ${SNP_CRL()}`]);
  });

  it('with an explicitly absent fetcher it attaches only what is cached', async () => {
    const cache = new MemoryCache();
    const vendors = await fakeVendors(m);
    const p = configfs('snp');
    const { events, log } = logger();
    expect((await createCollateralAttacher({ fetcher: undefined, cache, log }).attach(await p.collect(request()))).collateral).toBeUndefined();
    expect(events[0]?.detail?.['code']).toBe('ERR_GATEWAY_COLLATERAL_UNAVAILABLE');
    await createCollateralAttacher({ fetcher: vendors.fetcher, cache }).attach(await p.collect(request()));
    expect((await createCollateralAttacher({ fetcher: undefined, cache }).attach(await p.collect(request()))).collateral?.snp).toBeDefined();
  });
});

describe('client-side disk cache (createSecureClient default)', () => {
  it('keeps fetched collateral on disk, so a later client needs no network for it', async () => {
    const xdg = await mkdtemp(join(tmpdir(), 'ccinfer-xdg-'));
    const saved = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = xdg;
    try {
      const vendors = await fakeVendors(m);
      const url = await pod(configfs('snp'), false);
      const first = createSecureClient({ endpoint: url, anchors: m.anchors, policy: cpuOnly(), fetcher: vendors.fetcher, allowUnpinnedMeasurements: true });
      expect((await first.attest()).ok).toBe(true);
      expect(await readdir(join(xdg, 'ccinfer'))).toContain(createHash('sha256').update(SNP_CRL()).digest('hex'));
      // No fetcher now: the CRL comes from the disk cache the first client filled.
      const second = createSecureClient({ endpoint: url, anchors: m.anchors, policy: cpuOnly(), fetcher: undefined, allowUnpinnedMeasurements: true });
      expect((await second.attest()).ok).toBe(true);
      expect(vendors.calls).toEqual([`GET ${SNP_CRL()}`]);
    } finally {
      if (saved === undefined) delete process.env['XDG_CACHE_HOME'];
      else process.env['XDG_CACHE_HOME'] = saved;
    }
  });
});
