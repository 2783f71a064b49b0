import { defineConfig } from 'vitest/config';

/** The long loops (`npm run test:slow`): crash tests that run for minutes; `npm test` leaves them out. */
export default defineConfig({
  test: {
    include: ['tests/**/*.slow.test.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
