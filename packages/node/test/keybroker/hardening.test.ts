/**
 * Review findings F6–F10 (kbs): an audit log that cannot be written never crashes the broker and never lets a
 * secret out unlogged; /auth cannot evict other clients' sessions; the audit chain survives restarts and is
 * bounded in memory; directory-store temp files are unpredictable and exclusive; admin keys are asymmetric.
 */
import { appendFile, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, TransportError, fromUtf8, utf8 } from '@ccinfer/core';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import {
  AuditLog,
  DirectoryResourceStore,
  FileAuditSink,
  MemoryResourceStore,
  createAdminAuthenticator,
  createKeyBroker,
  parseResourcePolicies,
  resourceId,
  verifyAuditChain,
  type AuditSink,
} from '../../src/keybroker/index.js';
import { expectCode } from '../../../../test-support/helpers.js';
import { SimulatedCdh } from './cdh-client.js';
import { NOW, startBroker, type Fixture } from './fixture.js';

const PREFIX = 'https://github.com/confidential-containers/kbs/errors/';

/** A sink that fails (as on ENOSPC) while `failing.on` is set. */
function switchable(failing: { on: boolean }) {
  return (file: AuditSink): AuditSink => ({
    append: async (line) => {
      if (failing.on) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      await file.append(line);
    },
    tail: () => file.tail!(),
  });
}

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});
async function broker(o: Parameters<typeof startBroker>[0]): Promise<Fixture> {
  const f = await startBroker(o);
  open.push(f);
  return f;
}

describe('F6: the audit log is written before anything is released, and its failure never crashes the broker', () => {
  it('an unauthenticated request while the sink fails is still refused, and the broker keeps serving', async () => {
    const failing = { on: true };
    const logged: string[] = [];
    const f = await broker({ audit: switchable(failing), log: (event) => logged.push(event) });
    const r = await fetch(`${f.url}/kbs/v0/resource/default/key/llama`);
    expect(r.status).toBe(401);
    expect((await r.json()).type).toBe(PREFIX + 'TokenNotFound');
    expect(logged).toContain('audit-unavailable');
    failing.on = false;
    const cdh = new SimulatedCdh(f.url);
    expect((await cdh.auth()).status).toBe(200);
    expect((await cdh.attest()).status).toBe(200);
  });

  it('release: when the entry cannot be written, 500 InternalError and no JWE; released once the log recovers', async () => {
    const failing = { on: false };
    const f = await broker({ audit: switchable(failing) });
    const cdh = new SimulatedCdh(f.url);
    await cdh.auth();
    expect((await cdh.attest()).status).toBe(200);
    failing.on = true;
    const r = await cdh.getResource('default/key/llama');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ type: PREFIX + 'InternalError', detail: 'ERR_KBS_AUDIT_UNAVAILABLE' });
    expect(r.plaintext).toBeUndefined();
    expect(f.broker.audit.entries.some((e) => e.event === 'release')).toBe(false);
    failing.on = false;
    const ok = await cdh.getResource('default/key/llama');
    expect(ok.status).toBe(200);
    expect(f.broker.audit.entries.at(-1)).toMatchObject({ event: 'release', ok: true });
    expect(verifyAuditChain(await f.auditText())).toBe(-1);
  });

  it('attest: when the entry cannot be written, 500 and the session stays unattested', async () => {
    const failing = { on: false };
    const f = await broker({ audit: switchable(failing) });
    const cdh = new SimulatedCdh(f.url);
    await cdh.auth();
    failing.on = true;
    const a = await cdh.attest();
    expect(a.status).toBe(500);
    expect(a.body.type).toBe(PREFIX + 'InternalError');
    expect(a.body.token).toBeUndefined();
    failing.on = false;
    const r = await cdh.getResource('default/key/llama');
    expect(r.status).toBe(401);
    expect(f.broker.audit.entries.at(-1)).toMatchObject({ ok: false, code: 'ERR_KBS_NOT_ATTESTED' });
  });

  it('admin writes are not made when they cannot be logged', async () => {
    const admin = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })) as CryptoKeyPair;
    const failing = { on: true };
    const f = await broker({ audit: switchable(failing), admin: { publicKey: await exportSPKI(admin.publicKey) } });
    const iat = Math.floor(NOW.getTime() / 1000);
    const t = await new SignJWT({ role: 'kbs-admin' }).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt(iat).setExpirationTime(iat + 60).sign(admin.privateKey);
    const res = await fetch(`${f.url}/kbs/v0/resource/models/key/new`, { method: 'POST', body: 'fresh', headers: { authorization: `Bearer ${t}` } });
    expect(res.status).toBe(500);
    expect((await res.json()).type).toBe(PREFIX + 'InternalError');
    failing.on = false;
    const cdh = new SimulatedCdh(f.url);
    await cdh.auth();
    await cdh.attest();
    expect((await cdh.getResource('models/key/new')).status).toBe(404);
  });

  it('anything escaping the handler is answered 500 in the KBS format instead of crashing the process', async () => {
    const f = await broker({});
    Object.defineProperty(f.clock, 't', { configurable: true, get: () => { throw new Error('clock failure'); } });
    try {
      const r = await fetch(`${f.url}/kbs/v0/resource/default/key/llama`);
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ type: PREFIX + 'InternalError', detail: 'ERR_INTERNAL' });
    } finally {
      Object.defineProperty(f.clock, 't', { configurable: true, writable: true, value: NOW });
    }
    expect((await new SimulatedCdh(f.url).auth()).status).toBe(200);
  });

  it('AuditLog.record rejects with ERR_KBS_AUDIT_UNAVAILABLE; a failed write takes no place in the chain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ccinfer-audit-'));
    const file = join(dir, 'audit.jsonl');
    const failing = { on: false };
    const log = new AuditLog(switchable(failing)(new FileAuditSink(file)));
    await log.record({ event: 'release', ok: true }, NOW);
    failing.on = true;
    await expectCode(log.record({ event: 'release', ok: true }, NOW), TransportError, 'ERR_KBS_AUDIT_UNAVAILABLE');
    failing.on = false;
    expect((await log.record({ event: 'release', ok: true }, NOW)).seq).toBe(1);
    expect(verifyAuditChain(await readFile(file, 'utf8'))).toBe(-1);
  });

  it('an audit log that cannot be read stops the broker at startup', async () => {
    const sink: AuditSink = { append: async () => undefined, tail: async () => Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' })) };
    await expectCode(createKeyBroker({ store: new MemoryResourceStore(), policies: parseResourcePolicies({ version: 1, resources: {} }), audit: sink }), TransportError, 'ERR_KBS_AUDIT_UNAVAILABLE');
  });
});

