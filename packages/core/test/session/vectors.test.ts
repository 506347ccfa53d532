/**
 * Published examples: RFC 9458 Appendix A and draft-ietf-ohai-chunked-ohttp-08 Appendix A, through the
 * WebCrypto backend (test-support/ohttp-examples.ts; @ccinfer/node runs the same suite on node:crypto).
 */
import { describe, expect, it } from 'vitest';
import { encodeKeyConfig, parseKeyConfig, toHex, webCryptoSessionCrypto } from '@ccinfer/core';
import { ohttpExamples, RFC9458_A } from '../../../../test-support/ohttp-examples.js';
import { hex } from './hex.js';

describe('RFC 9458 Appendix A key config', () => {
  it('parses and re-encodes the key config', () => {
    const kc = parseKeyConfig(hex(RFC9458_A.keyConfig));
    expect(kc.keyId).toBe(1);
    expect(kc.kemId).toBe(0x20);
    expect(toHex(kc.publicKey)).toBe(RFC9458_A.pkR);
    expect(kc.algorithms).toEqual([
      { kdfId: 1, aeadId: 1 },
      { kdfId: 1, aeadId: 3 },
    ]);
    expect(toHex(encodeKeyConfig(kc))).toBe(RFC9458_A.keyConfig);
  });
});

ohttpExamples(webCryptoSessionCrypto);
