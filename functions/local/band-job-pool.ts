import { shardBatches } from '../../lib/jobs/band-fanout.ts';
import type { BandJobSummary } from '../../lib/jobs/band-job.ts';
import { defaultStateShards, fanoutShardOrder } from '../../lib/jobs/state-shards.ts';
import { type BandJobRunner, type BandJobThreadOptions, bandJobThread } from './band-job-thread.ts';

/**
 * The band job on `workers` threads (NORMALCY_BAND_WORKERS): each run cuts the shards into one batch per thread,
 * each thread runs the same per-shard work as a cloud worker (runShardBatch), then the first thread runs the
 * last step once (the listing summaries, then notifications), as the cloud's state machine does. Each thread
 * has its own SQLite connection: their writes take turns on the database's lock (each waits up to the job's
 * busy timeout), their engines and (de)serialisation run at once.
 */
export function bandJobPool(config: BandJobThreadOptions & { readonly workers: number }): BandJobRunner {
  const threads = Array.from({ length: config.workers }, () => bandJobThread(config));
  const names = fanoutShardOrder(config.options.stateShards ?? defaultStateShards);
  const batches = shardBatches(names, Math.ceil(names.length / threads.length));
  let queue: Promise<unknown> = Promise.resolve();

  async function runOnce(): Promise<BandJobSummary> {
    const results = await Promise.all(
      batches.map((batch, index) => (threads[index] ?? threads[0])?.runShards(batch)),
    );
    const done = results.filter((result) => result !== undefined);
    const [first] = threads;
    if (!first) throw new Error('a band job pool needs a thread');
    return first.deliver(
      done.map((result) => result.report),
      done.flatMap((result) => result.summaries),
    );
  }

  return {
    run() {
      const run = queue.then(runOnce, runOnce);
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await Promise.all(threads.map((thread) => thread.close()));
    },
  };
}
