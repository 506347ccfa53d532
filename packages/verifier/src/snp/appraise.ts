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
  cachedFetch,
  equalBytes,
  fromUtf8,
  toHex,
  type Cache,
  type CheckListener,
  type Clock,
  type Fetcher,
  type VerificationDocument,
} from '@ccinfer/core';
import { definedOnly } from '@ccinfer/core/internal';
import { PINNED_ANCHORS, type TrustAnchors } from '../anchors.js';
import { parseCertificate, parseCertificates, parseCrl, type Certificate, type ChainCache } from '../x509/index.js';
import { snpClaims } from './claims.js';
import { KDS_BASE, certChainUrl, crlUrl, vcekUrl } from './collateral.js';
import { parseEndorsementKey, type AmdEndorsementKey } from './endorsement.js';
import { decodeTcb, parseSnpReport, productFromCpuid, type SnpProductLine, type SnpReport } from './parse.js';
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

const DAY = 86_400_000;

function certList(chain: SnpEvidence['chain']): Certificate[] {
  if (chain === undefined) return [];
  return Array.isArray(chain) ? chain.map(parseCertificate) : parseCertificates(chain);
}

/**
 * Runs the SNP steps on `options.checks`, returning the claims. Throws the first failing step's error after
 * recording it; `claims` gathered so far are written into `into` so a rejected document still shows them.
 */
export async function appraiseSnp(evidence: SnpEvidence, options: SnpAppraisalOptions, into: Record<string, unknown> = {}): Promise<SnpAppraisal> {
  const { checks, now } = options;
  const anchors = options.anchors ?? PINNED_ANCHORS;
  const kds = options.kdsBase ?? KDS_BASE;
  const fetchOpts = { fetcher: options.fetcher, cache: options.cache, now, signal: options.signal };

  const report = await checks.run('snp.parse', () => parseSnpReport(evidence.report), (r) => `report v${r.version}, ${r.signingKey.toUpperCase()}-signed, VMPL ${r.vmpl}`);
  const cpuProduct = productFromCpuid(report.cpuid);

  const leaf = await checks.run(
    'snp.endorsementKey',
    async (): Promise<AmdEndorsementKey> => {
      let der = evidence.leaf;
      if (!der) {
        if (report.signingKey === 'vlek') throw new CollateralError('ERR_SNP_LEAF_UNAVAILABLE', 'VLEK-signed report without its VLEK (VLEKs are not publicly fetchable)');
        if (!cpuProduct) throw new CollateralError('ERR_SNP_LEAF_UNAVAILABLE', 'v2 report without its VCEK: the product line (and so the KDS URL) is unknown');
        const url = vcekUrl(cpuProduct, report.chipId, decodeTcb(report.reportedTcbRaw, cpuProduct), kds);
        der = await cachedFetch(url, { ...definedOnly(fetchOpts), now, missingCode: 'ERR_SNP_LEAF_UNAVAILABLE' });
      }
      return parseEndorsementKey(parseCertificate(der));
    },
    (k) => `${k.kind.toUpperCase()} for ${k.productName}${k.cspId ? ` (${k.cspId})` : ''}`,
  );

  // The report signature needs only the leaf key: start it now so the ECDSA job runs on WebCrypto's worker
  // threads while the chain is parsed and checked on this one. Its result is used only in the `snp.signature`
  // step, after the chain has been accepted. Waiting for the key import (cheap, and its failure is reported by
  // that step too) guarantees the job is issued before the chain's synchronous parsing begins, instead of
  // leaving the overlap to how many microtask turns each path happens to take.
  const reportKey = importReportKey(leaf.cert);
  const signature = reportKey.then((key) => verifyReportSignature(report, key));
  signature.catch(() => undefined);
  await reportKey.catch(() => undefined);

  const productLine = await checks.run('snp.productLine', () => resolveProductLine(cpuProduct, leaf), (p) => (cpuProduct ? `${p} (CPUID and endorsement key agree)` : `${p} (from the endorsement key; v2 report has no CPUID)`));
  const tcbs = {
    reported: decodeTcb(report.reportedTcbRaw, productLine),
    current: decodeTcb(report.currentTcbRaw, productLine),
    committed: decodeTcb(report.committedTcbRaw, productLine),
    launch: decodeTcb(report.launchTcbRaw, productLine),
  };
  Object.assign(into, snpClaims(report, productLine, tcbs));

  const { ask, ark } = await checks.run(
    'snp.chain',
    async () => {
      let intermediates = certList(evidence.chain);
      if (intermediates.length === 0) {
        const pem = await cachedFetch(certChainUrl(productLine, leaf.kind, kds), { ...definedOnly(fetchOpts), now, ttlMs: 7 * DAY, missingCode: 'ERR_SNP_CHAIN_UNAVAILABLE' });
        intermediates = parseCertificates(fromUtf8(pem));
      }
      return verifySnpChain(leaf, intermediates, productLine, anchors.amd, now, options.chainCache);
    },
    (c) => `${leaf.kind.toUpperCase()} → ${c.ask.subject.cn} → ${c.ark.subject.cn} (pinned ${anchors.amd[productLine]?.name})`,
  );

  await revocation(evidence, options, productLine, leaf, ask, ark, kds, fetchOpts);

  await checks.run('snp.tcbBinding', () => checkLeafBinding(report, leaf, productLine), () => (leaf.kind === 'vcek' ? 'leaf TCB == REPORTED_TCB, hwID == CHIP_ID' : 'leaf TCB == REPORTED_TCB (VLEK: no hwID)'));
  await checks.run('snp.signature', () => signature, () => 'ECDSA P-384/SHA-384 over bytes [0, 0x2A0)');

  if (options.expectedReportData) {
    const want = options.expectedReportData;
    await checks.run('snp.reportData', () => {
      if (!equalBytes(report.reportData, want)) {
        throw new VerificationError('ERR_SNP_REPORT_DATA_MISMATCH', `REPORT_DATA ${toHex(report.reportData)} is not the expected ${toHex(want)}`);
      }
    });
  }

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
  return { claims: into, report, productLine };
}

