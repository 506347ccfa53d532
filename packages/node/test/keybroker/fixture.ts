/** A key broker on 127.0.0.1 for the simulated pod, with a settable clock and an audit file. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '@ccinfer/core';
import { parsePolicy } from '@ccinfer/verifier';
import { simulatedPodMaterial } from '@ccinfer/verifier/testing';
import { createKeyBroker, FileAuditSink, MemoryResourceStore, parseResourcePolicies, resourceId, type AdminAuthOptions, type AuditSink, type KeyBroker, type KeyBrokerOptions } from '../../src/keybroker/index.js';

export const NOW = new Date('2026-06-01T00:00:00Z');
/** Simulated GPUs have no RIMs or OCSP responders: named explicitly (the default requires both). */
// Pins the simulator's launch measurement and HOST_DATA (zero: no initdata), as a release needs pinned software;
// GPUs without RIMs/OCSP named explicitly.
export const LAB = { version: 1, snp: { measurements: ['11'.repeat(48)], hostData: ['00'.repeat(32)] }, gpu: { requireRim: false, ocsp: 'skip' } };
export const SECRET = '6b3f0a4c9e2d7a1b5c8e0f3a6d9c2b5e8f1a4d7c0b3e6a9d2c5f8b1e4a7d0c3f';

export interface Fixture {
  broker: KeyBroker;
  url: string;
  clock: { t: Date };
  auditFile: string;
  auditText(): Promise<string>;
  close(): Promise<void>;
}

/** `audit` wraps the file sink (e.g. to make it fail); `log` and `maxSessions` pass through to the broker. */
export async function startBroker(
  o: { admin?: AdminAuthOptions; sessionTtlSeconds?: number; maxSessions?: number; audit?: (file: AuditSink) => AuditSink; log?: KeyBrokerOptions['log'] } = {},
): Promise<Fixture> {
  const m = await simulatedPodMaterial();
  const store = new MemoryResourceStore();
  await store.put(resourceId('default', 'key', 'llama'), utf8(SECRET));
  await store.put(resourceId('default', 'key', 'pinned'), utf8(SECRET));
  await store.put(resourceId('default', 'key', 'gpu'), utf8(SECRET));
  await store.put(resourceId('default', 'unlisted', 'x'), utf8(SECRET));
  const policies = parseResourcePolicies({
    version: 1,
    resources: {
      'default/key/*': { policy: LAB },
      'default/key/pinned': { policy: { ...LAB, snp: { ...LAB.snp, measurements: ['00'.repeat(48)] } } },
      'default/key/gpu': { policy: { ...LAB, gpu: { ...LAB.gpu, count: { min: 1 } } } },
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'ccinfer-kbs-'));
  const auditFile = join(dir, 'audit.jsonl');
  const clock = { t: NOW };
  const broker = await createKeyBroker({
    store,
    policies,
    attestationPolicy: parsePolicy(LAB),
    anchors: m.anchors,
    snpCrl: await m.amd.mintCrl(),
    audit: o.audit ? o.audit(new FileAuditSink(auditFile)) : new FileAuditSink(auditFile),
    clock: { now: () => clock.t },
    ...(o.admin ? { admin: o.admin } : {}),
    ...(o.sessionTtlSeconds ? { sessionTtlSeconds: o.sessionTtlSeconds } : {}),
    ...(o.maxSessions ? { maxSessions: o.maxSessions } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  const { url } = await broker.listen(0, '127.0.0.1');
  return { broker, url, clock, auditFile, auditText: () => readFile(auditFile, 'utf8'), close: () => broker.close() };
}

/** The last audit entry (after the response, the entry may still be being written: wait a tick). */
export async function lastAudit(f: Fixture) {
  await new Promise((r) => setTimeout(r, 20));
  return f.broker.audit.entries[f.broker.audit.entries.length - 1]!;
}
