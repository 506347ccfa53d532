/** `ccinfer verify snp` exit statuses and output (docs/cli.md) on real vectors and simulated evidence. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { simulatedAmd, mintSnpEvidence } from '@ccinfer/verifier/testing';
import { cli } from './io.js';
import { vectorsDir, vectorSets, readJson } from '../../../../test-support/vectors.js';

const snp = vectorsDir('snp');
const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-cli-'));
const offlinePolicy = join(tmp, 'offline.json');
writeFileSync(offlinePolicy, JSON.stringify({ version: 1, snp: { revocation: 'allow-unavailable', vmpl: [0, 1], allowProvisionalFirmware: true } }));

const at = (e: any): string => (e.verified_by_research?.chain_valid_openssl_at?.utc ?? '2026-11-28 00:00:00+00:00').replace(' ', 'T').replace('+00:00', 'Z');

describe('ccinfer verify snp on the shared vectors', () => {
  const valid = vectorSets(snp).filter((n) => {
    const e = readJson(snp, n, 'expected.json');
    return e.report && e.verified_by_research.report_signature_valid_with_leaf === true && !e.report.policy_decoded.debug;
  });

  it.each(valid)('%s: exit 0 with the expected claims in --json', async (name) => {
    const e = readJson(snp, name, 'expected.json');
    const d = join(snp, name);
    const r = await cli(['verify', 'snp', '--report', join(d, 'report.bin'), '--cert', join(d, e.endorsement_key.file), '--chain', join(d, 'cert_chain.pem'), '--at', at(e), '--policy', offlinePolicy, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(true);
    expect(doc.claims).toMatchObject({
      version: e.report.version,
      vmpl: e.report.vmpl,
      measurement: e.report.measurement,
      reportData: e.report.report_data,
      hostData: e.report.host_data,
      chipId: e.report.chip_id,
      signingKey: e.report.signing_key.toLowerCase(),
      productLine: e.product_line,
      debug: false,
      policy: e.report.policy,
      reportedTcb: { bootloader: e.report.reported_tcb.bl, tee: e.report.reported_tcb.tee, snp: e.report.reported_tcb.snp, microcode: e.report.reported_tcb.ucode },
    });
  });

  it('one flipped byte in the signed range exits 1 with a signature error code', async () => {
    const d = join(snp, 'oak-genoa-v5');
    const report = new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(join(d, 'report.bin'))));
    report[0x90]! ^= 1;
    const f = join(tmp, 'flipped.bin');
    writeFileSync(f, report);
    const r = await cli(['verify', 'snp', '--report', f, '--cert', join(d, 'vcek.der'), '--chain', join(d, 'cert_chain.pem'), '--policy', offlinePolicy, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors.map((x: any) => x.code)).toContain('ERR_SNP_SIGNATURE_INVALID');
  });

  it('the debug VM exits 1 under the default policy and names the rule in the text report', async () => {
    const d = join(snp, 'gosev-milan-v2-debug');
    const r = await cli(['verify', 'snp', '--report', join(d, 'report.bin'), '--cert', join(d, 'vcek.der'), '--chain', join(d, 'cert_chain.pem'), '--policy', offlinePolicy]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL\s+snp\.policy\.debug\s+ERR_SNP_POLICY_DEBUG/);
    expect(r.out).toMatch(/^REJECTED: ERR_SNP_POLICY_DEBUG$/m);
  });

  it('without a CRL and without network, the strict default rejects with ERR_SNP_CRL_UNAVAILABLE', async () => {
    const d = join(snp, 'oak-genoa-v5');
    const r = await cli(['verify', 'snp', '--report', join(d, 'report.bin'), '--cert', join(d, 'vcek.der'), '--chain', join(d, 'cert_chain.pem'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors[0].code).toBe('ERR_SNP_CRL_UNAVAILABLE');
  });
});

describe('ccinfer verify snp: usage and input errors exit 2', () => {
  it.each([
    [['verify', 'snp']],
    [['verify', 'snp', '--report', '/nonexistent/report.bin', '--cert', '/nonexistent/vcek.der']],
    [['verify', 'snp', '--report', 'a', '--cert', 'b', '--bogus']],
    [['verify', 'snp', '--report', 'a', '--cert', 'b', '--at', 'yesterday']],
    [['verify', 'nothing']],
  ])('%j', async (argv) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).not.toBe('');
  });

  it('an invalid policy file lists every bad field and exits 2', async () => {
    const p = join(tmp, 'bad-policy.json');
    writeFileSync(p, JSON.stringify({ version: 1, snp: { vmpl: [9], allowDebug: 'yes', measurementz: [] } }));
    const r = await cli(['verify', 'snp', '--report', 'a', '--cert', 'b', '--policy', p]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/snp\.vmpl\[0\]/);
    expect(r.err).toMatch(/snp\.allowDebug/);
    expect(r.err).toMatch(/snp\.measurementz/);
  });
});

describe('ccinfer verify snp with simulated evidence and --anchors', () => {
  let dir: string;
  beforeAll(async () => {
    const sim = await simulatedAmd('Genoa');
    const ev = await mintSnpEvidence(sim);
    dir = mkdtempSync(join(tmpdir(), 'ccinfer-sim-'));
    writeFileSync(join(dir, 'report.bin'), ev.report);
    writeFileSync(join(dir, 'vcek.der'), ev.leaf);
    writeFileSync(join(dir, 'chain.pem'), ev.chain);
    writeFileSync(join(dir, 'crl.der'), ev.crl);
    writeFileSync(join(dir, 'anchors.json'), JSON.stringify(sim.anchors));
  });

  it('accepted with the simulator anchors, refused with the pinned AMD roots', async () => {
    const base = ['verify', 'snp', '--report', join(dir, 'report.bin'), '--cert', join(dir, 'vcek.der'), '--chain', join(dir, 'chain.pem'), '--crl', join(dir, 'crl.der'), '--json'];
    const ok = await cli([...base, '--anchors', join(dir, 'anchors.json')]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).warnings[0]).toMatch(/SIMULATED/);
    const refused = await cli(base);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).errors[0].code).toBe('ERR_X509_UNTRUSTED_ROOT');
  });
});
