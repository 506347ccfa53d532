import { describe, expect, it } from 'vitest';
import { CcinferError, ParseError, PolicyError, VerificationError, asCcinferError } from '../src/index.js';

describe('errors', () => {
  it('carry class, stable code and cause', () => {
    const cause = new Error('inner');
    const e = new VerificationError('ERR_INTERNAL', 'msg', { cause });
    expect(e).toBeInstanceOf(VerificationError);
    expect(e).toBeInstanceOf(CcinferError);
    expect(e).not.toBeInstanceOf(ParseError);
    expect(e.code).toBe('ERR_INTERNAL');
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('VerificationError');
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'ERR_INTERNAL', message: 'msg' });
  });

  it('instanceof works across duplicate copies of the class (registry-symbol brand)', () => {
    const e = new PolicyError('ERR_OPTIONS_INVALID', 'm', { field: 'f', expected: 1, actual: 2 });
    const clone = Object.create(Object.getPrototypeOf({}), Object.getOwnPropertyDescriptors(e));
    for (const s of Object.getOwnPropertySymbols(e)) Object.defineProperty(clone, s, { value: (e as any)[s] });
    expect(clone).toBeInstanceOf(PolicyError);
    expect(clone).toBeInstanceOf(CcinferError);
    expect({}).not.toBeInstanceOf(CcinferError);
    expect(e.field).toBe('f');
  });

  it('asCcinferError wraps foreign errors with a code and keeps ours', () => {
    const ours = new ParseError('ERR_HEX_INVALID', 'a');
    expect(asCcinferError(ours, 'ERR_BASE64_INVALID', 'b')).toBe(ours);
    const wrapped = asCcinferError(new TypeError('x'), 'ERR_BASE64_INVALID', 'b');
    expect(wrapped.code).toBe('ERR_BASE64_INVALID');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });

  it('codes form a closed union: an undeclared code does not compile (tsc -b checks this file)', () => {
    // @ts-expect-error — 'ERR_NOT_A_CODE' is in no module's codes union
    const e = new ParseError('ERR_NOT_A_CODE', 'm');
    // @ts-expect-error — a near miss of ERR_HEX_INVALID is as unknown as any other string
    const w = asCcinferError(new Error('x'), 'ERR_HEX_INVALD', 'm');
    // At run time the constructors still take what they are given; the guarantee is the compile-time one.
    expect(e.code).toBe('ERR_NOT_A_CODE');
    expect(w.code).toBe('ERR_HEX_INVALD');
  });
});
