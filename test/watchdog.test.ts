import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningProcess, startProcess } from './helpers/processes.ts';

const root = join(import.meta.dirname, '..');
let vitest: RunningProcess | undefined;
// In its own process group: should the watchdog fail, the spinning test process is ended with its parent.
afterAll(() => vitest?.stop());

describe('The test watchdog (test/helpers/watchdog.ts)', () => {
  it('ends a test file whose code never returns, naming the test, instead of holding CI forever', async () => {
    const began = Date.now();
    vitest = startProcess(
      join(root, 'node_modules', '.bin', 'vitest'),
      ['run', '--config', join(root, 'test', 'fixtures', 'watchdog', 'vitest.config.ts')],
      { NORMALCY_TEST_WATCHDOG_MS: '2000' },
      root,
    );
    const exited = new Promise<number | null>((resolve) => vitest?.child.once('exit', resolve));
    await vitest.waitFor(
      /vitest watchdog: the event loop has not turned for \d+ s in "hang\.fixture\.ts > spins forever"/,
      40_000,
    );
    expect(await exited, vitest.output()).toBe(1);
    expect(Date.now() - began).toBeLessThan(40_000);
  });
});
