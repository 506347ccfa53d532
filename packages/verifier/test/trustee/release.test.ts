/** releaseTo: appraise, then seal to the attested key; nothing sealed when the appraisal fails. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, fromUtf8, generateGatewayKey, openSealed, randomBytes, toBase64, trusteeKbsBinding, utf8, type GatewayKey, type TeePubKey } from '@ccinfer/core';
import { exportJWK, flattenedDecrypt, generateKeyPair } from 'jose';
import { parsePolicy } from '../../src/index.js';
import { bundleFromKbsAttestation, documentDigest, parseKbsAttestation, releaseTo } from '../../src/trustee.js';
import { mintBundle, mintKbsAttestation } from '../../src/testing.js';
import { expectCode } from '../../../../test-support/helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');
// Pins the simulator's launch measurement and its HOST_DATA (zero: no initdata); releases need both pinned.
const lab = parsePolicy({ version: 1, snp: { measurements: ['11'.repeat(48)], hostData: ['00'.repeat(32)] }, gpu: { requireRim: false, ocsp: 'skip' } });
/** A CPU-only pod is released to only under a policy that says so: gpu.count.min 0. */
const labCpuOnly = parsePolicy({ version: 1, snp: { measurements: ['11'.repeat(48)], hostData: ['00'.repeat(32)] }, gpu: { count: { min: 0 } } });
const SECRET = utf8('0123456789abcdef0123456789abcdef');
let gw: GatewayKey;

beforeAll(async () => {
  gw = await generateGatewayKey(3);
});

describe('releaseTo', () => {
  it('seals to the attested key config with HPKE; the pod opens it', async () => {
    const nonce = randomBytes(32);
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: gw.encoded, gpus: 1 });
    const r = await releaseTo(bundle, lab, SECRET, { nonce, anchors, now: NOW, label: 'models/m/key' });
    expect(r.document.ok).toBe(true);
    expect(r.format).toBe('hpke');
    expect(fromUtf8(await openSealed(gw, r.sealed!, 'models/m/key'))).toBe(fromUtf8(SECRET));
    expect(r.documentDigest).toBe(await documentDigest(r.document));
  });

  it('seals nothing when the appraisal fails (wrong measurement)', async () => {
    const nonce = randomBytes(32);
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: gw.encoded });
    const strict = parsePolicy({ version: 1, snp: { measurements: ['00'.repeat(48)] } });
    const r = await releaseTo(bundle, strict, SECRET, { nonce, anchors, now: NOW });
    expect(r.sealed).toBeUndefined();
    expect(r.document.ok).toBe(false);
    expect(r.document.errors[0]?.code).toBe('ERR_SNP_POLICY_MEASUREMENT');
  });

  it('seals nothing to software the policy does not pin (ERR_POLICY_UNPINNED), unless the caller opts out', async () => {
    const nonce = randomBytes(32);
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: gw.encoded });
    const unpinned = parsePolicy({ version: 1, gpu: { count: { min: 0 } } });
    const r = await releaseTo(bundle, unpinned, SECRET, { nonce, anchors, now: NOW });
    expect(r.sealed).toBeUndefined();
    expect(r.document.errors.map((e) => e.code)).toEqual(['ERR_POLICY_UNPINNED']);
    // A measurement pin alone is not enough: the initdata digest (HOST_DATA) must be pinned too.
    const measurementOnly = parsePolicy({ version: 1, snp: { measurements: ['11'.repeat(48)] }, gpu: { count: { min: 0 } } });
    const half = await releaseTo(bundle, measurementOnly, SECRET, { nonce, anchors, now: NOW });
    expect(half.sealed).toBeUndefined();
    expect(half.document.errors.map((e) => e.code)).toEqual(['ERR_POLICY_UNPINNED']);
    const lax = await releaseTo(bundle, unpinned, SECRET, { nonce, anchors, now: NOW, requireReferenceValues: false });
    expect(lax.sealed).toBeDefined();
  });

  it('under the Trustee binding, returns a flattened JWE to the tee-pubkey', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
    const jwk = await exportJWK(publicKey);
    const teePubkey: TeePubKey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: jwk.x!, y: jwk.y! };
    const m = await mintKbsAttestation({ nonce: toBase64(randomBytes(32)), teePubkey });
    const tb = await bundleFromKbsAttestation(parseKbsAttestation(m.attestation), 'snp', { snpCrl: m.crl });
    const r = await releaseTo(tb.bundle, labCpuOnly, SECRET, { nonce: tb.nonce, binding: trusteeKbsBinding, anchors: m.anchors, now: NOW });
    expect(r.format).toBe('jwe');
    const jwe = JSON.parse(fromUtf8(r.sealed!));
    expect(Object.keys(jwe).sort()).toEqual(['ciphertext', 'encrypted_key', 'iv', 'protected', 'tag']);
    expect(fromUtf8((await flattenedDecrypt(jwe, privateKey)).plaintext)).toBe(fromUtf8(SECRET));
  });

  it('seals nothing to a pod without an attested GPU unless the policy says gpu.count.min 0 (ERR_NV_POLICY_NO_GPU)', async () => {
    const nonce = randomBytes(32);
    const { bundle, anchors } = await mintBundle({ nonce, keyConfig: gw.encoded });
    const r = await releaseTo(bundle, lab, SECRET, { nonce, anchors, now: NOW, requireGpu: false });
    expect(r.sealed).toBeUndefined();
    expect(r.document.errors.map((e) => e.code)).toEqual(['ERR_NV_POLICY_NO_GPU']);
    const cpuOnly = await releaseTo(bundle, labCpuOnly, SECRET, { nonce, anchors, now: NOW });
    expect(cpuOnly.sealed).toBeDefined();
  });

  it('refuses empty secrets and unparsed policies', async () => {
    const nonce = randomBytes(32);
    await expectCode(releaseTo(new Uint8Array(0), lab, new Uint8Array(0), { nonce }), ConfigError, 'ERR_OPTIONS_INVALID');
    await expectCode(releaseTo(new Uint8Array(0), {} as never, SECRET, { nonce }), ConfigError, 'ERR_OPTIONS_INVALID');
  });
});
