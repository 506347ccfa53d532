import { expect } from 'vitest';
import { CcinferError } from '@ccinfer/core';

type ErrorClass = abstract new (...args: any[]) => CcinferError;

/** Asserts that `promiseOrFn` fails with an error of `cls` carrying `code` (class and code, never message). */
export async function expectCode(
  promiseOrFn: Promise<unknown> | (() => unknown),
  cls: ErrorClass,
  code: string,
): Promise<CcinferError> {
  let error: unknown;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${cls.name} ${code}`).toBeInstanceOf(cls);
  expect((error as CcinferError).code).toBe(code);
  return error as CcinferError;
}

/** Same as expectCode for synchronous functions. */
export function expectCodeSync(fn: () => unknown, cls: ErrorClass, code: string): CcinferError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${cls.name} ${code}`).toBeInstanceOf(cls);
  expect((error as CcinferError).code).toBe(code);
  return error as CcinferError;
}

/** Copy with one bit flipped. */
export function flip(bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[offset]! ^= mask;
  return out;
}
