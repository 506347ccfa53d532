/**
 * What `npm publish` would ship: every package tarball carries the Apache-2.0 LICENSE (the repository's, byte for
 * byte) and the metadata registries and users read (`repository`, `bugs`, `homepage`, `keywords`, `license`),
 * and `workspace:` ranges are replaced by versions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED, REPO, packAll, tarballFile, tarballFiles } from '../../../../test-support/packed.js';

describe('package tarballs', () => {
  const packed = packAll();
  const license = readFileSync(join(REPO, 'LICENSE'), 'utf8');

  it('the repository LICENSE is the Apache License 2.0', () => {
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it.each(PUBLISHED)('@ccinfer/%s: LICENSE and publishing fields', (p) => {
    const tgz = packed.tarballs[p]!;
    expect(tarballFiles(tgz)).toContain('package/LICENSE');
    expect(tarballFile(tgz, 'LICENSE')).toBe(license);
    const m = JSON.parse(tarballFile(tgz, 'package.json')) as Record<string, any>;
    expect(m['name']).toBe(`@ccinfer/${p}`);
    expect(m['license']).toBe('Apache-2.0');
    expect(m['repository']).toMatchObject({ type: 'git', directory: `packages/${p}` });
    expect(String(m['repository'].url)).toMatch(/^git\+https:\/\//);
    expect(String(m['bugs']?.url)).toMatch(/^https:\/\/.+\/issues$/);
    expect(String(m['homepage'])).toMatch(/^https:\/\//);
    expect(Array.isArray(m['keywords']) && m['keywords'].length).toBeGreaterThan(3);
    expect(m['files']).toContain('LICENSE');
    expect(JSON.stringify(m['dependencies'] ?? {})).not.toContain('workspace:');
  });

  it('openai is an optional peer of @ccinfer/node, not a dependency', () => {
    const m = JSON.parse(tarballFile(packed.tarballs['node']!, 'package.json')) as Record<string, any>;
    expect(m['peerDependencies']['openai']).toMatch(/^\^6/);
    expect(m['peerDependenciesMeta']['openai']).toEqual({ optional: true });
    expect(m['dependencies']['openai']).toBeUndefined();
    expect(m['exports']['./openai']).toBeDefined();
  });
});
