/**
 * Conformance: every SNP set of the conformance vectors (test-support/vectors.ts) verified at the time its expected.json gives, every decoded
 * field compared, the known-bad sets rejected with the right codes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSnpReport, verifySnp, parseCertificate, parseCertificates, verifyChain, PINNED_ANCHORS, parseEndorsementKey, type SnpPolicy } from '../../src/index.js';
import { toHex } from '@ccinfer/core';
import { vectorsDir, vectorSets, readBytes, readJson, readText } from '../../../../test-support/vectors.js';

const dir = vectorsDir('snp');
const sets = dir ? vectorSets(dir) : [];

/** The time each set is valid at: the research's explicit check time, else its build date. */
function verificationTime(e: any): Date {
  const at = e.verified_by_research?.chain_valid_openssl_at?.utc;
  return new Date(at ? at.replace(' ', 'T').replace('+00:00', 'Z') : '2026-11-28T00:00:00Z');
}

const tcb = (t: any) => {
  const out: Record<string, number> = { bootloader: t.bl, tee: t.tee, snp: t.snp, microcode: t.ucode };
  if (t.fmc !== undefined) out['fmc'] = t.fmc;
  return out;
};

const offline: SnpPolicy = { revocation: 'allow-unavailable' };

describe.skipIf(!dir)('SEV-SNP conformance (shared/vectors/snp)', () => {
  for (const name of sets) {
    const e = readJson(dir!, name, 'expected.json');
    const setDir = join(dir!, name);
    const leafFile = e.endorsement_key?.file as string;
    if (!e.report) {
      it(`${name}: certificate-only set — chain and extensions`, async () => {
        const leaf = parseEndorsementKey(parseCertificate(readBytes(setDir, leafFile)));
        expect(leaf.productName).toBe(e.endorsement_key.product_name);
        expect(leaf.structVersion).toBe(e.endorsement_key.struct_version);
        expect(toHex(leaf.hwId!)).toBe(e.endorsement_key.hwid);
        expect(leaf.tcb).toEqual(tcb({ bl: e.endorsement_key.tcb_ext.blSPL, tee: e.endorsement_key.tcb_ext.teeSPL, snp: e.endorsement_key.tcb_ext.snpSPL, ucode: e.endorsement_key.tcb_ext.ucodeSPL, fmc: e.endorsement_key.tcb_ext.fmcSPL }));
        const chain = [leaf.cert, ...parseCertificates(readText(setDir, 'cert_chain.pem'))];
        await verifyChain(chain, { anchors: [PINNED_ANCHORS.amd[leaf.productLine]!], now: verificationTime(e) });
      });
      continue;
    }
    const r = e.report;

    it(`${name}: every decoded field matches expected.json`, () => {
      const p = parseSnpReport(readBytes(setDir, 'report.bin'));
      expect(p.version).toBe(r.version);
      expect(p.guestSvn).toBe(r.guest_svn);
      expect(p.policy.raw).toBe(BigInt(r.policy));
      expect(p.policy.debug).toBe(r.policy_decoded.debug);
      expect(p.policy.smt).toBe(r.policy_decoded.smt);
      expect(p.policy.migrateMa).toBe(r.policy_decoded.migrate_ma);
      expect(p.policy.abiMajor).toBe(r.policy_decoded.abi_major);
      expect(p.policy.abiMinor).toBe(r.policy_decoded.abi_minor);
      expect(toHex(p.familyId)).toBe(r.family_id);
      expect(toHex(p.imageId)).toBe(r.image_id);
      expect(p.vmpl).toBe(r.vmpl);
      expect(p.signatureAlgo).toBe(r.signature_algo);
      expect(p.platformInfo.raw).toBe(BigInt(r.platform_info));
      expect(p.signingKey).toBe(r.signing_key.toLowerCase());
      expect(p.authorKeyEn).toBe(r.author_key_en);
      expect(p.maskChipKey).toBe(r.mask_chip_key);
      expect(toHex(p.reportData)).toBe(r.report_data);
      expect(toHex(p.measurement)).toBe(r.measurement);
      expect(toHex(p.hostData)).toBe(r.host_data);
      expect(toHex(p.idKeyDigest)).toBe(r.id_key_digest);
      expect(toHex(p.authorKeyDigest)).toBe(r.author_key_digest);
      expect(toHex(p.reportId)).toBe(r.report_id);
      expect(toHex(p.reportIdMa)).toBe(r.report_id_ma);
      expect(toHex(p.chipId)).toBe(r.chip_id);
      for (const k of ['current_tcb', 'reported_tcb', 'committed_tcb', 'launch_tcb'] as const) {
        const raw = { current_tcb: p.currentTcbRaw, reported_tcb: p.reportedTcbRaw, committed_tcb: p.committedTcbRaw, launch_tcb: p.launchTcbRaw }[k];
        expect(raw, k).toBe(BigInt(r[k].raw));
      }
      expect(`${p.currentVersion.major}.${p.currentVersion.minor}.${p.currentVersion.build}`).toBe(r.current_version);
      expect(`${p.committedVersion.major}.${p.committedVersion.minor}.${p.committedVersion.build}`).toBe(r.committed_version);
      if (r.cpuid_fam_id) expect(p.cpuid).toEqual({ family: Number(r.cpuid_fam_id), model: Number(r.cpuid_mod_id), stepping: Number(r.cpuid_step) });
      else expect(p.cpuid).toBeUndefined();
      if (r.version >= 5) {
        expect(p.launchMitVector).toBe(BigInt(r.launch_mit_vector));
        expect(p.currentMitVector).toBe(BigInt(r.current_mit_vector));
      } else {
        expect(p.launchMitVector).toBeUndefined();
      }
      expect(toHex(p.signatureR)).toBe(r.signature_r_le72);
      expect(toHex(p.signatureS)).toBe(r.signature_s_le72);
    });

    const sigValid = e.verified_by_research.report_signature_valid_with_leaf === true;
    it(`${name}: appraisal at ${verificationTime(e).toISOString()} (${sigValid ? 'signature valid' : 'signature INVALID'})`, async () => {
      const doc = await verifySnp(
        { report: readBytes(setDir, 'report.bin'), leaf: readBytes(setDir, leafFile), chain: readText(setDir, 'cert_chain.pem') },
        { now: verificationTime(e), policy: { ...offline, vmpl: [0, 1], allowDebug: true, allowProvisionalFirmware: true } },
      );
      if (!sigValid) {
        expect(doc.ok).toBe(false);
        expect(doc.errors.map((x) => x.code)).toContain('ERR_SNP_SIGNATURE_INVALID');
        return;
      }
      expect(doc.errors).toEqual([]);
      expect(doc.ok).toBe(true);
      expect(doc.claims['productLine']).toBe(e.product_line);
      expect(doc.claims['measurement']).toBe(r.measurement);
      expect(doc.claims['reportData']).toBe(r.report_data);
      expect(doc.claims['hostData']).toBe(r.host_data);
      expect(doc.claims['chipId']).toBe(r.chip_id);
      expect(doc.claims['vmpl']).toBe(r.vmpl);
      expect(doc.claims['debug']).toBe(r.policy_decoded.debug);
      expect(doc.claims['signingKey']).toBe(r.signing_key.toLowerCase());
      expect(doc.claims['reportedTcb']).toMatchObject(tcb(r.reported_tcb));
      expect(doc.claims['currentTcb']).toMatchObject(tcb(r.current_tcb));
      const skipped = doc.checks.filter((c) => c.status === 'skipped').map((c) => c.id);
      expect(skipped).toContain('snp.revocation');
      expect(skipped).toContain('snp.policy.measurement');
    });

    if (sigValid) {
      it(`${name}: default policy verdict`, async () => {
        const doc = await verifySnp(
          { report: readBytes(setDir, 'report.bin'), leaf: readBytes(setDir, leafFile), chain: readText(setDir, 'cert_chain.pem') },
          { now: verificationTime(e), policy: offline },
        );
        const codes = doc.errors.map((x) => x.code);
        const expected: string[] = [];
        if (r.policy_decoded.debug) expected.push('ERR_SNP_POLICY_DEBUG');
        if (r.vmpl !== 0) expected.push('ERR_SNP_POLICY_VMPL');
        if (r.committed_tcb.raw !== r.current_tcb.raw || r.committed_version !== r.current_version) expected.push('ERR_SNP_POLICY_PROVISIONAL_FIRMWARE');
        expect(codes.sort()).toEqual(expected.sort());
        expect(doc.ok).toBe(expected.length === 0);
      });
    }
  }

  // Upstream rewrote hwID to 00 01 02 … 3f. Wrapped in an inner OCTET STRING (66 bytes) the extension is
  // malformed for AMD's profile; either way the ASK signature no longer covers the certificate.
  it.each([
    ['NEGATIVE_vcek-invalid-legacy.der'],
    ['NEGATIVE_vcek-invalid-new.der'],
  ])('trustee negative %s is rejected before the report signature', async (f) => {
    const setDir = join(dir!, 'trustee-milan-v2-provisional');
    {
      const doc = await verifySnp(
        { report: readBytes(setDir, 'report.bin'), leaf: readBytes(setDir, f), chain: readText(setDir, 'cert_chain.pem') },
        { now: new Date('2026-11-28T00:00:00Z'), policy: { ...offline, allowProvisionalFirmware: true } },
      );
      expect(doc.ok).toBe(false);
      const failed = doc.checks.find((c) => c.status === 'failed');
      expect([['snp.endorsementKey', 'ERR_SNP_LEAF_MALFORMED'], ['snp.chain', 'ERR_X509_SIGNATURE_INVALID']]).toContainEqual([failed?.id, failed?.code]);
      expect(doc.checks.some((c) => c.id === 'snp.signature')).toBe(false);
    }
  });

  it('yaxi Genoa: a minimum committed firmware of 1.55.49 rejects 1.55.39', async () => {
    const setDir = join(dir!, 'yaxi-genoa-v3');
    const doc = await verifySnp(
      { report: readBytes(setDir, 'report.bin'), leaf: readBytes(setDir, 'vcek.der'), chain: readText(setDir, 'cert_chain.pem') },
      { now: new Date('2026-11-28T00:00:00Z'), policy: { ...offline, minFirmware: [1, 55, 49] } },
    );
    expect(doc.errors.map((x) => x.code)).toEqual(['ERR_SNP_POLICY_FIRMWARE']);
  });
});
