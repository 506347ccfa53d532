/** The policy document as text: strict JSON (no repeated keys at any depth) before the schema. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@ccinfer/core';
import { parsePolicyJson, parsePolicyText } from '../../src/index.js';
import { expectCodeSync } from '../../../../test-support/helpers.js';

const A = 'aa'.repeat(48);
const B = 'bb'.repeat(48);

describe('parsePolicyText', () => {
  it('refuses a repeated pin, naming its path (JSON.parse would keep the last one)', () => {
    const text = `{"version":1,"snp":{"measurements":["${A}"],"measurements":["${B}"]}}`;
    const err = expectCodeSync(() => parsePolicyText(text), ConfigError, 'ERR_POLICY_DUPLICATE_KEY') as ConfigError;
    expect(err.fields).toEqual(['$.snp.measurements: duplicate key']);
  });

  it('refuses repeats at the top level and deep inside a section', () => {
    const top = expectCodeSync(() => parsePolicyText('{"version":1,"version":1}'), ConfigError, 'ERR_POLICY_DUPLICATE_KEY') as ConfigError;
    expect(top.fields).toEqual(['$.version: duplicate key']);
    const deep = expectCodeSync(() => parsePolicyText('{"version":1,"gpu":{"count":{"min":1,"min":8}}}'), ConfigError, 'ERR_POLICY_DUPLICATE_KEY') as ConfigError;
    expect(deep.fields).toEqual(['$.gpu.count.min: duplicate key']);
  });

  it('accepts the same document without the repeat', () => {
    expect(parsePolicyText(`{"version":1,"snp":{"measurements":["${B}"]}}`).snp?.measurements).toHaveLength(1);
  });

  it('refuses text that is not JSON with ERR_POLICY_INVALID', () => {
    expectCodeSync(() => parsePolicyJson('{"version":1,'), ConfigError, 'ERR_POLICY_INVALID');
  });
});
