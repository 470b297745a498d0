import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What the soak learns from the server's output: its band job runs and anything that looks like a failure. */
export interface ServerLog {
  /** `band job: N series, ...` lines (printed by runs that processed buckets). */
  runSummaries: number;
  alertsOpened: number;
  alertsResolved: number;
  /** Lines that mean a promise may be broken, by what they are, the first few of each kept. */
  readonly failures: Map<string, { count: number; examples: string[] }>;
  /** Lines worth reporting that break no promise (a run put off by a lock held elsewhere), by what they are. */
  readonly notices: Map<string, { count: number; examples: string[] }>;
  /** Other stderr lines (warnings and the like), the first few kept. */
  otherStderr: number;
  readonly otherStderrExamples: string[];
}

/**
 * Lines that mean something failed, with the name the summary gives them, in the server's own wording: a run
 * that threw, series the job keeps aside, state shards it could not save for another reason than a lock held
 * by the request side (which the schedule retries on the next tick, see functions/local/band-job-schedule.ts), a
 * request that failed with a 500, the functions' JSON error logs, anything uncaught.
 */
const failurePatterns: readonly (readonly [string, RegExp])[] = [
  ['band job failed', /band job failed/],
  ['series kept aside by the band job', /^band job: series .* kept aside/],
  ['band job shards failed', /^band job: \d+ of its state shards left for the next run \((?![^)]*lock)/i],
  ['request failed (500)', /local server error/],
  ['error log', /"level":"ERROR"/],
  ['uncaught', /uncaught|unhandled/i],
];

/** Lines that report a retry the design expects: a lock held elsewhere puts a run or some shards off a tick. */
const noticePatterns: readonly (readonly [string, RegExp])[] = [
  [
    'band job shards left for the next run (lock held)',
    /^band job: \d+ of its state shards left for the next run/,
  ],
  ['band job run put off (database locked)', /^band job: the database .* stayed locked/],
  ['start refused (data dir in use)', /^Normalcy cannot start/],
];

const summaryPattern =
  /^band job: \d+ series, \d+ buckets, \d+ anomalous, (\d+) alerts opened, (\d+) resolved/;

const examplesKept = 5;

export interface ServerProcessOptions {
  /** The repository (where `functions/local/main.ts` is). */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The server's output goes here, appended across restarts. */
  readonly logDirectory: string;
  readonly port: number;
}

/**
 * The local server as a user runs it (`npm start` is `tsx functions/local/main.ts`), in its own process group: tsx
 * runs the server in a child process, so a kill must reach the whole group or the server would live on.
 */
export class ServerProcess {
  readonly log: ServerLog = {
    runSummaries: 0,
    alertsOpened: 0,
    alertsResolved: 0,
    failures: new Map(),
    notices: new Map(),
    otherStderr: 0,
    otherStderrExamples: [],
  };
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly output: WriteStream;
  /** How many times the server was started. */
  starts = 0;

  constructor(private readonly options: ServerProcessOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
    this.output = createWriteStream(join(options.logDirectory, 'server.log'), { flags: 'a' });
  }

  get logFile(): string {
    return join(this.options.logDirectory, 'server.log');
  }

  /**
   * Starts the server and waits until `GET /health` answers. Another engineer's data-dir lock may make a
   * start right after a kill fail while the old holder is gone but not yet reaped: a start that exits early
   * is tried again, up to `timeoutMs`. `environment` adds to (or overrides) the options' for this start.
   */
  async start(environment: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.spawn(environment);
      const ready = await this.waitForHealth(deadline);
      if (ready) return;
      if (Date.now() >= deadline) {
        await this.kill();
        throw new Error(`the server did not answer GET /health within ${timeoutMs} ms (see ${this.logFile})`);
      }
      await sleep(500);
    }
  }

  /** kill -9 of the whole process group, as a crash or the OOM killer would. */
  async kill(): Promise<void> {
    const { child, exited } = this;
    if (!child?.pid || !exited || child.exitCode !== null || child.signalCode !== null) return;
    this.note(`--- soak: SIGKILL to process group ${child.pid}`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    await exited;
  }

  /**
   * SIGTERM to the process group, as Ctrl-C or a service manager does; resolves with the exit code, or
   * undefined when the server had to be killed after `timeoutMs`.
   */
  async stop(timeoutMs = 15_000): Promise<number | null | undefined> {
    const { child, exited } = this;
    if (!child?.pid || !exited) return undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    this.note(`--- soak: SIGTERM to process group ${child.pid}`);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const code = await Promise.race([exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
    if (code !== 'timeout') return code;
    await this.kill();
    return undefined;
  }

  async close(): Promise<void> {
    await this.kill();
    await new Promise<void>((resolve) => this.output.end(() => resolve()));
  }

  private spawn(environment: NodeJS.ProcessEnv): void {
    this.starts += 1;
    this.note(`--- soak: start ${this.starts}`);
    const tsx = join(this.options.cwd, 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, ['functions/local/main.ts'], {
      cwd: this.options.cwd,
      env: { ...this.options.env, ...environment },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (line) => this.read(line, false));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => this.read(line, true));
  }

  private async waitForHealth(deadline: number): Promise<boolean> {
    const child = this.child;
    while (Date.now() < deadline) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return false;
      try {
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        if (response.ok) return true;
      } catch {}
      await sleep(100);
    }
    return false;
  }

  private read(line: string, fromStderr: boolean): void {
    this.output.write(`${fromStderr ? 'E ' : '  '}${line}\n`);
    const summary = summaryPattern.exec(line);
    if (summary) {
      this.log.runSummaries += 1;
      this.log.alertsOpened += Number(summary[1]);
      this.log.alertsResolved += Number(summary[2]);
    }
    for (const [patterns, map] of [
      [failurePatterns, this.log.failures],
      [noticePatterns, this.log.notices],
    ] as const) {
      const name = patterns.find(([, pattern]) => pattern.test(line))?.[0];
      if (name === undefined) continue;
      const entry = map.get(name) ?? { count: 0, examples: [] };
      entry.count += 1;
      if (entry.examples.length < examplesKept) entry.examples.push(line.slice(0, 400));
      map.set(name, entry);
      return;
    }
    // A failure's stack trace follows its line on stderr: only the first line of each is worth a count.
    if (fromStderr && !/^\s+at |^\s*[{}]?\s*$/.test(line)) {
      this.log.otherStderr += 1;
      if (this.log.otherStderrExamples.length < examplesKept) {
        this.log.otherStderrExamples.push(line.slice(0, 400));
      }
    }
  }

  private note(line: string): void {
    this.output.write(`${line} at ${new Date().toISOString()}\n`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
