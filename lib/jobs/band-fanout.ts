/**
 * The band job fanned out: each worker runs the per-shard work of one run for a batch of shards
 * ({@link runBandWorker}), and a last step, once for the run, merges what they report, saves the listing
 * summaries and delivers notifications ({@link deliverBandFanout}). In the cloud a Step Functions Distributed
 * Map runs the workers (cdk/band-fanout.ts); locally worker threads do (functions/local/band-job-pool.ts).
 * Shards are the unit: a shard is processed by one worker per run, and its conditional save keeps an
 * overlapping run from mixing its work in.
 */

import { mapConcurrently } from '../concurrency.ts';
import type { SeriesSummary } from '../ports/series-summary-store.ts';
import type { SummaryPart, SummaryPartStore } from '../ports/summary-part-store.ts';
import {
  type BandJobDependencies,
  type BandJobOptions,
  type BandJobSummary,
  deliverBandRun,
  runShardBatch,
  type ShardBatchReport,
} from './band-job.ts';

/** What a worker is handed: one batch of the run's shards. */
export interface BandWorkerRequest {
  /** The run's id (the parent execution's name): the summaries the worker leaves carry it. */
  readonly runId: string;
  readonly shards: readonly string[];
}

/** A batch whose worker failed past its retries, as the state machine's catch reports it. */
export interface FailedBatch {
  readonly shards: readonly string[];
  readonly error: string;
}

/** What the last step is handed: the run's id and each batch's report (or failure), in the map's order. */
export interface BandDeliveryRequest {
  readonly runId: string;
  readonly batches: readonly (ShardBatchReport | FailedBatch)[];
}

/** A worker delivers nothing: the run's last step does, once. */
export type BandWorkerDependencies = Omit<BandJobDependencies, 'notifier'>;

const noDelivery = {
  notify: () => Promise.reject(new Error('a band worker delivers nothing: the run’s last step does')),
};

/**
 * The per-shard work for one batch: learn, detect, write bands, record alert transitions in the outbox, save
 * the shards; then leave the batch's listing summaries for the last step. A failure to leave them is reported
 * (the run then keeps the last complete summaries), not thrown: the shards are saved, a retry would redo nothing.
 */
export async function runBandWorker(
  dependencies: BandWorkerDependencies,
  parts: SummaryPartStore,
  options: BandJobOptions,
  request: BandWorkerRequest,
): Promise<ShardBatchReport> {
  const { report, summaries } = await runShardBatch(
    { ...dependencies, notifier: noDelivery },
    options,
    request.shards,
  );
  const { conflicts, failed } = report.shardResults;
  if (conflicts.length > 0 || failed.length > 0) return report;
  try {
    await parts.savePart({ runId: request.runId, shards: request.shards, summaries });
    return report;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ...report,
      shardResults: {
        ...report.shardResults,
        failed: [{ shard: 'summaries', reason: reason.slice(0, 500) }],
      },
    };
  }
}

/** Whether a batch's entry is the catch's report of a worker that failed. */
const isFailedBatch = (batch: ShardBatchReport | FailedBatch): batch is FailedBatch => 'error' in batch;

/** A failed batch as a report: each of its shards failed, left as it was for the next run. */
const failedBatchReport = (batch: FailedBatch): ShardBatchReport => ({
  shards: batch.shards,
  counts: { series: 0, relearned: 0, rewound: 0, buckets: 0, anomalies: 0, opened: 0, resolved: 0 },
  readAlone: 0,
  quarantined: [],
  quarantinedInPass: 0,
  seriesQuarantined: 0,
  shardResults: {
    loaded: 0,
    saved: 0,
    conflicts: [],
    failed: batch.shards.map((shard) => ({ shard, reason: batch.error })),
  },
  recentPoints: 0,
  recentSeries: 0,
});

/** Parts read at once by the last step (a GET each). */
const partReadsInFlight = 8;

/**
 * The run's last step: the batches' reports merged into the run's summary, the listing summaries saved from
 * the parts the workers left (only when every batch completed and left this run's part), then due alert
 * transitions and incidents delivered, once for the run.
 */
export async function deliverBandFanout(
  dependencies: BandJobDependencies,
  parts: SummaryPartStore,
  options: BandJobOptions,
  request: BandDeliveryRequest,
): Promise<BandJobSummary> {
  const reports = request.batches.map((batch) => (isFailedBatch(batch) ? failedBatchReport(batch) : batch));
  return deliverBandRun(dependencies, options, reports, async () => {
    const loaded = await mapConcurrently(request.batches, partReadsInFlight, async (batch) => {
      const [first] = batch.shards;
      return first === undefined ? undefined : await parts.loadPart(first);
    });
    const summaries: SeriesSummary[] = [];
    for (const [index, part] of loaded.entries()) {
      const batch = request.batches[index];
      const sameBatch = part?.shards.join(' ') === batch?.shards.join(' ');
      if (!part || part.runId !== request.runId || !sameBatch) return undefined;
      for (const summary of part.summaries) summaries.push(summary);
    }
    return summaries;
  });
}

/**
 * The shards of a run cut into consecutive batches of `size` (as the Distributed Map's ItemBatcher does); pass
 * them in the fan-out's order (`fanoutShardOrder`, lib/jobs/state-shards.ts), so a batch's shards share the
 * store's partitions of recent points.
 */
export function shardBatches(shards: readonly string[], size: number): string[][] {
  const batches: string[][] = [];
  for (let index = 0; index < shards.length; index += size) batches.push(shards.slice(index, index + size));
  return batches;
}

/** An in-memory part store: local mode's worker pool and tests (one process holds every part). */
export class MemorySummaryPartStore implements SummaryPartStore {
  private readonly parts = new Map<string, SummaryPart>();
  async savePart(part: SummaryPart): Promise<void> {
    const [first] = part.shards;
    if (first !== undefined) this.parts.set(first, part);
  }
  async loadPart(firstShard: string) {
    return this.parts.get(firstShard);
  }
}
