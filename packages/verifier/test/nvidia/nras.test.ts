/**
 * NRAS detached EATs: the real captured results with their JWKS (conformance) and every NRAS error code on
 * tokens minted by the simulator.
 */
import { describe, expect, it } from 'vitest';
import { CollateralError, ParseError, PolicyError, VerificationError, fromHex, randomBytes } from '@ccinfer/core';
import { verifyNras, appraiseNras } from '../../src/nvidia/nras.js';
import { createSimulatedNras, createSimulatedNvidia, mintGpuEvidence, mintNrasToken } from '../../src/testing/nvidia.js';
import { expectCode } from '../helpers.js';
import { readBytes, readJson, readText, vectorsDir } from '../vectors.js';

const dir = vectorsDir('nvidia');
const V = dir;

describe('NRAS conformance (captured tokens + JWKS)', () => {
  const at = (iat: number): Date => new Date((iat + 60) * 1000);

  it('tinfoil H200: overall + GPU-0 ES384 verify, digests, nonce, results; delegated', async () => {
    const set = 'h200-595.71.05-tinfoil-nras-tdxbind';
    const check = readJson(V, set, 'nras_check.json');
    const r = await appraiseNras(readText(V, set, 'nras_response.json'), {
      expectedNonce: fromHex(readText(V, set, 'nonce.txt').trim()),
      now: at(check.derived.iat),
      jwks: readJson(V, set, 'jwks.json'),
      evidence: [readBytes(V, set, 'report.bin')],
    });
    expect(r.delegated).toBe(true);
    expect(r.claimsVersion).toBe('2.0');
    expect(r.devices['GPU-0']!['ueid']).toBe(readJson(V, set, 'expected.json').chain[0].serial_decimal);
    expect(r.expiresAt).toBe(new Date(check.derived.exp * 1000).toISOString());
  });

  it('NEAR AI 8×H200: 9 tokens verify; the document is marked delegated', async () => {
    const set = 'hgx-h200-570.172.08-nearcloud-8gpu-nras';
    const check = readJson(V, set, 'nras_check.json');
    const evidence = Array.from({ length: 8 }, (_, i) => readBytes(V, set, `gpus/gpu${i}/report.bin`));
    const doc = await verifyNras(readText(V, set, 'nras_response.json'), {
      expectedNonce: fromHex(readText(V, set, 'nonce.txt').trim()),
      now: at(check.derived.iat),
      jwks: readJson(V, set, 'jwks.json'),
      evidence,
    });
    expect(doc.ok).toBe(true);
    expect(doc.delegated).toBe(true);
    expect(doc.tee).toBe('nras');
    expect(Object.keys(doc.claims['devices'] as object).length).toBe(8);
  });

  it('the captured tokens are expired an hour later', async () => {
    const set = 'h200-595.71.05-tinfoil-nras-tdxbind';
    const check = readJson(V, set, 'nras_check.json');
    await expectCode(
      appraiseNras(readText(V, set, 'nras_response.json'), { expectedNonce: fromHex(readText(V, set, 'nonce.txt').trim()), now: new Date((check.derived.exp + 1) * 1000), jwks: readJson(V, set, 'jwks.json') }),
      VerificationError,
      'ERR_NV_NRAS_EXPIRED',
    );
  });

  it('chutes: signed tokens, but the submitted evidence carries another nonce; and the overall result is false', async () => {
    const set = 'negative/nras-signed-failure-nonce-not-matching-chutes';
    const check = readJson(V, set, 'nras_check.json');
    const base = { expectedNonce: fromHex(readJson(V, set, 'nras_request.json').nonce), now: at(check.derived.iat), jwks: readJson(V, set, 'jwks.json') };
    const evidence = [readBytes(V, set, 'gpus/gpu0/report.bin')];
    await expectCode(appraiseNras(readText(V, set, 'nras_response.json'), { ...base, evidence }), VerificationError, 'ERR_NV_NRAS_NONCE_MISMATCH');
    await expectCode(appraiseNras(readText(V, set, 'nras_response.json'), base), PolicyError, 'ERR_NV_NRAS_RESULT_FALSE');
  });

  it('NRAS v4 / staging captures: their kid is in no captured JWKS', async () => {
    const jwks = readJson(V, 'h200-595.71.05-tinfoil-nras-tdxbind', 'jwks.json');
    for (const [set, file] of [
      ['h100-pcie-550.90.07-nvtrust2025-nrasv4', 'nras_detached_eat_claims3.json'],
      ['nvswitch-ls10-96.10.55.00.01-rim', 'nras_stg_detached_eat_claims3.json'],
    ] as const) {
      await expectCode(
        appraiseNras(readText(V, set, file), { expectedNonce: fromHex(readText(V, set, 'nonce.txt').trim()), now: new Date('2025-06-11T00:00:00Z'), jwks, issuers: ['https://nras.attestation.nvidia.com', 'https://nras.attestation-stg.nvidia.com'] }),
        VerificationError,
        'ERR_NV_NRAS_KID_UNKNOWN',
      );
    }
  });
});

