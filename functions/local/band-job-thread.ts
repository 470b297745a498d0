import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BandJobOptions, BandJobSummary, ShardBatchReport } from '../../lib/jobs/band-job.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Notifier } from '../../lib/ports/notifier.ts';
import type { SeriesSummary } from '../../lib/ports/series-summary-store.ts';
import {
  type BandJobWorkerData,
  type FromBandJobWorker,
  revivedError,
  type SerialisedError,
  serialisedError,
  type ToBandJobWorker,
} from './band-job-messages.ts';

/** The band job met a database locked by another connection for longer than it waits: it runs again next time. */
export class DatabaseBusyError extends Error {
  override readonly name = 'DatabaseBusyError';
  constructor(databaseFile: string, options?: { cause?: unknown }) {
    super(
      `the database ${databaseFile} stayed locked by another connection; the band job runs again next time`,
      options,
    );
  }
}

export interface BandJobThreadOptions {
  readonly databaseFile: string;
  /** How long the job's writes wait for another connection's (its waits hold no request). */
  readonly busyTimeoutMs: number;
  /** Plain data only: it crosses to the thread by structured clone. */
  readonly options: BandJobOptions;
  /** Delivers the job's notifications, on the server's thread. */
  readonly notifier: Notifier;
  /** The server's clock when it is not the system's (a test's): each run is at its time when asked. */
  readonly clock: Clock | undefined;
}

/** Runs the band job. */
export interface BandJobRunner {
  /** One run; runs asked for while one is going wait for it (one at a time). */
  run(): Promise<BandJobSummary>;
  close(): Promise<void>;
}

/** A band-job thread a worker pool drives (band-job-pool.ts): a batch of shards, or the run's last step. */
export interface BandJobThreadRunner extends BandJobRunner {
  runShards(
    shards: readonly string[],
  ): Promise<{ readonly report: ShardBatchReport; readonly summaries: readonly SeriesSummary[] }>;
  deliver(reports: readonly ShardBatchReport[], summaries: readonly SeriesSummary[]): Promise<BandJobSummary>;
}

/**
 * The band job on a worker thread of its own, with its own SQLite connection to the same file (WAL: its reads
 * never wait for the server's writes, nor the server's reads for its). The thread starts on the first run and
 * stays for the next ones (the job keeps what it learned of the last run, as a Lambda container does); the
 * server's event loop only passes messages, so requests are answered while the job computes. Notifications
 * come back to the server's notifier (a test's, the console, a webhook), one at a time as the job delivers them.
 *
 * The thread runs this file's sibling band-job-worker.ts: through tsx's loader, registered in the thread, as
 * TypeScript is run everywhere here (npm start, vitest, the bundled benchmarks).
 */
export function bandJobThread(config: BandJobThreadOptions): BandJobThreadRunner {
  let worker: Worker | undefined;
  let nextId = 0;
  // Each run's answer: a summary, or a batch's report and summaries (a pool's run).
  const runs = new Map<number, { resolve: (answer: never) => void; reject: (error: Error) => void }>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const failAll = (error: Error) => {
    for (const run of runs.values()) run.reject(error);
    runs.clear();
  };

  function start(): Worker {
    const data: BandJobWorkerData = {
      databaseFile: config.databaseFile,
      busyTimeoutMs: config.busyTimeoutMs,
      options: config.options,
      ownClock: config.clock !== undefined,
      incidentNotifications: config.notifier.notifyIncident !== undefined,
      stillOpenNotifications: config.notifier.notifyStillOpen !== undefined,
    };
    const thread = new Worker(bootstrap, {
      eval: true,
      workerData: { entry: workerEntry, loader: tsxLoader, data },
      // Not the parent's flags: the bootstrap registers the only loader the thread needs.
      execArgv: [],
    });
    // The HTTP server keeps the process alive; an idle job thread should not.
    thread.unref();
    const post = (message: ToBandJobWorker) => thread.postMessage(message);
    thread.on('message', (message: FromBandJobWorker) => {
      if (
        message.type === 'notify' ||
        message.type === 'notify-incident' ||
        message.type === 'notify-still-open'
      ) {
        const delivered =
          message.type === 'notify'
            ? config.notifier.notify(message.notification)
            : message.type === 'notify-incident'
              ? (config.notifier.notifyIncident?.(message.notification) ??
                Promise.reject(new Error('the notifier cannot page incidents')))
              : (config.notifier.notifyStillOpen?.(message.stillOpen) ??
                Promise.reject(new Error('the notifier does not re-send open alerts')));
        delivered.then(
          () => post({ type: 'notified', id: message.id, error: undefined }),
          (error: unknown) => post({ type: 'notified', id: message.id, error: serialisedError(error) }),
        );
        return;
      }
      const run = runs.get(message.id);
      runs.delete(message.id);
      if (message.type === 'done') run?.resolve(message.summary as never);
      else if (message.type === 'done-shards') {
        run?.resolve({ report: message.report, summaries: message.summaries } as never);
      } else run?.reject(fromWorker(message.error, config.databaseFile));
    });
    thread.on('error', (error) => {
      worker = undefined;
      failAll(error);
    });
    thread.on('exit', (code) => {
      if (worker === thread) worker = undefined;
      failAll(
        new Error(
          closed ? 'the server closed during the band job' : `the band job's thread exited (${code})`,
        ),
      );
    });
    return thread;
  }

  function ask<T>(request: (id: number, now: number | undefined) => ToBandJobWorker): Promise<T> {
    if (closed) return Promise.reject(new Error('the server is closed'));
    worker ??= start();
    const id = nextId++;
    const thread = worker;
    return new Promise<T>((resolve, reject) => {
      runs.set(id, { resolve: resolve as (answer: never) => void, reject });
      // Referenced while a run is going, so that a script awaiting it is not ended under it.
      thread.ref();
      thread.postMessage(request(id, config.clock?.now()));
    }).finally(() => thread.unref());
  }
  /** One request at a time: asked for while one is going, it waits for it. */
  function inTurn<T>(request: (id: number, now: number | undefined) => ToBandJobWorker): Promise<T> {
    const once = () => ask<T>(request);
    const run = queue.then(once, once);
    queue = run.catch(() => undefined);
    return run;
  }

  return {
    run: () => inTurn<BandJobSummary>((id, now) => ({ type: 'run', id, now })),
    runShards: (shards) => inTurn((id, now) => ({ type: 'run-shards', id, now, shards })),
    deliver: (reports, summaries) =>
      inTurn<BandJobSummary>((id, now) => ({ type: 'deliver', id, now, reports, summaries })),
    async close() {
      closed = true;
      const thread = worker;
      worker = undefined;
      // The job is safe to stop anywhere: what it committed stays, the rest is done again by the next run.
      if (thread) await thread.terminate();
    },
  };
}

/** The job's thread: this directory's band-job-worker.ts. */
const workerEntry = pathToFileURL(join(import.meta.dirname, 'band-job-worker.ts')).href;
/** tsx's loader API, found from here (the thread has no tsx flags of its own). */
const tsxLoader = import.meta.resolve('tsx/esm/api');

/** What the thread runs first (CommonJS, as eval'd worker code is): tsx's loader, then the worker module. */
const bootstrap = `
const { workerData } = require('node:worker_threads');
import(workerData.loader)
  .then((tsx) => tsx.register())
  .then(() => import(workerData.entry));
`;

function fromWorker(error: SerialisedError, databaseFile: string): Error {
  const cause = revivedError(error);
  if (error.code?.startsWith('SQLITE_BUSY')) return new DatabaseBusyError(databaseFile, { cause });
  return cause;
}
