/**
 * Appraisal of a ccinfer/1 evidence bundle (docs/checks.md "Bundle appraisal"): the checklist that decides whether a pod may be
 * sent anything. In order:
 *   bundle.decode → nonce.echo → CPU (snp.* | tdx.*) → binding.reportData → initdata.digest →
 *   gpu[i].* / switch[j].* (each with the client's nonce) → devices.distinct → topology.ppcie → gpu policy → result.
 * The first failing step stops the appraisal: later steps are never reported as passed. The document is
 * returned in every case; `ok` decides.
 */
import {
  CheckList,
  CollateralError,
  ConfigError,
  PolicyError,
  VerificationError,
  ccinferV1Binding,
  CCINFER_BINDINGS,
  decodeBundle,
  equalBytes,
  fromHex,
  toHex,
  type BindingScheme,
  type Cache,
  type CheckListener,
  type Clock,
  type EvidenceBundle,
  type Fetcher,
  type VerificationDocument,
} from '@ccinfer/core';
import { isZero } from '@ccinfer/core/internal';
import { PINNED_ANCHORS, type TrustAnchors } from './anchors.js';
import { earFromDocument, type EarClaims } from './ear.js';
import { appraiseGpu, type GpuClaims } from './nvidia/appraise.js';
import { NvidiaMemo } from './nvidia/memo.js';
import { evaluateSystemPolicy } from './nvidia/policy.js';
import { recordOutcomes } from './policy-outcome.js';
import { FEATURE_PPCIE, checkDistinctDevices, checkFeatureFlags, checkPpcieTopology, type AppraisedDevice } from './nvidia/topology.js';
import { checkInitdata } from './initdata.js';
import type { Policy } from './policy.js';
import type { ProvenanceInput } from './provenance/appraise.js';
import { appraiseSnp } from './snp/appraise.js';
import { appraiseTdx } from './tdx/appraise.js';
import type { TdxCollateral } from './tdx/collateral.js';
import { ChainCache } from './x509/index.js';
import { recordEscaped, SIMULATED_ANCHORS_WARNING, startVerification } from './verification.js';

export interface AppraiseOptions {
  /** The 32-byte nonce this client sent: freshness comes from it, never from the pod. */
  nonce?: Uint8Array | undefined;
  /**
   * Audit a saved bundle without the nonce it answered: `nonce.echo` is recorded as skipped (freshness NOT
   * established) and devices are checked against the bundle's own nonce. Never for deciding to send data.
   */
  audit?: boolean | undefined;
  /**
   * The appraisal policy (`parsePolicy`). Absent: the strict defaults of every section apply and no reference
   * value is compared (each such check is recorded as skipped, with a warning).
   */
  policy?: Policy | undefined;
  /** Verification time (certificate, CRL and collateral validity). Default `clock.now()`. */
  now?: Date | undefined;
  /** Default the system clock. */
  clock?: Clock | undefined;
  /** Roots of trust. Default `PINNED_ANCHORS` (AMD ARKs, Intel SGX Root CA, NVIDIA device and RIM roots). */
  anchors?: TrustAnchors | undefined;
  /**
   * Fetches collateral the bundle does not carry (AMD KDS, Intel PCS, NVIDIA RIM service and OCSP). Default
   * none: nothing is fetched, and collateral found neither in the bundle nor in `cache` fails its check.
   */
  fetcher?: Fetcher | undefined;
  /** Collateral cache (fetched bodies are verified on every use; the cache is not trusted). Default none. */
  cache?: Cache | undefined;
  /** Reuse verified certificate chains across appraisals (validity is still checked each time). */
  chainCache?: ChainCache | undefined;
  /**
   * The binding scheme REPORT_DATA must follow. Default: the one the bundle names among the ccinfer schemes
   * (`ccinfer/1`, or `ccinfer/1-text` from text-only attesters), `ccinfer/1` when it names none. When set, a
   * bundle naming another scheme is refused (`ERR_BINDING_SCHEME`). See docs/binding.md.
   */
  binding?: BindingScheme | undefined;
  /** Called as each check is recorded (the CLI prints them live). */
  onCheck?: CheckListener | undefined;
  /** Aborts collateral fetches. */
  signal?: AbortSignal | undefined;
  /**
   * Require the policy to pin the CPU measurement (SNP `measurements`, TDX `mrTd`) and the initdata digest (SNP
   * `hostData`, TDX `mrConfigId`): without both, any genuine confidential VM — or any Kata pod of the same guest
   * image — running anyone's software would be accepted. Clients that send data set this (their
   * default); `verify` commands leave it off and report the measurement as NOT CHECKED instead.
   */
  requireReferenceValues?: boolean | undefined;
  /**
   * The signed provenance (Sigstore bundle and its verifier) that an SNP policy's `provenance` section is
   * checked against; the client gets it from a file, not from the pod. Default none.
   */
  provenance?: ProvenanceInput | undefined;
  /**
   * Refuse a pod with no attested GPU (`ERR_NV_POLICY_NO_GPU`) unless the policy says `gpu.count.min: 0`.
   * `createSecureClient` (Node and browser), `releaseTo` and the key broker set it; `verify` commands do not.
   */
  requireGpu?: boolean | undefined;
}

