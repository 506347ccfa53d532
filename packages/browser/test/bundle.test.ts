/**
 * The browser build's own guarantees, checked without a browser: the bundle graph holds no Node built-in (the
 * build fails on one), and the whole client stays within its gzip budget (docs/design-notes.md "Budgets": ≤ 110 KB).
 * The Sigstore verifier (`ccinfer-provenance.min.js`, `@ccinfer/browser/provenance`) is outside that budget: the
 * main bundle must not carry it, and what it adds is bounded (docs/design-notes.md "Sigstore in the browser").
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildBundle, ENTRY, PROVENANCE_ENTRY } from '../build/bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'ccinfer-bundle-test-'));

describe('browser bundle', () => {
  it('whole client: one ESM file within the 110 KB gzip -9 budget, with no Node built-in', async () => {
    const file = join(dir, 'ccinfer.min.js');
    const meta = await buildBundle(ENTRY, file);
    expect(Object.keys(meta.outputs)).toHaveLength(1);
    const inputs = Object.keys(meta.inputs);
    expect(inputs.filter((p) => /^node:|^(fs|path|crypto|buffer|stream|util)$/.test(p))).toEqual([]);
    // No stand-in is needed any more: HPKE is core's own (session/hpke.ts), so @hpke/common's `import('crypto')`
    // fallback is no longer in the graph.
    expect(inputs.filter((p) => p.startsWith('ccinfer-absent-builtin:'))).toEqual([]);
    expect(inputs.filter((p) => p.includes('@hpke'))).toEqual([]);
    const bytes = readFileSync(file);
    const gz = gzipSync(bytes, { level: 9 }).length;
    console.log(`browser bundle: ${bytes.length} B minified, ${gz} B gzip -9`);
    expect(gz).toBeLessThanOrEqual(110 * 1024);
    expect(bytes.toString('utf8')).not.toMatch(/from\s*"node:|import\("node:|require\("node:/);
  });

  it('signed provenance: ccinfer-provenance.min.js adds the WebCrypto Sigstore verifier and trusted root (≤ 10 KB gzip), none of it in the main bundle', async () => {
    const main = join(dir, 'main.min.js');
    const prov = join(dir, 'ccinfer-provenance.min.js');
    await buildBundle(ENTRY, main);
    const meta = await buildBundle(PROVENANCE_ENTRY, prov);
    const inputs = Object.keys(meta.inputs);
    expect(inputs.filter((p) => /^node:|^(fs|path|crypto|buffer|stream|util)$/.test(p) || p.includes('@sigstore/'))).toEqual([]);
    const [m, p] = [readFileSync(main), readFileSync(prov)];
    const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
    console.log(`provenance adds ${p.length - m.length} B minified, ${gz(p) - gz(m)} B gzip -9 (ccinfer-provenance.min.js: ${gz(p)} B gzip -9)`);
    expect(gz(p) - gz(m)).toBeGreaterThan(0);
    expect(gz(p) - gz(m)).toBeLessThanOrEqual(10 * 1024);
    // The trusted root (its Rekor URL) and the verifier are only in the provenance build.
    expect(m.toString('utf8')).not.toContain('rekor.sigstore.dev');
    expect(m.toString('utf8')).not.toContain('DSSEv1');
    expect(p.toString('utf8')).toContain('rekor.sigstore.dev');
  });

  it.each([
    ["import { readFileSync } from 'node:fs'; export const f = readFileSync;", 'node:fs'],
    ["import { Buffer } from 'buffer'; export const b = Buffer;", 'buffer'],
    ["export const c = () => import('crypto');", 'crypto'],
  ])('the build refuses a Node built-in in the graph: %s', async (src, name) => {
    const entry = join(dir, `bad-${name.replace(':', '-')}.ts`);
    writeFileSync(entry, src);
    const err = (await buildBundle(entry, join(dir, 'bad.js')).catch((e: unknown) => e)) as { errors?: { pluginName: string }[] };
    expect(err.errors?.map((e) => e.pluginName)).toEqual(['ccinfer-no-node-builtins']);
  });
});
