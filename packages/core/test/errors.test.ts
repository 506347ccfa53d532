import { describe, expect, it } from 'vitest';
import { CcinferError, ParseError, PolicyError, VerificationError, asCcinferError } from '../src/index.js';

describe('errors', () => {
  it('carry class, stable code and cause', () => {
    const cause = new Error('inner');
    const e = new VerificationError('ERR_X', 'msg', { cause });
    expect(e).toBeInstanceOf(VerificationError);
    expect(e).toBeInstanceOf(CcinferError);
    expect(e).not.toBeInstanceOf(ParseError);
    expect(e.code).toBe('ERR_X');
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('VerificationError');
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'ERR_X', message: 'msg' });
  });

  it('instanceof works across duplicate copies of the class (registry-symbol brand)', () => {
    const e = new PolicyError('ERR_P', 'm', { field: 'f', expected: 1, actual: 2 });
    const clone = Object.create(Object.getPrototypeOf({}), Object.getOwnPropertyDescriptors(e));
    for (const s of Object.getOwnPropertySymbols(e)) Object.defineProperty(clone, s, { value: (e as any)[s] });
    expect(clone).toBeInstanceOf(PolicyError);
    expect(clone).toBeInstanceOf(CcinferError);
    expect({}).not.toBeInstanceOf(CcinferError);
    expect(e.field).toBe('f');
  });

  it('asCcinferError wraps foreign errors with a code and keeps ours', () => {
    const ours = new ParseError('ERR_A', 'a');
    expect(asCcinferError(ours, 'ERR_B', 'b')).toBe(ours);
    const wrapped = asCcinferError(new TypeError('x'), 'ERR_B', 'b');
    expect(wrapped.code).toBe('ERR_B');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });
});
