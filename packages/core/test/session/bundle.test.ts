import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CcinferError,
  SessionError,
  VerificationError,
  ccinferV1Binding,
  ccinferV1TextBinding,
  CCINFER_BINDINGS,
  concat,
  decodeAttestRequest,
  decodeBundle,
  encodeAttestRequest,
  encodeBundle,
  verifyBinding,
  type EvidenceBundle,
} from '@ccinfer/core';
import { bindingInputOf } from '@ccinfer/core/internal';
import { Decoder, Encoder } from 'cbor-x';
import { expectCode } from '../../../../test-support/helpers.js';
import { hex } from './hex.js';

const bytes = (n: number, v = 1): Uint8Array => new Uint8Array(n).fill(v);

function sample(): EvidenceBundle {
  return {
    v: 1,
    nonce: bytes(32, 9),
    keyConfig: bytes(41, 2),
    cpu: { tee: 'snp', report: bytes(1184, 3), leaf: bytes(900, 4), chain: [bytes(800, 5), bytes(700, 6)] },
    gpus: [{ report: bytes(2000, 7), certChain: bytes(3000, 8) }],
    switches: [],
    initdata: 'algorithm = "sha384"\nversion = "0.1.0"\n',
    collateral: { snp: { crl: bytes(500, 10) }, tdx: new Map([['tcbInfo', bytes(10, 11)]]), nvidia: { rims: new Map([['driver', bytes(10, 12)]]), ocsp: [bytes(5, 13)] } },
  };
}

/** Re-encodes a decoded bundle with one field changed, through cbor-x Maps (so tests can forge any shape). */
function forge(mutate: (m: Map<string, unknown>) => void, b: EvidenceBundle = sample()): Uint8Array {
  const m = new Decoder({ mapsAsObjects: false } as never).decode(encodeBundle(b)) as Map<string, unknown>;
  mutate(m);
  return new Uint8Array(new Encoder({ mapsAsObjects: false, useRecords: false, variableMapSize: true, tagUint8Array: false } as never).encode(m));
}