describe('NRAS negatives (simulator)', () => {
  const nonce = randomBytes(32);
  const iat = new Date('2026-06-01T00:00:00Z');
  const now = new Date('2026-06-01T00:10:00Z');
  const good = { 'x-nvidia-gpu-attestation-report-signature-verified': true, measres: 'success' };

  async function setup() {
    const nras = await createSimulatedNras();
    const opts = { expectedNonce: nonce, now, jwks: nras.jwks };
    return { nras, opts };
  }

  it('a minted result verifies', async () => {
    const { nras, opts } = await setup();
    const r = await appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good, 'GPU-1': good } }), opts);
    expect(Object.keys(r.devices)).toEqual(['GPU-0', 'GPU-1']);
  });

  it('ERR_NV_NRAS_MALFORMED: not a detached EAT', async () => {
    const { opts } = await setup();
    await expectCode(appraiseNras('{"a":1}', opts), ParseError, 'ERR_NV_NRAS_MALFORMED');
    await expectCode(appraiseNras('not json', opts), ParseError, 'ERR_NV_NRAS_MALFORMED');
  });

  it('ERR_NV_NRAS_KID_UNKNOWN: kid not in the JWKS', async () => {
    const { nras, opts } = await setup();
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good }, kid: 'other' }), opts), VerificationError, 'ERR_NV_NRAS_KID_UNKNOWN');
  });

  it('ERR_NV_NRAS_SIGNATURE_INVALID: signed by another key under the same kid', async () => {
    const { nras, opts } = await setup();
    const other = await createSimulatedNras(nras.kid);
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good }, signer: other }), opts), VerificationError, 'ERR_NV_NRAS_SIGNATURE_INVALID');
  });

  it('ERR_NV_NRAS_ISSUER: another issuer', async () => {
    const { nras, opts } = await setup();
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good }, issuer: 'https://evil.example' }), opts), VerificationError, 'ERR_NV_NRAS_ISSUER');
  });

  it('ERR_NV_NRAS_EXPIRED: before nbf and after exp', async () => {
    const { nras, opts } = await setup();
    const t = await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good } });
    await expectCode(appraiseNras(t, { ...opts, now: new Date('2026-06-01T02:00:00Z') }), VerificationError, 'ERR_NV_NRAS_EXPIRED');
    await expectCode(appraiseNras(t, { ...opts, now: new Date('2026-05-31T23:00:00Z') }), VerificationError, 'ERR_NV_NRAS_EXPIRED');
  });

  it('ERR_NV_NRAS_SUBMODS_MISMATCH: wrong digest, extra submod, missing submods', async () => {
    const { nras, opts } = await setup();
    const wrong = await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good }, submodsOverride: { 'GPU-0': ['DIGEST', ['SHA-256', '00'.repeat(32)]] } });
    await expectCode(appraiseNras(wrong, opts), VerificationError, 'ERR_NV_NRAS_SUBMODS_MISMATCH');
    const extra = await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good }, submodsOverride: { 'GPU-1': ['DIGEST', ['SHA-256', '00'.repeat(32)]] } });
    await expectCode(appraiseNras(extra, opts), VerificationError, 'ERR_NV_NRAS_SUBMODS_MISMATCH');
    // A device token dropped from the EAT but still listed.
    const arr = JSON.parse(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good, 'GPU-1': good } }));
    delete arr[1]['GPU-1'];
    await expectCode(appraiseNras(arr, opts), VerificationError, 'ERR_NV_NRAS_SUBMODS_MISMATCH');
  });

  it('ERR_NV_NRAS_NONCE_MISMATCH: token nonce, and evidence nonce', async () => {
    const { nras, opts } = await setup();
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce: randomBytes(32), iat, devices: { 'GPU-0': good } }), opts), VerificationError, 'ERR_NV_NRAS_NONCE_MISMATCH');
    const sim = await createSimulatedNvidia();
    const ev = await mintGpuEvidence(sim, { nonce: randomBytes(32) });
    const t = await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good } });
    await expectCode(appraiseNras(t, { ...opts, evidence: [ev.report] }), VerificationError, 'ERR_NV_NRAS_NONCE_MISMATCH');
  });

  it('ERR_NV_NRAS_RESULT_FALSE: overall false, a device check false, error details', async () => {
    const { nras, opts } = await setup();
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good }, overallResult: false }), opts), PolicyError, 'ERR_NV_NRAS_RESULT_FALSE');
    const bad = { ...good, 'x-nvidia-gpu-attestation-report-signature-verified': false };
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': bad } }), opts), PolicyError, 'ERR_NV_NRAS_RESULT_FALSE');
    const err = { 'x-nvidia-error-details': { code: 4010 } };
    await expectCode(appraiseNras(await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': err } }), opts), PolicyError, 'ERR_NV_NRAS_RESULT_FALSE');
  });

  it('ERR_NV_NRAS_JWKS_UNAVAILABLE: no JWKS and no fetcher; a JWKS that is not one', async () => {
    const { nras } = await setup();
    const t = await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good } });
    await expectCode(appraiseNras(t, { expectedNonce: nonce, now }), CollateralError, 'ERR_NV_NRAS_JWKS_UNAVAILABLE');
    const fetcher = async (): Promise<Response> => new Response('{"nokeys":1}', { status: 200 });
    await expectCode(appraiseNras(t, { expectedNonce: nonce, now, fetcher }), CollateralError, 'ERR_NV_NRAS_JWKS_UNAVAILABLE');
    const ok = async (): Promise<Response> => new Response(JSON.stringify(nras.jwks), { status: 200 });
    expect((await appraiseNras(t, { expectedNonce: nonce, now, fetcher: ok })).overallResult).toBe(true);
  });

  it('`signal` cancels the JWKS fetch: ERR_FETCH_ABORTED at nras.jwks (the options of the other stacks)', async () => {
    const { nras } = await setup();
    const t = await mintNrasToken(nras, { nonce, iat, devices: { 'GPU-0': good } });
    const ac = new AbortController();
    let seen: AbortSignal | null | undefined;
    const fetcher = (_url: string, init?: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        seen = init?.signal;
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
        ac.abort();
      });
    const doc = await verifyNras(t, { expectedNonce: nonce, now, fetcher, signal: ac.signal });
    expect(doc.ok).toBe(false);
    expect(doc.checks.find((c) => c.id === 'nras.jwks')).toMatchObject({ status: 'failed', code: 'ERR_FETCH_ABORTED' });
    expect(seen?.aborted).toBe(true);
  });
});
