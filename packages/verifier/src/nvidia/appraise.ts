/**
 * Appraisal of one NVIDIA GPU or NVSwitch as a checklist, in the order of NVIDIA's local verifier
 * (research/nvidia.md §3): parse → arch → device chain → FWID → OCSP → nonce → SPDM signature → driver RIM →
 * VBIOS RIM → golden measurements → policy. Each step is recorded on the CheckList as `<id>.<step>` (id =
 * `gpu0`, `switch0`, …); the first failing step stops the appraisal (fail closed), policy rules excepted,
 * which are all evaluated so that the document lists every one that failed.
 */
import {
  CcinferError,
  CheckList,
  CollateralError,
  ConfigError,
  VerificationError,
  cachedFetch,
  equalBytes,
  fetchBytes,
  randomBytes,
  sha256,
  toHex,
  type Cache,
  type CheckListener,
  type Clock,
  type Fetcher,
  type VerificationDocument,
} from '@ccinfer/core';
import { definedOnly } from '@ccinfer/core/internal';
import { PINNED_ANCHORS, type TrustAnchors } from '../anchors.js';
import { parseCertificates, type Certificate, type ChainCache, type ChainResult } from '../x509/index.js';
import { OCSP_URL, RIM_SERVICE_URL, parseRimServiceResponse, rimUrl } from './collateral.js';
import {
  buildOcspRequest,
  certIdFor,
  checkOcspResponse,
  parseOcspResponse,
  type CertId,
  type OcspMode,
  type OcspResponse,
  type OcspResult,
} from './ocsp.js';
import { nvidiaCollateralMemo, type NvidiaCollateralMemo } from './memo.js';
import { STATUS_ENABLED, parseReport, pdiHex, type NvidiaReport } from './parse.js';
import { evaluateDevicePolicy, type GpuPolicy } from './policy.js';
import { recordOutcomes } from '../policy-outcome.js';
import {
  assertGolden,
  checkRimIdentity,
  checkRimVersion,
  compareGolden,
  driverRimId,
  expectedRimIdentity,
  parseRim,
  rimIdentityMismatch,
  rimMissing,
  vbiosRimId,
  verifyRim,
  type MeasurementMismatch,
  type Rim,
  type RimIdentity,
  type RimKind,
} from './rim.js';
import {
  checkArch,
  checkFwid,
  checkNonce,
  identifyDevice,
  ueid,
  verifyDeviceChain,
  verifyReportSignature,
  type Arch,
  type Chip,
  type DeviceIdentity,
} from './verify.js';
import { runVerification } from '../verification.js';

export interface NvidiaDeviceEvidence {
  /** SPDM GET_MEASUREMENTS request || response. */
  report: Uint8Array;
  /** Device chain, leaf first: PEM text or concatenated DER. */
  certChain: Uint8Array | string;
}

export type RimInput = Uint8Array | string | Rim;

