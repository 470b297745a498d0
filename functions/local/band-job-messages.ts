/** What local mode's server and its band-job thread say to each other (band-job-thread.ts, band-job-worker.ts). */
import type { BandJobOptions, BandJobSummary, ShardBatchReport } from '../../lib/jobs/band-job.ts';
import type { IncidentNotification, Notification, StillOpen } from '../../lib/ports/notifier.ts';
import type { SeriesSummary } from '../../lib/ports/series-summary-store.ts';

export interface BandJobWorkerData {
  readonly databaseFile: string;
  readonly busyTimeoutMs: number;
  /** Plain data only (it crosses to the thread by structured clone). */
  readonly options: BandJobOptions;
  /** The server runs on a clock of its own (a test's): each run takes its time from the run request. */
  readonly ownClock: boolean;
  /** The server's notifier pages incidents (then the job groups alerts into incidents). */
  readonly incidentNotifications: boolean;
  /** The server's notifier re-sends what is still open each run (Alertmanager). */
  readonly stillOpenNotifications: boolean;
}

export type ToBandJobWorker =
  | { readonly type: 'run'; readonly id: number; readonly now: number | undefined }
  /** A worker pool's run (band-job-pool.ts): one batch of shards, then the last step on one thread. */
  | {
      readonly type: 'run-shards';
      readonly id: number;
      readonly now: number | undefined;
      readonly shards: readonly string[];
    }
  | {
      readonly type: 'deliver';
      readonly id: number;
      readonly now: number | undefined;
      readonly reports: readonly ShardBatchReport[];
      readonly summaries: readonly SeriesSummary[];
    }
  | { readonly type: 'notified'; readonly id: number; readonly error: SerialisedError | undefined };

export type FromBandJobWorker =
  | { readonly type: 'done'; readonly id: number; readonly summary: BandJobSummary }
  | {
      readonly type: 'done-shards';
      readonly id: number;
      readonly report: ShardBatchReport;
      readonly summaries: readonly SeriesSummary[];
    }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerialisedError }
  | { readonly type: 'notify'; readonly id: number; readonly notification: Notification }
  | { readonly type: 'notify-incident'; readonly id: number; readonly notification: IncidentNotification }
  | { readonly type: 'notify-still-open'; readonly id: number; readonly stillOpen: StillOpen };

/**
 * An error as it crosses threads: what the server needs to tell a locked database from a failure, and what
 * the job records of a failed notification (`name: message`).
 */
export interface SerialisedError {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly stack: string | undefined;
}

export function serialisedError(error: unknown): SerialisedError {
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
  const code = (error as { code?: unknown } | null)?.code;
  return { name, message, stack, code: typeof code === 'string' ? code : undefined };
}

/** The error again on the other side (an Error with the same name, message, code and stack). */
export function revivedError(error: SerialisedError): Error {
  return Object.assign(new Error(error.message), { name: error.name, code: error.code, stack: error.stack });
}
