/**
 * The sev crate's JSON form of real reports (the shared SNP vectors, `vectorsDir('snp')`): the test converts
 * each report to the JSON an Attestation Agent sends, from the independently parsed fields; the decoder must
 * rebuild the exact bytes, whose signature then verifies with the set's VCEK. Every malformation is refused.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError, toHex } from '@ccinfer/core';
import { decodeSevReportJson, encodeSevReportJson, parseCertificate, parseSnpReport, type SnpReport } from '../../src/index.js';
import { decodeTcb, productFromCpuid } from '../../src/internal.js';
import { importReportKey, verifyReportSignature } from '../../src/snp/verify.js';
import { readBytes, readJson, vectorSets, vectorsDir } from '../../../../test-support/vectors.js';
import { expectCodeSync } from '../../../../test-support/helpers.js';

const dir = vectorsDir('snp');
const sets = dir ? vectorSets(dir).filter((n) => existsSync(join(dir, n, 'report.bin')) && existsSync(join(dir, n, 'vcek.der')) && !n.includes('SIGFAIL')) : [];

const arr = (b: Uint8Array): number[] => Array.from(b);

/** sev 6.3 serde of the typed fields (what guest-components' SNP attester puts in `attestation_report`). */
function toSevJson(r: SnpReport, productLine: string): Record<string, any> {
  const product = (productFromCpuid(r.cpuid) ?? productLine) as 'Milan' | 'Genoa' | 'Turin';
  const tcb = (raw: bigint): Record<string, number | null> => {
    const t = decodeTcb(raw, product);
    return { fmc: t.fmc ?? null, bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode };
  };
  const keyInfo = (r.authorKeyEn ? 1 : 0) | (r.maskChipKey ? 2 : 0) | ((r.signingKey === 'vlek' ? 1 : 0) << 2);
  return {
    version: r.version,
    guest_svn: r.guestSvn,
    policy: Number(r.policy.raw),
    family_id: arr(r.familyId),
    image_id: arr(r.imageId),
    vmpl: r.vmpl,
    sig_algo: r.signatureAlgo,
    current_tcb: tcb(r.currentTcbRaw),
    plat_info: Number(r.platformInfo.raw),
    key_info: keyInfo,
    report_data: arr(r.reportData),
    measurement: arr(r.measurement),
    host_data: arr(r.hostData),
    id_key_digest: arr(r.idKeyDigest),
    author_key_digest: arr(r.authorKeyDigest),
    report_id: arr(r.reportId),
    report_id_ma: arr(r.reportIdMa),
    reported_tcb: tcb(r.reportedTcbRaw),
    cpuid_fam_id: r.cpuid?.family ?? null,
    cpuid_mod_id: r.cpuid?.model ?? null,
    cpuid_step: r.cpuid?.stepping ?? null,
    chip_id: arr(r.chipId),
    committed_tcb: tcb(r.committedTcbRaw),
    current: r.currentVersion,
    committed: r.committedVersion,
    launch_tcb: tcb(r.launchTcbRaw),
    launch_mit_vector: r.launchMitVector === undefined ? null : Number(r.launchMitVector),
    current_mit_vector: r.currentMitVector === undefined ? null : Number(r.currentMitVector),
    signature: { r: arr(r.signatureR), s: arr(r.signatureS) },
  };
}

