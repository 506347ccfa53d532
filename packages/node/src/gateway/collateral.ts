/**
 * Gateway-attached collateral (docs/wire-protocol.md "Evidence bundle" `collateral`; lookup order bundle → cache → network, docs/architecture.md "Layers inside the verifier"): the
 * vendor-signed documents a client needs to appraise this pod, fetched by the gateway and carried in the
 * bundle, so a client without network access to AMD KDS, Intel PCS and NVIDIA's services — a browser above
 * all, since those servers send no CORS headers — can still appraise a real pod.
 *
 *  - SEV-SNP: the ARK-signed CRL for the product line and key kind (VCEK / VLEK) of the report's leaf.
 *  - TDX: Intel's PCS collateral for the quote's FMSPC and PCK CA (`fetchTdxCollateral`), all or nothing:
 *    the verifier takes the bundle's TDX collateral as a whole.
 *  - NVIDIA: the driver / VBIOS RIMs each device names, and OCSP responses for the device chains (leaf and
 *    root excepted) and RIM signer chains (root excepted), as the verifier checks them.
 *
 * Collateral is not bound into REPORT_DATA and does not need to be: it is signed by the vendors, and the
 * client verifies every item as if it had fetched it itself. The gateway is therefore not trusted for it;
 * it only saves the client the trips. Attaching runs after the evidence (and its binding) is complete and
 * touches nothing but `bundle.collateral`.
 *
 * Everything fetched is cached (until its nextUpdate, never longer than a bounded TTL) so attests do not
 * reach vendor servers; concurrent attests share one fetch per item; a failed item is left out, logged, and
 * not retried for a while (the client then fetches it itself or fails closed). Attaching waits at most
 * `deadlineMs`: fetches still running then finish in the background and fill the cache for later attests.
 */
import { fetch as undiciFetch } from 'undici';
import {
  BUNDLE_LIMITS,
  CcinferError,
  CollateralError,
  MemoryCache,
  TDX_COLLATERAL_KEYS,
  fetchBytes,
  randomBytes,
  sha256,
  systemClock,
  toHex,
  type Cache,
  type Clock,
  type Collateral,
  type EvidenceBundle,
  type FetchBytesOptions,
  type Fetcher,
  type GpuEvidence,
} from '@ccinfer/core';
import {
  KDS_BASE,
  NVIDIA_OCSP_URL,
  RIM_SERVICE_URL,
  crlUrl,
  fetchTdxCollateral,
  parseCertificate,
  parseCertificates,
  parseCrl,
  parseEndorsementKey,
  parseNvidiaReport,
  parseRim,
  parseSnpReport,
  parseTdxQuote,
  rimUrl,
  type Certificate,
  type TdxCollateral,
} from '@ccinfer/verifier';
import {
  buildOcspRequest,
  certIdFor,
  checkOcspResponse,
  driverRimId,
  identifyDevice,
  parseOcspResponse,
  parsePckChain,
  parseRimServiceResponse,
  pckCaType,
  productFromCpuid,
  vbiosRimId,
} from '@ccinfer/verifier/internal';
import { BoundedMap } from '@ccinfer/core/internal';
import { defaultDiskCache } from '../disk-cache.js';

export interface CollateralAttacher {
  /** The bundle with the collateral it lacks attached (what could be obtained in time). Never throws. */
  attach(bundle: EvidenceBundle): Promise<EvidenceBundle>;
}

export interface CollateralAttacherOptions {
  /** Network access to the vendors. Default undici `fetch`; `fetcher: undefined` explicitly: cache only. */
  fetcher?: Fetcher | undefined;
  /** Default a DiskCache in the default cache directory (memory when there is none). */
  cache?: Cache;
  clock?: Clock;
  /** Operational events: `collateral-unavailable` (item, code), `collateral-late` (items still pending). */
  log?: (event: string, detail?: Record<string, unknown>) => void;
  /** Longest an attest waits for collateral fetches. Default 5 s. */
  deadlineMs?: number;
  /** After a failed fetch, the item is not fetched again for this long. Default 60 s. */
  retryAfterMs?: number;
  /** Upper bound on caching a CRL (before its nextUpdate) or a RIM (which has none). Default 24 h. */
  maxTtlMs?: number;
  /** Upper bound on caching an OCSP response (before its nextUpdate). Default 1 h, as the verifier's cache. */
  ocspTtlMs?: number;
  kdsBase?: string;
  pcsBase?: string;
  rimServiceUrl?: string;
  ocspUrl?: string;
  /** Timeouts and retries of each vendor request. */
  fetch?: Pick<FetchBytesOptions, 'timeoutMs' | 'retries' | 'backoffMs' | 'sleep'>;
}

