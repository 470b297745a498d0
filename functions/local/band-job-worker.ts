/**
 * The band job's thread in local mode (started by band-job-thread.ts): its own SQLite connection on the same
 * file, so that the job's reads, engine updates and shard (de)serialisation never hold the server's event loop.
 * It runs one job at a time when asked, and hands notifications to the server's notifier.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { deliverBandRun, runBandJob, runShardBatch } from '../../lib/jobs/band-job.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import { systemClock } from '../../lib/ports/clock.ts';
import type { Notifier } from '../../lib/ports/notifier.ts';
import {
  type BandJobWorkerData,
  type FromBandJobWorker,
  revivedError,
  serialisedError,
  type ToBandJobWorker,
} from './band-job-messages.ts';

const port = parentPort;
if (!port) throw new Error('band-job-worker.ts runs as a worker thread (see band-job-thread.ts)');
/** What band-job-thread.ts hands the thread (beside its bootstrap's own entries). */
const { data } = workerData as { data: BandJobWorkerData };
const send = (message: FromBandJobWorker) => port.postMessage(message);

// Waiting for a lock here holds no one's event loop: the job may wait longer than a request would.
const { metrics, series, bands, states, alerts, incidents, feedback } = openSqliteStores(data.databaseFile, {
  busyTimeoutMs: data.busyTimeoutMs,
});

/** The server's clock when it has its own (a test's): each run request carries its time, fixed for the run. */
let runNow = 0;
const clock: Clock = data.ownClock ? { now: () => runNow } : systemClock;

/** Notifications go to the server's notifier, which answers when it delivered or failed. */
let nextNotification = 0;
const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
/** A notify message of the thread before it is given its id (each kind of message kept apart). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;
const delivered = (message: Unnumbered<Extract<FromBandJobWorker, { type: `notify${string}` }>>) =>
  new Promise<void>((resolve, reject) => {
    const id = nextNotification++;
    waiting.set(id, { resolve, reject });
    send({ ...message, id } as FromBandJobWorker);
  });
const notifier: Notifier = {
  notify: (notification) => delivered({ type: 'notify', notification }),
  // Only when the server's notifier can page incidents: without it, the job pages each alert on its own.
  ...(data.incidentNotifications && {
    notifyIncident: (notification) => delivered({ type: 'notify-incident', notification }),
  }),
  ...(data.stillOpenNotifications && {
    notifyStillOpen: (stillOpen) => delivered({ type: 'notify-still-open', stillOpen }),
  }),
};

port.on('message', (message: ToBandJobWorker) => {
  if (message.type === 'notified') {
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error === undefined) pending?.resolve();
    else pending?.reject(revivedError(message.error));
    return;
  }
  if (message.now !== undefined) runNow = message.now;
  const dependencies = {
    ...{ metrics, series, bands, states, alerts, incidents, feedback },
    ...{ notifier, engine: defaultEngine, clock },
  };
  if (message.type === 'run-shards') {
    runShardBatch(dependencies, data.options, message.shards).then(
      ({ report, summaries }) => send({ type: 'done-shards', id: message.id, report, summaries }),
      (error: unknown) => send({ type: 'failed', id: message.id, error: serialisedError(error) }),
    );
    return;
  }
  const run =
    message.type === 'deliver'
      ? deliverBandRun(dependencies, data.options, message.reports, async () => message.summaries)
      : runBandJob(dependencies, data.options);
  run.then(
    (summary) => send({ type: 'done', id: message.id, summary }),
    (error: unknown) => send({ type: 'failed', id: message.id, error: serialisedError(error) }),
  );
});