describe.skipIf(!dir)('sev 6.3 JSON of real reports (shared/vectors/snp)', () => {
  it('covers Milan, Genoa and Turin reports of versions 2, 3 and 5', () => {
    const versions = new Set(sets.map((n) => parseSnpReport(readBytes(dir!, n, 'report.bin')).version));
    expect([...versions].sort()).toEqual(expect.arrayContaining([2, 3, 5]));
    expect(sets.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of sets) {
    it(`${name}: JSON → exact report bytes → signature verifies`, async () => {
      const raw = readBytes(dir!, name, 'report.bin');
      const parsed = parseSnpReport(raw);
      const json = JSON.parse(JSON.stringify(toSevJson(parsed, readJson(dir!, name, 'expected.json').product_line)));
      const rebuilt = decodeSevReportJson(json);
      expect(toHex(rebuilt)).toBe(toHex(raw));
      await verifyReportSignature(parseSnpReport(rebuilt), await importReportKey(parseCertificate(readBytes(dir!, name, 'vcek.der'))));
      expect(encodeSevReportJson(raw)).toEqual(json);
    });
  }
});

describe.skipIf(!dir || sets.length === 0)('JSON that does not round-trip is refused', () => {
  const pick = (v: number): Record<string, any> => {
    const name = sets.find((n) => parseSnpReport(readBytes(dir!, n, 'report.bin')).version === v)!;
    return encodeSevReportJson(readBytes(dir!, name, 'report.bin'));
  };
  const with_ = (base: Record<string, any>, patch: Record<string, unknown>): Record<string, any> => ({ ...structuredClone(base), ...patch });

  it('refuses missing, unknown and mistyped fields (ERR_SNP_JSON_MALFORMED)', () => {
    const j = pick(3);
    const { measurement: _m, ...missing } = j;
    const bad: unknown[] = [
      missing,
      with_(j, { extra: 0 }),
      with_(j, { measurement: j['measurement'].slice(1) }),
      with_(j, { measurement: [...j['measurement'], 0] }),
      with_(j, { report_data: j['report_data'].map((_: number, i: number) => (i === 0 ? 256 : 0)) }),
      with_(j, { host_data: toHex(new Uint8Array(32)) }),
      with_(j, { vmpl: 2 ** 32 }),
      with_(j, { guest_svn: -1 }),
      with_(j, { policy: 1.5 }),
      with_(j, { policy: '196608' }),
      with_(j, { current_tcb: { ...j['current_tcb'], extra: 1 } }),
      with_(j, { current_tcb: { bootloader: 1, tee: 0, snp: 1, microcode: 1 } }),
      with_(j, { reported_tcb: { ...j['reported_tcb'], microcode: 300 } }),
      with_(j, { current: { major: 1, minor: 55 } }),
      with_(j, { signature: { r: j['signature'].r, s: j['signature'].s, _reserved: [] } }),
      with_(j, { signature: { r: j['signature'].r.slice(0, 48), s: j['signature'].s } }),
      with_(j, { launch_mit_vector: 2 ** 53 }),
      null,
      [],
      'report',
    ];
    for (const b of bad) expectCodeSync(() => decodeSevReportJson(b), ParseError, 'ERR_SNP_JSON_MALFORMED');
  });

  it('refuses fields that do not match the report version or TCB layout (ERR_SNP_JSON_NOT_ROUND_TRIP)', () => {
    const v2 = pick(2);
    const v3 = pick(3);
    const v5 = pick(5);
    const bad = [
      with_(v2, { cpuid_fam_id: 25 }), // CPUID on a version 2 report
      with_(v3, { cpuid_step: null }), // CPUID missing on version 3
      with_(v3, { launch_mit_vector: 0 }), // mitigation vectors before version 5
      with_(v5, { current_mit_vector: null }),
      with_(v3, { current_tcb: { ...v3['current_tcb'], fmc: v3['current_tcb'].fmc === null ? 1 : null } }), // FMC vs CPUID family
    ];
    for (const b of bad) expectCodeSync(() => decodeSevReportJson(b), ParseError, 'ERR_SNP_JSON_NOT_ROUND_TRIP');
  });

  it('a changed field rebuilds into bytes whose signature no longer verifies', async () => {
    const name = sets[0]!;
    const j = encodeSevReportJson(readBytes(dir!, name, 'report.bin')) as Record<string, any>;
    j['measurement'][0] ^= 1;
    const r = parseSnpReport(decodeSevReportJson(j));
    await expect(verifyReportSignature(r, await importReportKey(parseCertificate(readBytes(dir!, name, 'vcek.der'))))).rejects.toMatchObject({ code: 'ERR_SNP_SIGNATURE_INVALID' });
  });

  it('encoding refuses reports whose reserved bytes the JSON cannot carry', () => {
    const raw = readBytes(dir!, sets[0]!, 'report.bin').slice();
    raw[0x4c] = 1; // reserved after KEY_INFO
    expectCodeSync(() => encodeSevReportJson(raw), ParseError, 'ERR_SNP_JSON_NOT_ROUND_TRIP');
    expectCodeSync(() => encodeSevReportJson(raw.subarray(1)), ParseError, 'ERR_SNP_REPORT_SIZE');
  });
});
