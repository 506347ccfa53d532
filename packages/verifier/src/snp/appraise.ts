/**
 * SEV-SNP appraisal as a checklist: parse → endorsement key → product line → chain to the pinned ARK →
 * revocation → leaf/report binding → report signature → (binding) → policy. Each step is recorded on the
 * CheckList; the first failing step stops the appraisal (fail closed), except policy rules, which are all
 * evaluated so the document lists every one that failed.
 */
import {
  CcinferError,
  CheckList,
  CollateralError,
  ConfigError,
  VerificationError,
  equalBytes,
  fromUtf8,
  toHex,
  type Cache,
  type CheckListener,
  type Clock,
  type Fetcher,
  type VerificationDocument,
} from '@ccinfer/core';
import { PINNED_ANCHORS, type TrustAnchors } from '../anchors.js';
import { parseCertificate, parseCertificates, parseCrl, type Certificate, type ChainCache } from '../x509/index.js';
import { snpClaims } from './claims.js';
import { crlUrl } from './collateral.js';
import { fetchCertChain, fetchCrl, fetchVcek, type SnpCollateralSources } from './fetch.js';
import { parseEndorsementKey, type AmdEndorsementKey } from './endorsement.js';
import { decodeTcb, parseSnpReport, productFromCpuid, type SnpProductLine, type SnpReport, type TcbVersion } from './parse.js';
import { appraiseProvenance, type ProvenanceInput } from '../provenance/appraise.js';
import { evaluateSnpPolicy, type SnpPolicy } from './policy.js';
import { recordOutcomes } from '../policy-outcome.js';
import { checkLeafBinding, checkSnpRevocation, importReportKey, resolveProductLine, verifyReportSignature, verifySnpChain } from './verify.js';
import { runVerification } from '../verification.js';

export interface SnpEvidence {
  /** The 1184-byte ATTESTATION_REPORT. */
  report: Uint8Array;
  /** VCEK or VLEK, DER. Without it a VCEK is fetched from AMD KDS (a VLEK cannot be). */
  leaf?: Uint8Array;
  /** ASK/ASVK then ARK, as PEM text or DER certificates. Without it the KDS cert_chain is used. */
  chain?: Uint8Array | string | Uint8Array[];
  /** ARK-signed CRL (DER). Without it the KDS CRL is used. */
  crl?: Uint8Array;
}

export interface SnpAppraisalOptions {
  now: Date;
  checks: CheckList;
  policy?: SnpPolicy | undefined;
  anchors?: TrustAnchors | undefined;
  fetcher?: Fetcher | undefined;
  cache?: Cache | undefined;
  chainCache?: ChainCache | undefined;
  kdsBase?: string | undefined;
  /** REPORT_DATA the caller's binding scheme requires; checked as `snp.reportData` when given. */
  expectedReportData?: Uint8Array | undefined;
  /** The signed provenance bundle the policy's `provenance` section is checked against. */
  provenance?: ProvenanceInput | undefined;
  signal?: AbortSignal | undefined;
}

export interface SnpAppraisal {
  claims: Record<string, unknown>;
  report: SnpReport;
  productLine: SnpProductLine;
}

/** What every step of an SNP appraisal reads: its options, with their defaults resolved once. */
interface SnpRun {
  options: SnpAppraisalOptions;
  checks: CheckList;
  now: Date;
  anchors: TrustAnchors;
  /** Where missing collateral is fetched from (snp/fetch.ts). */
  sources: SnpCollateralSources;
}

/** The four TCB versions of the report, decoded for its product line. */
interface SnpTcbs {
  reported: TcbVersion;
  current: TcbVersion;
  committed: TcbVersion;
  launch: TcbVersion;
}

function certList(chain: SnpEvidence['chain']): Certificate[] {
  if (chain === undefined) return [];
  return Array.isArray(chain) ? chain.map(parseCertificate) : parseCertificates(chain);
}

/**
 * Runs the SNP steps on `options.checks`, returning the claims. Throws the first failing step's error after
 * recording it; `claims` gathered so far are written into `into` so a rejected document still shows them.
 */
