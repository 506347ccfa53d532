/**
 * How the browser bundles are built, shared by tsup.config.ts, the Chromium tests and `pnpm bench`:
 * platform browser, workspace packages bundled from their TypeScript sources (the `source` export condition),
 * and a guard that fails the build when anything in the graph resolves to a Node built-in.
 */
import { builtinModules, createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]!]));

/** The subset of esbuild's plugin API used here (typed locally: esbuild is tsup's dependency, not ours). */
export interface EsbuildPlugin {
  name: string;
  setup(build: {
    onResolve(
      options: { filter: RegExp; namespace?: string },
      callback: (args: { path: string; importer: string; kind: string }) => { errors?: { text: string }[] } | undefined,
    ): void;
  }): void;
}

/** esbuild plugin: any `node:*` or Node built-in import in the browser graph is a build error. */
export const noNodeBuiltins: EsbuildPlugin = {
  name: 'ccinfer-no-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:][a-z0-9_/:.-]*$/ }, (args) => {
      const bare = args.path.startsWith('node:') ? args.path.slice(5) : args.path;
      if (!args.path.startsWith('node:') && !BUILTINS.has(bare.split('/')[0]!)) return undefined;
      return { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer}: the browser graph must use Web APIs only` }] };
    });
  },
};

/** Export conditions: TypeScript sources of workspace packages first, then what a bundler picks for browsers. */
export const BROWSER_CONDITIONS = ['source', 'browser', 'import', 'module', 'default'];

/** The package's public entry (sources). */
export const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** The client plus the WebCrypto Sigstore verifier (`ccinfer-provenance.min.js`). */
export const PROVENANCE_ENTRY = fileURLToPath(new URL('../src/bundle/with-provenance.ts', import.meta.url));

/** esbuild options for one minified ESM file (loadable with `<script type="module">`). */
export function bundleOptions(entry: string, outfile: string): Record<string, unknown> {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: BROWSER_CONDITIONS,
    mainFields: ['browser', 'module', 'main'],
    plugins: [noNodeBuiltins],
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    write: true,
  };
}

/** Builds `entry` into `outfile` with the esbuild that tsup ships. Returns esbuild's metafile. */
export async function buildBundle(entry: string, outfile: string): Promise<{ inputs: Record<string, { bytes: number }>; outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }> }> {
  type Esbuild = { build(o: Record<string, unknown>): Promise<{ metafile: never }> };
  const mod = (await import(resolveEsbuild())) as Esbuild & { default?: Esbuild };
  const esbuild = mod.default ?? mod;
  return (await esbuild.build(bundleOptions(entry, outfile))).metafile;
}

/** esbuild as resolved from tsup (a root devDependency), so bundles use the toolchain's own copy. */
function resolveEsbuild(): string {
  const fromTsup = createRequire(createRequire(import.meta.url).resolve('tsup'));
  return pathToFileURL(fromTsup.resolve('esbuild')).href;
}
