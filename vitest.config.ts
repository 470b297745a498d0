import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The functions' logs (Powertools) are silent in tests, 1,000 lines of rejected requests otherwise; a test
    // that asserts on them sets its own level before it imports a function (test/functions/logging.test.ts).
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