export interface NvidiaAppraisalOptions {
  /** The 32-byte nonce the caller's binding scheme requires in the SPDM request. Never taken from the pod. */
  expectedNonce: Uint8Array;
  now: Date;
  checks: CheckList;
  /** Check id prefix: `gpu0`, `switch0`, … */
  id: string;
  anchors?: Pick<TrustAnchors, 'nvidiaDevice' | 'nvidiaRim' | 'simulated'> | undefined;
  /**
   * RIMs the caller already has (files, bundle collateral); matched to the device by version and signed
   * identity (chip, edition, driver or VBIOS: `rimIdentityMismatch`), which is checked again once the
   * signature is verified.
   */
  rims?: readonly RimInput[] | undefined;
  /**
   * OCSP responses the caller already has (bundle collateral, gathered by the pod before any client asked).
   * Each is used for the certificate its CertID names (hash of issuer name and key, and serial) and gets every
   * check of a fetched response — signed by the issuer or a responder it delegated, status, thisUpdate /
   * nextUpdate around `now` — except the nonce echo, which no pre-fetched response can have: its freshness is
   * its validity window, as for a cached response, so it must have a nextUpdate and its thisUpdate and
   * producedAt must be at most `OCSP_MAX_AGE_MS` (7 days) old. So `ocsp: 'require'` is satisfied by such responses.
   */
  ocspResponses?: readonly Uint8Array[] | undefined;
  /** Work shared by the devices of one appraisal (same `now`, anchors and OCSP mode): see `NvidiaMemo`. */
  memo?: NvidiaMemo | undefined;
  policy?: GpuPolicy | undefined;
  /** Overrides `policy.ocsp`. Default `require`. */
  ocsp?: OcspMode | undefined;
  /** Overrides `policy.requireRim`. Default true. */
  requireRim?: boolean | undefined;
  fetcher?: Fetcher | undefined;
  cache?: Cache | undefined;
  chainCache?: ChainCache | undefined;
  rimServiceUrl?: string | undefined;
  ocspUrl?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** GPU claims (names of docs/wire-protocol.md "Verification document"; bytes as lowercase hex) and more. */
export interface GpuClaims {
  kind: 'gpu' | 'switch';
  arch: Arch;
  chip: Chip;
  /** CN of the per-device (BROM) certificate, NRAS `hwmodel`. */
  hwmodel: string;
  /** Leaf serial number in decimal, NRAS `ueid`. */
  ueid: string;
  /** The device's own PDI (from the BROM certificate serial number). */
  pdi: string | null;
  driverVersion: string | null;
  vbiosVersion: string | null;
  nonce: string;
  fwid: string | null;
  measurementCount: number;
  /** True only when every RIM this device needs was verified and every golden index matched. */
  rimMatched: boolean;
  driverRimId: string | null;
  vbiosRimId: string | null;
  oemid: string | null;
  featureFlag: number | null;
  protectedPcie: boolean | null;
  nvdec0Enabled: boolean | null;
  /** GPU: NVLink peer switch PDIs, big-endian hex, zeros (disabled links) removed. */
  switchPdis: string[] | null;
  /** LS10: the switch's own PDI and the 8 GPU PDIs it reports. */
  devicePdi: string | null;
  gpuPdis: string[] | null;
  /** Earliest notAfter of the device chain. */
  certExpiration: string;
  ocsp: Record<string, string> | 'skipped';
  measurementMismatches: MeasurementMismatch[];
}

const HOUR = 3_600_000;

/**
 * The devices of one bundle share their RIMs (one driver and one VBIOS RIM for eight identical GPUs), the
 * RIM signer chain and the upper device CAs: each RIM is parsed and its signature verified once, and each
 * pre-fetched OCSP response is parsed once and checked once per certificate, for the whole appraisal. Results
 * are shared, failures included (the same inputs give the same verdict). One memo per appraisal: `now`,
 * anchors and OCSP mode must not change while it is used.
 */
export class NvidiaMemo {
  readonly rims = new Map<RimInput, Promise<Rim>>();
  readonly rimSignatures = new Map<Rim, Promise<ChainResult>>();
  readonly ocspParsed = new Map<Uint8Array, OcspResponse>();
  readonly ocspChecks = new Map<string, Promise<OcspResult>>();
}

function memoized<K, V>(map: Map<K, Promise<V>> | undefined, key: K, f: () => Promise<V>): Promise<V> {
  if (!map) return f();
  let p = map.get(key);
  if (!p) map.set(key, (p = f()));
  return p;
}

/**
 * Runs the per-device steps on `options.checks` and returns the claims. Throws the first failing step's
 * error after recording it; claims gathered so far are written into `into`.
 */
export async function appraiseNvidiaDevice(
  evidence: NvidiaDeviceEvidence,
  options: NvidiaAppraisalOptions,
  into: Partial<GpuClaims> = {},
): Promise<GpuClaims> {
  const { checks, now, id } = options;
  const anchors = options.anchors ?? PINNED_ANCHORS;
  const ocspMode: OcspMode = options.ocsp ?? options.policy?.ocsp ?? 'require';
  const requireRim = options.requireRim ?? options.policy?.requireRim ?? true;
  // Across appraisals, with the caller's chain cache: verified RIM documents and OCSP responses (memo.ts).
  const across = nvidiaCollateralMemo(options.chainCache);
  if (options.expectedNonce.length !== 32) throw new ConfigError('ERR_OPTIONS_INVALID', 'expectedNonce must be 32 bytes', { fields: ['expectedNonce'] });

  const { chain, device, report } = await checks.run(
    `${id}.parse`,
    () => {
      const chain = parseCertificates(evidence.certChain);
      const device = identifyDevice(chain[0]!);
      return { chain, device, report: parseReport(evidence.report, device.kind) };
    },
    (r) =>
      `${r.device.chip} ${r.device.kind}, SPDM 1.1, ${r.report.response.numberOfBlocks} blocks, ${r.report.response.opaque.fields.length} opaque fields` +
      (r.report.trailingBytes ? `, ${r.report.trailingBytes} zero bytes after the signature ignored` : ''),
  );
  const o = report.response.opaque;
  const claims = into;
  Object.assign(claims, baseClaims(report, device, chain));

  await checks.run(`${id}.arch`, () => checkArch(report, device), () => `${device.chip} (certificate and GPU_INFO agree)`);
  const chainResult = await checks.run(
    `${id}.chain`,
    () => verifyDeviceChain(chain, { anchors: anchors.nvidiaDevice, now, ...definedOnly({ cache: options.chainCache }) }),
    (c) => `${chain.map((x) => x.subject.cn).join(' → ')} (pinned ${c.anchor.name})`,
  );
  claims.certExpiration = chainResult.notAfter.toISOString();

  let fw: ReturnType<typeof checkFwid>;
  if (o.fwid) {
    fw = await checks.run(`${id}.fwid`, () => checkFwid(report, chain[0]!), () => 'report FWID == leaf certificate FWID');
  } else {
    // LS10 opaque data has no FWID type at all (vectors: nvswitch-ls10, hgx ppcie); GPUs lack it before 2024.
    checks.skip(`${id}.fwid`, `report carries no FWID (${device.kind === 'switch' ? 'NVSwitch reports have none' : 'firmware before 2024'}): only the certificate FWID is known`);
    fw = checkFwid(report, chain[0]!);
  }
  claims.fwid = fw.fwid ? toHex(fw.fwid) : null;

  // nvtrust: every certificate except the leaf (not served by NVIDIA's responder) and the root.
  claims.ocsp = await ocspChain(`${id}.ocsp`, chain, 1, ocspMode, options);

  await checks.run(`${id}.nonce`, () => checkNonce(report, options.expectedNonce), () => 'SPDM request nonce is the expected nonce');
  await checks.run(`${id}.signature`, () => verifyReportSignature(report, chain[0]!), () => 'ECDSA P-384/SHA-384 over request || response without signature');

  // Reference values.
  const given = await Promise.all(
    (options.rims ?? []).map((r) => (typeof r === 'object' && 'measurements' in r ? r : memoized(options.memo?.rims, r, () => (across ? across.parseRim(r) : parseRim(r))))),
  );
  const drvId = driverRimId(report, device);
  const biosId = vbiosRimId(report, device);
  claims.driverRimId = drvId ?? null;
  claims.vbiosRimId = biosId ?? null;
  const rims: { driver?: Rim; vbios?: Rim } = {};
  const wanted: [RimKind, string | undefined, string | undefined][] = [
    ['driver', drvId, o.driverVersion],
    ['vbios', biosId, o.vbiosVersion],
  ];
  for (const [what, rimId, version] of wanted) {
    if (what === 'driver' && device.kind === 'switch') continue;
    const expected = expectedRimIdentity(report, device, what);
    const rim = await obtainRim(`${id}.rim.${what}`, rimId, version, expected, given, requireRim, options, across);
    if (!rim) continue;
    await checks.run(`${id}.rim.${what}.version`, () => checkRimVersion(rim, version, what), () => `colloquialVersion ${rim.colloquialVersion}`);
    await checks.run(
      `${id}.rim.${what}.signature`,
      () =>
        memoized(options.memo?.rimSignatures, rim, () => {
          const how = { anchors: anchors.nvidiaRim, now, ...definedOnly({ cache: options.chainCache }) };
          return across ? across.verifyRim(rim, how) : verifyRim(rim, how);
        }),
      (c) => `XML-DSig (C14N 1.1, ECDSA P-384) by ${rim.signature.certificates[0]!.subject.cn} (pinned ${c.anchor.name})`,
    );
    // The version alone would admit any NVIDIA-signed RIM of that version (another chip, the other kind of
    // RIM): its signed identity must be this device's (rim.ts, "Signed identity").
    await checks.run(
      `${id}.rim.${what}.identity`,
      () => checkRimIdentity(rim, expected),
      () => `${what} RIM for ${rim.name} (edition ${rim.edition ?? ''}, tagId ${rim.tagId.slice(0, 16)}…)`,
    );
    // nvtrust checks the RIM chain's leaf too; the embedded root is pinned.
    await ocspChain(`${id}.rim.${what}.ocsp`, rim.signature.certificates, 0, ocspMode, options);
    rims[what] = rim;
    claims.oemid ??= rim.firmwareManufacturerId ?? null;
  }
  const complete = device.kind === 'switch' ? !!rims.vbios : !!(rims.driver && rims.vbios);
  if (rims.driver || rims.vbios) {
    const result = await checks.run(
      `${id}.measurements`,
      () => {
        const r = compareGolden(report, rims);
        claims.measurementMismatches = r.mismatches;
        assertGolden(r);
        return r;
      },
      (r) =>
        `${r.matched.length} golden measurements match` +
        (r.skipped.length ? `, index ${r.skipped.join(',')} skipped (NVDEC0 disabled)` : '') +
        (complete ? '' : ` (${rims.driver ? 'driver' : 'VBIOS'} RIM only)`),
    );
    claims.rimMatched = complete && result.mismatches.length === 0;
  } else {
    checks.skip(`${id}.measurements`, 'no RIM: measurements NOT COMPARED with reference values');
  }

  const outcomes = evaluateDevicePolicy(id, { arch: device.arch, driverVersion: o.driverVersion, vbiosVersion: o.vbiosVersion, kind: device.kind }, options.policy);
  const refused = await recordOutcomes(checks, outcomes);
  if (refused) throw refused;
  return claims as GpuClaims;
}

function baseClaims(report: NvidiaReport, device: DeviceIdentity, chain: Certificate[]): Partial<GpuClaims> {
  const o = report.response.opaque;
  const brom = chain[1];
  // The BROM certificate serial is a one-byte tag followed by the 8-byte PDI the NVLink peers report.
  const pdi = brom && brom.serialNumber.length === 9 ? toHex(brom.serialNumber.subarray(1)) : null;
  return {
    kind: device.kind,
    arch: device.arch,
    chip: device.chip,
    hwmodel: brom?.subject.cn ?? '',
    ueid: ueid(chain[0]!),
    pdi,
    driverVersion: o.driverVersion ?? null,
    vbiosVersion: o.vbiosVersion ?? null,
    nonce: toHex(report.request.nonce),
    fwid: o.fwid ? toHex(o.fwid) : null,
    measurementCount: report.response.blocks.length,
    rimMatched: false,
    driverRimId: null,
    vbiosRimId: null,
    oemid: null,
    featureFlag: o.featureFlag ?? null,
    protectedPcie: o.protectedPcieStatus === undefined ? null : o.protectedPcieStatus === STATUS_ENABLED,
    nvdec0Enabled: o.nvdec0Status === undefined ? null : o.nvdec0Status === STATUS_ENABLED,
    switchPdis: o.switchPdis ? o.switchPdis.filter((p) => p.some((b) => b !== 0)).map((p) => pdiHex(p, true)) : null,
    devicePdi: o.devicePdi ? pdiHex(o.devicePdi, false) : null,
    gpuPdis: o.switchGpuPdis ? o.switchGpuPdis.map((p) => pdiHex(p, false)) : null,
    certExpiration: '',
    ocsp: 'skipped',
    measurementMismatches: [],
  };
}

/**
 * Given RIMs first (matched by version, preferring those whose signed identity is this device's: the bundle
 * may carry RIMs of several chips with one version), then the cache / RIM service. Undefined when skipped.
 * The choice is not a trust decision: the caller checks version, signature and identity of what it gets.
 */
async function obtainRim(
  checkId: string,
  rimId: string | undefined,
  version: string | undefined,
  expected: RimIdentity,
  given: Rim[],
  requireRim: boolean,
  options: NvidiaAppraisalOptions,
  across: NvidiaCollateralMemo | undefined,
): Promise<Rim | undefined> {
  const { checks } = options;
  const sameVersion = version ? given.filter((r) => r.colloquialVersion.toLowerCase() === version.toLowerCase()) : [];
  let local = sameVersion[0];
  for (const r of sameVersion) {
    if ((await rimIdentityMismatch(r, expected)) === undefined) {
      local = r;
      break;
    }
  }
  if (local) {
    checks.pass(checkId, `${rimId ?? 'RIM'} given by the caller (sha256 ${local.sha256})`);
    return local;
  }
  try {
    if (!rimId) throw new CollateralError('ERR_NV_RIM_MISSING', 'the report lacks the fields that name its RIM');
    const url = rimUrl(rimId, options.rimServiceUrl ?? RIM_SERVICE_URL);
    const body = await cachedFetch(url, { ...definedOnly({ fetcher: options.fetcher, cache: options.cache, signal: options.signal }), now: options.now, ttlMs: 24 * HOUR, missingCode: 'ERR_NV_RIM_MISSING' });
    const doc = await parseRimServiceResponse(body, rimId);
    const rim = await (across ? across.parseRim(doc) : parseRim(doc));
    checks.pass(checkId, `${rimId} from the RIM service (sha256 ${rim.sha256})`);
    return rim;
  } catch (err) {
    const e = err instanceof CcinferError ? err : rimMissing(rimId ?? '?');
    const missing = e.code === 'ERR_NV_RIM_MISSING' ? e : new CollateralError('ERR_NV_RIM_MISSING', `RIM ${rimId} unobtainable: ${e.message}`, { cause: e });
    if (requireRim) {
      await checks.run(checkId, () => {
        throw missing;
      });
    }
    const why = `RIM ${rimId ?? '(unnamed)'} unavailable (${missing.message}); accepted because gpu.requireRim = false`;
    checks.skip(checkId, why);
    checks.warn(why);
    return undefined;
  }
}

/**
 * OCSP for `certs[from .. length - 2]` (never the root), each against the next certificate. Mode `skip` records a
 * skipped check; `allow-unavailable` accepts `unknown` with a warning and, when no answer can be had for some
 * certificate (no fetcher, responder unreachable), records a skipped check with a warning — unless another
 * certificate of the chain failed, which still fails the check.
 */
async function ocspChain(checkId: string, certs: Certificate[], from: number, mode: OcspMode, options: NvidiaAppraisalOptions): Promise<Record<string, string> | 'skipped'> {
  const { checks } = options;
  if (mode === 'skip') {
    const why = 'policy gpu.ocsp = skip: revocation NOT CHECKED';
    checks.skip(checkId, why);
    checks.warn(`${checkId}: ${why}`);
    return 'skipped';
  }
  const all = certs;
  const unavailable: string[] = [];
  const lookups = all.slice(from, -1).map(async (cert, k) => {
    const issuer = all[from + k + 1];
    if (!issuer) throw new VerificationError('ERR_NV_OCSP_CERT_MISMATCH', 'no issuer for an OCSP check');
    try {
      return [cert, await ocspOne(cert, issuer, mode, options)] as const;
    } catch (err) {
      if (mode !== 'allow-unavailable' || !(err instanceof CcinferError && err.code === 'ERR_NV_OCSP_UNAVAILABLE')) throw err;
      unavailable.push(`${cert.subject.cn ?? toHex(cert.serialNumber)} (${err.message})`);
      return undefined;
    }
  });
  // Every lookup settles before the verdict, so an unavailable answer never hides another certificate's failure.
  const settled = await Promise.allSettled(lookups);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed && unavailable.length) {
    const why = `OCSP unavailable for ${unavailable.join(', ')}; revocation NOT CHECKED, accepted by policy gpu.ocsp = allow-unavailable`;
    checks.skip(checkId, why);
    checks.warn(`${checkId}: ${why}`);
    return 'skipped';
  }
  return checks.run(
    checkId,
    async () => {
      const out: Record<string, string> = {};
      if (failed) throw failed.reason;
      const results = settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
      for (const [cert, r] of results) {
        out[cert.subject.cn ?? toHex(cert.serialNumber)] = r.status;
        if (r.status !== 'good') checks.warn(`${checkId}: ${cert.subject.cn} OCSP status ${r.status}, accepted by policy gpu.ocsp = ${mode}`);
      }
      return out;
    },
    (out) => Object.entries(out).map(([k, v]) => `${k}: ${v}`).join('; '),
  );
}

