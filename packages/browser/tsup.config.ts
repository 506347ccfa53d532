import { defineConfig } from 'tsup';
import { BROWSER_CONDITIONS, noNodeBuiltins } from './build/bundle.js';

export default defineConfig([
  // ESM (and CJS) for bundlers: workspace and third-party packages stay external.
  {
    entry: ['src/index.ts', 'src/provenance.ts'],
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { composite: false } },
    sourcemap: true,
    clean: ['!bundle/**'],
    target: 'es2022',
    platform: 'browser',
    esbuildPlugins: [noNodeBuiltins as never],
  },
  // One minified file for <script type="module">: everything bundled, no Node built-in allowed (build/bundle.ts);
  // ccinfer-provenance.min.js is the same client with the WebCrypto Sigstore verifier (src/bundle/with-provenance.ts).
  {
    entry: { ccinfer: 'src/index.ts', 'ccinfer-provenance': 'src/bundle/with-provenance.ts' },
    outDir: 'dist/bundle',
    outExtension: () => ({ js: '.min.js' }),
    format: ['esm'],
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    minify: true,
    target: 'es2022',
    platform: 'browser',
    noExternal: [/.*/],
    esbuildPlugins: [noNodeBuiltins as never],
    esbuildOptions(o) {
      o.conditions = BROWSER_CONDITIONS;
      o.mainFields = ['browser', 'module', 'main'];
      o.legalComments = 'none';
    },
  },
]);