describe('F7: at the session limit, /auth is refused rather than evicting live sessions', () => {
  it('503 SessionLimit with Retry-After; the earlier session still attests; expired sessions free room', async () => {
    const f = await broker({ maxSessions: 3, sessionTtlSeconds: 60 });
    const victim = new SimulatedCdh(f.url);
    expect((await victim.auth()).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await new SimulatedCdh(f.url).auth()).status).toBe(200);
    const res = await fetch(`${f.url}/kbs/v0/auth`, { method: 'POST', body: JSON.stringify({ version: '0.4.0', tee: 'snp', 'extra-params': '' }) });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBe(60);
    expect(await res.json()).toEqual({ type: PREFIX + 'SessionLimit', detail: 'ERR_KBS_SESSION_LIMIT' });
    expect((await victim.attest()).status).toBe(200);
    f.clock.t = new Date(NOW.getTime() + 61_000);
    try {
      expect((await new SimulatedCdh(f.url).auth()).status).toBe(200);
    } finally {
      f.clock.t = NOW;
    }
  });
});

describe('F8: the audit chain across restarts, and a bounded memory window', () => {
  it('a log reopened on the same file continues seq and prev: the chain verifies across restarts', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'ccinfer-audit-')), 'audit.jsonl');
    for (let run = 0; run < 3; run++) {
      const log = new AuditLog(new FileAuditSink(file));
      for (let i = 0; i < 2; i++) await log.record({ event: 'release', ok: true, resource: `r/k/${run}${i}` }, NOW);
    }
    const text = await readFile(file, 'utf8');
    expect(text.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(verifyAuditChain(text)).toBe(-1);
    // Edits and removals inside the log are still evident.
    const lines = text.trim().split('\n');
    expect(verifyAuditChain([...lines.slice(0, 2), ...lines.slice(3)].join('\n'))).toBe(2);
  });

  it('a torn last line: the next entry starts a new line, chains to the last valid one, and the tear is reported', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'ccinfer-audit-')), 'audit.jsonl');
    const first = new AuditLog(new FileAuditSink(file));
    await first.record({ event: 'release', ok: true }, NOW);
    await appendFile(file, '{"seq":1,"time":"2026-');
    const second = new AuditLog(new FileAuditSink(file));
    expect((await second.record({ event: 'release', ok: true }, NOW)).seq).toBe(1);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(3);
    expect(verifyAuditChain(lines.join('\n'))).toBe(1);
    expect(verifyAuditChain([lines[0], lines[2]].join('\n'))).toBe(-1);
  });

  it('keeps only the last `window` entries in memory', async () => {
    const log = new AuditLog(undefined, { window: 3 });
    for (let i = 0; i < 5; i++) await log.record({ event: 'release', ok: true }, NOW);
    expect(log.entries.map((e) => e.seq)).toEqual([2, 3, 4]);
  });
});

