import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CcinferError,
  SessionError,
  encodeKeyConfig,
  encodeKeyConfigList,
  parseKeyConfig,
  parseKeyConfigList,
  SUPPORTED_ALGORITHMS,
  type KeyConfig,
} from '@ccinfer/core';
import { selectAlgorithm } from '@ccinfer/core/internal';
import { expectCode } from '../../../../test-support/helpers.js';
import { hex } from './hex.js';

const RFC = '01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003';

describe('RFC 9458 §3 key configs', () => {
  it('round-trips configs and application/ohttp-keys lists', () => {
    const kcArb: fc.Arbitrary<KeyConfig> = fc.record({
      keyId: fc.integer({ min: 0, max: 255 }),
      kemId: fc.constant(0x20),
      publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      algorithms: fc.array(fc.record({ kdfId: fc.integer({ min: 0, max: 0xffff }), aeadId: fc.integer({ min: 0, max: 0xffff }) }), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(kcArb, { maxLength: 3 }), (list) => {
        for (const kc of list) expect(parseKeyConfig(encodeKeyConfig(kc))).toEqual(kc);
        expect(parseKeyConfigList(encodeKeyConfigList(list))).toEqual(list);
      }),
    );
  });

  it('selects the preferred algorithm the config offers', () => {
    expect(selectAlgorithm(parseKeyConfig(hex(RFC)), SUPPORTED_ALGORITHMS)).toEqual({ kdfId: 1, aeadId: 1 });
  });

  it('error codes', async () => {
    await expectCode(() => parseKeyConfig(hex(RFC).subarray(0, 20)), SessionError, 'ERR_KEYCONFIG_TRUNCATED');
    await expectCode(() => parseKeyConfig(hex(RFC + '00')), SessionError, 'ERR_KEYCONFIG_TRAILING_BYTES');
    await expectCode(() => parseKeyConfig(hex('01 0099' + '00'.repeat(32) + '0004 0001 0001')), SessionError, 'ERR_KEYCONFIG_UNSUPPORTED_KEM');
    await expectCode(() => parseKeyConfig(hex('01 0020' + '00'.repeat(32) + '0006 0001 0001 0001')), SessionError, 'ERR_KEYCONFIG_ALGORITHMS_LENGTH');
    await expectCode(() => parseKeyConfig(hex('01 0020' + '00'.repeat(32) + '0000')), SessionError, 'ERR_KEYCONFIG_ALGORITHMS_LENGTH');
    await expectCode(() => selectAlgorithm(parseKeyConfig(hex('01 0020' + '00'.repeat(32) + '0004 0001 0003')), SUPPORTED_ALGORITHMS), SessionError, 'ERR_KEYCONFIG_NO_SUPPORTED_SUITE');
    await expectCode(() => encodeKeyConfig({ keyId: 1, kemId: 0x20, publicKey: new Uint8Array(31), algorithms: [{ kdfId: 1, aeadId: 2 }] }), SessionError, 'ERR_KEYCONFIG_PUBLIC_KEY');
  });

  it('random input only ever produces CcinferErrors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        for (const f of [parseKeyConfig, parseKeyConfigList]) {
          try {
            f(b);
          } catch (e) {
            expect(e).toBeInstanceOf(CcinferError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