export interface Appraisal {
  document: VerificationDocument;
  /** EAR claims with submods cpu0, gpu0.., nvswitch0.. */
  ear: EarClaims;
  /** The decoded bundle (undefined when it did not decode). */
  bundle: EvidenceBundle | undefined;
  /** The attested key config: use it only when `document.ok`. */
  keyConfig: Uint8Array | undefined;
}

/**
/**
 * The scheme this bundle's REPORT_DATA is checked under. The pod may name `ccinfer/1-text` because some
 * attesters take only 64 bytes of text; both ccinfer schemes commit to the same inputs with a collision-resistant
 * digest under distinct labels, so letting the pod choose between them gives it nothing. Any other name, or a
 * name other than the caller's explicit scheme, is refused.
 */
function bundleScheme(b: EvidenceBundle, explicit: BindingScheme | undefined): BindingScheme {
  const named = b.binding;
  if (named === undefined) return explicit ?? ccinferV1Binding;
  const scheme = explicit ?? CCINFER_BINDINGS.get(named);
  if (!scheme || scheme.name !== named) {
    throw new VerificationError('ERR_BINDING_SCHEME', `the bundle names binding scheme "${named}", not ${explicit ? `"${explicit.name}"` : 'a ccinfer scheme'}`);
  }
  return scheme;
}

/**
 * Appraises a ccinfer/1 evidence bundle (CBOR bytes, or already decoded) for a client that sent
 * `options.nonce`: the checklist of docs/checks.md, in order — `bundle.decode`, `nonce.echo`, the CPU steps (`snp.*`
 * or `tdx.*`: chain to the pinned root, revocation, TCB, report signature, policy), `binding.reportData`
 * (REPORT_DATA is the binding of this nonce, key config and device reports), `initdata.digest`, every GPU and
 * NVSwitch (`gpu<i>.*`, `switch<j>.*`, each against the client's nonce), `devices.distinct` (no device listed
 * twice: `ERR_NV_DEVICE_DUPLICATE`), topology, the GPU policy and, with
 * `requireReferenceValues`, `policy.referenceValues`.
 *
 * Fail closed. Evidence problems do not throw: the first failing step stops the appraisal (the policy rules of
 * one component are all evaluated, so every refusal is listed), its `ERR_…` code is recorded in
 * `document.checks` and `document.errors`, and `document.ok` is false. Only caller errors throw: ConfigError
 * `ERR_OPTIONS_INVALID` when `nonce` is not 32 bytes (and `audit` is not set).
 *
 * Defaults: `anchors` the pinned vendor roots; `now` from `clock` (the system clock); `binding` ccinfer/1; no
 * `fetcher` (collateral only from the bundle and `cache`); `requireReferenceValues` false — clients that send
 * data set it (`createSecureClient` in `@ccinfer/node` and `@ccinfer/browser` does unless told otherwise).
 *
 * @returns The verification document and EAR claims in every case; `keyConfig` only when `document.ok` (and
 * not an audit): the key the evidence binds, the only one to encrypt to.
 * @example
 * ```ts
 * import { appraise, parsePolicyText } from '@ccinfer/verifier';
 *
 * const nonce = crypto.getRandomValues(new Uint8Array(32)); // sent to the pod in the attest request
 * const policy = parsePolicyText(policyJson);
 * const { document, keyConfig } = await appraise(bundle, { nonce, policy, requireReferenceValues: true, fetcher: fetch });
 * if (!document.ok) throw new Error(`pod refused: ${document.errors.map((e) => e.code).join(', ')}`);
 * // keyConfig: the HPKE key config the hardware evidence binds.
 * ```
 */
