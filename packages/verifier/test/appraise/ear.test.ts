import { describe, expect, it } from 'vitest';
import { jwtVerify } from 'jose';
import { generateGatewayKey, randomBytes, toBase64Url } from '@ccinfer/core';
import { appraise, parsePolicy, signEar, EAR_PROFILE } from '../../src/index.js';
import { mintBundle } from '../../src/testing.js';

describe('EAR (draft-ietf-rats-ear)', () => {
  it('claims carry the profile, the nonce and one submod per component; the JWT verifies with ES384', async () => {
    const nonce = randomBytes(32);
    const now = new Date('2026-06-01Z');
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: (await generateGatewayKey(1)).encoded, gpus: 2, now });
    const { ear, document } = await appraise(bundle, { nonce, anchors, now, policy: parsePolicy({ version: 1 }) });
    expect(document.ok).toBe(true);
    expect(ear.eat_profile).toBe(EAR_PROFILE);
    expect(ear.eat_nonce).toBe(toBase64Url(nonce));
    expect(Object.keys(ear.submods)).toEqual(['cpu0', 'gpu0', 'gpu1']);
    for (const s of Object.values(ear.submods)) expect(['affirming', 'warning']).toContain(s['ear.status']);

    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const jwt = await signEar(ear, pair.privateKey, 'ES384', 'k1');
    const { payload, protectedHeader } = await jwtVerify(jwt, pair.publicKey, { algorithms: ['ES384'], currentDate: new Date('2026-06-01Z') });
    expect(protectedHeader).toMatchObject({ alg: 'ES384', kid: 'k1', typ: 'JWT' });
    expect(payload['submods']).toEqual(ear.submods);
  });

  it('a refused pod is contraindicated', async () => {
    const nonce = randomBytes(32);
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: (await generateGatewayKey(1)).encoded, gpus: 1 });
    const { ear } = await appraise(bundle, { nonce: randomBytes(32), anchors, now: new Date('2026-06-01Z') });
    expect(ear.submods['cpu0']?.['ear.status']).toBe('contraindicated');
  });
});