export async function appraiseSnp(evidence: SnpEvidence, options: SnpAppraisalOptions, into: Record<string, unknown> = {}): Promise<SnpAppraisal> {
  const run: SnpRun = {
    options,
    checks: options.checks,
    now: options.now,
    anchors: options.anchors ?? PINNED_ANCHORS,
    sources: { now: options.now, fetcher: options.fetcher, cache: options.cache, signal: options.signal, kdsBase: options.kdsBase },
  };
  const report = await parseReport(run, evidence);
  const cpuProduct = productFromCpuid(report.cpuid);
  const leaf = await endorsementKey(run, evidence, report, cpuProduct);
  const signature = await startReportSignature(report, leaf);
  const productLine = await productLineOf(run, cpuProduct, leaf);
  const tcbs = decodeTcbs(report, productLine);
  Object.assign(into, snpClaims(report, productLine, tcbs));
  const { ask, ark } = await chainToArk(run, evidence, leaf, productLine);
  await revocation(run, evidence, productLine, leaf, ask, ark);
  await tcbBinding(run, report, leaf, productLine);
  await run.checks.run('snp.signature', () => signature.verified, () => 'ECDSA P-384/SHA-384 over bytes [0, 0x2A0)');
  await reportData(run, report);
  await policy(run, report, productLine, tcbs, into);
  return { claims: into, report, productLine };
}

/** `snp.parse`: the ATTESTATION_REPORT's layout (sizes, version, reserved fields). */
function parseReport({ checks }: SnpRun, evidence: SnpEvidence): Promise<SnpReport> {
  return checks.run('snp.parse', () => parseSnpReport(evidence.report), (r) => `report v${r.version}, ${r.signingKey.toUpperCase()}-signed, VMPL ${r.vmpl}`);
}

/** `snp.endorsementKey`: the VCEK / VLEK given, or the VCEK fetched from KDS (a VLEK cannot be), parsed. */
function endorsementKey({ checks, sources }: SnpRun, evidence: SnpEvidence, report: SnpReport, cpuProduct: SnpProductLine | undefined): Promise<AmdEndorsementKey> {
  return checks.run(
    'snp.endorsementKey',
    async (): Promise<AmdEndorsementKey> => {
      let der = evidence.leaf;
      if (!der) {
        if (report.signingKey === 'vlek') throw new CollateralError('ERR_SNP_LEAF_UNAVAILABLE', 'VLEK-signed report without its VLEK (VLEKs are not publicly fetchable)');
        if (!cpuProduct) throw new CollateralError('ERR_SNP_LEAF_UNAVAILABLE', 'v2 report without its VCEK: the product line (and so the KDS URL) is unknown');
        der = await fetchVcek(cpuProduct, report, sources);
      }
      return parseEndorsementKey(parseCertificate(der));
    },
    (k) => `${k.kind.toUpperCase()} for ${k.productName}${k.cspId ? ` (${k.cspId})` : ''}`,
  );
}

/**
 * The report signature needs only the leaf key: start it now so the ECDSA job runs on WebCrypto's worker
 * threads while the chain is parsed and checked on this one. Its result is used only in the `snp.signature`
 * step, after the chain has been accepted. Waiting for the key import (cheap, and its failure is reported by
 * that step too) guarantees the job is issued before the chain's synchronous parsing begins, instead of
 * leaving the overlap to how many microtask turns each path happens to take. (Wrapped in an object so that
 * awaiting this function does not await the verification.)
 */
async function startReportSignature(report: SnpReport, leaf: AmdEndorsementKey): Promise<{ verified: Promise<void> }> {
  const reportKey = importReportKey(leaf.cert);
  const verified = reportKey.then((key) => verifyReportSignature(report, key));
  verified.catch(() => undefined);
  await reportKey.catch(() => undefined);
  return { verified };
}

/** `snp.productLine`: from CPUID and the endorsement key, which must agree (a v2 report has no CPUID). */
function productLineOf({ checks }: SnpRun, cpuProduct: SnpProductLine | undefined, leaf: AmdEndorsementKey): Promise<SnpProductLine> {
  return checks.run('snp.productLine', () => resolveProductLine(cpuProduct, leaf), (p) => (cpuProduct ? `${p} (CPUID and endorsement key agree)` : `${p} (from the endorsement key; v2 report has no CPUID)`));
}

function decodeTcbs(report: SnpReport, productLine: SnpProductLine): SnpTcbs {
  return {
    reported: decodeTcb(report.reportedTcbRaw, productLine),
    current: decodeTcb(report.currentTcbRaw, productLine),
    committed: decodeTcb(report.committedTcbRaw, productLine),
    launch: decodeTcb(report.launchTcbRaw, productLine),
  };
}

