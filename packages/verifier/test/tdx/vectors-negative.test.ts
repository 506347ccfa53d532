/**
 * Negatives derived from the real vectors (MANIFEST "Negative tests to derive"): byte flips, collateral
 * swapped between platforms, time outside the collateral window, the 2018 TCB Signing certificate after its
 * expiry, re-serialized JSON, and the GCP CCEL replay.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CheckList, CollateralError, ParseError, PolicyError, VerificationError, concat, utf8 } from '@ccinfer/core';
import { appraiseTdx } from '../../src/tdx/appraise.js';
import type { TdxCollateral } from '../../src/tdx/collateral.js';
import { parseCcel, replayRtmrs, verifyEventLog } from '../../src/tdx/eventlog.js';
import { parseTdxQuote } from '../../src/tdx/parse.js';
import { expectCode, flip } from '../../../../test-support/helpers.js';
import { readBytes, readJson, vectorsDir } from '../../../../test-support/vectors.js';
import { readCollateralDir } from './collateral-dir.js';

const dir = vectorsDir('tdx');
const S5 = 's5-00806f05-2025-07';
const LENIENT = { acceptedTcbStatus: ['UpToDate' as const, 'OutOfDate' as const], requireSeptVeDisable: false };

describe('TDX negatives on real vectors', () => {
  const now = new Date('2025-07-15T00:00:00Z');
  const coll = (): TdxCollateral => readCollateralDir(join(dir, S5));
  const quote = (): Uint8Array => readBytes(dir, S5, 'quote_gcp_cos113.bin');
  const run = (q: Uint8Array, c: TdxCollateral, at = now): Promise<unknown> =>
    appraiseTdx(q, { now: at, collateral: c, policy: LENIENT, checks: new CheckList() });

  it('accepts the unmodified GCP quote (baseline)', async () => {
    await expect(run(quote(), coll())).resolves.toMatchObject({ tcbStatus: 'UpToDate' });
  });

  it('REPORTDATA / MRTD / header flips break the quote signature', async () => {
    await expectCode(run(flip(quote(), 48 + 520), coll()), VerificationError, 'ERR_TDX_QUOTE_SIGNATURE');
    await expectCode(run(flip(quote(), 48 + 136), coll()), VerificationError, 'ERR_TDX_QUOTE_SIGNATURE');
    await expectCode(run(flip(quote(), 28), coll()), VerificationError, 'ERR_TDX_QUOTE_SIGNATURE');
  });

  it('a QE report flip breaks the QE report signature; a QE auth data flip breaks the binding', async () => {
    const p = parseTdxQuote(quote());
    const qeAt = p.qeReport.raw.byteOffset - quote().byteOffset;
    await expectCode(run(flip(quote(), qeAt + 100), coll()), VerificationError, 'ERR_TDX_QE_REPORT_SIGNATURE');
    const authAt = p.qeAuthData.byteOffset;
    await expectCode(run(flip(quote(), authAt), coll()), VerificationError, 'ERR_TDX_QE_REPORT_DATA');
  });

  it('one character changed inside tcbInfo breaks its signature; re-serialized JSON is parsed from its raw bytes', async () => {
    const c = coll();
    const text = new TextDecoder().decode(c.tcbInfo).replace('"tcbType":0', '"tcbType":1');
    await expectCode(run(quote(), { ...c, tcbInfo: utf8(text) }), VerificationError, 'ERR_TDX_TCB_INFO_SIGNATURE');
    // Pretty-printing the envelope keeps the member bytes when done by hand; a JSON library re-serializes them.
    const j = JSON.parse(new TextDecoder().decode(c.tcbInfo));
    await expectCode(run(quote(), { ...c, tcbInfo: utf8(JSON.stringify(j, null, 2)) }), VerificationError, 'ERR_TDX_TCB_INFO_SIGNATURE');
    const spaced = new TextDecoder().decode(c.tcbInfo).replace('{"tcbInfo":', '{ "tcbInfo" :  ');
    await expect(run(quote(), { ...c, tcbInfo: utf8(spaced) })).resolves.toBeDefined();
  });

  it('QE identity changed breaks its signature', async () => {
    const c = coll();
    const text = new TextDecoder().decode(c.qeIdentity).replace('"isvprodid":2', '"isvprodid":3');
    await expectCode(run(quote(), { ...c, qeIdentity: utf8(text) }), VerificationError, 'ERR_TDX_QE_IDENTITY_SIGNATURE');
  });

  it('collateral of another platform is a TCB Info mismatch (FMSPC)', async () => {
    const other = readCollateralDir(join(dir, 's2-b0c06f-2025-06'));
    await expectCode(run(quote(), { ...coll(), tcbInfo: other.tcbInfo, tcbInfoIssuerChain: other.tcbInfoIssuerChain }, now), VerificationError, 'ERR_TDX_TCB_INFO_MISMATCH');
  });

  it('time past nextUpdate or before issueDate is a collateral error', async () => {
    const exp = readJson(dir, S5, 'expected.json');
    const next = new Date(exp.collateral.tcb_info.nextUpdate);
    await expectCode(run(quote(), coll(), new Date(next.getTime() + 1000)), CollateralError, 'ERR_TDX_COLLATERAL_EXPIRED');
    await expectCode(run(quote(), coll(), new Date('2025-07-07T09:17:00Z')), CollateralError, 'ERR_TDX_COLLATERAL_NOT_YET_VALID');
  });

  it('real collateral #17, current at its time, is refused by a policy that requires #18 (ERR_TDX_TCB_EVAL_NUMBER)', async () => {
    const at = (min: { tcbInfo?: number; qeIdentity?: number }): Promise<unknown> =>
      appraiseTdx(quote(), { now, collateral: coll(), policy: { ...LENIENT, minTcbEvaluationDataNumber: min }, checks: new CheckList() });
    await expect(at({ tcbInfo: 17, qeIdentity: 17 })).resolves.toMatchObject({ tcbEvaluationDataNumber: 17, qeIdentityTcbEvaluationDataNumber: 17 });
    await expectCode(at({ tcbInfo: 18 }), PolicyError, 'ERR_TDX_TCB_EVAL_NUMBER');
    await expectCode(at({ qeIdentity: 18 }), PolicyError, 'ERR_TDX_TCB_EVAL_NUMBER');
  });

  it('time: past nextUpdate, accepted only within an explicit grace (with a warning), refused one second beyond it', async () => {
    const next = new Date(readJson(dir, S5, 'expected.json').collateral.tcb_info.nextUpdate);
    const after = new Date(next.getTime() + 60_000);
    const checks = new CheckList();
    await expect(appraiseTdx(quote(), { now: after, collateral: coll(), policy: LENIENT, checks, collateralGraceMs: 60_000 })).resolves.toMatchObject({ tcbStatus: 'UpToDate' });
    expect(checks.warnings.some((w) => w.includes('TCB Info expired'))).toBe(true);
    const beyond = appraiseTdx(quote(), { now: new Date(after.getTime() + 1000), collateral: coll(), policy: LENIENT, checks: new CheckList(), collateralGraceMs: 60_000 });
    await expectCode(beyond, CollateralError, 'ERR_TDX_COLLATERAL_EXPIRED');
  });

  it('the 2018 TCB Signing certificate is expired after 2025-05-21 (same key and serial)', async () => {
    const old = readBytes(dir, 'roots', 'intel_sgx_tcb_signing_2018-05-21_to_2025-05-21.pem');
    const root = readBytes(dir, 'roots', 'intel_sgx_root_ca.pem');
    const chain = concat(old, root);
    await expectCode(run(quote(), { ...coll(), tcbInfoIssuerChain: chain }), VerificationError, 'ERR_X509_EXPIRED');
  });

  it('a flipped byte in the PCK leaf TBS breaks the chain', async () => {
    // Re-encode the PEM chain with one flipped byte in the leaf's TBS (inside its public key).
    const q = quote();
    const p = parseTdxQuote(q);
    const pem = new TextDecoder().decode(p.pckChain);
    const b64 = pem.split('-----END CERTIFICATE-----')[0]!.split('-----BEGIN CERTIFICATE-----')[1]!.replace(/\s+/g, '');
    const der = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    der[300]! ^= 1;
    const reb64 = btoa(String.fromCharCode(...der)).replace(/.{64}/g, '$&\n');
    const newPem = pem.replace(pem.split('-----END CERTIFICATE-----')[0]!, `-----BEGIN CERTIFICATE-----\n${reb64}\n`);
    expect(newPem.length).toBe(pem.length);
    const out = q.slice();
    out.set(utf8(newPem), p.pckChain.byteOffset);
    const err = await run(out, coll()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect(['ERR_X509_SIGNATURE_INVALID', 'ERR_TDX_QE_REPORT_SIGNATURE']).toContain((err as VerificationError).code);
  });

  it('replays the GCP CCEL to the quote RTMRs', async () => {
    const log = readBytes(dir, S5, 'ccel_gcp_cos113', 'ccel_data.dat');
    const p = parseTdxQuote(quote());
    const events = parseCcel(log);
    expect(events.length).toBeGreaterThan(10);
    const rtmrs = await replayRtmrs(events);
    rtmrs.forEach((r, i) => expect(r).toEqual(p.body.rtmrs[i]));
    const checks = new CheckList();
    const claims = await appraiseTdx(quote(), { now, collateral: coll(), eventLog: log, checks, policy: LENIENT });
    expect(claims.eventLog?.length).toBe(events.length);
    expect(checks.checks.find((c) => c.id === 'tdx.eventLog')?.status).toBe('passed');
    // Against another quote's RTMRs (all zero) the replay fails.
    const automata = parseTdxQuote(readBytes(dir, S5, 'quote_automata.bin'));
    await expectCode(verifyEventLog(log, automata.body.rtmrs), VerificationError, 'ERR_TDX_EVENTLOG_MISMATCH');
    await expectCode(() => parseCcel(log.subarray(0, 40)), ParseError, 'ERR_TDX_EVENTLOG_MALFORMED');
  });
});

describe("dcap-qvl's QuoteCollateralV3 format", () => {
  it('normalizes to the PCS shape with the signed bytes intact, on every set that ships one', async () => {
    const { collateralFromDcapQvl } = await import('../../src/tdx/collateral.js');
    const { vectorSets } = await import('../vectors.js');
    const { existsSync } = await import('node:fs');
    let n = 0;
    for (const set of vectorSets(dir)) {
      if (!existsSync(join(dir, set, 'collateral.dcap-qvl.json'))) continue;
      const exp = readJson(dir, set, 'expected.json');
      const c = collateralFromDcapQvl(readJson(dir, set, 'collateral.dcap-qvl.json'));
      expect(c.tcbInfo).toEqual(readBytes(dir, set, 'tcb_info.json'));
      const q = exp.quotes.find((x: any) => !x.tcb_evaluation.expected_tcb_status.startsWith('TCB_NOT'));
      if (q) {
        const claims = await appraiseTdx(readBytes(dir, set, q.file), { now: new Date(exp.verification_time), collateral: c, checks: new CheckList(), policy: { allowServiceTd: true } });
        expect(claims.tcbStatus).toBe(q.tcb_evaluation.expected_tcb_status);
      }
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(3);
    await expectCode(() => collateralFromDcapQvl({ tcb_info: 1 }), ParseError, 'ERR_TDX_COLLATERAL_MALFORMED');
  });
});
