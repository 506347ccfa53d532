/** The KBS protocol 0.4.0 flow against the broker, driven by a CDH stand-in with simulated SNP + GPU evidence. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, fromUtf8 } from '@ccinfer/core';
import { jwtVerify } from 'jose';
import { verifyAuditChain } from '../../src/keybroker/index.js';
import { SimulatedCdh } from './cdh-client.js';
import { SECRET, lastAudit, startBroker, type Fixture } from './fixture.js';

const captured = JSON.parse(readFileSync(new URL('./fixtures/trustee-captured.json', import.meta.url), 'utf8'));
let f: Fixture;

beforeAll(async () => {
  f = await startBroker();
});
afterAll(async () => f?.close());

describe('KBS protocol 0.4.0 (RCAR) with simulated SNP + GPU evidence', () => {
  it('auth → challenge and session cookie, as Trustee answers them', async () => {
    const cdh = new SimulatedCdh(f.url);
    const logged = f.broker.audit.entries.length;
    const r = await cdh.auth();
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['extra-params', 'nonce']);
    expect(r.body['extra-params']).toBe(captured.challengeExtraParamsForSnpTdx);
    expect(r.body.nonce).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(fromBase64(r.body.nonce).length).toBe(captured.nonceBytes);
    expect(r.setCookie).toMatch(new RegExp(`^${captured.sessionCookie}=[A-Za-z0-9_-]+;`));
    // A bare challenge is unauthenticated and decides nothing: not audited (an /auth flood cannot fill the log).
    await new Promise((res) => setTimeout(res, 20));
    expect(f.broker.audit.entries.length).toBe(logged);
  });

  it('accepts the captured Request shapes (extra-params "" / hash algorithms / tee-metadata)', async () => {
    for (const req of captured.requests) {
      const r = await new SimulatedCdh(f.url).auth(req);
      expect(r.status, JSON.stringify(req)).toBe(200);
    }
  });

  it('attest → EAR token; resource → JWE the CDH decrypts; every step audited with the document digest', async () => {
    const cdh = new SimulatedCdh(f.url, { gpus: 2 });
    await cdh.auth();
    const a = await cdh.attest();
    expect(a.status, a.text).toBe(200);
    expect(Object.keys(a.body)).toEqual(captured.attestTokenResponseKeys);
    const { payload } = await jwtVerify(a.body.token, f.broker.tokenPublicKey, { currentDate: f.clock.t });
    expect(Object.keys(payload['submods'] as object).sort()).toEqual(['cpu0', 'gpu0', 'gpu1']);
    expect(payload['tee-pubkey']).toEqual(cdh.teePubkey);
    const attestEntry = await lastAudit(f);
    expect(attestEntry.event).toBe('attest');
    expect(attestEntry.documentDigest).toMatch(/^[0-9a-f]{64}$/);

    const r = await cdh.getResource('default/key/llama');
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(captured.resourceResponseKeys);
    expect(fromUtf8(r.plaintext!)).toBe(SECRET);
    const rel = await lastAudit(f);
    expect(rel).toMatchObject({ event: 'release', resource: 'default/key/llama', ok: true, session: attestEntry.session });
    expect(rel.documentDigest).toMatch(/^[0-9a-f]{64}$/);

    // The cookie keeps working within the session for further resources.
    expect((await cdh.getResource('default/key/gpu')).status).toBe(200);
    expect(verifyAuditChain(await f.auditText())).toBe(-1);
  });

  it('the audit file is append-only and tamper-evident', async () => {
    const text = await f.auditText();
    const lines = text.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const edited = [lines[0], lines[1]!.replace('"ok":true', '"ok":false'), ...lines.slice(2)].join('\n');
    expect(verifyAuditChain(edited)).toBe(2);
    expect(verifyAuditChain(lines.slice(1).join('\n'))).toBe(0);
  });
});
