import type { BandJobSummary } from '../../lib/jobs/band-job.ts';
import { DatabaseBusyError } from './band-job-thread.ts';

/** Where the schedule reports each run. */
export interface ScheduleLog {
  info(line: string): void;
  error(line: string, error?: unknown): void;
}

/**
 * Runs the band job every `intervalMs` (what the schedule does in the cloud), skipping a tick while a run is
 * still going. A run that met a database locked by another connection is not a failure: the shards it could
 * not save (or the whole run) are said in one line and the next tick tries again; series kept aside are said
 * too.
 */
export function scheduleBandJob(
  run: () => Promise<BandJobSummary>,
  intervalMs: number,
  log: ScheduleLog = {
    info: (line) => console.log(line),
    error: (line, error) => console.error(line, error),
  },
): { stop(): void } {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const summary = await run();
      if (summary.bucketsProcessed > 0) {
        log.info(
          `band job: ${summary.seriesProcessed} series, ${summary.bucketsProcessed} buckets, ` +
            `${summary.anomalies} anomalous, ${summary.alertsOpened} alerts opened, ${summary.alertsResolved} resolved`,
        );
      }
      // A shard the store failed on (a lock held elsewhere) is left as it was; the next tick takes it again.
      const { failed } = summary.shards;
      if (failed.length > 0) {
        const reasons = [...new Set(failed.map((failure) => failure.reason))].join('; ');
        log.info(`band job: ${failed.length} of its state shards left for the next run (${reasons})`);
      }
      if (summary.stillOpen.failed !== null) {
        log.info(`band job: open alerts not re-sent (the next run tries again): ${summary.stillOpen.failed}`);
      }
      for (const series of summary.quarantined) {
        log.info(
          `band job: series ${series.name} (${series.seriesId}) kept aside until ` +
            `${new Date(series.retryAt).toISOString()}: ${series.reason}`,
        );
      }
    } catch (error) {
      if (error instanceof DatabaseBusyError) log.info(`band job: ${error.message}`);
      else log.error('band job failed', error);
    } finally {
      running = false;
    }
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
