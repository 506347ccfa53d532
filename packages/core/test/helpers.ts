import { expect } from 'vitest';
import { CcinferError } from '@ccinfer/core';

type ErrorClass = abstract new (...args: any[]) => CcinferError;

/** Asserts that `promiseOrFn` fails with an error of `cls` carrying `code` (class and code, never message). */
export async function expectCode(promiseOrFn: Promise<unknown> | (() => unknown), cls: ErrorClass, code: string): Promise<CcinferError> {
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

export const hex = (s: string): Uint8Array => Uint8Array.from((s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