/** Why an item was left out (logged as `collateral-unavailable`; attach itself never throws). */
export type CollateralAttacherErrorCode = 'ERR_GATEWAY_COLLATERAL_UNAVAILABLE';

const HOUR = 3_600_000;

/** Log detail for a failure: its code and, for wrapped transport errors, the underlying one. */
function why(item: string, err: unknown): Record<string, unknown> {
  const code = err instanceof CcinferError ? err.code : 'unknown';
  const cause = err instanceof CcinferError && err.cause instanceof CcinferError ? { cause: err.cause.code } : {};
  return { item, code, ...cause };
}
/** The verifier reads at most this many carried OCSP responses (bundle.ts decodeCollateral). */
const MAX_OCSP = BUNDLE_LIMITS.devices * 4;

const undiciFetcher: Fetcher = (url, init) => undiciFetch(url, init as never) as unknown as Promise<Response>;

interface Stored {
  value: Uint8Array;
  expiresAt: number;
}

export function createCollateralAttacher(options: CollateralAttacherOptions = {}): CollateralAttacher {
  const fetcher = 'fetcher' in options ? options.fetcher : undiciFetcher;
  const cache = options.cache ?? defaultDiskCache() ?? new MemoryCache();
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const deadlineMs = options.deadlineMs ?? 5000;
  const retryAfterMs = options.retryAfterMs ?? 60_000;
  const maxTtlMs = options.maxTtlMs ?? 24 * HOUR;
  const ocspTtlMs = options.ocspTtlMs ?? HOUR;
  const fetchOpts = options.fetch ?? {};
  const inflight = new Map<string, Promise<unknown>>();
  // Keys come from evidence (chip ids, FMSPCs, RIM ids): bounded, so odd evidence cannot grow it without end.
  const failedAt = new BoundedMap<string, number>(1024);

  /**
   * One item, shared by concurrent attests. `load(online)` reads the cache and, when online, the network;
   * it is offline for `retryAfterMs` after a failure, so a vendor outage costs one attempt per item per period.
   * Undefined (logged) when the item cannot be had.
   */
  function item<T>(key: string, load: (online: boolean) => Promise<T>): Promise<T | undefined> {
    const running = inflight.get(key) as Promise<T | undefined> | undefined;
    if (running) return running;
    const failed = failedAt.get(key);
    const online = failed === undefined || clock.now().getTime() - failed >= retryAfterMs;
    const p = load(online).then(
      (v) => {
        failedAt.delete(key);
        return v;
      },
      (err: unknown) => {
        if (online) {
          failedAt.set(key, clock.now().getTime());
          log('collateral-unavailable', why(key, err));
        }
        return undefined;
      },
    );
    inflight.set(key, p);
    void p.finally(() => inflight.delete(key));
    return p;
  }

  /** Cache → network for one document; `check` validates a fetched body and says how long it is good for. */
  async function cached(key: string, url: string, online: boolean, check: (body: Uint8Array, now: number) => Promise<number | undefined>, init: Partial<FetchBytesOptions> = {}): Promise<Uint8Array> {
    const now = clock.now().getTime();
    const hit = await cache.get(key).catch(() => undefined);
    if (hit && hit.expiresAt !== undefined && hit.expiresAt > now) return hit.value;
    if (!online || !fetcher) throw new CollateralError('ERR_GATEWAY_COLLATERAL_UNAVAILABLE', `${key} is not cached${fetcher ? ' and failed recently' : ' and no fetcher is configured'}`);
    let body: Uint8Array;
    try {
      ({ body } = await fetchBytes(url, { ...fetchOpts, ...init, fetcher }));
    } catch (cause) {
      throw new CollateralError('ERR_GATEWAY_COLLATERAL_UNAVAILABLE', `could not fetch ${url}`, { cause });
    }
    const until = await check(body, now);
    const stored: Stored = { value: body, expiresAt: Math.min(until ?? Infinity, now + maxTtlMs) };
    if (stored.expiresAt > now) await cache.set(key, stored).catch(() => undefined);
    return body;
  }

  // ————— SEV-SNP —————

  function snpCrl(b: EvidenceBundle & { cpu: { tee: 'snp' } }): Promise<Uint8Array | undefined> {
    // Product line from CPUID (report v3+), else from the leaf; key kind from the leaf: the CRL revokes the
    // ASK (VCEK chains) or the ASVK (VLEK chains) the client will find between the leaf and the ARK.
    const report = parseSnpReport(b.cpu.report);
    const leaf = parseEndorsementKey(parseCertificate(b.cpu.leaf));
    const url = crlUrl(productFromCpuid(report.cpuid) ?? leaf.productLine, leaf.kind, options.kdsBase ?? KDS_BASE);
    return item(url, (online) =>
      cached(url, url, online, async (body, now) => {
        const next = parseCrl(body).nextUpdate?.getTime();
        if (next !== undefined && next <= now) throw new CollateralError('ERR_GATEWAY_COLLATERAL_UNAVAILABLE', `${url} served a CRL past its nextUpdate`);
        return next;
      }),
    );
  }

  // ————— TDX —————

  function tdxCollateral(b: EvidenceBundle & { cpu: { tee: 'tdx' } }): Promise<Map<string, Uint8Array> | undefined> {
    const chain = parsePckChain(parseTdxQuote(b.cpu.quote));
    const ca = pckCaType(chain.leaf);
    if (!ca) throw new CollateralError('ERR_GATEWAY_COLLATERAL_UNAVAILABLE', 'PCK leaf issued by neither the Platform nor the Processor CA');
    const fmspc = chain.extension.fmspc;
    // fetchTdxCollateral caches each PCS response until its own nextUpdate (Intel's caching terms).
    return item(`tdx:${fmspc}:${ca}`, async (online) =>
      tdxMap(
        await fetchTdxCollateral({
          fmspc,
          ca,
          now: clock.now(),
          cache,
          fetch: fetchOpts,
          ...(online && fetcher ? { fetcher } : {}),
          ...(options.pcsBase ? { base: options.pcsBase } : {}),
        }),
      ),
    );
  }

  // ————— NVIDIA —————

  async function rim(id: string, online: boolean): Promise<Uint8Array> {
    // Cached as the RIM service's answer, under its URL: the same entry the verifier's own lookup uses.
    const url = rimUrl(id, options.rimServiceUrl ?? RIM_SERVICE_URL);
    const body = await cached(url, url, online, async (b) => {
      await parseRimServiceResponse(b, id);
      return undefined;
    });
    return parseRimServiceResponse(body, id);
  }

  async function ocsp(cert: Certificate, issuer: Certificate, online: boolean): Promise<Uint8Array> {
    const id = await certIdFor(cert, issuer);
    // The verifier's cache key for this certificate's response (nvidia/appraise.ts ocspOne).
    const key = `ocsp:${toHex(await sha256(buildOcspRequest(id)))}`;
    const nonce = randomBytes(32);
    const url = options.ocspUrl ?? NVIDIA_OCSP_URL;
    return cached(
      key,
      url,
      online,
      async (body, now) => {
        // Checked here so that a response the client would refuse is not carried to it (the client checks
        // again, without our nonce). A revoked or unknown status is an answer and is carried.
        const result = await checkOcspResponse(parseOcspResponse(body), cert, issuer, { now: new Date(now), nonce, allowUnknown: true, allowHold: true }).catch((err: unknown) => {
          if (err instanceof CcinferError && err.code === 'ERR_NV_OCSP_REVOKED') return { nextUpdate: undefined, revoked: true };
          throw err;
        });
        if ('revoked' in result) return now + ocspTtlMs;
        // Without nextUpdate a response checked without its nonce proves nothing (ocsp.ts): not carried.
        if (!result.nextUpdate) throw new CollateralError('ERR_GATEWAY_COLLATERAL_UNAVAILABLE', `OCSP response for ${cert.subject.cn ?? 'a certificate'} has no nextUpdate`);
        return Math.min(result.nextUpdate.getTime(), now + ocspTtlMs);
      },
      { method: 'POST', headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' }, body: buildOcspRequest(id, nonce) },
    );
  }

  interface DevicePlan {
    rimIds: Set<string>;
    pairs: Map<string, [Certificate, Certificate]>;
  }

  function planDevices(devices: GpuEvidence[]): DevicePlan {
    const plan: DevicePlan = { rimIds: new Set(), pairs: new Map() };
    devices.forEach((d, i) => {
      try {
        const chain = parseCertificates(d.certChain);
        const id = identifyDevice(chain[0]!);
        const report = parseNvidiaReport(d.report, id.kind);
        for (const r of [driverRimId(report, id), vbiosRimId(report, id)]) if (r) plan.rimIds.add(r);
        // nvtrust: every certificate but the leaf (NVIDIA's responder does not serve it) and the root.
        addPairs(plan.pairs, chain, 1);
      } catch (err) {
        log('collateral-unavailable', why(`device ${i}`, err));
      }
    });
    return plan;
  }

  return {
    async attach(bundle: EvidenceBundle): Promise<EvidenceBundle> {
      const have = bundle.collateral ?? {};
      // What arrives before the deadline; nothing is written after it (the bundle is on its way by then).
      const got: { snp?: Uint8Array; tdx?: Map<string, Uint8Array>; rims: Map<string, Uint8Array>; ocsp: Uint8Array[] } = { rims: new Map(), ocsp: [] };
      let open = true;
      const work: Promise<unknown>[] = [];
      const guard = (what: string, f: () => Promise<unknown>): void => {
        work.push(
          (async () => f())().catch((err: unknown) => log('collateral-unavailable', why(what, err))),
        );
      };

      if (bundle.cpu.tee === 'snp' && !have.snp) {
        const b = bundle as EvidenceBundle & { cpu: { tee: 'snp' } };
        guard('snp', async () => {
          const crl = await snpCrl(b);
          if (open && crl && fits(crl)) got.snp = crl;
        });
      }
      if (bundle.cpu.tee === 'tdx' && !have.tdx) {
        const b = bundle as EvidenceBundle & { cpu: { tee: 'tdx' } };
        guard('tdx', async () => {
          const m = await tdxCollateral(b);
          if (open && m && [...m.values()].every(fits)) got.tdx = m;
        });
      }
      const devices = [...bundle.gpus, ...bundle.switches];
      if (devices.length > 0) {
        const plan = planDevices(devices);
        const haveRims = have.nvidia?.rims ?? new Map<string, Uint8Array>();
        const wantOcsp = !have.nvidia?.ocsp?.length;
        const ocspOf = (pairs: [Certificate, Certificate][]): Promise<unknown> =>
          Promise.all(
            pairs.map(async ([cert, issuer]) => {
              const key = `ocsp:${cert.subject.cn ?? ''}:${toHex(await sha256(cert.raw))}:${toHex(await sha256(issuer.raw))}`;
              const r = await item(key, (online) => ocsp(cert, issuer, online));
              if (open && r && fits(r) && got.ocsp.length < MAX_OCSP) got.ocsp.push(r);
            }),
          );
        const rimChains = new Map<string, [Certificate, Certificate]>();
        for (const id of plan.rimIds) {
          guard(`rim ${id}`, async () => {
            const xml = haveRims.get(id) ?? (await item(`rim:${id}`, (online) => rim(id, online)));
            if (!xml) return;
            if (open && !haveRims.has(id) && fits(xml)) got.rims.set(id, xml);
            if (!wantOcsp) return;
            // The RIM signer chain (root excepted), each certificate once across RIMs.
            const fresh = new Map<string, [Certificate, Certificate]>();
            addPairs(fresh, (await parseRim(xml)).signature.certificates, 0);
            const todo = [...fresh].filter(([k]) => !rimChains.has(k));
            for (const [k, v] of todo) rimChains.set(k, v);
            await ocspOf(todo.map(([, v]) => v));
          });
        }
        if (wantOcsp) guard('device ocsp', () => ocspOf([...plan.pairs.values()]));
      }

      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        Promise.all(work).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), deadlineMs);
          timer.unref?.();
        }),
      ]);
      clearTimeout(timer);
      open = false;
      if (late) log('collateral-late', { deadlineMs });
      return withCollateral(bundle, merge(have, got));
    },
  };
}