describe('evidence bundle codec (docs/wire-protocol.md)', () => {
  it('round-trips SNP and TDX bundles with any number of devices', () => {
    const dev = fc.record({ report: fc.uint8Array({ minLength: 1, maxLength: 50 }), certChain: fc.uint8Array({ minLength: 1, maxLength: 50 }) });
    fc.assert(
      fc.property(fc.array(dev, { maxLength: 8 }), fc.array(dev, { maxLength: 4 }), fc.boolean(), fc.uint8Array({ minLength: 32, maxLength: 32 }), (gpus, switches, snp, nonce) => {
        const b: EvidenceBundle = {
          v: 1,
          nonce,
          keyConfig: bytes(41),
          cpu: snp ? { tee: 'snp', report: bytes(1184), leaf: bytes(10) } : { tee: 'tdx', quote: bytes(5000) },
          gpus,
          switches,
        };
        expect(decodeBundle(encodeBundle(b))).toEqual(b);
      }),
      { numRuns: 50 },
    );
    expect(decodeBundle(encodeBundle(sample()))).toEqual(sample());
  });

  it('attest requests round-trip', () => {
    expect(decodeAttestRequest(encodeAttestRequest({ v: 1, nonce: bytes(32) }))).toEqual({ v: 1, nonce: bytes(32) });
  });

  it('error codes', async () => {
    const good = encodeBundle(sample());
    await expectCode(() => decodeBundle(new Uint8Array(9 * 1024 * 1024)), SessionError, 'ERR_BUNDLE_TOO_LARGE');
    await expectCode(() => decodeBundle(good.subarray(0, good.length - 1)), SessionError, 'ERR_BUNDLE_CBOR_MALFORMED');
    await expectCode(() => decodeBundle(new TextEncoder().encode('{"version": 1}')), SessionError, 'ERR_BUNDLE_NOT_A_BUNDLE');
    await expectCode(() => decodeBundle(new Uint8Array(0)), SessionError, 'ERR_BUNDLE_NOT_A_BUNDLE');
    await expectCode(() => decodeBundle(hex('81 01')), SessionError, 'ERR_BUNDLE_NOT_A_BUNDLE');
    await expectCode(() => decodeBundle(concat(good, new Uint8Array([0]))), SessionError, 'ERR_BUNDLE_CBOR_MALFORMED');
    await expectCode(() => decodeBundle(hex('bf 61 76 01 ff')), SessionError, 'ERR_BUNDLE_CBOR_NOT_CANONICAL');
    await expectCode(() => decodeBundle(hex('a1 61 76 18 01')), SessionError, 'ERR_BUNDLE_CBOR_NOT_CANONICAL');
    await expectCode(() => decodeBundle(hex('a1 61 76 f9 3c00')), SessionError, 'ERR_BUNDLE_CBOR_UNSUPPORTED');
    await expectCode(() => decodeBundle(hex('a1 61 76 c1 01')), SessionError, 'ERR_BUNDLE_CBOR_UNSUPPORTED');
    await expectCode(() => decodeBundle(hex('a1 01 01')), SessionError, 'ERR_BUNDLE_CBOR_UNSUPPORTED');
    await expectCode(() => decodeBundle(hex('a2 61 76 01 61 76 01')), SessionError, 'ERR_BUNDLE_DUPLICATE_KEY');
    await expectCode(() => decodeBundle(forge((m) => m.set('v', 2))), SessionError, 'ERR_BUNDLE_VERSION');
    await expectCode(() => decodeBundle(forge((m) => m.set('v', 'one'))), SessionError, 'ERR_BUNDLE_FIELD_TYPE');
    await expectCode(() => decodeBundle(forge((m) => m.delete('v'))), SessionError, 'ERR_BUNDLE_MISSING_FIELD');
    await expectCode(() => decodeBundle(forge((m) => m.delete('switches'))), SessionError, 'ERR_BUNDLE_MISSING_FIELD');
    await expectCode(() => decodeBundle(forge((m) => m.set('extra', 1))), SessionError, 'ERR_BUNDLE_UNKNOWN_FIELD');
    await expectCode(() => decodeBundle(forge((m) => m.set('nonce', 'x'))), SessionError, 'ERR_BUNDLE_FIELD_TYPE');
    await expectCode(() => decodeBundle(forge((m) => m.set('nonce', bytes(31)))), SessionError, 'ERR_BUNDLE_FIELD_SIZE');
    await expectCode(() => decodeBundle(forge((m) => m.set('gpus', new Array(65).fill(new Map([['report', bytes(1)], ['certChain', bytes(1)]]))))), SessionError, 'ERR_BUNDLE_FIELD_SIZE');
    const snp = (change: (c: Map<string, unknown>) => void): Uint8Array =>
      forge((m) => {
        const c = m.get('cpu') as Map<string, unknown>;
        change(c);
      });
    await expectCode(() => decodeBundle(snp((c) => c.set('report', bytes(1183)))), SessionError, 'ERR_BUNDLE_FIELD_SIZE');
    await expectCode(() => decodeBundle(snp((c) => c.set('tee', 'sgx'))), SessionError, 'ERR_BUNDLE_TEE_UNKNOWN');
    await expectCode(() => decodeBundle(snp((c) => c.delete('tee'))), SessionError, 'ERR_BUNDLE_MISSING_FIELD');
    await expectCode(() => decodeAttestRequest(encodeAttestRequest({ v: 1, nonce: bytes(16) })), SessionError, 'ERR_BUNDLE_FIELD_SIZE');
  });

  it('random and bit-flipped bundles only ever produce CcinferErrors', () => {
    const good = encodeBundle(sample());
    fc.assert(
      fc.property(fc.nat(good.length * 8 - 1), fc.uint8Array({ maxLength: 60 }), (bit, junk) => {
        const t = good.slice();
        t[bit >> 3]! ^= 1 << (bit & 7);
        for (const input of [t, junk]) {
          try {
            decodeBundle(input);
          } catch (e) {
            expect(e).toBeInstanceOf(CcinferError);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('ccinfer/1 binding (docs/binding.md)', () => {
  /** An independent computation with node:crypto, to pin the byte layout. */
  function reference(b: EvidenceBundle): Uint8Array {
    const h = (x: Uint8Array): Buffer => createHash('sha256').update(x).digest();
    const parts = [Buffer.from('ccinfer/1 binding'), Buffer.from([0]), b.nonce, h(b.keyConfig), Buffer.from([b.gpus.length]), ...b.gpus.map((g) => h(g.report)), Buffer.from([b.switches.length]), ...b.switches.map((s) => h(s.report))];
    return new Uint8Array(createHash('sha512').update(Buffer.concat(parts)).digest());
  }

  it('matches the specified layout and verifies', async () => {
    const b = sample();
    b.switches = [{ report: bytes(40, 20), certChain: bytes(1) }];
    const d = await ccinferV1Binding.compute(bindingInputOf(b));
    expect(d).toEqual(reference(b));
    expect(d.length).toBe(ccinferV1Binding.length);
    expect(await verifyBinding(ccinferV1Binding, b, reference(b))).toEqual(d);
  });

  it('moving a device between gpus and switches changes the binding', async () => {
    const b = sample();
    const moved: EvidenceBundle = { ...b, gpus: [], switches: b.gpus };
    expect(await ccinferV1Binding.compute(bindingInputOf(moved))).not.toEqual(await ccinferV1Binding.compute(bindingInputOf(b)));
  });

  it('ERR_SESSION_BINDING_MISMATCH and ERR_SESSION_BINDING_INPUT', async () => {
    const b = sample();
    const rd = reference(b);
    rd[63]! ^= 1;
    await expectCode(verifyBinding(ccinferV1Binding, b, rd), VerificationError, 'ERR_SESSION_BINDING_MISMATCH');
    await expectCode(ccinferV1Binding.compute({ ...bindingInputOf(b), nonce: bytes(16) }), SessionError, 'ERR_SESSION_BINDING_INPUT');
    await expectCode(ccinferV1Binding.compute({ ...bindingInputOf(b), gpuReports: new Array(256).fill(bytes(1)) }), SessionError, 'ERR_SESSION_BINDING_INPUT');
  });
});

describe('ccinfer/1-text binding (text-only attesters) and the bundle field naming it', () => {
  /** Independent: unpadded base64url of SHA-384 over the same framing under the text label. */
  function reference(b: EvidenceBundle): Uint8Array {
    const h = (x: Uint8Array): Buffer => createHash('sha256').update(x).digest();
    const parts = [Buffer.from('ccinfer/1-text binding'), Buffer.from([0]), b.nonce, h(b.keyConfig), Buffer.from([b.gpus.length]), ...b.gpus.map((g) => h(g.report)), Buffer.from([b.switches.length]), ...b.switches.map((s) => h(s.report))];
    return new Uint8Array(Buffer.from(createHash('sha384').update(Buffer.concat(parts)).digest().toString('base64url'), 'ascii'));
  }

  it('is 64 base64url characters over the specified layout, distinct from ccinfer/1', async () => {
    const b = sample();
    const d = await ccinferV1TextBinding.compute(bindingInputOf(b));
    expect(d).toEqual(reference(b));
    expect(d.length).toBe(64);
    expect(new TextDecoder().decode(d)).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(d).not.toEqual(await ccinferV1Binding.compute(bindingInputOf(b)));
    expect([...CCINFER_BINDINGS.keys()]).toEqual(['ccinfer/1', 'ccinfer/1-text']);
    await expectCode(ccinferV1TextBinding.compute({ ...bindingInputOf(b), nonce: bytes(31) }), SessionError, 'ERR_SESSION_BINDING_INPUT');
  });

  it('the bundle carries the scheme name; wrong types and sizes are refused', async () => {
    const b = { ...sample(), binding: 'ccinfer/1-text' };
    expect(decodeBundle(encodeBundle(b)).binding).toBe('ccinfer/1-text');
    expect(decodeBundle(encodeBundle(sample())).binding).toBeUndefined();
    await expectCode(Promise.resolve().then(() => decodeBundle(forge((m) => m.set('binding', new Uint8Array(3))))), SessionError, 'ERR_BUNDLE_FIELD_TYPE');
    await expectCode(Promise.resolve().then(() => decodeBundle(forge((m) => m.set('binding', 'x'.repeat(65))))), SessionError, 'ERR_BUNDLE_FIELD_SIZE');
  });
});
