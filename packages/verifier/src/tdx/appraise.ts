/**
 * Appraisal of an Intel TDX quote (docs/checks.md "Intel TDX"): every step recorded on the CheckList with a `tdx.*` id, in
 * Intel QVL's order, failing closed at the first failure. Claims are filled in as they become known, so a
 * rejected quote still reports what was verified (the TCB status and advisories in particular, docs/wire-protocol.md "Verification document").
 *
 * Independent signature checks are started together and awaited in order: WebCrypto runs them in parallel,
 * the record keeps the QVL order.
 */
import { CheckList, ConfigError, VerificationError, toHex, type Cache, type CheckListener, type Clock, type Fetcher, type VerificationDocument } from '@ccinfer/core';
import { PINNED_ANCHORS, type TrustAnchors } from '../anchors.js';
import { checkInitdata } from '../initdata.js';
import type { ChainCache, TrustAnchor } from '../x509/chain.js';
import type { QeIdentity, TcbInfo, TdxCollateral, UpdateType } from './collateral.js';
import { verifyEventLog, type CcelEvent } from './eventlog.js';
import { fetchTdxCollateral } from './fetch.js';
import { TD_ATTR, hasTdAttribute, parseTdxQuote, type TdxQuote } from './parse.js';
import { pckCaType } from './pck.js';
import { evaluateTdxPolicy, resolveTdxPolicy, type ResolvedTdxPolicy, type TdxPolicy, type TdxPolicyInput } from './policy.js';
import { evaluateTdxTcb, moduleMismatch, qeIdentityMismatch, qeTcbLevel, type TcbEvaluation, type TdxTcbFailure, type TdxTcbStatus } from './tcb.js';
import {
  checkCasNotRevoked,
  parsePckChain,
  verifyPckChain,
  verifyPckCrl,
  verifyQeIdentity,
  verifyQeReportData,
  verifyQeReportSignature,
  verifyQuoteSignature,
  verifyRootCrl,
  verifyTcbInfo,
  type CollateralOptions,
  type PckChain,
} from './verify.js';
import { runVerification } from '../verification.js';
import { recordOutcomes } from '../policy-outcome.js';

/** TDX claims (names of docs/wire-protocol.md "Verification document"; bytes as lowercase hex), plus the TCB evaluation details. */
export interface TdxClaims {
  quoteVersion: number;
  bodyType: number;
  mrTd: string;
  rtmrs: [string, string, string, string];
  mrConfigId: string;
  mrOwner: string;
  mrOwnerConfig: string;
  mrSeam: string;
  mrSignerSeam: string;
  reportData: string;
  /** TDATTRIBUTES, 8 bytes as in the report (little-endian). */
  tdAttributes: string;
  xfam: string;
  teeTcbSvn: string;
  teeTcbSvn2?: string;
  mrServiceTd?: string;
  debug: boolean;
  septVeDisable: boolean;
  fmspc?: string;
  pceId?: string;
  /** Intel's status, or the QVL failure (`TCB_NOT_SUPPORTED`, `TDX_MODULE_MISMATCH`) when none applies. */
  tcbStatus?: TdxTcbStatus | TdxTcbFailure;
  advisoryIds?: string[];
  tcbDate?: string;
  /** The TCB Info's evaluation number (Intel raises it with every TCB recovery). */
  tcbEvaluationDataNumber?: number;
  /** The QE Identity's evaluation number. */
  qeIdentityTcbEvaluationDataNumber?: number;
  platformTcbStatus?: string;
  tdxModule?: { id: string; tcbStatus: string | undefined };
  qeTcbStatus?: string;
  trailingBytes: number;
  /** Events of the CCEL, when one was supplied and replayed. */
  eventLog?: { mrIndex: number; eventType: number; digest: string }[];
}