async function ocspOne(cert: Certificate, issuer: Certificate, mode: OcspMode, options: NvidiaAppraisalOptions): Promise<OcspResult> {
  const across = nvidiaCollateralMemo(options.chainCache);
  const certId = across?.certId ?? certIdFor;
  const check = { now: options.now, allowUnknown: mode === 'allow-unavailable', certId };
  // Responses checked without a nonce (carried, cached) may reuse remembered signature checks (memo.ts); the
  // responder, CertID, time and status checks run every time. A response fetched with our nonce is used once:
  // it is checked with `check`, and nothing about it is remembered.
  const reusable = { ...check, ...definedOnly({ signatures: options.chainCache?.signatures }) };
  const id = await certId(cert, issuer, 'SHA-384');
  // Responses the pod gathered: those whose CertID names this certificate (serial numbers alone are only
  // unique per issuer), checked without a nonce (see `ocspResponses`). Every one of them must pass, so a
  // "revoked" answer cannot be outvoted by an older "good" one carried alongside it.
  const carried = await carriedResponses(cert, issuer, id, options, across);
  if (carried.length) {
    return memoized(options.memo?.ocspChecks, `${toHex(cert.raw)}|${toHex(issuer.raw)}`, async () => {
      const results = await Promise.all(
        carried.map(async (r) => {
          const result = await checkOcspResponse(r, cert, issuer, reusable);
          across?.ocspVerified(r);
          return result;
        }),
      );
      return results.find((r) => r.status !== 'good') ?? results[0]!;
    });
  }
  // A response we cached earlier: fresh by thisUpdate/nextUpdate (and at most an hour old), no nonce, so
  // checked as a carried one; a cached response too old for that is not an answer: ask the responder again.
  const key = `ocsp:${toHex(await sha256(buildOcspRequest(id)))}`;
  const hit = await options.cache?.get(key);
  if (hit && (hit.expiresAt === undefined || hit.expiresAt > options.now.getTime())) {
    try {
      const parsed = across ? across.parseOcsp(hit.value) : parseOcspResponse(hit.value);
      const result = await checkOcspResponse(parsed, cert, issuer, reusable);
      across?.ocspVerified(parsed);
      return result;
    } catch (err) {
      if (!(err instanceof CcinferError && err.code === 'ERR_NV_OCSP_STALE')) throw err;
    }
  }
  if (!options.fetcher) throw new CollateralError('ERR_NV_OCSP_UNAVAILABLE', `no OCSP response for ${cert.subject.cn ?? 'a certificate'} and no fetcher configured`);
  const nonce = randomBytes(32);
  let body: Uint8Array;
  try {
    ({ body } = await fetchBytes(options.ocspUrl ?? OCSP_URL, {
      fetcher: options.fetcher,
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: buildOcspRequest(id, nonce),
      ...definedOnly({ signal: options.signal }),
    }));
  } catch (cause) {
    throw new CollateralError('ERR_NV_OCSP_UNAVAILABLE', `OCSP responder unreachable for ${cert.subject.cn ?? 'a certificate'}`, { cause });
  }
  const result = await checkOcspResponse(parseOcspResponse(body), cert, issuer, { ...check, nonce });
  // Without nextUpdate it could never be reused without its nonce (see checkOcspResponse): not cached.
  if (result.nextUpdate) await options.cache?.set(key, { value: body, expiresAt: Math.min(result.nextUpdate.getTime(), options.now.getTime() + HOUR) });
  return result;
}

