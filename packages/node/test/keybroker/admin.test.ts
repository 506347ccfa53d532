/** The admin interface (Bearer JWT + role ACL, as Trustee's), stores and resource policies. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ParseError, fromUtf8, toBase64, utf8 } from '@ccinfer/core';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { DirectoryResourceStore, parseResourcePolicies, policyFor, resourceId } from '../../src/keybroker/index.js';
import { expectCodeSync } from '../../../../test-support/helpers.js';
import { SimulatedCdh } from './cdh-client.js';
import { LAB, NOW, lastAudit, startBroker, type Fixture } from './fixture.js';

let f: Fixture;
let admin: CryptoKeyPair;
let stranger: CryptoKeyPair;
const iat = Math.floor(NOW.getTime() / 1000);

beforeAll(async () => {
  admin = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })) as CryptoKeyPair;
  stranger = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })) as CryptoKeyPair;
  f = await startBroker({ admin: { publicKey: await exportSPKI(admin.publicKey) } });
});
afterAll(async () => f?.close());

const token = (key: CryptoKey, claims: Record<string, unknown> = { role: 'kbs-admin' }, exp = iat + 60) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt(iat).setExpirationTime(exp).sign(key);

async function call(method: string, path: string, body: string | undefined, bearer?: string) {
  const res = await fetch(f.url + path, { method, ...(body !== undefined ? { body } : {}), headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const text = await res.text();
  return { status: res.status, text, body: text ? (() => { try { return JSON.parse(text); } catch { return undefined; } })() : undefined };
}

describe('admin interface', () => {
  it('stores a resource and replaces the resource policy with a valid admin token; both audited', async () => {
    const t = await token(admin.privateKey);
    expect((await call('POST', '/kbs/v0/resource/models/key/new', 'fresh-key', t)).status).toBe(200);
    expect((await lastAudit(f))).toMatchObject({ event: 'admin', ok: true, resource: 'models/key/new' });
    const doc = { version: 1, resources: { 'models/key/*': { policy: LAB }, 'default/key/*': { policy: LAB } } };
    expect((await call('POST', '/kbs/v0/resource-policy', JSON.stringify({ policy: toBase64(utf8(JSON.stringify(doc))) }), t)).status).toBe(200);
    const got = await call('GET', '/kbs/v0/resource-policy', undefined, t);
    expect(JSON.parse(fromUtf8(Uint8Array.from(atob(got.body.policy), (c) => c.charCodeAt(0))))).toEqual(doc);
    const cdh = new SimulatedCdh(f.url);
    await cdh.auth();
    expect((await cdh.attest()).status).toBe(200);
    const r = await cdh.getResource('models/key/new');
    expect(fromUtf8(r.plaintext!)).toBe('fresh-key');
    const audit = await call('GET', '/kbs/v0/audit', undefined, t);
    expect(audit.text.trim().split('\n').map((l) => JSON.parse(l).event)).toContain('release');
  });

  it('refuses missing, foreign, expired and role-less tokens (AdminAuth)', async () => {
    const cases = [undefined, await token(stranger.privateKey), await token(admin.privateKey, { role: 'kbs-admin' }, iat - 1), await token(admin.privateKey, {}), await token(admin.privateKey, { role: 'reader' })];
    for (const t of cases) {
      const r = await call('POST', '/kbs/v0/resource/models/key/evil', 'x', t);
      expect(r.status).toBe(401);
      expect(r.body.type).toBe('https://github.com/confidential-containers/kbs/errors/AdminAuth');
      expect(await lastAudit(f)).toMatchObject({ event: 'admin', ok: false, code: 'ERR_KBS_ADMIN_AUTH' });
    }
  });

  it('refuses bad policy uploads (SerdeError) and keeps the old policy', async () => {
    const t = await token(admin.privateKey);
    expect((await call('POST', '/kbs/v0/resource-policy', '{"policy":1}', t)).body.type).toMatch(/SerdeError$/);
    expect(await lastAudit(f)).toMatchObject({ ok: false, code: 'ERR_KBS_REQUEST_MALFORMED' });
    const bad = toBase64(utf8(JSON.stringify({ version: 1, resources: { 'a/b': { policy: LAB } } })));
    expect((await call('POST', '/kbs/v0/resource-policy', JSON.stringify({ policy: bad }), t)).status).toBe(401);
    expect(await lastAudit(f)).toMatchObject({ ok: false, code: 'ERR_POLICY_INVALID' });
  });

  it('refuses a policy upload that repeats a key at any depth, and keeps the old policy', async () => {
    const t = await token(admin.privateKey);
    const before = (await call('GET', '/kbs/v0/resource-policy', undefined, t)).body.policy;
    const lab = JSON.stringify(LAB);
    const text = `{"version":1,"resources":{"a/b/c":{"policy":${lab}},"a/b/c":{"policy":${lab}}}}`;
    expect((await call('POST', '/kbs/v0/resource-policy', JSON.stringify({ policy: toBase64(utf8(text)) }), t)).status).not.toBe(200);
    expect(await lastAudit(f)).toMatchObject({ ok: false, code: 'ERR_POLICY_DUPLICATE_KEY' });
    expect((await call('GET', '/kbs/v0/resource-policy', undefined, t)).body.policy).toBe(before);
  });

  it('is disabled without an admin key', async () => {
    const g = await startBroker();
    try {
      const res = await fetch(g.url + '/kbs/v0/resource/a/b/c', { method: 'POST', body: 'x', headers: { authorization: `Bearer ${await token(admin.privateKey)}` } });
      expect(res.status).toBe(401);
      expect(g.broker.audit.entries.at(-1)).toMatchObject({ code: 'ERR_KBS_ADMIN_AUTH' });
    } finally {
      await g.close();
    }
  });
});

describe('resource stores and policies', () => {
  it('a directory store keeps <repository>/<type>/<tag> and refuses unsafe names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ccinfer-store-'));
    const s = new DirectoryResourceStore(dir);
    await s.put(resourceId('default', 'key', 'k1'), utf8('v'));
    expect(fromUtf8((await s.get(resourceId('default', 'key', 'k1')))!)).toBe('v');
    expect(await readFile(join(dir, 'default', 'key', 'k1'), 'utf8')).toBe('v');
    expect(await s.get(resourceId('default', 'key', 'k2'))).toBeUndefined();
    for (const bad of ['..', '.hidden', 'a/b', '']) expectCodeSync(() => resourceId('default', bad, 'x'), ParseError, 'ERR_KBS_PATH_INVALID');
  });

  it('the most specific policy entry wins; unknown fields and bad patterns are refused', () => {
    const p = parseResourcePolicies({ version: 1, resources: { '*/*/*': { policy: LAB }, 'a/*/*': { policy: LAB }, 'a/k/*': { policy: LAB }, 'a/k/t': { policy: LAB } } });
    expect(policyFor(p, resourceId('a', 'k', 't'))?.pattern).toBe('a/k/t');
    expect(policyFor(p, resourceId('a', 'k', 'u'))?.pattern).toBe('a/k/*');
    expect(policyFor(p, resourceId('a', 'j', 'u'))?.pattern).toBe('a/*/*');
    expect(policyFor(p, resourceId('b', 'j', 'u'))?.pattern).toBe('*/*/*');
    expect(policyFor(parseResourcePolicies({ version: 1, resources: {} }), resourceId('a', 'b', 'c'))).toBeUndefined();
    const e = expectCodeSync(() => parseResourcePolicies({ version: 2, extra: 1, resources: { 'a/b': {}, 'a/b/c': { policy: { version: 1, snp: { nope: 1 } } } } }), ConfigError, 'ERR_POLICY_INVALID') as ConfigError;
    expect(e.fields.length).toBeGreaterThanOrEqual(4);
  });
});
