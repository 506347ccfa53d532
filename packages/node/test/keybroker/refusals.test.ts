/** Every refusal: the KBS error answered, the ccinfer code in the audit log, nothing released. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@ccinfer/core';
import { createKeyBroker, MemoryResourceStore, parseResourcePolicies } from '../../src/keybroker/index.js';
import { expectCode } from '../../../../test-support/helpers.js';
import { SimulatedCdh } from './cdh-client.js';
import { lastAudit, startBroker, type Fixture } from './fixture.js';

const captured = JSON.parse(readFileSync(new URL('./fixtures/trustee-captured.json', import.meta.url), 'utf8'));
const PREFIX = 'https://github.com/confidential-containers/kbs/errors/';
let f: Fixture;

beforeAll(async () => {
  f = await startBroker({ sessionTtlSeconds: 60 });
});
afterAll(async () => f?.close());

async function attested(spec: ConstructorParameters<typeof SimulatedCdh>[1] = { gpus: 1 }): Promise<SimulatedCdh> {
  const cdh = new SimulatedCdh(f.url, spec);
  await cdh.auth();
  const a = await cdh.attest();
  expect(a.status, a.text).toBe(200);
  return cdh;
}

/** Asserts the KBS error (status + type) and the audit entry's ccinfer code; returns the entry. */
async function refused(r: { status: number; body: any }, problem: string, code: string) {
  expect(r.status).toBe(captured.errors[problem].status);
  expect(r.body.type).toBe(PREFIX + problem);
  expect(typeof r.body.detail).toBe('string');
  const e = await lastAudit(f);
  expect(e).toMatchObject({ ok: false, code, kbsError: problem });
  return e;
}

