import { defineConfig } from 'vitest/config';
import { defaultClientConditions, defaultServerConditions } from 'vite';

// One `vitest run` covers every package. The custom `source` export condition makes tests import
// workspace packages from their TypeScript sources, so no build is needed before testing.
export default defineConfig({
  resolve: { conditions: ['source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    projects: ['core', 'verifier', 'node', 'browser'].map((name) => ({
      extends: true,
      test: {
        name,
        root: `./packages/${name}`,
        include: ['test/**/*.test.ts'],
        environment: 'node',
        testTimeout: 30_000,
      },
    })),
  },
});