export interface TdxAppraisalOptions {
  now: Date;
  checks: CheckList;
  /** Collateral as served by PCS (from the bundle or a collateral directory). Fetched when absent. */
  collateral?: TdxCollateral | undefined;
  fetcher?: Fetcher | undefined;
  cache?: Cache | undefined;
  /** Cancels the collateral fetches (as for the SNP and NVIDIA appraisals). */
  signal?: AbortSignal | undefined;
  update?: UpdateType | undefined;
  pcsBase?: string | undefined;
  /** Trust anchors; TDX uses `intel`, the Intel SGX Root CA pins. Default the pinned anchors (the real root). */
  anchors?: TrustAnchors | undefined;
  chainCache?: ChainCache | undefined;
  policy?: TdxPolicy | undefined;
  /** Accept TCB Info / QE Identity this long after nextUpdate (policy `freshness.collateralGraceSeconds`). */
  collateralGraceMs?: number | undefined;
  /** CCEL log area: when given, RTMR0..3 must replay from it. */
  eventLog?: Uint8Array | undefined;
  /** CoCo initdata document: when given, MRCONFIGID must be its digest (`initdataDigest`, Kata's rule). */
  initdata?: Uint8Array | undefined;
  /** Receives claims as they become known (also when the appraisal then fails). */
  claims?: Partial<TdxClaims> | undefined;
}

/** Starts a promise now; the returned thunk awaits it later without an unhandled rejection in between. */
function started<T>(p: Promise<T>): () => Promise<T> {
  p.catch(() => undefined);
  return () => p;
}

function quoteClaims(q: TdxQuote): TdxClaims {
  const b = q.body;
  const c: TdxClaims = {
    quoteVersion: q.header.version,
    bodyType: b.bodyType,
    mrTd: toHex(b.mrTd),
    rtmrs: b.rtmrs.map(toHex) as TdxClaims['rtmrs'],
    mrConfigId: toHex(b.mrConfigId),
    mrOwner: toHex(b.mrOwner),
    mrOwnerConfig: toHex(b.mrOwnerConfig),
    mrSeam: toHex(b.mrSeam),
    mrSignerSeam: toHex(b.mrSignerSeam),
    reportData: toHex(b.reportData),
    tdAttributes: toHex(b.tdAttributes),
    xfam: toHex(b.xfam),
    teeTcbSvn: toHex(b.teeTcbSvn),
    debug: hasTdAttribute(b, TD_ATTR.DEBUG),
    septVeDisable: hasTdAttribute(b, TD_ATTR.SEPT_VE_DISABLE),
    trailingBytes: q.trailingBytes,
  };
  if (b.teeTcbSvn2) c.teeTcbSvn2 = toHex(b.teeTcbSvn2);
  if (b.mrServiceTd) c.mrServiceTd = toHex(b.mrServiceTd);
  return c;
}

function tcbClaims(e: TcbEvaluation, claims: Partial<TdxClaims>): void {
  claims.tcbStatus = e.status;
  claims.advisoryIds = e.advisoryIds;
  if (e.tcbDate !== undefined) claims.tcbDate = e.tcbDate;
  if (e.tdxLevel) claims.platformTcbStatus = e.tdxLevel.tcbStatus;
  if (e.module) claims.tdxModule = { id: e.module.id, tcbStatus: e.module.level?.tcbStatus };
  if (e.qeLevel) claims.qeTcbStatus = e.qeLevel.tcbStatus;
}

/** What every step of a TDX appraisal reads: its options, with their defaults resolved once. */
interface TdxRun {
  options: TdxAppraisalOptions;
  checks: CheckList;
  now: Date;
  claims: Partial<TdxClaims>;
  policy: ResolvedTdxPolicy;
  /** The Intel SGX Root CA pins, the time and the caller's chain cache, as the chain checks take them. */
  chainOpts: { anchors: readonly TrustAnchor[]; now: Date; cache?: ChainCache };
}

/** The signed collateral documents, verified. */
interface VerifiedCollateral {
  tcbInfo: TcbInfo;
  qeIdentity: QeIdentity;
}

/**
 * Appraises a TDX quote v4/v5 at `now`. Resolves with the claims when every check passed and the policy
 * accepts them; otherwise throws the first failure's CcinferError (recorded on `checks`, claims so far in
 * `options.claims`). The evidence's own signatures do not depend on collateral: they are started as soon as
 * their inputs are parsed (WebCrypto runs them in parallel) and recorded later, in Intel QVL's order.
 */
