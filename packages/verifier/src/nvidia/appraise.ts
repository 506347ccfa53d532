/**
 * Appraisal of one NVIDIA GPU or NVSwitch as a checklist, in the order of NVIDIA's local verifier
 * (docs/checks.md "NVIDIA GPU and NVSwitch"): parse → arch → device chain → FWID → OCSP → nonce → SPDM signature → driver RIM →
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
  toHex,
  type Cache,
  type CheckListener,
  type Clock,
  type Fetcher,
  type VerificationDocument,
} from '@ccinfer/core';
import { definedOnly } from '@ccinfer/core/internal';
import { PINNED_ANCHORS, type TrustAnchors } from '../anchors.js';
import { parseCertificates, type Certificate, type ChainCache } from '../x509/index.js';
import { fetchRim, ocspStatus } from './fetch.js';
import type { OcspMode } from './ocsp.js';
import { memoized, nvidiaCollateralMemo, type NvidiaCollateralMemo, type NvidiaMemo, type RimInput } from './memo.js';
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

export type { RimInput } from './memo.js';

export interface GpuAppraisalOptions {
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

/** What every step of one device's appraisal reads: its options, with their defaults resolved once. */
interface DeviceRun {
  options: GpuAppraisalOptions;
  checks: CheckList;
  now: Date;
  /** Check id prefix: `gpu0`, `switch0`, … */
  id: string;
  anchors: NonNullable<GpuAppraisalOptions['anchors']>;
  ocspMode: OcspMode;
  requireRim: boolean;
  /** Across appraisals, with the caller's chain cache: verified RIM documents and OCSP responses (memo.ts). */
  across: NvidiaCollateralMemo | undefined;
}

/** The device's evidence, parsed. */
interface ParsedDevice {
  chain: Certificate[];
  device: DeviceIdentity;
  report: NvidiaReport;
}

/** The RIMs a device was compared with, by kind; a kind is absent when its RIM was skipped. */
interface ReferenceRims {
  driver?: Rim;
  vbios?: Rim;
}

/**
 * Runs the per-device steps on `options.checks` and returns the claims. Throws the first failing step's
 * error after recording it; claims gathered so far are written into `into`.
 */
export async function appraiseGpu(
  evidence: NvidiaDeviceEvidence,
  options: GpuAppraisalOptions,
  into: Partial<GpuClaims> = {},
): Promise<GpuClaims> {
  const run = deviceRun(options);
  const parsed = await parseDevice(run, evidence);
  Object.assign(into, baseClaims(parsed));
  await checkArchitecture(run, parsed);
  into.certExpiration = await verifyChainToRoot(run, parsed);
  into.fwid = await checkFirmwareId(run, parsed);
  // nvtrust: every certificate except the leaf (not served by NVIDIA's responder) and the root.
  into.ocsp = await ocspChain(run, `${run.id}.ocsp`, parsed.chain, 1);
  await checkFreshness(run, parsed);
  await checkSignature(run, parsed);
  const rims = await referenceRims(run, parsed, into);
  await compareMeasurements(run, parsed, rims, into);
  await applyDevicePolicy(run, parsed);
  return into as GpuClaims;
}

function deviceRun(options: GpuAppraisalOptions): DeviceRun {
  if (options.expectedNonce.length !== 32) throw new ConfigError('ERR_OPTIONS_INVALID', 'expectedNonce must be 32 bytes', { fields: ['expectedNonce'] });
  return {
    options,
    checks: options.checks,
    now: options.now,
    id: options.id,
    anchors: options.anchors ?? PINNED_ANCHORS,
    ocspMode: options.ocsp ?? options.policy?.ocsp ?? 'require',
    requireRim: options.requireRim ?? options.policy?.requireRim ?? true,
    across: nvidiaCollateralMemo(options.chainCache),
  };
}

