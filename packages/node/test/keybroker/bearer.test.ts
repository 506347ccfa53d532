/** KBS 0.4.0 §"Resource Requests" with `Authorization: Bearer <token>`: accepted when genuine, refused when not. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8, VerificationError } from '@ccinfer/core';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { bearerToken } from '../../src/keybroker/tokens.js';
import { expectCodeSync } from '../../../../test-support/helpers.js';
import { SimulatedCdh } from './cdh-client.js';
import { SECRET, lastAudit, startBroker, type Fixture } from './fixture.js';

const captured = JSON.parse(readFileSync(new URL('./fixtures/trustee-captured.json', import.meta.url), 'utf8'));
const PREFIX = 'https://github.com/confidential-containers/kbs/errors/';
let f: Fixture;

beforeAll(async () => {
  f = await startBroker();
});
afterAll(async () => f?.close());

async function attestedToken(): Promise<{ cdh: SimulatedCdh; token: string }> {
  const cdh = new SimulatedCdh(f.url, { gpus: 1 });
  await cdh.auth();
  const a = await cdh.attest();
  expect(a.status, a.text).toBe(200);
  return { cdh, token: a.body.token as string };
}

async function refusedAs(r: { status: number; body: any }, code: string): Promise<void> {
  expect(r.status).toBe(captured.errors.TokenNotFound.status);
  expect(r.body.type).toBe(PREFIX + 'TokenNotFound');
  expect(await lastAudit(f)).toMatchObject({ ok: false, code, kbsError: 'TokenNotFound' });
}

describe('resource requests with a Bearer attestation token', () => {
  it('serves the resource without the cookie, as a JWE to the token’s tee-pubkey', async () => {
    const { cdh, token } = await attestedToken();
    expect(decodeJwt(token)['tee-pubkey']).toEqual(cdh.teePubkey);
    const r = await cdh.getResource('default/key/llama', token);
    expect(r.status, r.text).toBe(200);
    expect(fromUtf8(r.plaintext!)).toBe(SECRET);
    expect(await lastAudit(f)).toMatchObject({ event: 'release', ok: true, resource: 'default/key/llama' });
    // The resource policy is still appraised on the attested evidence.
    const denied = await cdh.getResource('default/key/pinned', token);
    expect(denied.status).toBe(captured.errors.PolicyDeny.status);
    expect(await lastAudit(f)).toMatchObject({ ok: false, code: 'ERR_SNP_POLICY_MEASUREMENT' });
  });

  it('a forged token (same claims, another key; or an altered payload) is refused: ERR_KBS_TOKEN_INVALID', async () => {
    const { cdh, token } = await attestedToken();
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ ...decodeProtectedHeader(token), jwk: await exportJWK(other.publicKey) } as never)
      .sign(other.privateKey);
    await refusedAs(await cdh.getResource('default/key/llama', forged), 'ERR_KBS_TOKEN_INVALID');
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const altered = [h, Buffer.from(JSON.stringify({ ...claims, exp: (claims['exp'] as number) + 86_400 })).toString('base64url'), s].join('.');
    await refusedAs(await cdh.getResource('default/key/llama', altered), 'ERR_KBS_TOKEN_INVALID');
    await refusedAs(await cdh.getResource('default/key/llama', 'not.a.jwt'), 'ERR_KBS_TOKEN_INVALID');
  });

  it('an expired token is refused: ERR_KBS_TOKEN_EXPIRED', async () => {
    const { cdh, token } = await attestedToken();
    const at = f.clock.t;
    f.clock.t = new Date(at.getTime() + 301_000); // the default token lifetime is 300 s
    try {
      await refusedAs(await cdh.getResource('default/key/llama', token), 'ERR_KBS_TOKEN_EXPIRED');
    } finally {
      f.clock.t = at;
    }
  });

  it('only the Bearer scheme with a token68 value is a token', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer a.b.c')).toBe('a.b.c');
    expectCodeSync(() => bearerToken('Basic dXNlcjpwYXNz'), VerificationError, 'ERR_KBS_TOKEN_INVALID');
    expectCodeSync(() => bearerToken('Bearer '), VerificationError, 'ERR_KBS_TOKEN_INVALID');
  });
});