describe('F10.1: directory-store temp files', () => {
  it('concurrent puts of one tag do not share a temp file and leave none behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ccinfer-store-'));
    const s = new DirectoryResourceStore(dir);
    const id = resourceId('default', 'key', 'k');
    await Promise.all(['a', 'b', 'c', 'd'].map((v) => s.put(id, utf8(v))));
    expect(['a', 'b', 'c', 'd']).toContain(fromUtf8((await s.get(id))!));
    expect(await readdir(join(dir, 'default', 'key'))).toEqual(['k']);
    // The old predictable name, pre-planted, is neither used nor followed.
    await writeFile(join(dir, 'default', 'key', `.k.${process.pid}.tmp`), 'planted');
    await s.put(id, utf8('e'));
    expect(await readFile(join(dir, 'default', 'key', `.k.${process.pid}.tmp`), 'utf8')).toBe('planted');
    expect(fromUtf8((await s.get(id))!)).toBe('e');
  });
});

describe('F10.6: admin key types', () => {
  it('refuses symmetric, RSA, private, mismatched and unknown-algorithm keys (ConfigError)', async () => {
    const ec256 = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const ed = (await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })) as CryptoKeyPair;
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const bad: { publicKey: string | JWK; algorithm?: 'EdDSA' | 'ES256' | 'ES384' }[] = [
      { publicKey: { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' } },
      { publicKey: { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' }, algorithm: 'ES256' },
      { publicKey: { ...(await exportJWK(rsa.publicKey)), alg: 'RS256' } },
      { publicKey: await exportSPKI(rsa.publicKey), algorithm: 'ES256' },
      { publicKey: await exportSPKI(rsa.publicKey) },
      { publicKey: { ...ec256, alg: 'ES384' } },
      { publicKey: { ...(await exportJWK(ed.privateKey)), alg: 'EdDSA' } },
    ];
    for (const o of bad) await expectCode(createAdminAuthenticator(o as never), ConfigError, 'ERR_OPTIONS_INVALID');
  });

  it('accepts Ed25519, P-256 and P-384 public keys', async () => {
    const iat = Math.floor(NOW.getTime() / 1000);
    for (const [alg, opts] of [['EdDSA', { crv: 'Ed25519' }], ['ES256', {}], ['ES384', {}]] as const) {
      const kp = (await generateKeyPair(alg, { ...opts, extractable: true })) as CryptoKeyPair;
      const t = await new SignJWT({ role: 'kbs-admin' }).setProtectedHeader({ alg }).setIssuedAt(iat).setExpirationTime(iat + 60).sign(kp.privateKey);
      const viaJwk = await createAdminAuthenticator({ publicKey: { ...(await exportJWK(kp.publicKey)), alg } });
      const viaPem = await createAdminAuthenticator({ publicKey: await exportSPKI(kp.publicKey), algorithm: alg });
      for (const a of [viaJwk, viaPem]) expect((await a(`Bearer ${t}`, '/kbs/v0/resource-policy', NOW)).role).toBe('kbs-admin');
    }
  });
});

describe('KBS Request validation (parseKbsRequest)', () => {
  it('accepts a 0.4.0 request for snp or tdx; refuses other versions (ERR_KBS_VERSION) and TEEs (ERR_KBS_TEE_UNSUPPORTED)', async () => {
    const { parseKbsRequest } = await import('../../src/keybroker/routes/auth.js');
    const { ParseError, SessionError } = await import('@ccinfer/core');
    const { expectCodeSync } = await import('../../../../test-support/helpers.js');
    expect(parseKbsRequest({ version: '0.4.0', tee: 'snp', 'extra-params': '' })).toBe('snp');
    expect(parseKbsRequest({ version: '0.4.0', tee: 'tdx', 'extra-params': { 'tee-metadata': { primary_tee: { tee: 'tdx' } } } })).toBe('tdx');
    expectCodeSync(() => parseKbsRequest({ version: '0.3.0', tee: 'snp', 'extra-params': '' }), SessionError, 'ERR_KBS_VERSION');
    expectCodeSync(() => parseKbsRequest({ version: '0.4.0', tee: 'sgx', 'extra-params': '' }), SessionError, 'ERR_KBS_TEE_UNSUPPORTED');
    expectCodeSync(() => parseKbsRequest({ version: '0.4.0', tee: 'snp', 'extra-params': { 'tee-metadata': { primary_tee: { tee: 'tdx' } } } }), ParseError, 'ERR_KBS_REQUEST_MALFORMED');
    expectCodeSync(() => parseKbsRequest([]), ParseError, 'ERR_KBS_REQUEST_MALFORMED');
  });
});
