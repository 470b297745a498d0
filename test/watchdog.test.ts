import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('The test watchdog (test/helpers/watchdog.ts)', () => {
  it('ends a test file whose code never returns, naming the test, instead of holding CI forever', () => {
    const began = Date.now();
    const run = spawnSync(
      join(root, 'node_modules', '.bin', 'vitest'),
      ['run', '--config', join(root, 'test', 'fixtures', 'watchdog', 'vitest.config.ts')],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NORMALCY_TEST_WATCHDOG_MS: '2000' },
        timeout: 50_000,
        killSignal: 'SIGKILL',
      },
    );
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(1);
    expect(output).toMatch(
      /vitest watchdog: the event loop has not turned for \d+ s in "hang\.fixture\.ts > spins forever"/,
    );
    expect(Date.now() - began).toBeLessThan(40_000);
  });
});
