/** parsePolicyText / parsePolicy: the reasons a policy file is refused are precise enough to fix it. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ccinfer/core';
import { parsePolicy, parsePolicyText } from '@ccinfer/verifier';
import { expectCode } from '../../../test-support/helpers.js';

describe('policy files', () => {
  it('text that is not JSON is ERR_POLICY_INVALID carrying the syntax error and its position', async () => {
    const e = (await expectCode(() => parsePolicyText('{"version": 1,\n "snp": {}, }'), ConfigError, 'ERR_POLICY_INVALID')) as ConfigError;
    expect(e.fields).toHaveLength(1);
    expect(e.fields[0]).toMatch(/^\$: not JSON: .*position \d+/);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  it('an unknown field names the nearest known one, and none when nothing is close', async () => {
    const e = (await expectCode(() => parsePolicy({ version: 1, snp: { measurement: ['00'.repeat(48)], revocaton: 'require' }, gpus: {} }), ConfigError, 'ERR_POLICY_INVALID')) as ConfigError;
    expect(e.fields).toContain('$.snp.measurement: unknown field (did you mean "measurements"?)');
    expect(e.fields).toContain('$.snp.revocaton: unknown field (did you mean "revocation"?)');
    expect(e.fields).toContain('$.gpus: unknown field (did you mean "gpu"?)');
    const far = (await expectCode(() => parsePolicy({ version: 1, zzzzzzzz: 1 }), ConfigError, 'ERR_POLICY_INVALID')) as ConfigError;
    expect(far.fields).toEqual(['$.zzzzzzzz: unknown field']);
  });
});
