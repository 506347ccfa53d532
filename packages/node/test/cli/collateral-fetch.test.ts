import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './io.js';

// The successful path (a bundle without its CRL, a fake KDS, the file loaded by a page) runs in Chromium:
// packages/browser/test/e2e.test.ts. Here: the exit statuses of the contract.
describe('ccinfer collateral fetch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccinfer-cf-'));

  it('exits 2 without --out or the bundle, and for an unreadable bundle', async () => {
    expect((await cli(['collateral', 'fetch', '--out', join(dir, 'x.json')])).code).toBe(2);
    expect((await cli(['collateral', 'fetch', join(dir, 'b.cbor')])).code).toBe(2);
    expect((await cli(['collateral', 'fetch', join(dir, 'missing.cbor'), '--out', join(dir, 'x.json')])).code).toBe(2);
  });

  it('exits 1 for bytes that are not an evidence bundle', async () => {
    const bad = join(dir, 'bad.cbor');
    writeFileSync(bad, 'not cbor');
    const r = await cli(['collateral', 'fetch', bad, '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(1);
  });
});
