import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'normalcy-demo-env-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('refuses a PORT that is not a port, naming it, before it touches its data (Number() took NaN)', () => {
  const dataDir = join(scratch, 'demo');
  const run = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'scripts', 'demo.ts'), '--exit'],
    {
      cwd: root,
      env: { ...process.env, PORT: '80a', NORMALCY_DEMO_DIR: dataDir },
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  expect(run.status).toBe(1);
  expect(`${run.stdout}${run.stderr}`.trim()).toBe(
    'The demo cannot start: environment variable PORT must be a port number (0 to 65535), not "80a"',
  );
  expect(existsSync(dataDir)).toBe(false);
});