export async function appraiseTdx(quoteBytes: Uint8Array, options: TdxAppraisalOptions): Promise<TdxClaims> {
  const run = tdxRun(options);
  const quote = await parseQuote(run, quoteBytes);
  const quoteSig = started(verifyQuoteSignature(quote));
  const qeData = started(verifyQeReportData(quote));
  const pck = await parsePck(run, quote);
  const pckChainOk = started(verifyPckChain(pck, run.chainOpts));
  const qeSig = started(verifyQeReportSignature(quote, pck.leaf));
  const collateral = await obtainCollateral(run, pck);
  const { tcbInfo, qeIdentity } = await verifyCollateral(run, pck, collateral, pckChainOk);
  const qeLevel = await verifyQe(run, quote, qeIdentity, qeSig, qeData);
  await run.checks.run('tdx.quote.signature', quoteSig);
  await checkModule(run, quote, tcbInfo);
  const evaluation = await evaluateTcb(run, quote, pck, tcbInfo, qeLevel);
  await replayEventLog(run, quote);
  await policy(run, quote, evaluation, { tcbInfo: tcbInfo.tcbEvaluationDataNumber, qeIdentity: qeIdentity.tcbEvaluationDataNumber });
  await initdata(run, quote);
  return run.claims as TdxClaims;
}

/** The resolved options; an empty Intel anchor list or an invalid policy is the caller's error, thrown first. */
function tdxRun(options: TdxAppraisalOptions): TdxRun {
  const { now, checks } = options;
  const anchors = (options.anchors ?? PINNED_ANCHORS).intel;
  if (!Array.isArray(anchors) || anchors.length === 0) throw new ConfigError('ERR_ANCHORS_INVALID', 'no Intel SGX Root CA trust anchor configured', { fields: ['anchors.intel'] });
  const policy = resolveTdxPolicy(options.policy);
  const chainOpts = options.chainCache ? { anchors, now, cache: options.chainCache } : { anchors, now };
  return { options, checks, now, claims: options.claims ?? {}, policy, chainOpts };
}

/** `tdx.quote.parse`: the quote's layout; its body's claims are known from here on. */
function parseQuote({ checks, claims }: TdxRun, quoteBytes: Uint8Array): Promise<TdxQuote> {
  // A private copy: the caller's buffer may change while signatures are being checked.
  return checks.run('tdx.quote.parse', () => {
    const q = parseTdxQuote(quoteBytes.slice());
    Object.assign(claims, quoteClaims(q));
    if (q.trailingBytes > 0) checks.warn(`tdx: ${q.trailingBytes} bytes after the quote's signature data ignored (not signed)`);
    return q;
  }, (q) => `v${q.header.version}, body type ${q.body.bodyType}`);
}

/** `tdx.pck.parse`: the PCK chain in the quote and the leaf's SGX extension (FMSPC, PCEID, TCB). */
async function parsePck({ checks, claims }: TdxRun, quote: TdxQuote): Promise<PckChain> {
  const chain = await checks.run('tdx.pck.parse', () => parsePckChain(quote), (c) => `FMSPC ${c.extension.fmspc}, PCEID ${c.extension.pceId}`);
  claims.fmspc = chain.extension.fmspc;
  claims.pceId = chain.extension.pceId;
  return chain;
}

/** `tdx.collateral`: the caller's PCS collateral, else fetched for this FMSPC and PCK CA (tdx/fetch.ts). */
function obtainCollateral({ checks, now, options }: TdxRun, chain: PckChain): Promise<TdxCollateral> {
  return checks.run('tdx.collateral', async () => {
    if (options.collateral) return options.collateral;
    const ca = pckCaType(chain.leaf);
    if (!ca) throw new VerificationError('ERR_TDX_PCK_CERT', `PCK leaf issuer ${chain.leaf.issuer.cn ?? ''} is neither the Platform nor the Processor CA`);
    const o: Parameters<typeof fetchTdxCollateral>[0] = { fmspc: chain.extension.fmspc, ca, now };
    if (options.fetcher) o.fetcher = options.fetcher;
    if (options.cache) o.cache = options.cache;
    if (options.update) o.update = options.update;
    if (options.pcsBase) o.base = options.pcsBase;
    if (options.signal) o.fetch = { signal: options.signal };
    return fetchTdxCollateral(o);
  }, () => (options.collateral ? 'supplied' : 'fetched'));
}

