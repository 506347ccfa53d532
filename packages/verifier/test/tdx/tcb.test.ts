/**
 * Every TCB status of Intel's evaluation (TcbLevelCheck / TdxModuleCheck / TDRelaunchCheck), end to end
 * through the simulator with signed collateral.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckList, PolicyError } from '@ccinfer/core';
import {
  SIMULATED_NOW,
  defaultTcbLevels,
  mintIntelPki,
  mintTdxCollateral,
  mintTdxQuote,
  type SimulatedIntelPki,
  type TdxCollateralSpec,
  type TdxQuoteSpec,
} from '../../src/testing/tdx.js';
import { appraiseTdx, type TdxClaims } from '../../src/tdx/appraise.js';
import { TDX_TCB_STATUSES } from '../../src/tdx/policy.js';
import { expectCode } from '../../../../test-support/helpers.js';

let pki: SimulatedIntelPki;
beforeAll(async () => {
  pki = await mintIntelPki();
});

const ACCEPT_ALL = { acceptedTcbStatus: TDX_TCB_STATUSES.filter((s) => s !== 'Revoked') };

async function status(quote: TdxQuoteSpec = {}, collateral: TdxCollateralSpec = {}): Promise<TdxClaims> {
  const [{ quote: q }, c] = await Promise.all([mintTdxQuote(pki, quote), mintTdxCollateral(pki, collateral)]);
  return appraiseTdx(q, { now: SIMULATED_NOW, collateral: c, anchors: pki.anchors, checks: new CheckList(), policy: ACCEPT_ALL });
}

function level0(tcbStatus: string): TdxCollateralSpec {
  const levels = defaultTcbLevels();
  levels[0]!.status = tcbStatus;
  return { tcbInfo: { levels } };
}

const moduleOutOfDate: TdxQuoteSpec = { teeTcbSvn: [2, 1, 7] };

describe('Intel TCB status (simulated collateral)', () => {
  it.each(['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'])(
    'platform level %s',
    async (s) => {
      expect((await status({}, level0(s))).tcbStatus).toBe(s);
    },
  );

  it('a Revoked level is reported and never accepted', async () => {
    const [{ quote }, c] = await Promise.all([mintTdxQuote(pki), mintTdxCollateral(pki, level0('Revoked'))]);
    const claims: Partial<TdxClaims> = {};
    await expectCode(
      appraiseTdx(quote, { now: SIMULATED_NOW, collateral: c, anchors: pki.anchors, checks: new CheckList(), policy: ACCEPT_ALL, claims }),
      PolicyError,
      'ERR_TDX_TCB_STATUS',
    );
    expect(claims.tcbStatus).toBe('Revoked');
  });

  it('module OutOfDate downgrades the platform level (TdxModuleCheck converge)', async () => {
    expect((await status(moduleOutOfDate)).tcbStatus).toBe('OutOfDate');
    expect((await status(moduleOutOfDate, level0('SWHardeningNeeded'))).tcbStatus).toBe('OutOfDate');
    expect((await status(moduleOutOfDate, level0('ConfigurationNeeded'))).tcbStatus).toBe('OutOfDateConfigurationNeeded');
    expect((await status(moduleOutOfDate, level0('ConfigurationAndSWHardeningNeeded'))).tcbStatus).toBe('OutOfDateConfigurationNeeded');
    const c = await status(moduleOutOfDate);
    expect(c.tdxModule).toEqual({ id: 'TDX_01', tcbStatus: 'OutOfDate' });
    expect(c.platformTcbStatus).toBe('UpToDate');
  });

  it('module Revoked revokes', async () => {
    const spec: TdxCollateralSpec = { tcbInfo: { tdxModuleIdentities: [{ id: 'TDX_01', levels: [{ isvSvn: 4, status: 'UpToDate' }, { isvSvn: 2, status: 'Revoked' }] }] } };
    const [{ quote }, c] = await Promise.all([mintTdxQuote(pki, moduleOutOfDate), mintTdxCollateral(pki, spec)]);
    const claims: Partial<TdxClaims> = {};
    await expectCode(appraiseTdx(quote, { now: SIMULATED_NOW, collateral: c, anchors: pki.anchors, checks: new CheckList(), policy: ACCEPT_ALL, claims }), PolicyError, 'ERR_TDX_TCB_STATUS');
    expect(claims.tcbStatus).toBe('Revoked');
  });

  it('QE identity OutOfDate / Revoked converge (convergeTcbStatusWithQeTcbStatus)', async () => {
    const qeOod: TdxCollateralSpec = { qeIdentity: { levels: [{ isvSvn: 5, status: 'UpToDate' }, { isvSvn: 4, status: 'OutOfDate', advisoryIds: ['INTEL-SA-00999'] }] } };
    const c = await status({}, qeOod);
    expect(c.tcbStatus).toBe('OutOfDate');
    expect(c.qeTcbStatus).toBe('OutOfDate');
    expect(c.advisoryIds).toEqual(['INTEL-SA-00999']);
    expect((await status({}, { ...qeOod, ...level0('ConfigurationNeeded') })).tcbStatus).toBe('OutOfDateConfigurationNeeded');
    const claims: Partial<TdxClaims> = {};
    const [{ quote }, coll] = await Promise.all([mintTdxQuote(pki), mintTdxCollateral(pki, { qeIdentity: { levels: [{ isvSvn: 5, status: 'UpToDate' }, { isvSvn: 4, status: 'Revoked' }] } })]);
    await expectCode(appraiseTdx(quote, { now: SIMULATED_NOW, collateral: coll, anchors: pki.anchors, checks: new CheckList(), policy: ACCEPT_ALL, claims }), PolicyError, 'ERR_TDX_TCB_STATUS');
    expect(claims.tcbStatus).toBe('Revoked');
  });

  it('TD 1.5: TDRelaunchAdvised when TEE_TCB_SVN2 reaches the newest level (TDRelaunchCheck)', async () => {
    const v5 = { version: 5 as const, teeTcbSvn: [2, 1, 7], teeTcbSvn2: [4, 1, 7] };
    expect((await status(v5)).tcbStatus).toBe('TDRelaunchAdvised');
    expect((await status(v5, level0('ConfigurationNeeded'))).tcbStatus).toBe('TDRelaunchAdvisedConfigurationNeeded');
    // Not reached: stays OutOfDate.
    expect((await status({ ...v5, teeTcbSvn2: [3, 1, 7] })).tcbStatus).toBe('OutOfDate');
    // A v4 quote has no TEE_TCB_SVN2: no relaunch advice.
    expect((await status(moduleOutOfDate)).tcbStatus).toBe('OutOfDate');
    // QE OutOfDate blocks the advice.
    const qeOod: TdxCollateralSpec = { qeIdentity: { levels: [{ isvSvn: 5, status: 'UpToDate' }, { isvSvn: 4, status: 'OutOfDate' }] } };
    expect((await status(v5, qeOod)).tcbStatus).toBe('OutOfDate');
  });

  it('components 0–1 are skipped only when TEE_TCB_SVN[1] > 0 (the dcap-qvl divergence)', async () => {
    // Module major 1, ISVSVN 4: level 0 requires tdx [5, 0, 7]; Intel skips [0..1] → UpToDate.
    expect((await status({ teeTcbSvn: [4, 1, 7] })).tcbStatus).toBe('UpToDate');
    // Major 0 (TDX 1.0 module): all 16 compared; 4 < 5 → next level (OutOfDate, its advisories).
    const c = await status({ teeTcbSvn: [4, 0, 7], pck: { sgxTcbComponents: [7, 7, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0] } });
    expect(c.tcbStatus).toBe('OutOfDate');
    expect(c.advisoryIds).toEqual(['INTEL-SA-00960', 'INTEL-SA-00982']);
    expect(c.tdxModule).toBeUndefined();
    expect((await status({ teeTcbSvn: [5, 0, 7] })).tcbStatus).toBe('UpToDate');
  });

  it('the platform level and module level are converged, not replaced (the go-tdx-guest divergence)', async () => {
    const c = await status({ teeTcbSvn: [4, 1, 6] });
    expect(c.tdxModule?.tcbStatus).toBe('UpToDate');
    expect(c.platformTcbStatus).toBe('OutOfDate');
    expect(c.tcbStatus).toBe('OutOfDate');
  });

  it('TCB levels are matched in Intel order, whatever the JSON order', async () => {
    const levels = defaultTcbLevels().reverse();
    expect((await status({}, { tcbInfo: { levels } })).tcbStatus).toBe('UpToDate');
  });

  it('SGX components and PCESVN come from the PCK', async () => {
    expect((await status({ pck: { pceSvn: 10 } }).catch((e: { code: string }) => e.code))).toBe('ERR_TDX_TCB_NOT_SUPPORTED');
    const c = await status({ pck: { sgxTcbComponents: [6, 6, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0] } });
    expect(c.tcbStatus).toBe('OutOfDate');
  });
});
