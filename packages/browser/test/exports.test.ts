/**
 * The browser entry re-exports the runtime-agnostic API of @ccinfer/core and @ccinfer/verifier by name (no
 * `export *`, CONTRIBUTING.md "Public API"). A value exported by either package but missing from the list in
 * src/index.ts fails here; type-only exports are covered by `tsc -b` (the browser tests and examples use them).
 */
import { describe, expect, it } from 'vitest';
import * as core from '@ccinfer/core';
import * as verifier from '@ccinfer/verifier';
import * as browser from '../src/index.js';

describe('@ccinfer/browser public surface', () => {
  it.each([
    ['@ccinfer/core', core as Record<string, unknown>],
    ['@ccinfer/verifier', verifier as Record<string, unknown>],
  ])('re-exports every value export of %s, by name and identity', (_, mod) => {
    const names = Object.keys(mod);
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((n) => !(n in browser))).toEqual([]);
    expect(names.filter((n) => (browser as Record<string, unknown>)[n] !== mod[n])).toEqual([]);
  });
});
