import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'normalcy-main-env-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm start`'s command with these settings, run to its end (a server that starts is ended after 20 s). */
const start = (env: Record<string, string>) =>
  spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'functions', 'local', 'main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

/** A number setting that is not a number stops `npm start` with one line naming it (Number() took NaN). */
describe('npm start reads its numbers from the environment, naming a bad one', () => {
  it.each([
    ['PORT', 'eighty', 'a port number (0 to 65535)'],
    ['PORT', '70000', 'a port number (0 to 65535)'],
    ['NORMALCY_BAND_INTERVAL_MS', '1m', 'a positive number'],
    ['NORMALCY_STATE_SHARDS', '2.5', 'a positive whole number'],
  ])('refuses %s=%s before it makes the data directory', (name, value, what) => {
    const dataDir = join(scratch, `${name}-${value}`);
    const run = start({ PORT: '0', NORMALCY_DATA_DIR: dataDir, [name]: value });
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`.trim()).toBe(
      `Normalcy cannot start: environment variable ${name} must be ${what}, not ${JSON.stringify(value)}`,
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});