/** The pre-fetched responses with a SingleResponse whose CertID is the one of `cert` issued by `issuer`. */
async function carriedResponses(
  cert: Certificate,
  issuer: Certificate,
  id: CertId,
  options: NvidiaAppraisalOptions,
  across: NvidiaCollateralMemo | undefined,
): Promise<OcspResponse[]> {
  const out: OcspResponse[] = [];
  const mine = new Map<string, CertId>([[id.hash, id]]);
  for (const bytes of options.ocspResponses ?? []) {
    let parsed = options.memo?.ocspParsed.get(bytes);
    if (!parsed) {
      parsed = across ? across.parseOcsp(bytes) : parseOcspResponse(bytes);
      options.memo?.ocspParsed.set(bytes, parsed);
    }
    for (const s of parsed.basic?.responses ?? []) {
      if (!equalBytes(s.certId.serialNumber, cert.serialNumber)) continue;
      const want = mine.get(s.certId.hash) ?? (await (across?.certId ?? certIdFor)(cert, issuer, s.certId.hash));
      mine.set(want.hash, want);
      if (equalBytes(s.certId.issuerNameHash, want.issuerNameHash) && equalBytes(s.certId.issuerKeyHash, want.issuerKeyHash)) {
        out.push(parsed);
        break;
      }
    }
  }
  return out;
}


