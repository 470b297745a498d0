import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Ends a test process whose code never returns (vitest's timeouts need the event loop), naming the test.
    setupFiles: ['test/helpers/watchdog.ts'],
    // A dot per test, then every failure in full: the whole suite's output fits on a screen when it passes.
    reporters: ['dot'],
    // What tests print (the local server's lines, alerts on the console) is shown for the tests that fail only.
    silent: 'passed-only',
    env: {
      // The functions' logs (Powertools) are silent in tests, 1,000 lines of rejected requests otherwise; a test
      // that asserts on them sets its own level before it imports a function (test/functions/logging.test.ts).
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The AWS SDK's warning that its releases after January 2027 need Node.js 22, once per test process (the
      // README says so once); the variable is the one the SDK documents to turn it off.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
