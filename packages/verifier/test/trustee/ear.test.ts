/** Trustee Attestation Service EAR tokens: delegated appraisal, every refusal code. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@ccinfer/core';
import { exportJWK, generateKeyPair } from 'jose';
import { verifyTrusteeEar } from '../../src/trustee.js';
import { mintTrusteeEar } from '../../src/testing.js';
import { expectCode } from '../../../../test-support/helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const iat = Math.floor(NOW.getTime() / 1000) - 10;
const NONCE = 'q83vEjRWeJAhQ2WHCZq83vEjRWeJAhQ2WHCZq83vE0A=';
let key: CryptoKeyPair;
let other: CryptoKeyPair;

beforeAll(async () => {
  key = (await generateKeyPair('ES256')) as CryptoKeyPair;
  other = (await generateKeyPair('ES256')) as CryptoKeyPair;
});

function failedCode(doc: { ok: boolean; errors: { code: string }[] }): string | undefined {
  expect(doc.ok).toBe(false);
  return doc.errors[0]?.code;
}

describe('verifyTrusteeEar', () => {
  it('accepts both claim spellings, checks the cpu0 nonce, marks the result delegated', async () => {
    for (const spelling of ['ear-crate', 'trustee'] as const) {
      const token = await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat, spelling, submods: { cpu0: 'affirming', gpu0: 'affirming' } });
      const r = await verifyTrusteeEar(token, { key: key.publicKey, expectedNonce: NONCE, now: NOW, gpus: 1 });
      expect(r.document.ok, JSON.stringify(r.document.errors)).toBe(true);
      expect(r.document.delegated).toBe(true);
      expect(r.document.checks.find((c) => c.id === 'trustee.cpu0.nonce')?.status).toBe('passed');
      expect(r.document.checks.find((c) => c.id === 'trustee.gpu0.nonce')?.status).toBe('skipped');
    }
  });

  it('accepts a JWKS', async () => {
    const token = await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat });
    const jwk = { ...(await exportJWK(key.publicKey)), alg: 'ES256', kid: 'as' };
    expect((await verifyTrusteeEar(token, { jwks: { keys: [jwk] }, expectedNonce: NONCE, now: NOW })).document.ok).toBe(true);
  });

  it('refuses another signer, expiry, other profiles, nonces, missing GPUs, bad status, garbage', async () => {
    const v = (token: string, extra: object = {}) => verifyTrusteeEar(token, { key: key.publicKey, expectedNonce: NONCE, now: NOW, ...extra }).then((r) => failedCode(r.document));
    expect(await v(await mintTrusteeEar(other.privateKey, { nonce: NONCE, iat }))).toBe('ERR_TRUSTEE_EAR_SIGNATURE');
    expect(await v(await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat: iat - 1000, exp: iat - 600 }))).toBe('ERR_TRUSTEE_EAR_EXPIRED');
    expect(await v(await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat, profile: 'tag:example.com,2020:other' }))).toBe('ERR_TRUSTEE_EAR_PROFILE');
    expect(await v(await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat, nonceOverride: { cpu0: 'stale' } }))).toBe('ERR_TRUSTEE_EAR_NONCE');
    expect(await v(await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat }), { gpus: 1 })).toBe('ERR_TRUSTEE_EAR_SUBMOD_MISSING');
    expect(await v(await mintTrusteeEar(key.privateKey, { nonce: NONCE, iat, submods: { cpu0: 'contraindicated' } }))).toBe('ERR_TRUSTEE_EAR_STATUS');
    expect(await v('not.a.jwt')).toBe('ERR_TRUSTEE_EAR_MALFORMED');
  });

  it('requires a configured key and the session nonce', async () => {
    await expectCode(verifyTrusteeEar('x', { expectedNonce: NONCE, now: NOW }), ConfigError, 'ERR_OPTIONS_INVALID');
    await expectCode(verifyTrusteeEar('x', { key: key.publicKey, expectedNonce: '', now: NOW }), ConfigError, 'ERR_OPTIONS_INVALID');
  });
});
