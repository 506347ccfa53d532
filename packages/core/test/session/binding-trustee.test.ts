import { describe, expect, it } from 'vitest';
import {
  ParseError,
  SessionError,
  VerificationError,
  generateGatewayKey,
  openSealed,
  sealToKeyConfig,
  sha384,
  toHex,
  trusteeKbsBinding,
  utf8,
} from '@ccinfer/core';
import {
  canonicalJson,
  decodeTrusteeKeyConfig,
  encodeTrusteeAdditionalEvidence,
  encodeTrusteeKeyConfig,
  parseTeePubKey,
  parseTrusteeAdditionalEvidence,
  trusteeDigest,
  trusteeGpuNonce,
  trusteeReportData,
  type KbsRuntimeData,
} from '@ccinfer/core/internal';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';

const runtime: KbsRuntimeData = {
  nonce: 'q83vEjRWeJAhQ2WHCZq83vEjRWeJAhQ2WHCZq83vE=',
  'tee-pubkey': { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis', y: 'y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE' },
};

describe('Trustee runtime-data hashing (KBS protocol 0.4.0)', () => {
  it('matches the Trustee Attestation Service structured runtime-data vector (SHA-384 over canonical JSON)', async () => {
    // attestation-service/src/lib.rs test `parse_runtimedata_json_binding`: {"b":1,"a":"test","c":{"d":"e"}}.
    const d = await trusteeDigest({ b: 1, a: 'test', c: { d: 'e' } });
    expect(toHex(d)).toBe('e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3');
  });

  it('serializes RFC 8785 style: sorted keys, no whitespace, ECMAScript strings and numbers', () => {
    expect(canonicalJson({ 'tee-pubkey': { y: 1, kty: 'EC' }, nonce: 'n', 'additional-evidence': '' })).toBe('{"additional-evidence":"","nonce":"n","tee-pubkey":{"kty":"EC","y":1}}');
    expect(canonicalJson({ a: [1.5, 'é\u0001', null, true] })).toBe('{"a":[1.5,"é\\u0001",null,true]}');
    expectCodeSync(() => canonicalJson({ a: Number.NaN }), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
  });

  it('derives the GPU nonce and REPORT_DATA as the attestation agent does', async () => {
    const gpu = await trusteeGpuNonce(runtime);
    const full = await sha384(utf8(`{"nonce":"${runtime.nonce}","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"${(runtime['tee-pubkey'] as { x: string }).x}","y":"${(runtime['tee-pubkey'] as { y: string }).y}"}}`));
    expect(toHex(gpu)).toBe(toHex(full.subarray(0, 32)));
    const rd = await trusteeReportData(runtime, '');
    expect(toHex(rd)).toBe(toHex(await sha384(utf8(`{"additional-evidence":"",${canonicalJson(runtime).slice(1)}`))));
    expect(rd.length).toBe(48);
  });

  it('is a BindingScheme binding nonce, key and device reports', async () => {
    const dev = { arch: 'HOPPER', uuid: 'GPU-1', evidence: new Uint8Array([1, 2, 3]), certificate: utf8('PEM') };
    const add = encodeTrusteeAdditionalEvidence([dev]);
    const keyConfig = encodeTrusteeKeyConfig(runtime, add);
    expect(decodeTrusteeKeyConfig(keyConfig).runtime).toEqual(runtime);
    const nonce = await trusteeGpuNonce(runtime);
    const rd = await trusteeKbsBinding.compute({ nonce, keyConfig, gpuReports: [dev.evidence], switchReports: [] });
    expect(toHex(rd)).toBe(toHex(await trusteeReportData(runtime, add)));
    await expectCode(trusteeKbsBinding.compute({ nonce: new Uint8Array(32), keyConfig, gpuReports: [dev.evidence], switchReports: [] }), VerificationError, 'ERR_TRUSTEE_NONCE_MISMATCH');
    await expectCode(trusteeKbsBinding.compute({ nonce, keyConfig, gpuReports: [new Uint8Array([9])], switchReports: [] }), VerificationError, 'ERR_TRUSTEE_DEVICE_MISMATCH');
    await expectCode(trusteeKbsBinding.compute({ nonce, keyConfig: utf8('{"nonce":1}'), gpuReports: [], switchReports: [] }), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
  });

  it('accepts hex (older attesters) or base64 device evidence and refuses unknown TEEs', () => {
    const hex = JSON.stringify({ nvidia: { device_evidence_list: [{ arch: 'HOPPER', uuid: 'u', evidence: '0a0b', certificate: 'UEVN' }] } });
    expect(Array.from(parseTrusteeAdditionalEvidence(hex)[0]!.evidence)).toEqual([10, 11]);
    expectCodeSync(() => parseTrusteeAdditionalEvidence('{"tpm":{}}'), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
    expectCodeSync(() => parseTrusteeAdditionalEvidence('not json'), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
  });

  it('accepts exactly the kbs_types TeePubKey members', () => {
    expect(parseTeePubKey({ kty: 'RSA', alg: 'RSA-OAEP-256', n: 'AQAB', e: 'AQAB' }).kty).toBe('RSA');
    expectCodeSync(() => parseTeePubKey({ ...runtime['tee-pubkey'], kid: 'x' }), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
    expectCodeSync(() => parseTeePubKey({ kty: 'OKP', crv: 'X25519', x: 'a' }), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
  });
});

describe('sealed secrets (HPKE, session suites)', () => {
  it('round-trips, binds the label, and refuses other keys and truncation', async () => {
    const key = await generateGatewayKey(7);
    const other = await generateGatewayKey(8);
    const sealed = await sealToKeyConfig(key.encoded, utf8('weights key'), 'models/llama/key');
    expect(new TextDecoder().decode(await openSealed(key, sealed, 'models/llama/key'))).toBe('weights key');
    await expectCode(openSealed(key, sealed, 'models/other/key'), SessionError, 'ERR_OHTTP_DECRYPT');
    await expectCode(openSealed(other, sealed, 'models/llama/key'), SessionError, 'ERR_OHTTP_KEY_ID');
    await expectCode(openSealed(key, sealed.subarray(0, 20)), SessionError, 'ERR_OHTTP_TRUNCATED');
  });
});