/** `certs[from .. length - 2]`, each with the certificate after it, keyed so each pair is asked for once. */
function addPairs(into: Map<string, [Certificate, Certificate]>, certs: Certificate[], from: number): void {
  for (let i = from; i < certs.length - 1; i++) into.set(`${toHex(certs[i]!.serialNumber)}|${toHex(certs[i + 1]!.subject.raw)}`, [certs[i]!, certs[i + 1]!]);
}

/** An item the client's bundle decoder accepts (BUNDLE_LIMITS.collateralItem). */
const fits = (b: Uint8Array): boolean => b.length > 0 && b.length <= BUNDLE_LIMITS.collateralItem;

function tdxMap(c: TdxCollateral): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const k of TDX_COLLATERAL_KEYS) {
    const v = c[k];
    if (v) m.set(k, v);
  }
  return m;
}

function merge(have: Collateral, got: { snp?: Uint8Array; tdx?: Map<string, Uint8Array>; rims: Map<string, Uint8Array>; ocsp: Uint8Array[] }): Collateral {
  const out: Collateral = { ...have };
  if (got.snp) out.snp = { crl: got.snp };
  if (got.tdx) out.tdx = got.tdx;
  if (got.rims.size || got.ocsp.length) {
    const nv: NonNullable<Collateral['nvidia']> = { ...have.nvidia };
    if (got.rims.size) nv.rims = new Map([...(have.nvidia?.rims ?? []), ...got.rims]);
    if (got.ocsp.length) nv.ocsp = got.ocsp;
    out.nvidia = nv;
  }
  return out;
}

/** A copy of the bundle with `collateral` replaced: every other member, bound or not, is the provider's. */
function withCollateral(bundle: EvidenceBundle, c: Collateral): EvidenceBundle {
  const empty = !c.snp && !c.tdx && !c.nvidia;
  const { collateral: _old, ...rest } = bundle;
  return empty ? rest : { ...rest, collateral: c };
}

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<CollateralAttacherErrorCode, true> {}
}