/**
 * `tdx.pck.chain`, `tdx.collateral.tcbInfo` (which names the platform, so judged before the PCK CRL's age),
 * `tdx.pck.crl`, `tdx.collateral.qeIdentity` (each signed by Intel, current or within the grace period) and
 * `tdx.collateral.rootCrl` (no CA of any chain revoked).
 */
async function verifyCollateral(run: TdxRun, chain: PckChain, collateral: TdxCollateral, pckChainOk: () => Promise<void>): Promise<VerifiedCollateral> {
  const { checks, now, claims, options } = run;
  const collOpts: CollateralOptions = { ...run.chainOpts, signers: [], ...(options.collateralGraceMs ? { graceMs: options.collateralGraceMs } : {}) };
  const tcbInfoP = started(verifyTcbInfo(collateral.tcbInfo, collateral.tcbInfoIssuerChain, chain.extension, collOpts));
  const qeIdP = started(verifyQeIdentity(collateral.qeIdentity, collateral.qeIdentityIssuerChain, collOpts));
  const pckCrlP = started(verifyPckCrl(collateral.pckCrl, chain, now));
  const rootCrlP = started(verifyRootCrl(collateral.rootCaCrl, chain.root, now));

  await checks.run('tdx.pck.chain', pckChainOk, () => chain.leaf.issuer.cn);
  // TCB Info before the PCK CRL: collateral of another platform (its FMSPC) is named as such even when the CRL
  // beside it has also aged out — "wrong platform" is the fix to make first, and no step is skipped either way.
  const tcbInfo = await checks.run('tdx.collateral.tcbInfo', async () => (await tcbInfoP()).tcbInfo, (t) => `eval #${t.tcbEvaluationDataNumber}, next update ${t.nextUpdate.toISOString()}`);
  await checks.run('tdx.pck.crl', pckCrlP);
  claims.tcbEvaluationDataNumber = tcbInfo.tcbEvaluationDataNumber;
  if (now > tcbInfo.nextUpdate) checks.warn(`tdx: TCB Info expired ${tcbInfo.nextUpdate.toISOString()}; accepted within the collateral grace period`);
  const qeIdentity = await checks.run('tdx.collateral.qeIdentity', async () => (await qeIdP()).qeIdentity, (q) => `eval #${q.tcbEvaluationDataNumber}`);
  claims.qeIdentityTcbEvaluationDataNumber = qeIdentity.tcbEvaluationDataNumber;
  if (now > qeIdentity.nextUpdate) checks.warn(`tdx: QE Identity expired ${qeIdentity.nextUpdate.toISOString()}; accepted within the collateral grace period`);
  await checks.run('tdx.collateral.rootCrl', async () => {
    const [ti, qi, crl] = [await tcbInfoP(), await qeIdP(), await rootCrlP()];
    checkCasNotRevoked(crl, [chain.intermediate, ...ti.signer.slice(0, -1), ...qi.signer.slice(0, -1)]);
  });
  return { tcbInfo, qeIdentity };
}

/**
 * `tdx.qe.signature` (the PCK key signed the QE report), `tdx.qe.reportData` (the attestation key is the QE's)
 * and `tdx.qe.identity` (the QE is Intel's TD_QE); returns the QE's TCB level.
 */
async function verifyQe({ checks }: TdxRun, quote: TdxQuote, qeIdentity: QeIdentity, qeSig: () => Promise<void>, qeData: () => Promise<void>): Promise<ReturnType<typeof qeTcbLevel>> {
  await checks.run('tdx.qe.signature', qeSig);
  await checks.run('tdx.qe.reportData', qeData);
  return checks.run('tdx.qe.identity', () => {
    const m = qeIdentityMismatch(quote.qeReport, qeIdentity);
    if (m) throw new VerificationError('ERR_TDX_QE_IDENTITY_MISMATCH', `QE report ${m} does not match the TD_QE identity`);
    return qeTcbLevel(quote.qeReport, qeIdentity);
  }, (l) => `ISVSVN ${quote.qeReport.isvSvn}: ${l?.tcbStatus ?? 'no level'}`);
}