export async function appraise(input: Uint8Array | EvidenceBundle, options: AppraiseOptions): Promise<Appraisal> {
  const audit = options?.audit === true && options.nonce === undefined;
  if (!audit && (!(options?.nonce instanceof Uint8Array) || options.nonce.length !== 32)) {
    throw new ConfigError('ERR_OPTIONS_INVALID', 'options.nonce must be the 32-byte nonce the client sent (or audit: true without one)', { fields: ['nonce'] });
  }
  const { now, checks } = startVerification({ now: options.now, clock: options.clock, onCheck: options.onCheck });
  const anchors = options.anchors ?? PINNED_ANCHORS;
  const run: BundleRun = {
    options,
    checks,
    anchors,
    claims: { binding: (options.binding ?? ccinferV1Binding).name },
    components: [],
    common: { now, checks, fetcher: options.fetcher, cache: options.cache, chainCache: options.chainCache ?? new ChainCache(), signal: options.signal },
  };
  let bundle: EvidenceBundle | undefined;
  // An audit checks the devices against the bundle's own nonce (and the EAR carries it).
  let nonce = options.nonce ?? new Uint8Array(32);
  try {
    const b = (bundle = await decode(run, input));
    nonce = await nonceEcho(run, b, audit ? undefined : nonce);
    const cpu = await appraiseCpu(run, b);
    await reportDataBinding(run, b, cpu.reportData);
    await initdataDigest(run, b, cpu.hostRegister);
    const devices = await appraiseDevices(run, b, nonce);
    await distinctDevices(run, devices.every);
    const ppcie = await topology(run, devices);
    await systemPolicy(run, devices, ppcie);
    await referenceValues(run, b);
  } catch (err) {
    recordEscaped(checks, err);
  }

  const document = checks.document('bundle', now, run.claims);
  if (anchors.simulated) document.warnings.unshift(SIMULATED_ANCHORS_WARNING);
  const ear = earFromDocument(document, run.components.length ? run.components : [{ submod: 'cpu0', prefix: 'bundle' }], nonce);
  // An audit (no client nonce) establishes no freshness: it never hands out a key to encrypt to.
  return { document, ear, bundle, keyConfig: document.ok && !audit ? bundle?.keyConfig : undefined };
}

/** What every step of a bundle appraisal reads and writes. */
interface BundleRun {
  options: AppraiseOptions;
  checks: CheckList;
  anchors: TrustAnchors;
  /** The document's claims, filled in step by step (also when a step then fails). */
  claims: Record<string, unknown>;
  /** The EAR submods, one per component appraised. */
  components: { submod: string; prefix: string }[];
  /** The options every stack's appraisal takes from the bundle's. */
  common: { now: Date; checks: CheckList; fetcher: Fetcher | undefined; cache: Cache | undefined; chainCache: ChainCache; signal: AbortSignal | undefined };
}

/** The GPUs and NVSwitches appraised, in bundle order. */
interface AppraisedDevices {
  gpus: GpuClaims[];
  switches: GpuClaims[];
  every: AppraisedDevice[];
}

/** `bundle.decode`: the CBOR evidence bundle (wire-protocol.md "Evidence bundle"). */
function decode({ checks }: BundleRun, input: Uint8Array | EvidenceBundle): Promise<EvidenceBundle> {
  return checks.run('bundle.decode', () => (input instanceof Uint8Array ? decodeBundle(input) : input), (b) => `${b.cpu.tee.toUpperCase()} + ${b.gpus.length} GPU(s) + ${b.switches.length} NVSwitch(es)`);
}

