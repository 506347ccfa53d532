/** `ccinfer verify tdx` on every real quote (docs/cli.md): claims, TCB status, advisories, exit statuses. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './io.js';
import { vectorsDir, vectorSets, readJson } from '../../../../test-support/vectors.js';

const tdx = vectorsDir('tdx');
const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-cli-tdx-'));
const acceptOutOfDate = join(tmp, 'ood.json');
writeFileSync(acceptOutOfDate, JSON.stringify({ version: 1, tdx: { acceptedTcbStatus: ['UpToDate', 'OutOfDate'], requireSeptVeDisable: false } }));

describe('ccinfer verify tdx on the shared vectors', () => {
  const cases = vectorSets(tdx).flatMap((set) => {
    const e = readJson(tdx, set, 'expected.json');
    return (e.quotes as any[]).map((q) => ({ set, at: e.verification_time as string, q }));
  });

  it.each(cases.map((c) => [`${c.set}/${c.q.file}`, c] as const))('%s', async (_n, { set, at, q }) => {
    const d = join(tdx, set);
    const r = await cli(['verify', 'tdx', '--quote', join(d, q.file), '--collateral', d, '--at', at, '--offline', '--json']);
    expect(r.err).toBe('');
    const doc = JSON.parse(r.out);
    const t = q.td_report;
    const expected: string = q.tcb_evaluation.expected_tcb_status;
    const status = expected.startsWith('TCB_NOT_SUPPORTED') ? 'TCB_NOT_SUPPORTED' : expected;
    expect(doc.claims).toMatchObject({
      quoteVersion: q.header.version,
      mrTd: t.mr_td,
      rtmrs: [t.rtmr0, t.rtmr1, t.rtmr2, t.rtmr3],
      mrConfigId: t.mr_config_id,
      mrOwner: t.mr_owner,
      mrOwnerConfig: t.mr_owner_config,
      mrSeam: t.mr_seam,
      reportData: t.report_data,
      tdAttributes: t.td_attributes,
      xfam: t.xfam,
      teeTcbSvn: t.tee_tcb_svn,
      tcbStatus: status,
      advisoryIds: [...(q.tcb_evaluation.expected_advisory_ids ?? [])].sort(),
      debug: t.td_attributes_decoded['DEBUG(bit0)'],
    });
    const accept = status === 'UpToDate' && !t.td_attributes_decoded['DEBUG(bit0)'] && t.td_attributes_decoded['SEPT_VE_DISABLE(bit28)'] && !/[1-9a-f]/.test(t.mr_service_td ?? '');
    expect(r.code).toBe(accept ? 0 : 1);
    if (status === 'OutOfDate') {
      const lenient = await cli(['verify', 'tdx', '--quote', join(d, q.file), '--collateral', d, '--at', at, '--offline', '--policy', acceptOutOfDate]);
      expect(lenient.code).toBe(0);
      expect(lenient.out).toContain('tcbStatus=OutOfDate');
    }
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['verify', 'tdx'])).code).toBe(2);
    expect((await cli(['verify', 'tdx', '--quote', '/nonexistent', '--collateral', '/nonexistent', '--offline'])).code).toBe(2);
    expect((await cli(['verify', 'tdx', '--quote', 'x', '--offline'])).code).toBe(2);
  });

  it('an unparsable quote exits 1', async () => {
    const bad = join(tmp, 'bad.bin');
    writeFileSync(bad, new Uint8Array(100));
    const d = join(tdx, 's5-00806f05-2025-07');
    const r = await cli(['verify', 'tdx', '--quote', bad, '--collateral', d, '--at', '2025-07-15T00:00:00Z', '--offline', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors[0].code).toBe('ERR_TDX_QUOTE_VERSION');
  });
});