/** `tdx.module`: MRSIGNERSEAM / SEAMATTRIBUTES are those of a TDX module identity of the TCB Info. */
async function checkModule({ checks, claims }: TdxRun, quote: TdxQuote, tcbInfo: TcbInfo): Promise<void> {
  await checks.run('tdx.module', () => {
    const m = moduleMismatch(quote.body, tcbInfo);
    if (m === 'TCB_INFO_MISMATCH') throw new VerificationError('ERR_TDX_TCB_INFO_MISMATCH', 'TCB Info has no TDX module identity for this quote');
    if (m) {
      claims.tcbStatus = m;
      claims.advisoryIds = [];
      throw new VerificationError('ERR_TDX_MODULE_MISMATCH', 'MRSIGNERSEAM / SEAMATTRIBUTES do not match the TDX module identity');
    }
  });
}

/** `tdx.tcb`: Intel's TCB status and advisories for this platform, TDX module and QE. */
function evaluateTcb({ checks, claims }: TdxRun, quote: TdxQuote, chain: PckChain, tcbInfo: TcbInfo, qeLevel: ReturnType<typeof qeTcbLevel>): Promise<TcbEvaluation> {
  return checks.run('tdx.tcb', () => {
    const e = evaluateTdxTcb({ tcbInfo, pck: chain.extension, body: quote.body, qeLevel });
    tcbClaims(e, claims);
    if (e.status === 'TCB_NOT_SUPPORTED') throw new VerificationError('ERR_TDX_TCB_NOT_SUPPORTED', 'no TCB level of the TCB Info matches this platform (TCB_NOT_SUPPORTED)');
    if (e.status === 'TDX_MODULE_MISMATCH') throw new VerificationError('ERR_TDX_MODULE_MISMATCH', 'the TDX module has no identity in the TCB Info');
    return e;
  }, (e) => `${e.status}${e.advisoryIds.length ? ` (${e.advisoryIds.join(', ')})` : ''}`);
}

/** `tdx.eventLog`, when a CCEL was given: RTMR0..3 replay from it. */
async function replayEventLog({ checks, claims, options }: TdxRun, quote: TdxQuote): Promise<void> {
  const log = options.eventLog;
  if (!log) return;
  const events: CcelEvent[] = await checks.run('tdx.eventLog', () => verifyEventLog(log, quote.body.rtmrs), (ev) => `${ev.length} events`);
  claims.eventLog = events.map((e) => ({ mrIndex: e.mrIndex, eventType: e.eventType, digest: toHex(e.digest) }));
}

/** `tdx.policy.*`: every rule is evaluated and recorded (a document lists all that failed); the first refusal stops. */
async function policy({ checks, claims, policy }: TdxRun, quote: TdxQuote, evaluation: TcbEvaluation, numbers: { tcbInfo: number; qeIdentity: number }): Promise<void> {
  const input: TdxPolicyInput = {
    tcbStatus: evaluation.status as TdxTcbStatus,
    debug: claims.debug!,
    septVeDisable: claims.septVeDisable!,
    mrServiceTd: quote.body.mrServiceTd,
    mrTd: quote.body.mrTd,
    rtmrs: quote.body.rtmrs,
    mrConfigId: quote.body.mrConfigId,
    mrOwner: quote.body.mrOwner,
    mrSeam: quote.body.mrSeam,
  };
  const refused = await recordOutcomes(checks, evaluateTdxPolicy(input, numbers, policy));
  if (refused) throw refused;
}

/** `tdx.policy.initdata`, when an initdata document was given: MRCONFIGID is its digest (Kata's rule). */
async function initdata({ checks, options }: TdxRun, quote: TdxQuote): Promise<void> {
  const doc = options.initdata;
  if (!doc) return;
  await checks.run('tdx.policy.initdata', () => checkInitdata(quote.body.mrConfigId, doc, { tee: 'tdx' }), (got) => `MRCONFIGID = ${got.algorithm} digest of the initdata document`);
}

