/** Every verification, collateral and policy error code of the TDX appraisal, minted with the simulator. */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, CollateralError, ConfigError, ParseError, PolicyError, VerificationError, fromHex, sha384, toHex, utf8, type CcinferError } from '@ccinfer/core';
import {
  SIMULATED_NOW,
  mintIntelPki,
  mintTdxCollateral,
  mintTdxQuote,
  type SimulatedIntelPki,
  type TdxCollateralSpec,
  type TdxQuoteSpec,
} from '../../src/testing/tdx.js';
import { appraiseTdx, verifyTdx, type TdxAppraisalOptions, type TdxClaims } from '../../src/tdx/appraise.js';
import type { TdxPolicy } from '../../src/tdx/policy.js';
import { parseTdxQuote } from '../../src/tdx/parse.js';
import { verifyQuoteSignature } from '../../src/tdx/verify.js';
import { PINNED_ANCHORS } from '../../src/anchors.js';
import { SIMULATED_ANCHORS_WARNING } from '../../src/verification.js';
import { parsePolicy } from '../../src/policy.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';

let pki: SimulatedIntelPki;
beforeAll(async () => {
  pki = await mintIntelPki();
});

async function appraise(
  spec: { quote?: TdxQuoteSpec; collateral?: TdxCollateralSpec; policy?: TdxPolicy; now?: Date; options?: Partial<TdxAppraisalOptions> } = {},
): Promise<{ result: Promise<TdxClaims>; checks: CheckList; claims: Partial<TdxClaims> }> {
  const [{ quote }, collateral] = await Promise.all([mintTdxQuote(pki, spec.quote), mintTdxCollateral(pki, spec.collateral)]);
  const checks = new CheckList();
  const claims: Partial<TdxClaims> = {};
  const opts: TdxAppraisalOptions = { now: spec.now ?? SIMULATED_NOW, collateral, anchors: pki.anchors, checks, claims, ...spec.options };
  if (spec.policy) opts.policy = spec.policy;
  const result = appraiseTdx(quote, opts);
  result.catch(() => undefined);
  return { result, checks, claims };
}

async function fails(spec: Parameters<typeof appraise>[0], cls: abstract new (...a: any[]) => CcinferError, code: string): Promise<Partial<TdxClaims>> {
  const { result, checks, claims } = await appraise(spec);
  await expectCode(result, cls, code);
  expect(checks.checks.find((c) => c.status === 'failed')?.code).toBe(code);
  return claims;
}