async function revocation(
  evidence: SnpEvidence,
  options: SnpAppraisalOptions,
  product: SnpProductLine,
  leaf: AmdEndorsementKey,
  ask: Certificate,
  ark: Certificate,
  kds: string,
  fetchOpts: { fetcher: Fetcher | undefined; cache: Cache | undefined; now: Date; signal: AbortSignal | undefined },
): Promise<void> {
  const mode = options.policy?.revocation ?? 'require';
  if (mode === 'skip') {
    const why = 'policy snp.revocation = skip: revocation NOT CHECKED';
    options.checks.skip('snp.revocation', why);
    options.checks.warn(why);
    return;
  }
  let crlBytes = evidence.crl;
  let fetchedFrom: string | undefined;
  // A supplied CRL that names no scope cannot be told from the other hierarchy's CRL (checkSnpRevocation);
  // with a fetcher, the one at the intermediate's distribution point is fetched instead.
  if (crlBytes && fetchOpts.fetcher && !namesScope(crlBytes)) {
    options.checks.warn('the supplied AMD CRL names no scope (issuingDistributionPoint); fetched the one for this hierarchy instead');
    crlBytes = undefined;
  }
  if (!crlBytes) {
    try {
      crlBytes = await cachedFetch(crlUrl(product, leaf.kind, kds), { ...definedOnly(fetchOpts), now: options.now, ttlMs: 3_600_000, missingCode: 'ERR_SNP_CRL_UNAVAILABLE' });
      // `kds` may be a mirror; what was fetched is AMD's CRL for this product and hierarchy.
      fetchedFrom = crlUrl(product, leaf.kind);
    } catch (err) {
      const e = err instanceof CcinferError ? err : new CollateralError('ERR_SNP_CRL_UNAVAILABLE', 'CRL unavailable', { cause: err });
      if (mode === 'allow-unavailable') {
        const why = `AMD CRL unavailable (${e.code}); revocation NOT CHECKED, accepted by policy snp.revocation = allow-unavailable`;
        options.checks.skip('snp.revocation', why);
        options.checks.warn(why);
        return;
      }
      await options.checks.run('snp.revocation', () => {
        throw new CollateralError('ERR_SNP_CRL_UNAVAILABLE', `no AMD CRL could be obtained (${e.message}); policy snp.revocation = require`, { cause: e });
      });
      return;
    }
  }
  const der = crlBytes;
  await options.checks.run('snp.revocation', () => checkSnpRevocation(parseCrl(der), ark, ask, leaf.cert, options.now, fetchedFrom), () => `ARK-signed CRL current; ${ask.subject.cn} and leaf not revoked`);
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