/**
 * Options of `verifyTdx`: those of `appraiseTdx`, with the time from `now` or `clock`. The shape the
 * SNP and GPU stacks take too: `now`, `clock`, `onCheck`, `signal`, `anchors` (TrustAnchors), `fetcher`, `cache`,
 * `policy`.
 */
export interface VerifyTdxOptions extends Omit<TdxAppraisalOptions, 'now' | 'checks' | 'claims'> {
  /** Verification time; default the clock's now. */
  now?: Date;
  /** Default the system clock. */
  clock?: Clock;
  /** Called with each check as it is recorded (ignored when `checks` is given: that list has its own). */
  onCheck?: CheckListener;
  checks?: CheckList;
}

/**
 * Verifies an Intel TDX quote (v4 / v5) at `options.now` and returns the verification document (tee `tdx`),
 * in Intel QVL's order (except that TCB Info, which names the platform, is judged before the PCK CRL's age):
 * `tdx.quote.parse`, `tdx.pck.parse` (SGX extension: FMSPC, PCEID, TCB), `tdx.collateral`,
 * `tdx.pck.chain` (PCK → Platform / Processor CA → Intel SGX Root CA pinned by `anchors`),
 * `tdx.collateral.tcbInfo` (signed, for this FMSPC / PCEID, current), `tdx.pck.crl`, `tdx.collateral.qeIdentity`, `tdx.collateral.rootCrl`, `tdx.qe.signature`,
 * `tdx.qe.reportData` (the attestation key is the QE's), `tdx.qe.identity`, `tdx.quote.signature`, `tdx.module`,
 * `tdx.tcb` (Intel's TCB status and advisories), `tdx.eventLog` when `eventLog` is given (RTMR replay), then the
 * `tdx.policy.*` rules.
 *
 * Never throws for evidence failures: they make `ok` false and are listed in `checks` and `errors` with their
 * `ERR_…` code. The claims always carry `tcbStatus` (null when not reached) and `advisoryIds`. Invalid options
 * throw a ConfigError (`ERR_ANCHORS_INVALID` when `anchors.intel` is empty or missing).
 *
 * Defaults: `now` from `clock` (the system clock); `signal` cancels the collateral fetches; `anchors` the pinned
 * anchors (TDX reads `anchors.intel`, the Intel SGX Root CA; anchors marked `simulated` put the one SIMULATED
 * warning first in the document's warnings); `policy` none,
 * which keeps the strict rules (`acceptedTcbStatus: ['UpToDate']`, no DEBUG TD, SEPT_VE_DISABLE required, no
 * service-TD binding) and compares no measurement (recorded as skipped, with a warning). `collateral` absent:
 * the PCS collateral is read from `cache` or fetched through `fetcher` (base `pcsBase`, default Intel PCS);
 * without a `fetcher` nothing is fetched and the appraisal fails with `ERR_TDX_COLLATERAL_MISSING`.
 *
 * @example
 * ```ts
 * import { parsePolicy, verifyTdx } from '@ccinfer/verifier';
 *
 * const policy = parsePolicy({ version: 1, tdx: { mrTd: [expectedMrTdHex] } });
 * const doc = await verifyTdx(quote, { policy: policy.tdx, fetcher: fetch, signal: AbortSignal.timeout(10_000) });
 * console.log(doc.ok, doc.claims['tcbStatus'], doc.claims['advisoryIds']);
 * ```
 */
export async function verifyTdx(quote: Uint8Array, options: VerifyTdxOptions = {}): Promise<VerificationDocument> {
  const claims: Partial<TdxClaims> = {};
  const { clock: _clock, onCheck: _onCheck, checks: _checks, ...rest } = options;
  const appraiseQuote = (now: Date, checks: CheckList): Promise<unknown> => appraiseTdx(quote, { ...rest, now, checks, claims });
  // tcbStatus and advisoryIds are always present; null = the evaluation was not reached.
  const simulated = (options.anchors ?? PINNED_ANCHORS).simulated === true;
  return runVerification('tdx', options, simulated, appraiseQuote, () => ({ ...claims, tcbStatus: claims.tcbStatus ?? null, advisoryIds: claims.advisoryIds ?? [] }));
}