describe('appraiseTdx (simulated)', () => {
  it('accepts a well-formed simulated quote under the default policy and records every step', async () => {
    const { result, checks } = await appraise();
    const claims = await result;
    expect(claims.tcbStatus).toBe('UpToDate');
    expect(claims.quoteVersion).toBe(4);
    expect(claims.debug).toBe(false);
    expect(claims.rtmrs).toHaveLength(4);
    expect(checks.checks.every((c) => c.status !== 'failed')).toBe(true);
    // No reference values in the default policy: every measurement is reported NOT CHECKED, never passed.
    expect(checks.checks.find((c) => c.id === 'tdx.policy.mrTd')).toMatchObject({ status: 'skipped', ok: false });
    expect(checks.checks.filter((c) => c.id.startsWith('tdx.policy.rtmr')).map((c) => c.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(checks.warnings.some((w) => w.includes('mrTd'))).toBe(true);
  });

  it('the pinned Intel root rejects the simulator', async () => {
    await fails({ options: { anchors: PINNED_ANCHORS } }, VerificationError, 'ERR_X509_UNTRUSTED_ROOT');
  });

  it('an empty anchor list is a ConfigError', async () => {
    const { quote } = await mintTdxQuote(pki);
    await expectCode(appraiseTdx(quote, { now: SIMULATED_NOW, anchors: { ...PINNED_ANCHORS, intel: [] }, checks: new CheckList() }), ConfigError, 'ERR_ANCHORS_INVALID');
  });

  it('signature and binding failures', async () => {
    await fails({ quote: { corruptQuoteSignature: true } }, VerificationError, 'ERR_TDX_QUOTE_SIGNATURE');
    await fails({ quote: { corruptQeReportSignature: true } }, VerificationError, 'ERR_TDX_QE_REPORT_SIGNATURE');
    await fails({ quote: { corruptQeReportData: true } }, VerificationError, 'ERR_TDX_QE_REPORT_DATA');
  });

  it('an attestation key that is not a P-256 point', async () => {
    const { quote } = await mintTdxQuote(pki);
    const q = parseTdxQuote(quote);
    await expectCode(verifyQuoteSignature({ ...q, attestationKey: new Uint8Array(64).fill(0xff) }), VerificationError, 'ERR_TDX_ATTESTATION_KEY');
  });

  it('revocation', async () => {
    await fails({ collateral: { revokedPck: [0x1234] } }, VerificationError, 'ERR_TDX_PCK_REVOKED');
    await fails({ collateral: { revokedCa: [2] } }, VerificationError, 'ERR_TDX_CA_REVOKED');
    await fails({ collateral: { revokedCa: [3] } }, VerificationError, 'ERR_TDX_CA_REVOKED');
    await fails({ collateral: { pckCrlIssuerCn: 'Intel SGX PCK Processor CA' } }, VerificationError, 'ERR_TDX_CRL_ISSUER');
    await fails({ collateral: { crlNextUpdate: new Date('2025-07-10T00:00:00Z') } }, CollateralError, 'ERR_TDX_COLLATERAL_EXPIRED');
    await fails({ collateral: { crlThisUpdate: new Date('2025-07-20T00:00:00Z') } }, CollateralError, 'ERR_TDX_COLLATERAL_NOT_YET_VALID');
  });

  it('PCK certificate validity', async () => {
    await fails({ quote: { pck: { notAfter: new Date('2025-01-01T00:00:00Z') } } }, VerificationError, 'ERR_X509_EXPIRED');
  });

  it('collateral missing, malformed, expired, not yet valid, badly signed', async () => {
    const { quote } = await mintTdxQuote(pki);
    await expectCode(appraiseTdx(quote, { now: SIMULATED_NOW, anchors: pki.anchors, checks: new CheckList() }), CollateralError, 'ERR_TDX_COLLATERAL_MISSING');
    const c = await mintTdxCollateral(pki);
    await expectCode(
      appraiseTdx(quote, { now: SIMULATED_NOW, anchors: pki.anchors, checks: new CheckList(), collateral: { ...c, tcbInfo: utf8('{"tcbInfo":{') } }),
      ParseError,
      'ERR_TDX_COLLATERAL_MALFORMED',
    );
    await fails({ now: new Date('2025-08-01T00:00:00Z') }, CollateralError, 'ERR_TDX_COLLATERAL_EXPIRED');
    await fails({ now: new Date('2025-06-15T00:00:00Z') }, CollateralError, 'ERR_TDX_COLLATERAL_NOT_YET_VALID');
    await fails({ collateral: { tcbInfo: { corruptSignature: true } } }, VerificationError, 'ERR_TDX_TCB_INFO_SIGNATURE');
    await fails({ collateral: { qeIdentity: { corruptSignature: true } } }, VerificationError, 'ERR_TDX_QE_IDENTITY_SIGNATURE');
  });

  it('a collateral grace period accepts expired TCB Info / QE Identity', async () => {
    const { result, checks } = await appraise({ now: new Date('2025-08-01T00:00:00Z'), options: { collateralGraceMs: 7 * 86_400_000 } });
    await expect(result).resolves.toMatchObject({ tcbStatus: 'UpToDate' });
    expect(checks.warnings.filter((w) => w.includes('grace period'))).toHaveLength(2);
  });

  it('TCB Info and QE Identity that do not fit the quote', async () => {
    await fails({ collateral: { tcbInfo: { id: 'SGX' } } }, VerificationError, 'ERR_TDX_TCB_INFO_MISMATCH');
    await fails({ collateral: { tcbInfo: { version: 2 } } }, VerificationError, 'ERR_TDX_TCB_INFO_MISMATCH');
    await fails({ collateral: { tcbInfo: { fmspc: '00906ed50000' } } }, VerificationError, 'ERR_TDX_TCB_INFO_MISMATCH');
    await fails({ collateral: { tcbInfo: { pceId: '0100' } } }, VerificationError, 'ERR_TDX_TCB_INFO_MISMATCH');
    await fails({ collateral: { tcbInfo: { tdxModuleIdentities: null } } }, VerificationError, 'ERR_TDX_TCB_INFO_MISMATCH');
    await fails({ collateral: { qeIdentity: { id: 'QE' } } }, VerificationError, 'ERR_TDX_QE_IDENTITY_MISMATCH');
    await fails({ collateral: { qeIdentity: { mrSigner: new Uint8Array(32) } } }, VerificationError, 'ERR_TDX_QE_IDENTITY_MISMATCH');
    await fails({ collateral: { qeIdentity: { isvProdId: 1 } } }, VerificationError, 'ERR_TDX_QE_IDENTITY_MISMATCH');
    await fails({ quote: { qe: { attributes: new Uint8Array(16) } } }, VerificationError, 'ERR_TDX_QE_IDENTITY_MISMATCH');
    await fails({ quote: { qe: { miscSelect: 1 } } }, VerificationError, 'ERR_TDX_QE_IDENTITY_MISMATCH');
  });

  it('TDX module identity mismatches', async () => {
    const c1 = await fails({ quote: { mrSignerSeam: new Uint8Array(48).fill(1) } }, VerificationError, 'ERR_TDX_MODULE_MISMATCH');
    expect(c1.tcbStatus).toBe('TDX_MODULE_MISMATCH');
    await fails({ quote: { seamAttributes: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0) } }, VerificationError, 'ERR_TDX_MODULE_MISMATCH');
    await fails({ quote: { teeTcbSvn: [4, 3, 7] } }, VerificationError, 'ERR_TDX_MODULE_MISMATCH');
    // TDX 1.0 module (major 0): tdxModule's signer applies.
    await fails({ quote: { teeTcbSvn: [5, 0, 7], mrSignerSeam: new Uint8Array(48).fill(2) } }, VerificationError, 'ERR_TDX_MODULE_MISMATCH');
  });

  it('no matching TCB level (platform, module, QE) is TCB_NOT_SUPPORTED and still reported', async () => {
    const c = await fails({ quote: { pck: { sgxTcbComponents: [1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0] } } }, VerificationError, 'ERR_TDX_TCB_NOT_SUPPORTED');
    expect(c.tcbStatus).toBe('TCB_NOT_SUPPORTED');
    expect(c.advisoryIds).toEqual([]);
    await fails({ quote: { teeTcbSvn: [4, 1, 2] } }, VerificationError, 'ERR_TDX_TCB_NOT_SUPPORTED');
    await fails({ quote: { teeTcbSvn: [1, 1, 7] } }, VerificationError, 'ERR_TDX_TCB_NOT_SUPPORTED');
    await fails({ quote: { qe: { isvSvn: 3 } } }, VerificationError, 'ERR_TDX_TCB_NOT_SUPPORTED');
  });

  it('policy: TCB status, debug, SEPT_VE_DISABLE, service TD', async () => {
    const out = await fails({ quote: { teeTcbSvn: [2, 1, 7] } }, PolicyError, 'ERR_TDX_TCB_STATUS');
    expect(out.tcbStatus).toBe('OutOfDate');
    await fails({ quote: { tdAttributes: 1n | (1n << 28n) } }, PolicyError, 'ERR_TDX_DEBUG');
    await fails({ quote: { tdAttributes: 0n } }, PolicyError, 'ERR_TDX_SEPT_VE_DISABLE');
    await fails({ quote: { version: 5, mrServiceTd: new Uint8Array(48).fill(3) } }, PolicyError, 'ERR_TDX_MRSERVICETD');
    const { result } = await appraise({ quote: { tdAttributes: 1n, version: 5, mrServiceTd: new Uint8Array(48).fill(3) }, policy: { allowDebug: true, requireSeptVeDisable: false, allowServiceTd: true } });
    await expect(result).resolves.toMatchObject({ debug: true, septVeDisable: false });
  });

  it('policy: measurement allowlists', async () => {
    const x = (b: number): string => toHex(new Uint8Array(48).fill(b));
    await fails({ policy: { mrTd: [x(1)] } }, PolicyError, 'ERR_TDX_MRTD_MISMATCH');
    await fails({ policy: { rtmr2: [x(1)] } }, PolicyError, 'ERR_TDX_RTMR_MISMATCH');
    await fails({ policy: { mrConfigId: [x(1)] } }, PolicyError, 'ERR_TDX_MRCONFIGID_MISMATCH');
    await fails({ policy: { mrOwner: [x(1)] } }, PolicyError, 'ERR_TDX_MROWNER_MISMATCH');
    await fails({ policy: { mrSeam: [x(1)] } }, PolicyError, 'ERR_TDX_MRSEAM_MISMATCH');
    const all = { mrTd: [x(0xd0)], rtmr0: [x(0)], rtmr1: [x(0)], rtmr2: [x(0)], rtmr3: [x(1), x(0)], mrConfigId: [x(0)], mrOwner: [x(0)], mrSeam: [x(0x5e)] };
    const { result, checks } = await appraise({ policy: all });
    await expect(result).resolves.toBeDefined();
    expect(checks.warnings.some((w) => w.includes('NOT CHECKED'))).toBe(false);
    expect(checks.checks.filter((c) => c.id.startsWith('tdx.policy.') && c.status === 'passed').length).toBeGreaterThanOrEqual(8);
  });

  it('policy: minTcbEvaluationDataNumber refuses collateral from before a TCB recovery, still before nextUpdate', async () => {
    // The simulated collateral is current (nextUpdate after now) and carries evaluation number 17.
    const tcbInfo = await fails({ policy: { minTcbEvaluationDataNumber: { tcbInfo: 18 } } }, PolicyError, 'ERR_TDX_TCB_EVAL_NUMBER');
    expect(tcbInfo).toMatchObject({ tcbEvaluationDataNumber: 17, qeIdentityTcbEvaluationDataNumber: 17, tcbStatus: 'UpToDate' });
    await fails({ policy: { minTcbEvaluationDataNumber: { qeIdentity: 18 } } }, PolicyError, 'ERR_TDX_TCB_EVAL_NUMBER');
    await fails({ collateral: { qeIdentity: { tcbEvaluationDataNumber: 16 } }, policy: { minTcbEvaluationDataNumber: { tcbInfo: 17, qeIdentity: 17 } } }, PolicyError, 'ERR_TDX_TCB_EVAL_NUMBER');
    const ok = await appraise({ collateral: { tcbInfo: { tcbEvaluationDataNumber: 19 }, qeIdentity: { tcbEvaluationDataNumber: 18 } }, policy: { minTcbEvaluationDataNumber: { tcbInfo: 19, qeIdentity: 18 } } });
    await expect(ok.result).resolves.toMatchObject({ tcbEvaluationDataNumber: 19, qeIdentityTcbEvaluationDataNumber: 18 });
    expect(ok.checks.checks.find((c) => c.id === 'tdx.policy.tcbEvaluationDataNumber')?.status).toBe('passed');
    // Without a minimum nothing is compared (and no check is recorded).
    const none = await appraise();
    await none.result;
    expect(none.checks.checks.some((c) => c.id === 'tdx.policy.tcbEvaluationDataNumber')).toBe(false);
  });

  it('policy document: minTcbEvaluationDataNumber keys and ranges', () => {
    expect(parsePolicy({ version: 1, tdx: { minTcbEvaluationDataNumber: { tcbInfo: 17, qeIdentity: 17 } } }).tdx?.minTcbEvaluationDataNumber).toEqual({ tcbInfo: 17, qeIdentity: 17 });
    for (const bad of [{ tcbInfo: -1 }, { tcbInfo: 1.5 }, { qeidentity: 17 }, 17]) {
      const err = expectCodeSync(() => parsePolicy({ version: 1, tdx: { minTcbEvaluationDataNumber: bad } }), ConfigError, 'ERR_POLICY_INVALID') as ConfigError;
      expect(err.fields.join()).toContain('$.tdx.minTcbEvaluationDataNumber');
    }
  });

  it('CoCo initdata bound in MRCONFIGID with the algorithm the document declares (Kata: sha256 zero-padded)', async () => {
    const initdata = utf8('algorithm = "sha256"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy"\n');
    const mrConfigId = new Uint8Array(48);
    mrConfigId.set(new Uint8Array(createHash('sha256').update(initdata).digest()));
    const ok = await appraise({ quote: { mrConfigId }, options: { initdata } });
    await expect(ok.result).resolves.toBeDefined();
    expect(ok.checks.checks.find((c) => c.id === 'tdx.policy.initdata')?.status).toBe('passed');
    // SHA-384 of the same document (what this check used to demand) is not what Kata puts there.
    await fails({ quote: { mrConfigId: await sha384(initdata) }, options: { initdata } }, VerificationError, 'ERR_INITDATA_MISMATCH');
    await fails({ options: { initdata } }, VerificationError, 'ERR_INITDATA_MISMATCH');
  });

  it('verifyTdx returns a document with claims also on rejection', async () => {
    const [{ quote }, collateral] = await Promise.all([mintTdxQuote(pki, { teeTcbSvn: [4, 1, 6], pck: { sgxTcbComponents: [6, 6, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0] } }), mintTdxCollateral(pki)]);
    const doc = await verifyTdx(quote, { now: SIMULATED_NOW, collateral, anchors: pki.anchors });
    expect(doc.ok).toBe(false);
    expect(doc.tee).toBe('tdx');
    expect(doc.claims['tcbStatus']).toBe('OutOfDate');
    expect(doc.claims['advisoryIds']).toEqual(['INTEL-SA-00960', 'INTEL-SA-00982']);
    expect(doc.errors[0]!.code).toBe('ERR_TDX_TCB_STATUS');
    const garbage = await verifyTdx(Uint8Array.of(4, 0, 2, 0), { now: SIMULATED_NOW, collateral, anchors: pki.anchors });
    expect(garbage.ok).toBe(false);
    expect(garbage.errors[0]!.code).toBe('ERR_TDX_QUOTE_TRUNCATED');
  });
});

describe('verifyTdx options: clock, onCheck, signal (as the SNP and NVIDIA stacks)', () => {
  it('takes the time from `clock` when `now` is absent, and reports each check to `onCheck` in order', async () => {
    const [{ quote }, collateral] = await Promise.all([mintTdxQuote(pki), mintTdxCollateral(pki)]);
    const seen: string[] = [];
    const doc = await verifyTdx(quote, { clock: { now: () => SIMULATED_NOW }, collateral, anchors: pki.anchors, onCheck: (c) => seen.push(c.id) });
    expect(doc.ok).toBe(true);
    expect(doc.verifiedAt).toBe(SIMULATED_NOW.toISOString());
    expect(seen).toEqual(doc.checks.map((c) => c.id));
    // A clock years later: the same collateral is past its nextUpdate.
    const late = await verifyTdx(quote, { clock: { now: () => new Date('2030-01-01T00:00:00Z') }, collateral, anchors: pki.anchors });
    expect(late.ok).toBe(false);
    expect(late.errors.map((e) => e.code)).toContain('ERR_TDX_COLLATERAL_EXPIRED');
  });

  it('takes `anchors` as TrustAnchors: simulated ones put the one SIMULATED warning first, the pinned ones none', async () => {
    const [{ quote }, collateral] = await Promise.all([mintTdxQuote(pki), mintTdxCollateral(pki)]);
    const simulated = await verifyTdx(quote, { now: SIMULATED_NOW, collateral, anchors: pki.anchors });
    expect(simulated.ok).toBe(true);
    expect(simulated.warnings[0]).toBe(SIMULATED_ANCHORS_WARNING);
    expect(simulated.warnings.filter((w) => w.includes('SIMULATED'))).toHaveLength(1);
    const pinned = await verifyTdx(quote, { now: SIMULATED_NOW, collateral, anchors: { ...pki.anchors, simulated: false } });
    expect(pinned.ok).toBe(true);
    expect(pinned.warnings.some((w) => w.includes('SIMULATED'))).toBe(false);
  });

  it('`signal` cancels the collateral fetches: ERR_FETCH_ABORTED, not missing collateral', async () => {
    const { quote } = await mintTdxQuote(pki);
    const ac = new AbortController();
    const signals: (AbortSignal | null | undefined)[] = [];
    const fetcher = (_url: string, init?: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        signals.push(init?.signal);
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
        if (signals.length === 4) ac.abort();
      });
    const doc = await verifyTdx(quote, { now: SIMULATED_NOW, anchors: pki.anchors, fetcher, signal: ac.signal });
    expect(doc.ok).toBe(false);
    expect(doc.checks.find((c) => c.id === 'tdx.collateral')).toMatchObject({ status: 'failed', code: 'ERR_FETCH_ABORTED' });
    expect(signals).toHaveLength(4);
    expect(signals.every((x) => x?.aborted)).toBe(true);
  });
});

describe('tdx policy section', () => {
  it('parses, defaults strict, and reports every bad field', () => {
    const p = parsePolicy({ version: 1, tdx: { mrTd: ['00'.repeat(48)], acceptedTcbStatus: ['UpToDate', 'OutOfDate'], allowDebug: false } });
    expect(p.tdx?.acceptedTcbStatus).toEqual(['UpToDate', 'OutOfDate']);
    const e = expectCodeSync(
      () => parsePolicy({ version: 1, tdx: { mrTd: ['zz'], acceptedTcbStatus: ['Revoked'], allowDebug: 'yes', bogus: 1 } }),
      ConfigError,
      'ERR_POLICY_INVALID',
    ) as ConfigError;
    expect(e.fields.length).toBe(4);
    expect(fromHex(p.tdx!.mrTd![0]!).length).toBe(48);
  });
});