describe('refusals required by the issue', () => {
  it('wrong measurement: PolicyDeny, audited with the verification document digest', async () => {
    const cdh = await attested();
    const r = await cdh.getResource('default/key/pinned');
    expect(r.body).toEqual(captured.errors.PolicyDeny.body);
    const e = await refused(r, 'PolicyDeny', 'ERR_SNP_POLICY_MEASUREMENT');
    expect(e.resource).toBe('default/key/pinned');
    expect(e.documentDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stale nonce: runtime-data carries an earlier challenge', async () => {
    const old = new SimulatedCdh(f.url);
    await old.auth();
    const cdh = new SimulatedCdh(f.url);
    await cdh.auth();
    const r = await cdh.attest(await cdh.buildAttestation(old.challenge!.nonce));
    await refused(r, 'AttestationError', 'ERR_KBS_NONCE_MISMATCH');
  });

  it('replayed attest: on the same session, and on a fresh one', async () => {
    const cdh = await attested();
    await refused(await cdh.attest(cdh.attestation), 'AttestationError', 'ERR_KBS_NONCE_USED');
    const thief = new SimulatedCdh(f.url);
    await thief.auth();
    await refused(await thief.attest(cdh.attestation), 'AttestationError', 'ERR_KBS_NONCE_MISMATCH');
  });

  it('debug VM: guest policy DEBUG set', async () => {
    const cdh = new SimulatedCdh(f.url, { gpus: 1, report: { policy: 0x30000n | (1n << 19n) } });
    await cdh.auth();
    const e = await refused(await cdh.attest(), 'AttestationError', 'ERR_SNP_POLICY_DEBUG');
    expect(e.documentDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('GPU not in CC mode: no GPU attestation report, the resource requires a CC GPU', async () => {
    // A GPU outside CC mode cannot produce an SPDM attestation report, so the guest's evidence lists none.
    const cdh = await attested({ gpus: 0 });
    await refused(await cdh.getResource('default/key/gpu'), 'PolicyDeny', 'ERR_NV_POLICY_COUNT');
  });

  it('no attested GPU and a policy that does not allow CPU-only pods: PolicyDeny ERR_NV_POLICY_NO_GPU', async () => {
    const cdh = await attested({ gpus: 0 });
    await refused(await cdh.getResource('default/key/llama'), 'PolicyDeny', 'ERR_NV_POLICY_NO_GPU');
  });

  it('GPU evidence not bound to this runtime data', async () => {
    const cdh = new SimulatedCdh(f.url, { gpus: 1, gpuNonce: new Uint8Array(32).fill(1) });
    await cdh.auth();
    await refused(await cdh.attest(), 'AttestationError', 'ERR_NV_NONCE_MISMATCH');
  });

  it('unknown resource: InvalidRequestPath 404', async () => {
    const cdh = await attested();
    const e = await refused(await cdh.getResource('default/key/nope'), 'InvalidRequestPath', 'ERR_KBS_RESOURCE_UNKNOWN');
    expect(e.resource).toBe('default/key/nope');
  });
});

describe('protocol refusals', () => {
  it('no cookie, unknown cookie, not yet attested: TokenNotFound', async () => {
    const anon = new SimulatedCdh(f.url);
    const r = await anon.getResource('default/key/llama');
    expect(r.body).toEqual(captured.errors.TokenNotFound.body);
    await refused(r, 'TokenNotFound', 'ERR_KBS_SESSION_UNKNOWN');
    anon.cookie = 'kbs-session-id=forged';
    await refused(await anon.getResource('default/key/llama'), 'TokenNotFound', 'ERR_KBS_SESSION_UNKNOWN');
    const fresh = new SimulatedCdh(f.url);
    await fresh.auth();
    await refused(await fresh.getResource('default/key/llama'), 'TokenNotFound', 'ERR_KBS_NOT_ATTESTED');
  });

  it('sessions expire', async () => {
    const cdh = await attested();
    f.clock.t = new Date(f.clock.t.getTime() + 61_000);
    try {
      await refused(await cdh.getResource('default/key/llama'), 'TokenNotFound', 'ERR_KBS_SESSION_EXPIRED');
    } finally {
      f.clock.t = new Date(f.clock.t.getTime() - 61_000);
    }
  });

  it('version, TEE and request shape are checked at auth (answered, not audited: /auth is unauthenticated)', async () => {
    const c = new SimulatedCdh(f.url);
    const logged = f.broker.audit.entries.length;
    const cases: [Promise<{ status: number; body: any }>, string][] = [
      [c.auth({ version: '0.3.0', tee: 'snp', 'extra-params': '' }), 'AttestationError'],
      [c.auth({ version: '0.4.0', tee: 'sgx', 'extra-params': '' }), 'AttestationError'],
      [c.auth(captured.mismatchedTeeMetadata), 'SerdeError'],
      [c.request('POST', '/kbs/v0/auth', '{not json'), 'SerdeError'],
    ];
    for (const [p, problem] of cases) {
      const r = await p;
      expect(r.status).toBe(captured.errors[problem].status);
      expect(r.body.type).toBe(PREFIX + problem);
    }
    await new Promise((res) => setTimeout(res, 20));
    expect(f.broker.audit.entries.length).toBe(logged);
  });

  it('attestation bodies are bounded; paths are exact', async () => {
    const c = new SimulatedCdh(f.url);
    await c.auth();
    await refused(await c.request('POST', '/kbs/v0/attest', 'x'.repeat(4 * 1024 * 1024 + 1)), 'SerdeError', 'ERR_KBS_BODY_TOO_LARGE');
    const d = await attested();
    await refused(await d.request('GET', '/kbs/v0/resource/default/key'), 'InvalidRequestPath', 'ERR_KBS_PATH_INVALID');
    await refused(await d.request('GET', '/kbs/v0/resource/default/%2e%2e/x'), 'InvalidRequestPath', 'ERR_KBS_PATH_INVALID');
  });

  it('a resource no policy covers is never released', async () => {
    const cdh = await attested();
    await refused(await cdh.getResource('default/unlisted/x'), 'PolicyDeny', 'ERR_KBS_NO_POLICY');
  });

  it('listens on loopback only', async () => {
    const b = await createKeyBroker({ store: new MemoryResourceStore(), policies: parseResourcePolicies({ version: 1, resources: {} }) });
    await expectCode(b.listen(0, '0.0.0.0'), ConfigError, 'ERR_OPTIONS_INVALID');
  });
});