/** `snp.chain`: leaf → ASK / ASVK (given, else the KDS cert_chain) → ARK pinned for the product line. */
function chainToArk({ checks, now, anchors, sources, options }: SnpRun, evidence: SnpEvidence, leaf: AmdEndorsementKey, productLine: SnpProductLine): Promise<{ ask: Certificate; ark: Certificate }> {
  return checks.run(
    'snp.chain',
    async () => {
      let intermediates = certList(evidence.chain);
      if (intermediates.length === 0) intermediates = parseCertificates(fromUtf8(await fetchCertChain(productLine, leaf.kind, sources)));
      return verifySnpChain(leaf, intermediates, productLine, anchors.amd, now, options.chainCache);
    },
    (c) => `${leaf.kind.toUpperCase()} → ${c.ask.subject.cn} → ${c.ark.subject.cn} (pinned ${anchors.amd[productLine]?.name})`,
  );
}

/** `snp.tcbBinding`: the leaf was issued for this chip (hwID) at this REPORTED_TCB. */
async function tcbBinding({ checks }: SnpRun, report: SnpReport, leaf: AmdEndorsementKey, productLine: SnpProductLine): Promise<void> {
  await checks.run('snp.tcbBinding', () => checkLeafBinding(report, leaf, productLine), () => (leaf.kind === 'vcek' ? 'leaf TCB == REPORTED_TCB, hwID == CHIP_ID' : 'leaf TCB == REPORTED_TCB (VLEK: no hwID)'));
}

/** `snp.reportData`, when the caller's binding scheme names the REPORT_DATA it requires. */
async function reportData({ checks, options }: SnpRun, report: SnpReport): Promise<void> {
  const want = options.expectedReportData;
  if (!want) return;
  await checks.run('snp.reportData', () => {
    if (!equalBytes(report.reportData, want)) {
      throw new VerificationError('ERR_SNP_REPORT_DATA_MISMATCH', `REPORT_DATA ${toHex(report.reportData)} is not the expected ${toHex(want)}`);
    }
  });
}

/**
 * `snp.policy.*` then, when the policy asks for it, `snp.provenance.*`: every rule is recorded (a document lists
 * all that failed), then the first refusal is thrown.
 */
async function policy({ checks, options }: SnpRun, report: SnpReport, productLine: SnpProductLine, tcbs: SnpTcbs, into: Record<string, unknown>): Promise<void> {
  const outcomes = evaluateSnpPolicy({ report, productLine, reportedTcb: tcbs.reported, currentTcb: tcbs.current, committedTcb: tcbs.committed }, options.policy);
  let firstFailure: CcinferError | undefined = await recordOutcomes(checks, outcomes);
  if (options.policy?.provenance) {
    try {
      await appraiseProvenance(report.measurement, options.policy.provenance, options.provenance, checks, into);
    } catch (err) {
      if (!(err instanceof CcinferError)) throw err;
      firstFailure ??= err;
    }
  }
  if (firstFailure) throw firstFailure;
}

/** `snp.revocation`: the ARK-signed CRL (given, else fetched) is current and revokes neither ASK nor leaf. */
async function revocation({ checks, now, sources, options }: SnpRun, evidence: SnpEvidence, product: SnpProductLine, leaf: AmdEndorsementKey, ask: Certificate, ark: Certificate): Promise<void> {
  const mode = options.policy?.revocation ?? 'require';
  if (mode === 'skip') {
    const why = 'policy snp.revocation = skip: revocation NOT CHECKED';
    checks.skip('snp.revocation', why);
    checks.warn(why);
    return;
  }
  let crlBytes = evidence.crl;
  let fetchedFrom: string | undefined;
  // A supplied CRL that names no scope cannot be told from the other hierarchy's CRL (checkSnpRevocation);
  // with a fetcher, the one at the intermediate's distribution point is fetched instead.
  if (crlBytes && sources.fetcher && !namesScope(crlBytes)) {
    checks.warn('the supplied AMD CRL names no scope (issuingDistributionPoint); fetched the one for this hierarchy instead');
    crlBytes = undefined;
  }
  if (!crlBytes) {
    try {
      crlBytes = await fetchCrl(product, leaf.kind, sources);
      // `kdsBase` may be a mirror; what was fetched is AMD's CRL for this product and hierarchy.
      fetchedFrom = crlUrl(product, leaf.kind);
    } catch (err) {
      const e = err instanceof CcinferError ? err : new CollateralError('ERR_SNP_CRL_UNAVAILABLE', 'CRL unavailable', { cause: err });
      if (mode === 'allow-unavailable') {
        const why = `AMD CRL unavailable (${e.code}); revocation NOT CHECKED, accepted by policy snp.revocation = allow-unavailable`;
        checks.skip('snp.revocation', why);
        checks.warn(why);
        return;
      }
      await checks.run('snp.revocation', () => {
        throw new CollateralError('ERR_SNP_CRL_UNAVAILABLE', `no AMD CRL could be obtained (${e.message}); policy snp.revocation = require`, { cause: e });
      });
      return;
    }
  }
  const der = crlBytes;
  await checks.run('snp.revocation', () => checkSnpRevocation(parseCrl(der), ark, ask, leaf.cert, now, fetchedFrom), () => `ARK-signed CRL current; ${ask.subject.cn} and leaf not revoked`);
}

