/**
 * docs/errors.md lists every error code the code can produce, and nothing else: a code added without its
 * documentation, or a documented code that no longer exists, fails here.
 */
import { describe, expect, it } from 'vitest';
import { codeSpans, docsPage, readRepoFile, sourceFiles } from '../../../../test-support/docs.js';

/** Every `'ERR_…'` string literal in the packages' sources: thrown, recorded, declared in a codes union or read. */
function codesInSource(): Set<string> {
  const codes = new Set<string>();
  for (const pkg of ['core', 'verifier', 'node', 'browser']) {
    for (const f of sourceFiles(`packages/${pkg}/src`, ['.ts'])) {
      for (const m of readRepoFile(f).matchAll(/'(ERR_[A-Z0-9_]+)'/g)) codes.add(m[1]!);
    }
  }
  return codes;
}

describe('docs/errors.md', () => {
  const inSource = codesInSource();
  const documented = new Set([...codeSpans(docsPage('errors.md'))].filter((s) => /^ERR_[A-Z0-9_]+$/.test(s)));

  it('lists every code in the sources', () => {
    // The scan sees every package (a broken scan would pass vacuously).
    for (const c of ['ERR_DER_MALFORMED', 'ERR_SNP_REPORT_SIZE', 'ERR_KBS_VERSION', 'ERR_UPLOAD_READ']) expect(inSource).toContain(c);
    expect([...inSource].filter((c) => !documented.has(c)).sort()).toEqual([]);
  });

  it('lists no code the sources do not have', () => {
    expect([...documented].filter((c) => !inSource.has(c)).sort()).toEqual([]);
  });
});