/**
 * `nonce.echo`: the bundle answers this client's nonce (skipped, with a warning, for an audit, which has none).
 * Returns the nonce the devices must carry: the client's, or for an audit the bundle's own.
 */
async function nonceEcho({ checks }: BundleRun, b: EvidenceBundle, nonce: Uint8Array | undefined): Promise<Uint8Array> {
  if (!nonce) {
    const why = 'audit of a saved bundle: no client nonce given, freshness NOT established';
    checks.skip('nonce.echo', why);
    checks.warn(why);
    return b.nonce;
  }
  await checks.run('nonce.echo', () => {
    if (!equalBytes(b.nonce, nonce)) throw new VerificationError('ERR_BUNDLE_NONCE_MISMATCH', 'the bundle does not echo this client’s nonce (stale or replayed evidence)');
  });
  return nonce;
}

/** The CPU steps (`snp.*` or `tdx.*`); returns the report's REPORT_DATA and its initdata register. */
async function appraiseCpu({ options, anchors, claims, components, common }: BundleRun, b: EvidenceBundle): Promise<{ reportData: Uint8Array; hostRegister: Uint8Array }> {
  const policy = options.policy;
  const cpuClaims: Record<string, unknown> = {};
  components.push({ submod: 'cpu0', prefix: b.cpu.tee });
  claims['cpu'] = cpuClaims;
  if (b.cpu.tee === 'snp') {
    const snp = await appraiseSnp(
      { report: b.cpu.report, leaf: b.cpu.leaf, ...(b.cpu.chain?.length ? { chain: b.cpu.chain } : {}), ...(b.collateral?.snp ? { crl: b.collateral.snp.crl } : {}) },
      { ...common, anchors, policy: policy?.snp, provenance: options.provenance },
      cpuClaims,
    );
    return { reportData: snp.report.reportData, hostRegister: snp.report.hostData };
  }
  const tdx = await appraiseTdx(b.cpu.quote, {
    ...common,
    anchors,
    policy: policy?.tdx,
    collateral: b.collateral?.tdx ? tdxCollateral(b.collateral.tdx) : undefined,
    eventLog: b.eventLog,
    ...(policy?.freshness?.collateralGraceSeconds ? { collateralGraceMs: policy.freshness.collateralGraceSeconds * 1000 } : {}),
    claims: cpuClaims,
  });
  return { reportData: fromHex(tdx.reportData), hostRegister: fromHex(tdx.mrConfigId) };
}

/** `binding.reportData`: REPORT_DATA is the binding of this nonce, key config and device reports (binding.md). */
async function reportDataBinding({ checks, claims, options }: BundleRun, b: EvidenceBundle, reportData: Uint8Array): Promise<void> {
  let scheme: BindingScheme | undefined;
  await checks.run('binding.reportData', async () => {
    scheme = bundleScheme(b, options.binding);
    claims['binding'] = scheme.name;
    const expected = await scheme.compute({ nonce: b.nonce, keyConfig: b.keyConfig, gpuReports: b.gpus.map((g) => g.report), switchReports: b.switches.map((s) => s.report) });
    const got = reportData.subarray(0, scheme.length);
    if (!equalBytes(expected, got) || !isZero(reportData.subarray(scheme.length))) {
      throw new VerificationError('ERR_BINDING_MISMATCH', `REPORT_DATA ${toHex(reportData)} is not the ${scheme.name} binding of this bundle (${toHex(expected)}): the evidence is not about this session key and these devices`);
    }
  }, () => `REPORT_DATA = ${scheme!.name}(nonce, key config, ${b.gpus.length} GPU + ${b.switches.length} switch reports)`);
}

/** `initdata.digest`: HOST_DATA / MRCONFIGID is the digest of the initdata document (skipped without one). */
async function initdataDigest({ checks, claims }: BundleRun, b: EvidenceBundle, hostRegister: Uint8Array): Promise<void> {
  const init = b.initdata;
  if (init === undefined) {
    checks.skip('initdata.digest', 'the bundle carries no initdata document');
    return;
  }
  const tee = b.cpu.tee;
  await checks.run('initdata.digest', async () => {
    const got = await checkInitdata(hostRegister, init, { tee });
    claims['initdataDigest'] = toHex(got.register);
    claims['initdataAlgorithm'] = got.algorithm;
    claims['initdataParts'] = got.parts;
  }, () => `${tee === 'snp' ? 'HOST_DATA' : 'MRCONFIGID'} = digest of the initdata document`);
}