/** Whether a CRL carries an issuingDistributionPoint; an unparsable one is left to the revocation check to report. */
function namesScope(der: Uint8Array): boolean {
  try {
    return (parseCrl(der).distributionPointUris?.length ?? 0) > 0;
  } catch {
    return true;
  }
}


export interface VerifySnpOptions extends Omit<SnpAppraisalOptions, 'now' | 'checks'> {
  /** Verification time; default the clock's now. */
  now?: Date;
  clock?: Clock;
  onCheck?: CheckListener;
}

/**
 * Verifies SEV-SNP evidence and returns the verification document (tee `snp`). Checks, in order: `snp.parse`
 * (report layout, reserved bytes), `snp.endorsementKey` (VCEK / VLEK), `snp.productLine` (CPUID and key
 * agree), `snp.chain` (leaf → ASK / ASVK → ARK pinned by `anchors`), `snp.revocation` (ARK-signed CRL),
 * `snp.tcbBinding` (leaf TCB = REPORTED_TCB, hwID = CHIP_ID), `snp.signature` (ECDSA P-384 over the report),
 * `snp.reportData` when `expectedReportData` is given, then the `snp.policy.*` rules and, when the policy has a
 * `provenance` section, the `snp.provenance.*` steps against `options.provenance` (the Sigstore bundle and its
 * verifier; the `provenance` claim lists repository, workflow, ref and Rekor log index).
 *
 * Evidence problems do not throw: they make `ok` false and are listed in `checks` and `errors` with their
 * `ERR_…` code. Invalid options throw a ConfigError (`ERR_OPTIONS_INVALID`).
 *
 * Defaults: `now` from `clock` (the system clock); `anchors` the pinned AMD ARKs; `policy` none, which keeps the
 * strict rules (no debug, no migration agent, VMPL 0, no provisional firmware, revocation required) and
 * compares no measurement (recorded as skipped, with a warning). Collateral not in `evidence` (VCEK, cert_chain,
 * CRL) is read from `cache` or fetched from AMD KDS (`kdsBase`) through `fetcher`; without a `fetcher` nothing is
 * fetched and missing collateral fails its check (`ERR_SNP_CRL_UNAVAILABLE` unless the policy sets
 * `revocation: 'allow-unavailable'`).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parsePolicy, verifySnp } from '@ccinfer/verifier';
 *
 * const policy = parsePolicy({ version: 1, snp: { measurements: [expectedMeasurementHex] } });
 * const doc = await verifySnp(
 *   { report: await readFile('report.bin'), leaf: await readFile('vcek.der'), chain: await readFile('cert_chain.pem', 'utf8') },
 *   { policy: policy.snp, fetcher: fetch }, // the fetcher gets the ARK-signed CRL from AMD KDS
 * );
 * if (!doc.ok) console.error(doc.errors);
 * ```
 */
export async function verifySnp(evidence: SnpEvidence, options: VerifySnpOptions = {}): Promise<VerificationDocument> {
  if (!(evidence?.report instanceof Uint8Array)) throw new ConfigError('ERR_OPTIONS_INVALID', 'evidence.report must be a Uint8Array', { fields: ['report'] });
  const claims: Record<string, unknown> = {};
  const simulated = (options.anchors ?? PINNED_ANCHORS).simulated === true;
  return runVerification('snp', options, simulated, (now, checks) => appraiseSnp(evidence, { ...options, now, checks }, claims), () => claims);
}
