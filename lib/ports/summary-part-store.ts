/**
 * The summary part store port: where the band job's fan-out workers leave the listing summaries of their
 * batch of shards for the run's last step, which saves them as one document (lib/jobs/band-fanout.ts).
 */
import type { SeriesSummary } from './series-summary-store.ts';

/** The summaries of one batch of shards, from one run. */
export interface SummaryPart {
  /** The run that left it: a part of an earlier run (its worker failed since) is not this run's. */
  readonly runId: string;
  readonly shards: readonly string[];
  readonly summaries: readonly SeriesSummary[];
}

/** One part per batch, named by the batch's first shard (a batch's shards are consecutive and distinct). */
export interface SummaryPartStore {
  savePart(part: SummaryPart): Promise<void>;
  /** The part last saved for the batch starting at `firstShard`, if any. */
  loadPart(firstShard: string): Promise<SummaryPart | undefined>;
}