/** `<id>.parse`: the device chain, which device it names, and the SPDM report in that device's layout. */
function parseDevice({ checks, id }: DeviceRun, evidence: NvidiaDeviceEvidence): Promise<ParsedDevice> {
  return checks.run(
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
}

/** `<id>.arch`: the certificate's chip and the report's GPU_INFO agree. */
async function checkArchitecture({ checks, id }: DeviceRun, { report, device }: ParsedDevice): Promise<void> {
  await checks.run(`${id}.arch`, () => checkArch(report, device), () => `${device.chip} (certificate and GPU_INFO agree)`);
}

/** `<id>.chain`: the device chain to the pinned NVIDIA Device Identity CA; returns its earliest notAfter. */
async function verifyChainToRoot({ checks, id, now, anchors, options }: DeviceRun, { chain }: ParsedDevice): Promise<string> {
  const result = await checks.run(
    `${id}.chain`,
    () => verifyDeviceChain(chain, { anchors: anchors.nvidiaDevice, now, ...definedOnly({ cache: options.chainCache }) }),
    (c) => `${chain.map((x) => x.subject.cn).join(' → ')} (pinned ${c.anchor.name})`,
  );
  return result.notAfter.toISOString();
}

/** `<id>.fwid`: the report's FWID is the leaf certificate's (skipped when the report has none); returns it. */
async function checkFirmwareId({ checks, id }: DeviceRun, { report, device, chain }: ParsedDevice): Promise<string | null> {
  let fw: ReturnType<typeof checkFwid>;
  if (report.response.opaque.fwid) {
    fw = await checks.run(`${id}.fwid`, () => checkFwid(report, chain[0]!), () => 'report FWID == leaf certificate FWID');
  } else {
    // LS10 opaque data has no FWID type at all (vectors: nvswitch-ls10, hgx ppcie); GPUs lack it before 2024.
    checks.skip(`${id}.fwid`, `report carries no FWID (${device.kind === 'switch' ? 'NVSwitch reports have none' : 'firmware before 2024'}): only the certificate FWID is known`);
    fw = checkFwid(report, chain[0]!);
  }
  return fw.fwid ? toHex(fw.fwid) : null;
}

/** `<id>.nonce`: the SPDM request carries the caller's nonce, so the report is fresh. */
async function checkFreshness({ checks, id, options }: DeviceRun, { report }: ParsedDevice): Promise<void> {
  await checks.run(`${id}.nonce`, () => checkNonce(report, options.expectedNonce), () => 'SPDM request nonce is the expected nonce');
}

/** `<id>.signature`: the SPDM signature over request || response by the device's leaf key. */
async function checkSignature({ checks, id }: DeviceRun, { report, chain }: ParsedDevice): Promise<void> {
  await checks.run(`${id}.signature`, () => verifyReportSignature(report, chain[0]!), () => 'ECDSA P-384/SHA-384 over request || response without signature');
}

/**
 * `<id>.rim.driver.*` and `<id>.rim.vbios.*` (an NVSwitch has no driver RIM): obtains each RIM the report
 * names, then checks its version, signature, signed identity and OCSP. Returns the RIMs that passed.
 */
async function referenceRims(run: DeviceRun, { report, device }: ParsedDevice, claims: Partial<GpuClaims>): Promise<ReferenceRims> {
  const { options, across } = run;
  const o = report.response.opaque;
  const given = await Promise.all(
    (options.rims ?? []).map((r) => (typeof r === 'object' && 'measurements' in r ? r : memoized(options.memo?.rims, r, () => (across ? across.parseRim(r) : parseRim(r))))),
  );
  const drvId = driverRimId(report, device);
  const biosId = vbiosRimId(report, device);
  claims.driverRimId = drvId ?? null;
  claims.vbiosRimId = biosId ?? null;
  const rims: ReferenceRims = {};
  const wanted: [RimKind, string | undefined, string | undefined][] = [
    ['driver', drvId, o.driverVersion],
    ['vbios', biosId, o.vbiosVersion],
  ];
  for (const [what, rimId, version] of wanted) {
    if (what === 'driver' && device.kind === 'switch') continue;
    const expected = expectedRimIdentity(report, device, what);
    const rim = await obtainRim(run, `${run.id}.rim.${what}`, rimId, version, expected, given);
    if (!rim) continue;
    await checkRim(run, what, rim, version, expected);
    rims[what] = rim;
    claims.oemid ??= rim.firmwareManufacturerId ?? null;
  }
  return rims;
}

/** A RIM's version, signature (pinned NVIDIA RIM root), signed identity and signer OCSP, each a check. */
async function checkRim(run: DeviceRun, what: RimKind, rim: Rim, version: string | undefined, expected: RimIdentity): Promise<void> {
  const { checks, id, now, anchors, options, across } = run;
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
  await ocspChain(run, `${id}.rim.${what}.ocsp`, rim.signature.certificates, 0);
}

/** `<id>.measurements`: the report's measurement blocks against the RIMs' golden values (skipped without a RIM). */
async function compareMeasurements({ checks, id }: DeviceRun, { report, device }: ParsedDevice, rims: ReferenceRims, claims: Partial<GpuClaims>): Promise<void> {
  const complete = device.kind === 'switch' ? !!rims.vbios : !!(rims.driver && rims.vbios);
  if (!rims.driver && !rims.vbios) {
    checks.skip(`${id}.measurements`, 'no RIM: measurements NOT COMPARED with reference values');
    return;
  }
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
}

/** `<id>.policy.*`: every rule of the GPU policy section recorded, then the first refusal thrown. */
async function applyDevicePolicy({ checks, id, options }: DeviceRun, { report, device }: ParsedDevice): Promise<void> {
  const o = report.response.opaque;
  const outcomes = evaluateDevicePolicy(id, { arch: device.arch, driverVersion: o.driverVersion, vbiosVersion: o.vbiosVersion, kind: device.kind }, options.policy);
  const refused = await recordOutcomes(checks, outcomes);
  if (refused) throw refused;
}

function baseClaims({ report, device, chain }: ParsedDevice): Partial<GpuClaims> {
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
  { checks, options, across, requireRim }: DeviceRun,
  checkId: string,
  rimId: string | undefined,
  version: string | undefined,
  expected: RimIdentity,
  given: Rim[],
): Promise<Rim | undefined> {
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
    const rim = await fetchRim(rimId, options, across);
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
async function ocspChain(run: DeviceRun, checkId: string, certs: Certificate[], from: number): Promise<Record<string, string> | 'skipped'> {
  const { checks, ocspMode: mode } = run;
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
      return [cert, await ocspStatus(cert, issuer, mode, run.options, run.across)] as const;
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

export interface VerifyGpuOptions extends Omit<GpuAppraisalOptions, 'now' | 'checks' | 'id'> {
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
  const appraiseDevice = (now: Date, checks: CheckList): Promise<unknown> => appraiseGpu(evidence, { ...options, now, checks, id: options.id ?? 'gpu0' }, claims);
  return runVerification('gpu', options, simulated, appraiseDevice, () => claims as Record<string, unknown>);
}
