import { defaultServerConditions } from 'vite';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // `import 'overseer'` in a test resolves to the TypeScript source (package.json's `source` condition), not dist/.
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    include: ['tests/**/*.test.ts'],
    // The long loops run in `npm run test:slow` (vitest.slow.config.ts).
    exclude: [...configDefaults.exclude, 'tests/**/*.slow.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/cli/**'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 85 },
    },
  },
});
