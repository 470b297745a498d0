import type { SeriesState } from '../ports/series-state-store.ts';
import type { SeriesSummary } from '../ports/series-summary-store.ts';

/**
 * How the band job's state is split into shards: by a hash of the series id, so a series always lives in the
 * same shard. How many shards by default: about 600 series each at 10,000 series, 6,250 at 100,000.
 */
export const defaultStateShards = 16;

/** FNV-1a of a series id: spreads ids of any form evenly over the shards. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const shardName = (index: number, shardCount: number): string =>
  `${shardCount}-${String(index).padStart(3, '0')}`;

/** The name of the shard holding a series: the shard count is part of it, so a new count starts new shards. */
export const shardOf = (id: string, shardCount: number): string =>
  shardName(hashOf(id) % shardCount, shardCount);

const namesByCount = new Map<number, readonly string[]>();

/** The names of all shards of a count, in order. */
export function shardNames(shardCount: number): readonly string[] {
  let names = namesByCount.get(shardCount);
  if (!names) {
    names = Array.from({ length: shardCount }, (_, index) => shardName(index, shardCount));
    namesByCount.set(shardCount, names);
  }
  return names;
}

/** What listings need of a state. */
export const summaryOf = (state: SeriesState): SeriesSummary => ({
  id: state.id,
  lastTimestamp: state.lastTimestamp,
  lastValue: state.lastValue,
  stepMs: state.stepMs,
  anomalous: state.anomalous,
  kind: state.kind,
  seasonality: state.seasonality,
  ...(state.fault && { fault: state.fault }),
});
