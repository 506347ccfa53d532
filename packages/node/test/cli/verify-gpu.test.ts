/** `ccinfer verify gpu` and `ccinfer verify nras` (docs/cli.md) on the real NVIDIA vectors. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './io.js';
import { readJson, vectorsDir } from '../../../../test-support/vectors.js';

const nv = vectorsDir('nvidia');
const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-gpu-'));
const offline = join(tmp, 'offline.json');
writeFileSync(offline, JSON.stringify({ version: 1, gpu: { ocsp: 'skip', requireRim: false } }));
const strictRim = join(tmp, 'rim.json');
writeFileSync(strictRim, JSON.stringify({ version: 1, gpu: { ocsp: 'skip', requireRim: true } }));

describe('ccinfer verify gpu on the shared vectors', () => {
  const V = nv;
  const sets: [string, string, string[]][] = [
    ['h100-pcie-545.00-nvtrust2023-rims', '2023-08-01T00:00:00Z', ['rims/Driver_RIM_test_no_gpu.swidtag', 'rims/1010_0200_882_96005E0001_test_no_gpu.swidtag']],
    ['nvswitch-ls10-96.10.55.00.01-rim', '2026-11-28T00:00:00Z', ['rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml']],
    ['h200-595.71.05-tinfoil-nras-tdxbind', '2026-11-28T00:00:00Z', ['rims/NV_GPU_DRIVER_GH100_595.71.05.xml']],
    ['h100-pcie-550.90.07-nvtrust2025-nrasv4', '2026-11-28T00:00:00Z', []],
    ['b200-gb100-575.32-asdk', '2026-11-28T00:00:00Z', []],
  ];

  it.each(sets)('%s: exit 0 with the §7 claims', async (set, at, rims) => {
    const d = join(V, set);
    const e = readJson(d, 'expected.json');
    const args = ['verify', 'gpu', '--report', join(d, 'report.bin'), '--certs', join(d, 'cert_chain.pem'), '--nonce', readFileSync(join(d, 'nonce.txt'), 'utf8').trim(), '--at', at, '--policy', offline, '--json'];
    for (const r of rims) args.push('--rim', join(d, r));
    const r = await cli(args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const fullRims = set !== 'h200-595.71.05-tinfoil-nras-tdxbind' && rims.length > 0;
    expect(doc.claims).toMatchObject({
      arch: e.arch.toLowerCase(),
      driverVersion: e.driver_version,
      vbiosVersion: e.vbios_version,
      nonce: e.request.nonce,
      fwid: e.fwid_report ?? e.fwid_cert,
      measurementCount: e.number_of_blocks,
      rimMatched: fullRims,
      ueid: e.chain[0].serial_decimal,
    });
  });

  it('the report as hex text is accepted too', async () => {
    const d = join(V, 'b200-gb100-575.32-asdk');
    const r = await cli(['verify', 'gpu', '--report', join(d, 'report.hex'), '--certs', join(d, 'cert_chain.pem'), '--nonce', readFileSync(join(d, 'nonce.txt'), 'utf8').trim(), '--policy', offline]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('ACCEPTED');
  });

  it('a flipped signed byte exits 1 with ERR_NV_SIGNATURE_INVALID; a wrong nonce with ERR_NV_NONCE_MISMATCH', async () => {
    const d = join(V, 'h200-595.71.05-tinfoil-nras-tdxbind');
    const nonce = readFileSync(join(d, 'nonce.txt'), 'utf8').trim();
    const report = new Uint8Array(readFileSync(join(d, 'report.bin')));
    report[37 + 8 + 100]! ^= 1;
    const f = join(tmp, 'flipped.bin');
    writeFileSync(f, report);
    const a = await cli(['verify', 'gpu', '--report', f, '--certs', join(d, 'cert_chain.pem'), '--nonce', nonce, '--policy', offline, '--json']);
    expect(a.code).toBe(1);
    expect(JSON.parse(a.out).errors.map((x: any) => x.code)).toContain('ERR_NV_SIGNATURE_INVALID');
    const b = await cli(['verify', 'gpu', '--report', join(d, 'report.bin'), '--certs', join(d, 'cert_chain.pem'), '--nonce', '00'.repeat(32), '--policy', offline, '--json']);
    expect(b.code).toBe(1);
    expect(JSON.parse(b.out).errors.map((x: any) => x.code)).toEqual(['ERR_NV_NONCE_MISMATCH']);
  });

  it('requireRim without the VBIOS RIM offline exits 1 with ERR_NV_RIM_MISSING; usage errors exit 2', async () => {
    const d = join(V, 'h200-595.71.05-tinfoil-nras-tdxbind');
    const nonce = readFileSync(join(d, 'nonce.txt'), 'utf8').trim();
    const r = await cli(['verify', 'gpu', '--report', join(d, 'report.bin'), '--certs', join(d, 'cert_chain.pem'), '--nonce', nonce, '--rim', join(d, 'rims/NV_GPU_DRIVER_GH100_595.71.05.xml'), '--policy', strictRim, '--offline', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors.map((x: any) => x.code)).toEqual(['ERR_NV_RIM_MISSING']);
    expect((await cli(['verify', 'gpu', '--report', join(d, 'report.bin'), '--certs', join(d, 'cert_chain.pem')])).code).toBe(2);
    expect((await cli(['verify', 'gpu', '--report', join(d, 'nope.bin'), '--certs', join(d, 'cert_chain.pem'), '--nonce', nonce])).code).toBe(2);
    expect((await cli(['verify', 'gpu', '--report', join(d, 'report.bin'), '--certs', join(d, 'cert_chain.pem'), '--nonce', 'abc'])).code).toBe(2);
  });
});

describe('ccinfer verify nras on the shared vectors', () => {
  const V = nv;
  it('tinfoil H200 result: exit 0, delegated', async () => {
    const d = join(V, 'h200-595.71.05-tinfoil-nras-tdxbind');
    const check = readJson(d, 'nras_check.json');
    const at = new Date((check.derived.iat + 60) * 1000).toISOString();
    const r = await cli(['verify', 'nras', '--token', join(d, 'nras_response.json'), '--jwks', join(d, 'jwks.json'), '--nonce', readFileSync(join(d, 'nonce.txt'), 'utf8').trim(), '--evidence', join(d, 'report.bin'), '--at', at, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.delegated).toBe(true);
    expect(doc.claims.overallResult).toBe(true);
  });

  it('chutes: signed failure exits 1 with ERR_NV_NRAS_RESULT_FALSE; expired exits 1', async () => {
    const d = join(V, 'negative/nras-signed-failure-nonce-not-matching-chutes');
    const check = readJson(d, 'nras_check.json');
    const nonce = readJson(d, 'nras_request.json').nonce;
    const at = new Date((check.derived.iat + 60) * 1000).toISOString();
    const r = await cli(['verify', 'nras', '--token', join(d, 'nras_response.json'), '--jwks', join(d, 'jwks.json'), '--nonce', nonce, '--at', at, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors.map((x: any) => x.code)).toEqual(['ERR_NV_NRAS_RESULT_FALSE']);
    const late = await cli(['verify', 'nras', '--token', join(d, 'nras_response.json'), '--jwks', join(d, 'jwks.json'), '--nonce', nonce, '--json']);
    expect(late.code).toBe(1);
    expect(JSON.parse(late.out).errors.map((x: any) => x.code)).toEqual(['ERR_NV_NRAS_EXPIRED']);
  });
});
