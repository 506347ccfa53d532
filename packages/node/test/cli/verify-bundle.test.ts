import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBundle, generateGatewayKey, randomBytes, toHex } from '@ccinfer/core';
import { mintBundle } from '@ccinfer/verifier/testing';
import { cli } from './io.js';

describe('ccinfer verify bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccinfer-bundle-'));
  let nonce: Uint8Array;
  beforeAll(async () => {
    nonce = randomBytes(32);
    // The pod carries its GPU's RIMs and OCSP responses, valid at --at: the strict GPU defaults hold offline.
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: (await generateGatewayKey(1)).encoded, gpus: 1, now: new Date('2026-06-01T00:00:00Z') });
    writeFileSync(join(dir, 'bundle.cbor'), encodeBundle(bundle));
    writeFileSync(join(dir, 'anchors.json'), JSON.stringify(anchors));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, gpu: { count: { min: 1, max: 1 } } }));
  });
  const base = (): string[] => ['verify', 'bundle', join(dir, 'bundle.cbor'), '--anchors', join(dir, 'anchors.json'), '--policy', join(dir, 'policy.json'), '--at', '2026-06-01T00:00:00Z', '--offline'];

  it('exit 0 with the right nonce; the GPU RIMs and OCSP checked from the bundle', async () => {
    const r = await cli([...base(), '--nonce', toHex(nonce), '--json']);
    expect(r.code).toBe(0);
    const checks = JSON.parse(r.out).checks;
    for (const id of ['nonce.echo', 'gpu0.ocsp', 'gpu0.rim.driver.ocsp', 'gpu0.measurements']) expect(checks.find((c: any) => c.id === id).status).toBe('passed');
  });

  it('exit 1 with another nonce', async () => {
    const r = await cli([...base(), '--nonce', toHex(randomBytes(32)), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors[0].code).toBe('ERR_BUNDLE_NONCE_MISMATCH');
  });

  it('audit without --nonce: nonce.echo skipped, with a warning', async () => {
    const r = await cli([...base(), '--json']);
    const doc = JSON.parse(r.out);
    expect(doc.checks.find((c: any) => c.id === 'nonce.echo').status).toBe('skipped');
    expect(doc.warnings.join('\n')).toMatch(/freshness NOT established/);
    expect(r.code).toBe(0);
  });

  it('exit 2 for a bad --nonce or a missing file', async () => {
    expect((await cli([...base(), '--nonce', 'abcd'])).code).toBe(2);
    expect((await cli(['verify', 'bundle', join(dir, 'missing.cbor')])).code).toBe(2);
  });

  it('exit 2 for a policy file that repeats a key (the reader and the verifier would see different pins)', async () => {
    writeFileSync(join(dir, 'dup.json'), '{"version":1,"gpu":{"count":{"min":1,"max":1},"count":{"min":0}}}');
    const r = await cli(['verify', 'bundle', join(dir, 'bundle.cbor'), '--anchors', join(dir, 'anchors.json'), '--policy', join(dir, 'dup.json'), '--at', '2026-06-01T00:00:00Z', '--offline']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('$.gpu.count: duplicate key');
  });

  it('exit 1 for bytes that are not a bundle', async () => {
    writeFileSync(join(dir, 'junk.cbor'), Uint8Array.of(1, 2, 3));
    const r = await cli(['verify', 'bundle', join(dir, 'junk.cbor'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).checks[0]).toMatchObject({ id: 'bundle.decode', status: 'failed' });
  });

  it('exit 1 for a bundle that lists one GPU twice (ERR_NV_DEVICE_DUPLICATE), whatever the count policy', async () => {
    const twice = randomBytes(32);
    const { bundle } = await mintBundle({
      nonce: twice,
      keyConfig: (await generateGatewayKey(1)).encoded,
      gpus: 1,
      now: new Date('2026-06-01T00:00:00Z'),
      editDevices: (d) => ({ gpus: [d.gpus[0]!, d.gpus[0]!], switches: [] }),
    });
    writeFileSync(join(dir, 'twice.cbor'), encodeBundle(bundle));
    writeFileSync(join(dir, 'two.json'), JSON.stringify({ version: 1, gpu: { count: { min: 2 } } }));
    const r = await cli(['verify', 'bundle', join(dir, 'twice.cbor'), '--anchors', join(dir, 'anchors.json'), '--policy', join(dir, 'two.json'), '--at', '2026-06-01T00:00:00Z', '--offline', '--nonce', toHex(twice), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).errors[0].code).toBe('ERR_NV_DEVICE_DUPLICATE');
  });
});
