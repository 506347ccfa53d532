/**
 * The key broker appraises TDX pods offline: no fetcher, Intel's PCS collateral from a collateral file
 * (`ccinfer collateral fetch`) or the cache. Without either, the TDX attestation is refused.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCache, RecordingCache, encodeCollateralFile, fromUtf8, randomBytes, toBase64, toHex, trusteeKbsBinding, utf8, type TeePubKey } from '@ccinfer/core';
import { appraise, parsePolicy } from '@ccinfer/verifier';
import { bundleFromKbsAttestation, parseKbsAttestation } from '@ccinfer/verifier/trustee';
import { mintKbsAttestation, mintTdxBundleCollateral, simulatedPodMaterial, type SimulatedPodMaterial } from '@ccinfer/verifier/testing';
import { createKeyBroker, FileAuditSink, MemoryResourceStore, parseResourcePolicies, resourceId, type KeyBroker, type KeyBrokerOptions } from '../../src/keybroker/index.js';
import { fakeVendors } from '../gateway/fake-vendors.js';
import { SimulatedCdh } from './cdh-client.js';
import { NOW, SECRET } from './fixture.js';

const MRTD = new Uint8Array(48).fill(0x5a);
const TDX_POD = { tee: 'tdx', quote: { mrTd: MRTD }, gpus: 0 } as const;
let m: SimulatedPodMaterial;
let file: Uint8Array;
const open: KeyBroker[] = [];

beforeAll(async () => {
  m = await simulatedPodMaterial();
  // What `ccinfer collateral fetch` records: the PCS responses one TDX appraisal used, fetched once online.
  const vendors = await fakeVendors(m, { tdx: await mintTdxBundleCollateral(m.intel, NOW) });
  const teePubkey: TeePubKey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'x', y: 'y' };
  const minted = await mintKbsAttestation({ ...TDX_POD, nonce: toBase64(randomBytes(32)), teePubkey });
  const tb = await bundleFromKbsAttestation(parseKbsAttestation(minted.attestation), 'tdx');
  const recording = new RecordingCache();
  const a = await appraise(tb.bundle, { nonce: tb.nonce, anchors: m.anchors, now: NOW, fetcher: vendors.fetcher, cache: recording, binding: trusteeKbsBinding });
  expect(a.document.errors).toEqual([]);
  file = encodeCollateralFile(recording.written, NOW);
});
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

async function broker(o: Partial<KeyBrokerOptions>): Promise<string> {
  const store = new MemoryResourceStore();
  await store.put(resourceId('default', 'key', 'tdx'), utf8(SECRET));
  const b = await createKeyBroker({
    store,
    policies: parseResourcePolicies({ version: 1, resources: { 'default/key/tdx': { policy: { version: 1, tdx: { mrTd: [toHex(MRTD)], mrConfigId: ['00'.repeat(48)] }, gpu: { count: { min: 0 } } } } } }),
    attestationPolicy: parsePolicy({ version: 1 }),
    anchors: m.anchors,
    audit: new FileAuditSink(join(await mkdtemp(join(tmpdir(), 'ccinfer-kbs-tdx-')), 'audit.jsonl')),
    clock: { now: () => NOW },
    ...o,
  });
  open.push(b);
  return (await b.listen(0, '127.0.0.1')).url;
}

async function release(url: string) {
  const cdh = new SimulatedCdh(url, TDX_POD, 'tdx');
  await cdh.auth();
  const a = await cdh.attest();
  return { a, r: a.status === 200 ? await cdh.getResource('default/key/tdx') : undefined, cdh };
}

describe('key broker: TDX pods without vendor access', () => {
  it('releases to a TDX pod with the collateral from a collateral file, fetching nothing', async () => {
    const { a, r } = await release(await broker({ collateralFile: file }));
    expect(a.status, a.text).toBe(200);
    expect(r!.status, r!.text).toBe(200);
    expect(fromUtf8(r!.plaintext!)).toBe(SECRET);
  });

  it('…or from a cache that already holds it (e.g. a DiskCache filled earlier)', async () => {
    const cache = new MemoryCache();
    const { a, r } = await release(await broker({ cache, collateralFile: file }));
    expect(a.status).toBe(200);
    expect(r!.status).toBe(200);
    // The file went into the caller's cache: a second broker on that cache alone needs no file.
    const again = await release(await broker({ cache }));
    expect(again.r!.status).toBe(200);
  });

  it('without collateral and without a fetcher the TDX attestation is refused (ERR_TDX_COLLATERAL_MISSING)', async () => {
    const url = await broker({});
    const { a } = await release(url);
    expect(a.status).toBe(401);
    expect(a.body.detail).toContain('ERR_TDX_COLLATERAL_MISSING');
  });
});
