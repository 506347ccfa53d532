import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts', 'src/trustee.ts', 'src/sigstore.ts', 'src/internal.ts'],
  format: ['esm', 'cjs'],
  // The package tsconfig is a composite project for `tsc -b`; the declaration bundler wants a plain one.
  dts: { compilerOptions: { composite: false, incremental: false } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
