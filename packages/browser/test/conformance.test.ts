/**
 * The SNP, TDX and NVIDIA conformance vectors (test-vectors/, read here in Node and handed to the page)
 * appraised inside Chromium by the minified bundle, with the same expectations as the Node conformance
 * suites: claims from expected.json, the strict default-policy verdicts, and the negative sets' codes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { deviceSets, readBytes, readJson, readText, vectorSets, vectorsDir } from '../../../test-support/vectors.js';
import { b64, launchChromium, openPage, serve, skipBrowser, type TestServer } from './harness.js';

let browser: Browser;
let server: TestServer;
let page: Page;
let pageErrors: string[];

describe.skipIf(skipBrowser)('conformance vectors in Chromium (minified bundle)', () => {
  beforeAll(async () => {
    server = await serve();
    browser = await launchChromium();
    ({ page, errors: pageErrors } = await openPage(browser, server.url));
  }, 60_000);
  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await server?.close();
  });

  it('runs in Chromium, not in Node', async () => {
    const ua = await page.evaluate(() => navigator.userAgent);
    expect(ua).toContain('Chrome/');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
  });

  const snpDir = vectorsDir('snp');
  describe('SEV-SNP', () => {
    const tcb = (t: any): Record<string, number> => ({ bootloader: t.bl, tee: t.tee, snp: t.snp, microcode: t.ucode, ...(t.fmc !== undefined ? { fmc: t.fmc } : {}) });
    const at = (e: any): string => {
      const t = e.verified_by_research?.chain_valid_openssl_at?.utc as string | undefined;
      return t ? t.replace(' ', 'T').replace('+00:00', 'Z') : '2026-11-28T00:00:00Z';
    };
    for (const name of vectorSets(snpDir)) {
      const e = readJson(snpDir, name, 'expected.json');
      const set = join(snpDir, name);
      const leafFile = e.endorsement_key?.file as string;
      if (!e.report) {
        it(`${name}: certificate-only set — chain to the pinned ARK`, async () => {
          const r = await page.evaluate(async ({ leaf, chain, at }) => {
            const cc = (window as any).cc;
            const ek = cc.parseEndorsementKey(cc.parseCertificate(cc.fromBase64(leaf)));
            await cc.verifyChain([ek.cert, ...cc.parseCertificates(chain)], { anchors: [cc.PINNED_ANCHORS.amd[ek.productLine]], now: new Date(at) });
            return { productName: ek.productName, structVersion: ek.structVersion, hwId: cc.toHex(ek.hwId) };
          }, { leaf: b64(readBytes(set, leafFile)), chain: readText(set, 'cert_chain.pem'), at: at(e) });
          expect(r).toEqual({ productName: e.endorsement_key.product_name, structVersion: e.endorsement_key.struct_version, hwId: e.endorsement_key.hwid });
        });
        continue;
      }
      const r = e.report;
      const sigValid = e.verified_by_research.report_signature_valid_with_leaf === true;
      it(`${name}: appraisal at ${at(e)} and default-policy verdict`, async () => {
        const out = await page.evaluate(async ({ report, leaf, chain, at }) => {
          const cc = (window as any).cc;
          const ev = { report: cc.fromBase64(report), leaf: cc.fromBase64(leaf), chain };
          const plain = (d: unknown) => JSON.parse(JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
          const lenient = await cc.verifySnp(ev, { now: new Date(at), policy: { revocation: 'allow-unavailable', vmpl: [0, 1], allowDebug: true, allowProvisionalFirmware: true } });
          const strict = await cc.verifySnp(ev, { now: new Date(at), policy: { revocation: 'allow-unavailable' } });
          return { lenient: plain(lenient), strict: plain(strict) };
        }, { report: b64(readBytes(set, 'report.bin')), leaf: b64(readBytes(set, leafFile)), chain: readText(set, 'cert_chain.pem'), at: at(e) });
        const codes = (d: any): string[] => d.errors.map((x: any) => x.code).sort();
        if (!sigValid) {
          expect(out.lenient.ok).toBe(false);
          expect(codes(out.lenient)).toContain('ERR_SNP_SIGNATURE_INVALID');
          return;
        }
        expect(out.lenient.errors).toEqual([]);
        expect(out.lenient.ok).toBe(true);
        const c = out.lenient.claims;
        expect(c.productLine).toBe(e.product_line);
        expect(c.measurement).toBe(r.measurement);
        expect(c.reportData).toBe(r.report_data);
        expect(c.hostData).toBe(r.host_data);
        expect(c.chipId).toBe(r.chip_id);
        expect(c.vmpl).toBe(r.vmpl);
        expect(c.debug).toBe(r.policy_decoded.debug);
        expect(c.signingKey).toBe(r.signing_key.toLowerCase());
        expect(c.reportedTcb).toMatchObject(tcb(r.reported_tcb));
        expect(c.currentTcb).toMatchObject(tcb(r.current_tcb));
        const want: string[] = [];
        if (r.policy_decoded.debug) want.push('ERR_SNP_POLICY_DEBUG');
        if (r.vmpl !== 0) want.push('ERR_SNP_POLICY_VMPL');
        if (r.committed_tcb.raw !== r.current_tcb.raw || r.committed_version !== r.current_version) want.push('ERR_SNP_POLICY_PROVISIONAL_FIRMWARE');
        expect(codes(out.strict)).toEqual(want.sort());
        expect(out.strict.ok).toBe(want.length === 0);
      });
    }

    it.each(['NEGATIVE_vcek-invalid-legacy.der', 'NEGATIVE_vcek-invalid-new.der'])('trustee %s is refused before the report signature', async (f) => {
      const set = join(snpDir, 'trustee-milan-v2-provisional');
      const failed = await page.evaluate(async ({ report, leaf, chain }) => {
        const cc = (window as any).cc;
        const doc = await cc.verifySnp({ report: cc.fromBase64(report), leaf: cc.fromBase64(leaf), chain }, { now: new Date('2026-11-28T00:00:00Z'), policy: { revocation: 'allow-unavailable', allowProvisionalFirmware: true } });
        const f = doc.checks.find((c: any) => c.status === 'failed');
        return { ok: doc.ok, id: f?.id, code: f?.code, signatureChecked: doc.checks.some((c: any) => c.id === 'snp.signature') };
      }, { report: b64(readBytes(set, 'report.bin')), leaf: b64(readBytes(set, f)), chain: readText(set, 'cert_chain.pem') });
      expect(failed.ok).toBe(false);
      expect([['snp.endorsementKey', 'ERR_SNP_LEAF_MALFORMED'], ['snp.chain', 'ERR_X509_SIGNATURE_INVALID']]).toContainEqual([failed.id, failed.code]);
      expect(failed.signatureChecked).toBe(false);
    });
  });

  const tdxDir = vectorsDir('tdx');
  describe('Intel TDX', () => {
    const LENIENT = {
      version: 1,
      tdx: {
        acceptedTcbStatus: ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'TDRelaunchAdvised', 'TDRelaunchAdvisedConfigurationNeeded'],
        allowDebug: true,
        requireSeptVeDisable: false,
        allowServiceTd: true,
      },
    };
    const collateral = (dir: string): Record<string, string> => {
      const files: Record<string, string> = { tcbInfo: 'tcb_info.json', tcbInfoIssuerChain: 'tcb_info_issuer_chain.pem', qeIdentity: 'qe_identity.json', qeIdentityIssuerChain: 'qe_identity_issuer_chain.pem', pckCrl: 'pck_crl.der', rootCaCrl: 'root_ca_crl.der', pckCrlIssuerChain: 'pck_crl_issuer_chain.pem' };
      return Object.fromEntries(Object.entries(files).filter(([, f]) => existsSync(join(dir, f))).map(([k, f]) => [k, b64(readBytes(dir, f))]));
    };
    for (const set of vectorSets(tdxDir)) {
      const exp = readJson(tdxDir, set, 'expected.json');
      for (const q of exp.quotes as any[]) {
        it(`${set}/${q.file}: Intel's TCB status, advisories and the strict verdict`, async () => {
          const out = await page.evaluate(async ({ quote, coll, at, lenient }) => {
            const cc = (window as any).cc;
            const collateral = Object.fromEntries(Object.entries(coll).map(([k, v]) => [k, cc.fromBase64(v)]));
            const bytes = cc.fromBase64(quote);
            const policy = cc.parsePolicy(lenient).tdx;
            const l = await cc.verifyTdx(bytes, { now: new Date(at), collateral, policy });
            const s = await cc.verifyTdx(bytes, { now: new Date(at), collateral, anchors: cc.PINNED_ANCHORS });
            return { lenient: JSON.parse(JSON.stringify(l)), strict: { ok: s.ok, errors: s.errors.length, tcbStatus: s.claims.tcbStatus } };
          }, { quote: b64(readBytes(tdxDir, set, q.file)), coll: collateral(join(tdxDir, set)), at: exp.verification_time, lenient: LENIENT });
          const te = q.tcb_evaluation;
          const c = out.lenient.claims;
          if (te.expected_tcb_status.startsWith('TCB_NOT_SUPPORTED')) {
            expect(out.lenient.errors.map((x: any) => x.code)).toContain('ERR_TDX_TCB_NOT_SUPPORTED');
          } else {
            expect(out.lenient.errors).toEqual([]);
            expect(c.tcbStatus).toBe(te.expected_tcb_status);
            expect(c.advisoryIds).toEqual([...(te.expected_advisory_ids ?? [])].sort());
            expect(c.qeTcbStatus).toBe(te.qe_identity_match.qe_tcb_status);
            expect(c.mrTd).toBe(q.td_report.mr_td);
          }
          const t = q.td_report;
          const accept = te.expected_tcb_status === 'UpToDate' && t.td_attributes_decoded['DEBUG(bit0)'] === false && t.td_attributes_decoded['SEPT_VE_DISABLE(bit28)'] === true && !/[1-9a-f]/.test(t.mr_service_td ?? '');
          expect(out.strict.ok).toBe(accept);
          if (!accept) expect(out.strict.errors).toBeGreaterThan(0);
        });
      }
    }
  });

  const nvDir = vectorsDir('nvidia');
  describe('NVIDIA GPU / NVSwitch', () => {
    const V = nvDir;
    const verify = (set: string, nonceHex?: string, extra: Record<string, unknown> = {}): Promise<any> =>
      page.evaluate(async ({ report, chain, nonce, extra }) => {
        const cc = (window as any).cc;
        const { rims = [], now = '2026-11-28T00:00:00Z', ...rest } = extra as { rims?: string[]; now?: string };
        const doc = await cc.verifyGpu({ report: cc.fromBase64(report), certChain: chain }, { expectedNonce: cc.fromHex(nonce), ocsp: 'skip', requireRim: false, ...rest, now: new Date(now), rims: rims.map((r) => cc.fromBase64(r)) });
        return JSON.parse(JSON.stringify(doc));
      }, { report: b64(readBytes(V, set, 'report.bin')), chain: readText(V, set, 'cert_chain.pem'), nonce: nonceHex ?? readJson(V, set, 'expected.json').request.nonce, extra });

    const positives = (deviceSets(nvDir)).filter((s) => {
      const c = readJson(V, s, 'expected.json').checks;
      return c.chain_to_nvidia_device_identity_ca && c.spdm_signature_ecdsa_p384_sha384 && c.fwid_match && c.request_nonce_equals_expected !== false;
    });
    it('finds the device sets', () => {
      expect(positives.length).toBeGreaterThanOrEqual(25);
    });
    it.each(positives)('%s: chain, FWID, nonce and SPDM signature verify; claims as expected', async (set) => {
      const e = readJson(V, set, 'expected.json');
      const doc = await verify(set);
      expect(doc.errors).toEqual([]);
      expect(doc.ok).toBe(true);
      const by = Object.fromEntries(doc.checks.map((c: any) => [c.id, c.status]));
      expect([by['gpu0.chain'], by['gpu0.signature'], by['gpu0.nonce']]).toEqual(['passed', 'passed', 'passed']);
      expect(by['gpu0.fwid']).toBe(e.checks.fwid_present_in_report ? 'passed' : 'skipped');
      expect(doc.claims.nonce).toBe(e.request.nonce);
      expect(doc.claims.driverVersion).toBe(e.driver_version);
      expect(doc.claims.vbiosVersion).toBe(e.vbios_version);
      expect(doc.claims.fwid).toBe(e.fwid_report ?? e.fwid_cert);
      expect(doc.claims.measurementCount).toBe(e.number_of_blocks);
    });

    it('H100 545.00 with its driver and VBIOS RIMs at 2023-08-01: every golden measurement matches', async () => {
      const set = 'h100-pcie-545.00-nvtrust2023-rims';
      const rims = ['Driver_RIM_test_no_gpu.swidtag', '1010_0200_882_96005E0001_test_no_gpu.swidtag'].map((f) => b64(readBytes(V, set, 'rims', f)));
      const doc = await verify(set, undefined, { rims, requireRim: true, now: '2023-08-01T00:00:00Z' });
      expect(doc.errors).toEqual([]);
      expect(doc.claims.rimMatched).toBe(true);
    });

    it.each([
      ['negative/bad-spdm-signature-hopper', 'ERR_NV_FWID_MISMATCH'],
      ['negative/bad-spdm-signature-switch', 'ERR_NV_SIGNATURE_INVALID'],
    ])('%s is refused (%s)', async (set, code) => {
      const doc = await verify(set);
      expect(doc.ok).toBe(false);
      expect(doc.errors.map((x: any) => x.code)).toContain(code);
    });

    it('a report whose SPDM nonce is not the client nonce is refused', async () => {
      const doc = await verify('h200-595.71.05-tinfoil-nras-tdxbind', '00'.repeat(32));
      expect(doc.ok).toBe(false);
      expect(doc.errors.map((x: any) => x.code)).toContain('ERR_NV_NONCE_MISMATCH');
    });
  });
});