/**
 * `gpu<i>.*` and `switch<j>.*`, then each slot's `.role`. Devices are independent, so they are appraised
 * concurrently, each on its own CheckList, against the client's nonce; the lists are then reported in bundle
 * order and the first failing device (in that order) stops the appraisal.
 */
async function appraiseDevices({ options, checks, anchors, claims, components, common }: BundleRun, b: EvidenceBundle, nonce: Uint8Array): Promise<AppraisedDevices> {
  const devices = [...b.gpus.map((e, i) => ({ e, id: `gpu${i}`, submod: `gpu${i}`, kind: 'gpus' })), ...b.switches.map((e, i) => ({ e, id: `switch${i}`, submod: `nvswitch${i}`, kind: 'switches' }))];
  claims['gpus'] = [];
  claims['switches'] = [];
  const rims = [...(b.collateral?.nvidia?.rims?.values() ?? [])];
  const ocspResponses = b.collateral?.nvidia?.ocsp ?? [];
  const memo = new NvidiaMemo();
  const runs = devices.map((d) => {
    const own = new CheckList();
    const into: Partial<GpuClaims> = {};
    const result = appraiseGpu(d.e, { ...common, checks: own, id: d.id, expectedNonce: nonce, anchors, policy: options.policy?.gpu, rims, ocspResponses, memo }, into);
    result.catch(() => undefined);
    return { ...d, own, into, result };
  });
  const appraised: Record<string, GpuClaims[]> = { gpus: [], switches: [] };
  const every: AppraisedDevice[] = [];
  for (const r of runs) {
    components.push({ submod: r.submod, prefix: r.id });
    (claims[r.kind] as unknown[]).push(r.into);
    const settled = await r.result.then((v) => ({ v }), (err: unknown) => ({ err }));
    checks.absorb(r.own);
    if ('err' in settled) throw settled.err;
    // The slot must hold the kind of device the signed leaf says it is: an NVSwitch listed as a GPU would
    // satisfy a GPU count and skip the driver/VBIOS allowlists while the real GPU goes unattested.
    const want = r.kind === 'gpus' ? 'gpu' : 'switch';
    await checks.run(`${r.id}.role`, () => {
      if (settled.v.kind !== want) throw new VerificationError('ERR_NV_TOPOLOGY_MISMATCH', `${r.id} is a ${settled.v.kind === 'switch' ? 'NVSwitch' : 'GPU'}, listed as a ${want === 'gpu' ? 'GPU' : 'NVSwitch'}`);
    });
    appraised[r.kind]!.push(settled.v);
    every.push({ id: r.id, report: r.e.report, claims: settled.v });
  }
  return { gpus: appraised['gpus']!, switches: appraised['switches']!, every };
}

/** `devices.distinct`: one device listed twice must not count twice (nor stand in for an unattested one). */
async function distinctDevices({ checks }: BundleRun, every: AppraisedDevice[]): Promise<void> {
  if (every.length <= 1) return;
  await checks.run('devices.distinct', () => checkDistinctDevices(every), () => `${every.length} distinct devices (reports, leaf serials, PDIs)`);
}

/**
 * `topology.ppcie` or `topology.featureFlags`. PPCIe is decided by what the GPUs' signed evidence says
 * (FEATURE_FLAG PPCIe / protected PCIe), not by whether the pod chose to include switches: PPCIe GPUs without
 * their NVSwitches fail the topology check. Returns whether the system is in PPCIe mode.
 */
