import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { duplicateJsonKey } from '../src/json.js';

describe('duplicateJsonKey', () => {
  it('names the path of a repeat at any depth', () => {
    expect(duplicateJsonKey('{"a":1,"a":2}')).toBe('$.a');
    expect(duplicateJsonKey('{"snp":{"measurements":["aa"],"measurements":["bb"]}}')).toBe('$.snp.measurements');
    expect(duplicateJsonKey('{"x":[{"ok":1},{"k":1,"k":1}]}')).toBe('$.x[1].k');
    expect(duplicateJsonKey('[[],[{"a b":{"c":0,"c":0}}]]')).toBe('$[1][0]["a b"].c');
  });

  it('compares names after unescaping', () => {
    expect(duplicateJsonKey('{"a":1,"\\u0061":2}')).toBe('$.a');
    expect(duplicateJsonKey('{"a\\"":1,"a\\u0022":2}')).toBe('$["a\\""]');
  });

  it('does not confuse values, strings with delimiters, or sibling objects with repeats', () => {
    expect(duplicateJsonKey('{"a":"a","b":{"a":1},"c":[{"a":1},{"a":2}]}')).toBeUndefined();
    expect(duplicateJsonKey('{"a":"x,\\"a\\":{","b":"}]","c":[1,true,null,-2.5e3]}')).toBeUndefined();
    expect(duplicateJsonKey('"a"')).toBeUndefined();
    expect(duplicateJsonKey(' 1 ')).toBeUndefined();
  });

  it('handles nesting deeper than a recursive parser could', () => {
    const depth = 100_000;
    const text = '['.repeat(depth) + '{"k":0,"k":1}' + ']'.repeat(depth);
    expect(duplicateJsonKey(text)).toBe('$' + '[0]'.repeat(depth) + '.k');
  });

  it('never reports a repeat in JSON.stringify output, and finds one injected anywhere', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(duplicateJsonKey(JSON.stringify(v))).toBeUndefined();
        const text = JSON.stringify({ wrap: v, z: 1 }).replace(/,"z":1}$/, ',"z":1,"z":2}');
        expect(duplicateJsonKey(text)).toBe('$.z');
      }),
      { numRuns: 300 },
    );
  });
});