export interface VerifyGpuOptions extends Omit<NvidiaAppraisalOptions, 'now' | 'checks' | 'id'> {
  now?: Date;
  clock?: Clock;
  onCheck?: CheckListener;
  id?: string;
}

/**
 * Verifies one GPU / NVSwitch and returns the verification document (tee "gpu"). Checks, as `<id>.<step>`
 * (id default `gpu0`), in the order of NVIDIA's local verifier: `parse` (SPDM GET_MEASUREMENTS request and
 * response), `arch`, `chain` (device chain to the NVIDIA Device Identity CA pinned by `anchors`), `fwid`, `ocsp`
 * (device chain revocation), `nonce` (the request carries `expectedNonce`), `signature` (the response's SPDM
 * signature), `rim.driver.*` and `rim.vbios.*` (RIM version, signature, identity, OCSP), `measurements` (golden
 * values), then the `policy.*` rules.
 *
 * Evidence problems do not throw: they make `ok` false and are listed in `checks` and `errors` with their
 * `ERR_…` code. Invalid options throw a ConfigError (`ERR_OPTIONS_INVALID`: no report, or an
 * `expectedNonce` that is not 32 bytes). The nonce is always the caller's, never taken from the evidence.
 *
 * Defaults: `now` from `clock` (the system clock); `anchors` the pinned NVIDIA roots; `ocsp: 'require'` and
 * `requireRim: true` (from `policy`, overridable here). RIMs and OCSP responses come from `rims` /
 * `ocspResponses`, then `cache`, then the NVIDIA RIM service and OCSP responder through `fetcher`; without a
 * `fetcher` nothing is fetched and a missing RIM or OCSP response fails its check (`ERR_NV_OCSP_UNAVAILABLE`, `ERR_NV_RIM_MISSING`).
 *
 * @example
 * ```ts
 * import { verifyGpu } from '@ccinfer/verifier';
 *
 * // report: SPDM GET_MEASUREMENTS request || response; certChain: the device chain, PEM, leaf first.
 * const doc = await verifyGpu({ report, certChain }, { expectedNonce: nonce, fetcher: fetch });
 * console.log(doc.ok, doc.claims['driverVersion'], doc.claims['vbiosVersion']);
 * ```
 */
export async function verifyGpu(evidence: NvidiaDeviceEvidence, options: VerifyGpuOptions): Promise<VerificationDocument> {
  if (!(evidence?.report instanceof Uint8Array)) throw new ConfigError('ERR_OPTIONS_INVALID', 'evidence.report must be a Uint8Array', { fields: ['report'] });
  if (!(options?.expectedNonce instanceof Uint8Array) || options.expectedNonce.length !== 32) {
    throw new ConfigError('ERR_OPTIONS_INVALID', 'expectedNonce must be 32 bytes', { fields: ['expectedNonce'] });
  }
  const claims: Partial<GpuClaims> = {};
  const simulated = (options.anchors ?? PINNED_ANCHORS).simulated === true;
  const appraiseDevice = (now: Date, checks: CheckList): Promise<unknown> => appraiseNvidiaDevice(evidence, { ...options, now, checks, id: options.id ?? 'gpu0' }, claims);
  return runVerification('gpu', options, simulated, appraiseDevice, () => claims as Record<string, unknown>);
}
