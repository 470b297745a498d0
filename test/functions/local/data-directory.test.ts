import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DataDirectoryInUseError } from '../../../functions/local/data-directory.ts';
import { startLocalServer } from '../../../functions/local/server.ts';
import { type RunningProcess, startProcess } from '../../helpers/processes.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const scratch = mkdtempSync(join(tmpdir(), 'normalcy-data-dir-'));
let counter = 0;
/** A data directory that does not exist yet (the server makes it). */
const freshDirectory = () => join(scratch, `data-${counter++}`);

/** `npm start`'s command (tsx functions/local/main.ts) on a data directory, on a free port. */
const startServerProcess = (dataDir: string): RunningProcess =>
  startProcess(
    tsx,
    [join(root, 'functions', 'local', 'main.ts')],
    { PORT: '0', NORMALCY_DATA_DIR: dataDir },
    root,
  );

/** Runs a command to its end (ended after 20 s: a server that starts never ends): its exit code and output. */
function runToEnd(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, args, { cwd: root, env: { ...process.env, ...env }, timeout: 20_000 });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The command line of a running process (Linux). */
const commandLineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('the data directory belongs to one server at a time', () => {
  const running: RunningProcess[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((process) => process.stop()));
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses a second npm start on the same directory with one line naming it and the first server', async () => {
    const dataDir = freshDirectory();
    const first = startServerProcess(dataDir);
    running.push(first);
    await first.waitFor('Normalcy is running');

    const second = await runToEnd([join('functions', 'local', 'main.ts')], {
      PORT: '0',
      NORMALCY_DATA_DIR: dataDir,
    });

    expect(second.code).toBe(1);
    const lines = second.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    const match =
      /^Normalcy cannot start: the data directory (\S+) is in use by another Normalcy server \(pid (\d+)\); stop it, or set NORMALCY_DATA_DIR to another directory$/.exec(
        lines[0] ?? '',
      );
    expect(match?.[1]).toBe(dataDir);
    // The pid is the first server's process (the one running main.ts), alive.
    expect(commandLineOf(Number(match?.[2]))).toContain(join('functions', 'local', 'main.ts'));
    expect(first.child.exitCode).toBeNull();
  });

  it('refuses the demo on a directory in use, before it deletes anything', async () => {
    const dataDir = freshDirectory();
    const server = await startLocalServer({ dataDir, port: 0, notifier: { notify: async () => {} } });
    try {
      await server.stores.series.recordSeries([
        { id: 'kept', name: 'kept', type: 'gauge', dimensions: {}, minTimestamp: 1, maxTimestamp: 1 },
      ]);

      const demo = await runToEnd([join('scripts', 'demo.ts'), '--exit'], {
        PORT: '0',
        NORMALCY_DEMO_DIR: dataDir,
      });

      expect(demo.code).toBe(1);
      expect(demo.output.trim()).toBe(
        `The demo cannot start: the data directory ${dataDir} is in use by another Normalcy server ` +
          `(pid ${process.pid}); stop it, or set NORMALCY_DEMO_DIR to another directory`,
      );
      expect(await server.stores.series.getSeries('kept')).toMatchObject({ id: 'kept' });
    } finally {
      await server.close();
    }
  });

  it('refuses a second server in the same process, and lets one start once the first closed', async () => {
    const dataDir = freshDirectory();
    const first = await startLocalServer({ dataDir, port: 0 });
    await expect(startLocalServer({ dataDir, port: 0 })).rejects.toThrow(
      new DataDirectoryInUseError(dataDir, process.pid),
    );
    await first.close();

    const second = await startLocalServer({ dataDir, port: 0 });
    await second.close();
  });

  it('starts on a directory whose server was killed with SIGKILL', async () => {
    const dataDir = freshDirectory();
    const killed = startServerProcess(dataDir);
    running.push(killed);
    await killed.waitFor('Normalcy is running');
    const killedPid = readFileSync(join(dataDir, 'normalcy.pid'), 'utf8').trim();
    process.kill(-(killed.child.pid ?? 0), 'SIGKILL');
    await new Promise((resolve) => killed.child.once('exit', resolve));
    // What it left: its lock file and the pid of a process that no longer runs.
    expect(existsSync(join(dataDir, 'normalcy.lock'))).toBe(true);
    expect(existsSync(join(dataDir, 'normalcy.pid'))).toBe(true);

    const restarted = startServerProcess(dataDir);
    running.push(restarted);
    await restarted.waitFor('Normalcy is running');
    const pid = readFileSync(join(dataDir, 'normalcy.pid'), 'utf8').trim();
    expect(pid).not.toBe(killedPid);
    expect(commandLineOf(Number(pid))).toContain(join('functions', 'local', 'main.ts'));
  });

  it('keeps the directory to its owner (0700) and its files to their owner (0600)', async () => {
    const dataDir = freshDirectory();
    const server = startServerProcess(dataDir);
    running.push(server);
    await server.waitFor('Normalcy is running');

    expect(modeOf(dataDir)).toBe(0o700);
    for (const file of [
      'normalcy.db',
      'normalcy.db-wal',
      'normalcy.db-shm',
      'api-key',
      'normalcy.lock',
      'normalcy.pid',
    ]) {
      expect([file, modeOf(join(dataDir, file))]).toEqual([file, 0o600]);
    }
  });

  it('narrows the files an older version left readable by others', async () => {
    const dataDir = freshDirectory();
    const first = await startLocalServer({ dataDir, port: 0 });
    await first.close();
    for (const file of ['normalcy.db', 'normalcy.db-wal', 'normalcy.db-shm']) {
      if (existsSync(join(dataDir, file))) chmodSync(join(dataDir, file), 0o644);
    }

    const second = await startLocalServer({ dataDir, port: 0 });
    try {
      for (const file of ['normalcy.db', 'normalcy.db-wal', 'normalcy.db-shm']) {
        expect([file, modeOf(join(dataDir, file))]).toEqual([file, 0o600]);
      }
    } finally {
      await second.close();
    }
  });

  it('prints the API key once; the examples read it from the environment', async () => {
    const dataDir = freshDirectory();
    const server = startServerProcess(dataDir);
    running.push(server);
    await server.waitFor('Press Ctrl-C');
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();

    expect(server.output().split(key)).toHaveLength(2);
    expect(server.output()).toContain(`export NORMALCY_API_KEY=$(cat ${join(dataDir, 'api-key')})`);
    expect(server.output()).toContain('-H "Authorization: Bearer $NORMALCY_API_KEY"');
  });
});
