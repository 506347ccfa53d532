/**
 * Conformance on every real quote in test-vectors/tdx at its recorded time: every parsed field, the PCK
 * extension, every check, Intel's TCB status and advisory IDs, and the strict-policy verdict.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CheckList, fromHex, toHex } from '@ccinfer/core';
import { appraiseTdx, verifyTdx, type TdxClaims } from '../../src/tdx/appraise.js';
import { parseTdxQuote } from '../../src/tdx/parse.js';
import { parsePckChain } from '../../src/tdx/verify.js';
import { parsePolicy } from '../../src/policy.js';
import { PINNED_ANCHORS } from '../../src/anchors.js';
import { readBytes, readJson, vectorSets, vectorsDir } from '../../../../test-support/vectors.js';
import { readCollateralDir } from './collateral-dir.js';

const dir = vectorsDir('tdx');

const LENIENT = parsePolicy({
  version: 1,
  tdx: {
    acceptedTcbStatus: ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'TDRelaunchAdvised', 'TDRelaunchAdvisedConfigurationNeeded'],
    allowDebug: true,
    requireSeptVeDisable: false,
    allowServiceTd: true,
  },
}).tdx!;

interface ExpectedQuote {
  file: string;
  size: number;
  trailing_bytes_after_sig_data: number;
  header: { version: number; att_key_type: number; tee_type: string; qe_svn: number; pce_svn: number; qe_vendor_id: string; user_data: string };
  body_type: number | null;
  body_size: number;
  signed_region_len: number;
  sig_data_len: number;
  outer_cert_data_type: number;
  inner_cert_data_type: number;
  td_report: Record<string, string> & { td_attributes_decoded: Record<string, unknown> };
  qe_report: { mr_enclave: string; mr_signer: string; isv_prod_id: number; isv_svn: number; attributes: string; misc_select: string; cpu_svn: string; report_data: string };
  qe_auth_data_hex: string;
  attestation_pubkey_xy: string;
  pck_leaf: {
    serial_hex: string;
    sgx_extension: { ppid: string; sgx_tcb_comp_svn: number[]; pcesvn: number; cpusvn: string; pceid: string; fmspc: string; sgx_type: number; platform_instance_id?: string };
  };
  tcb_evaluation: {
    platform_tcb_level: { status: string; tcbDate: string } | null;
    tdx_module_identity: [string, string | null] | null;
    qe_identity_match: { qe_tcb_status: string };
    expected_tcb_status: string;
    expected_advisory_ids: string[] | null;
  };
}

describe('TDX conformance (test-vectors/tdx)', () => {
  const sets = vectorSets(dir);
  it('has vector sets', () => {
    expect(sets.length).toBeGreaterThanOrEqual(5);
  });
  for (const set of sets) {
    const exp = readJson<{ verification_time: string; quotes: ExpectedQuote[] }>(dir, set, 'expected.json');
    const now = new Date(exp.verification_time);
    const collateral = readCollateralDir(join(dir, set));
    for (const q of exp.quotes) {
      describe(`${set}/${q.file}`, () => {
        const bytes = readBytes(dir, set, q.file);

        it('parses every field', () => {
          expect(bytes.length).toBe(q.size);
          const p = parseTdxQuote(bytes);
          expect(p.header.version).toBe(q.header.version);
          expect(p.header.attestationKeyType).toBe(q.header.att_key_type);
          expect(p.header.teeType).toBe(Number(q.header.tee_type));
          expect(p.header.qeSvn).toBe(q.header.qe_svn);
          expect(p.header.pceSvn).toBe(q.header.pce_svn);
          expect(toHex(p.header.qeVendorId)).toBe(q.header.qe_vendor_id);
          expect(toHex(p.header.userData)).toBe(q.header.user_data);
          if (q.body_type !== null) expect(p.body.bodyType).toBe(q.body_type);
          expect(p.signedRegion.length).toBe(q.signed_region_len);
          expect(p.trailingBytes).toBe(q.trailing_bytes_after_sig_data);
          expect(bytes.length - p.signedRegion.length - 4 - p.trailingBytes).toBe(q.sig_data_len);
          const b = p.body;
          const t = q.td_report;
          expect(toHex(b.teeTcbSvn)).toBe(t['tee_tcb_svn']);
          expect(toHex(b.mrSeam)).toBe(t['mr_seam']);
          expect(toHex(b.mrSignerSeam)).toBe(t['mr_signer_seam']);
          expect(toHex(b.seamAttributes)).toBe(t['seam_attributes']);
          expect(toHex(b.tdAttributes)).toBe(t['td_attributes']);
          expect(toHex(b.xfam)).toBe(t['xfam']);
          expect(toHex(b.mrTd)).toBe(t['mr_td']);
          expect(toHex(b.mrConfigId)).toBe(t['mr_config_id']);
          expect(toHex(b.mrOwner)).toBe(t['mr_owner']);
          expect(toHex(b.mrOwnerConfig)).toBe(t['mr_owner_config']);
          b.rtmrs.forEach((r, i) => expect(toHex(r)).toBe(t[`rtmr${i}`]));
          expect(toHex(b.reportData)).toBe(t['report_data']);
          if (t['tee_tcb_svn2'] !== undefined) expect(toHex(b.teeTcbSvn2!)).toBe(t['tee_tcb_svn2']);
          if (t['mr_service_td'] !== undefined) expect(toHex(b.mrServiceTd!)).toBe(t['mr_service_td']);
          const qe = p.qeReport;
          expect(toHex(qe.mrEnclave)).toBe(q.qe_report.mr_enclave);
          expect(toHex(qe.mrSigner)).toBe(q.qe_report.mr_signer);
          expect(qe.isvProdId).toBe(q.qe_report.isv_prod_id);
          expect(qe.isvSvn).toBe(q.qe_report.isv_svn);
          expect(toHex(qe.attributes)).toBe(q.qe_report.attributes);
          expect(qe.miscSelect).toBe(new DataView(fromHex(q.qe_report.misc_select).buffer).getUint32(0, true));
          expect(toHex(qe.cpuSvn)).toBe(q.qe_report.cpu_svn);
          expect(toHex(qe.reportData)).toBe(q.qe_report.report_data);
          expect(toHex(p.qeAuthData)).toBe(q.qe_auth_data_hex);
          expect(toHex(p.attestationKey)).toBe(q.attestation_pubkey_xy);
        });

        it('parses the PCK chain and SGX extension', () => {
          const chain = parsePckChain(parseTdxQuote(bytes));
          const e = q.pck_leaf.sgx_extension;
          expect(toHex(chain.leaf.serialNumber)).toBe(q.pck_leaf.serial_hex);
          expect(toHex(chain.extension.ppid)).toBe(e.ppid);
          expect(chain.extension.sgxTcbComponents).toEqual(e.sgx_tcb_comp_svn);
          expect(chain.extension.pceSvn).toBe(e.pcesvn);
          expect(toHex(chain.extension.cpuSvn)).toBe(e.cpusvn);
          expect(chain.extension.pceId).toBe(e.pceid);
          expect(chain.extension.fmspc).toBe(e.fmspc.toLowerCase());
          expect(['Standard', 'Scalable', 'ScalableWithIntegrity'].indexOf(chain.extension.sgxType)).toBe(e.sgx_type);
          if (e.platform_instance_id) expect(toHex(chain.extension.platformInstanceId!)).toBe(e.platform_instance_id);
        });

        it("evaluates Intel's TCB status and advisories", async () => {
          const checks = new CheckList();
          const claims: Partial<TdxClaims> = {};
          const te = q.tcb_evaluation;
          const run = appraiseTdx(bytes, { now, collateral, policy: LENIENT, checks, claims });
          const ids = ['tdx.quote.parse', 'tdx.pck.parse', 'tdx.collateral', 'tdx.pck.chain', 'tdx.pck.crl', 'tdx.collateral.tcbInfo', 'tdx.collateral.qeIdentity', 'tdx.collateral.rootCrl', 'tdx.qe.signature', 'tdx.qe.reportData', 'tdx.qe.identity', 'tdx.quote.signature', 'tdx.module'];
          if (te.expected_tcb_status.startsWith('TCB_NOT_SUPPORTED')) {
            await expect(run).rejects.toMatchObject({ code: 'ERR_TDX_TCB_NOT_SUPPORTED' });
            expect(claims.tcbStatus).toBe('TCB_NOT_SUPPORTED');
          } else {
            await run;
            expect(claims.tcbStatus).toBe(te.expected_tcb_status);
            expect(claims.advisoryIds).toEqual([...(te.expected_advisory_ids ?? [])].sort());
            expect(claims.platformTcbStatus).toBe(te.platform_tcb_level!.status);
            if (te.tdx_module_identity?.[1]) expect(claims.tdxModule).toEqual({ id: te.tdx_module_identity[0], tcbStatus: te.tdx_module_identity[1] });
            else expect(claims.tdxModule).toBeUndefined();
            expect(claims.qeTcbStatus).toBe(te.qe_identity_match.qe_tcb_status);
          }
          for (const id of ids) expect(checks.checks.find((c) => c.id === id)?.status, id).toBe('passed');
          expect(claims.mrTd).toBe(q.td_report['mr_td']);
          expect(claims.debug).toBe(q.td_report.td_attributes_decoded['DEBUG(bit0)']);
        });

        it('gives the strict default-policy verdict', async () => {
          const t = q.td_report;
          const accept =
            q.tcb_evaluation.expected_tcb_status === 'UpToDate' &&
            t.td_attributes_decoded['DEBUG(bit0)'] === false &&
            t.td_attributes_decoded['SEPT_VE_DISABLE(bit28)'] === true &&
            !/[1-9a-f]/.test(t['mr_service_td'] ?? '');
          const doc = await verifyTdx(bytes, { now, collateral, anchors: PINNED_ANCHORS });
          expect(doc.ok).toBe(accept);
          expect(doc.claims['tcbStatus']).toBeDefined();
          if (!accept) expect(doc.errors.length).toBeGreaterThan(0);
        });
      });
    }
  }
});
