/**
 * `@ccinfer/node` by role: the main entry is the client and loads no pod-side code. Each entry point is bundled
 * for Node from source with the esbuild tsup ships, and the modules in the bundle are read from its metafile.
 */
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const NODE_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const REPO = join(NODE_SRC, '..', '..', '..');

/** Modules of the pod-side roles, as repository paths. */
const POD_SIDE: Record<string, RegExp> = {
  gateway: /^packages\/node\/src\/gateway\//,
  'key broker': /^packages\/node\/src\/keybroker\//,
  simulator: /^packages\/node\/src\/(simulator\.ts|demo\/)/,
  'evidence simulator': /^packages\/verifier\/src\/testing/,
  cli: /^packages\/node\/src\/(cli\.ts|bin\.ts|cli\/)/,
};

type Esbuild = { build(o: Record<string, unknown>): Promise<{ metafile: { inputs: Record<string, unknown> } }> };

/** The repository files bundled for `entry` (platform node, workspace packages from their sources). */
async function bundledModules(entry: string): Promise<string[]> {
  const fromTsup = createRequire(createRequire(import.meta.url).resolve('tsup'));
  const mod = (await import(pathToFileURL(fromTsup.resolve('esbuild')).href)) as Esbuild & { default?: Esbuild };
  const esbuild = mod.default ?? mod;
  const { metafile } = await esbuild.build({
    entryPoints: [join(NODE_SRC, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    conditions: ['source'],
    write: false,
    outfile: 'bundle.js',
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(metafile.inputs)
    .map((p) => relative(REPO, join(process.cwd(), p)).replaceAll('\\', '/'))
    .filter((p) => !p.includes('node_modules'));
}

describe('@ccinfer/node entry points', () => {
  it('the main entry bundles the client and none of the gateway, key broker, simulator or CLI', async () => {
    const modules = await bundledModules('index.ts');
    expect(modules).toContain('packages/node/src/client.ts');
    expect(modules).toContain('packages/node/src/session-crypto.ts');
    for (const [role, pattern] of Object.entries(POD_SIDE)) {
      expect(modules.filter((m) => pattern.test(m)), role).toEqual([]);
    }
  }, 60_000);

  it('each role subpath carries its role (the check above can see them)', async () => {
    const gateway = await bundledModules('gateway/index.ts');
    expect(gateway.some((m) => POD_SIDE['gateway']!.test(m))).toBe(true);
    expect(gateway.filter((m) => POD_SIDE['key broker']!.test(m) || POD_SIDE['simulator']!.test(m))).toEqual([]);
    const keybroker = await bundledModules('keybroker/index.ts');
    expect(keybroker.some((m) => POD_SIDE['key broker']!.test(m))).toBe(true);
    expect(keybroker.filter((m) => POD_SIDE['gateway']!.test(m) || POD_SIDE['simulator']!.test(m))).toEqual([]);
    const simulator = await bundledModules('simulator.ts');
    expect(simulator.some((m) => POD_SIDE['simulator']!.test(m))).toBe(true);
    expect(simulator.some((m) => POD_SIDE['evidence simulator']!.test(m))).toBe(true);
  }, 120_000);
});
