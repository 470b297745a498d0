import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'scripts', 'test-prerequisites.sh');
const sandbox = mkdtempSync(join(tmpdir(), 'normalcy-prerequisites-'));
const calls = join(sandbox, 'calls.log');

/**
 * Stand-ins for the system's tools, first on PATH: dpkg-query says every package is installed except those in
 * $MISSING, id says $FAKE_UID, apt-get logs its arguments (and fails when $APT_FAILS is set), sudo runs its
 * command when $PASSWORDLESS_SUDO is set and refuses otherwise. Real ones would install on this machine.
 */
const tools: Record<string, string> = {
  'dpkg-query':
    'for last; do :; done; for p in $MISSING; do [ "$p" = "$last" ] && exit 1; done; printf installed',
  id: 'echo "$FAKE_UID"',
  'apt-get': `echo "apt-get $*" >> "${calls}"; [ -z "$APT_FAILS" ]`,
  sudo: `[ -n "$PASSWORDLESS_SUDO" ] || exit 1; [ "$1" = -n ] && shift; echo "sudo $1" >> "${calls}"; "$@"`,
};
for (const [name, body] of Object.entries(tools)) {
  const file = join(sandbox, name);
  writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(file, 0o755);
}

afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

function prerequisites(env: Record<string, string>) {
  rmSync(calls, { force: true });
  const run = spawnSync('bash', [script], {
    encoding: 'utf8',
    env: { PATH: `${sandbox}:/usr/bin:/bin`, FAKE_UID: '0', MISSING: '', APT_FAILS: '', ...env },
  });
  return {
    status: run.status,
    stderr: run.stderr,
    stdout: run.stdout,
    calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [],
  };
}

describe('Script: scripts/test-prerequisites.sh', () => {
  it('does nothing, and never runs apt, when every package is installed', () => {
    const run = prerequisites({});
    expect(run).toEqual({ status: 0, stderr: '', stdout: '', calls: [] });
  });

  it('installs only the missing packages as root', () => {
    const run = prerequisites({ MISSING: 'prometheus chromium' });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends chromium prometheus',
    ]);
  });

  it('installs them through sudo when sudo needs no password', () => {
    const run = prerequisites({
      MISSING: 'prometheus-alertmanager',
      FAKE_UID: '1000',
      PASSWORDLESS_SUDO: '1',
    });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      'sudo true',
      'sudo apt-get',
      'apt-get update -qq',
      'sudo apt-get',
      'apt-get install -y -qq --no-install-recommends prometheus-alertmanager',
    ]);
  });

  it('names the exact install command and fails, before any test runs, when it cannot install', () => {
    const run = prerequisites({ MISSING: 'python3-statsd collectd-core', FAKE_UID: '1000' });
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toContain(
      '  sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-statsd collectd-core\n',
    );
  });

  it('fails with the command it ran when apt fails', () => {
    const run = prerequisites({ MISSING: 'libyajl2', APT_FAILS: '1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'The command was: apt-get update && apt-get install -y --no-install-recommends libyajl2',
    );
  });

  it('runs before the tests in npm test and in CI', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.test).toMatch(/^bash scripts\/test-prerequisites\.sh && vitest run$/);
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toContain('bash scripts/test-prerequisites.sh');
  });
});