async function topology({ checks, claims }: BundleRun, { gpus, switches }: AppraisedDevices): Promise<boolean> {
  const ppcie = switches.length > 0 || gpus.some((g) => g.featureFlag === FEATURE_PPCIE || g.protectedPcie === true);
  if (ppcie) {
    const topo = await checks.run('topology.ppcie', () => checkPpcieTopology(gpus, switches), (t) => `${gpus.length} GPUs see the same ${t.switchPdis.length} NVSwitches; every switch lists the same ${t.gpuPdis.length} GPUs`);
    claims['topology'] = topo;
  } else if (gpus.length > 1) {
    await checks.run('topology.featureFlags', () => checkFeatureFlags(gpus), () => 'all GPUs in the same CC mode');
  }
  return ppcie;
}

/** `gpu.policy.*`: the GPU section's system rules (required, count, mode), all recorded, then the first refusal. */
async function systemPolicy({ checks, options }: BundleRun, { gpus, switches }: AppraisedDevices, ppcie: boolean): Promise<void> {
  const refused = await recordOutcomes(checks, evaluateSystemPolicy({ gpus: gpus.length, switches: switches.length, ppcie }, options.policy?.gpu, options.requireGpu === true));
  if (refused) throw refused;
}

/** `policy.referenceValues`, with `requireReferenceValues`: the policy pins what tells this pod from any other. */
async function referenceValues({ checks, options }: BundleRun, b: EvidenceBundle): Promise<void> {
  if (!options.requireReferenceValues) return;
  const unpinned = unpinnedReferenceValues(b.cpu.tee, options.policy);
  await checks.run('policy.referenceValues', () => {
    if (unpinned.length > 0) {
      throw new PolicyError('ERR_POLICY_UNPINNED', `the policy pins no ${unpinned.join(' and no ')}: a genuine ${b.cpu.tee.toUpperCase()} VM running anyone's software would be accepted (pin both with \`ccinfer policy init\` or \`ccinfer pod init\`)`, { field: unpinned[0]! });
    }
  }, () => `the ${b.cpu.tee === 'snp' ? 'launch measurement and HOST_DATA' : 'MRTD and MRCONFIGID'} are pinned by the policy`);
}

/**
 * The reference values a client needs pinned before it trusts a pod: the launch measurement (SNP `measurements` or a
 * `provenance` release identity) / MRTD (TDX) *and* the initdata digest, HOST_DATA / MRCONFIGID. In Kata every pod of one guest image has the same launch
 * measurement and the guest's Attestation Agent signs any runtime data a container asks for, so a measurement
 * pin alone accepts any Kata pod running anyone's containers ("evidence factory", CoCo `get-attestation.md`);
 * the initdata digest (whose agent policy fixes the containers) is what tells one pod from another. A VM with
 * no initdata pins HOST_DATA / MRCONFIGID as zero: explicit, like `ccinfer policy init` writes it.
 */
function unpinnedReferenceValues(tee: 'snp' | 'tdx', policy: Policy | undefined): string[] {
  const pins: [string, unknown][] = tee === 'snp'
    ? // A signed-provenance identity pins the measurement too: `snp.provenance.measurement` has checked it.
      [['snp.measurements', policy?.snp?.measurements ?? policy?.snp?.provenance], ['snp.hostData', policy?.snp?.hostData]]
    : [['tdx.mrTd', policy?.tdx?.mrTd], ['tdx.mrConfigId', policy?.tdx?.mrConfigId]];
  return pins.filter(([, v]) => v === undefined).map(([k]) => k);
}

function tdxCollateral(m: Map<string, Uint8Array>): TdxCollateral {
  const need = (k: string): Uint8Array => {
    const v = m.get(k);
    if (!v) throw new CollateralError('ERR_TDX_COLLATERAL_MISSING', `bundle collateral lacks tdx.${k}`);
    return v;
  };
  const c: TdxCollateral = {
    tcbInfo: need('tcbInfo'),
    tcbInfoIssuerChain: need('tcbInfoIssuerChain'),
    qeIdentity: need('qeIdentity'),
    qeIdentityIssuerChain: need('qeIdentityIssuerChain'),
    pckCrl: need('pckCrl'),
    rootCaCrl: need('rootCaCrl'),
  };
  const chain = m.get('pckCrlIssuerChain');
  if (chain) c.pckCrlIssuerChain = chain;
  return c;
}

