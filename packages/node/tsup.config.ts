import { defineConfig } from 'tsup';

export default defineConfig({
  // One output per package entry point (package.json exports), plus the `ccinfer` executable.
  entry: { index: 'src/index.ts', gateway: 'src/gateway/index.ts', keybroker: 'src/keybroker/index.ts', simulator: 'src/simulator.ts', cli: 'src/cli.ts', bin: 'src/bin.ts', openai: 'src/openai.ts' },
  format: ['esm', 'cjs'],
  // The package tsconfig is a composite project for `tsc -b`; the declaration bundler wants a plain one.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
