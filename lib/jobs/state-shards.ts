import { greatestCommonDivisor, type SeriesSelection, seriesHash } from '../metrics/series-hash.ts';
import type { SeriesState } from '../ports/series-state-store.ts';
import type { SeriesSummary } from '../ports/series-summary-store.ts';

/**
 * How the band job's state is split into shards: by a hash of the series id (lib/metrics/series-hash.ts), so a
 * series always lives in the same shard. How many shards by default: about 600 series each at 10,000 series,
 * 6,250 at 100,000.
 */
export const defaultStateShards = 16;

const shardName = (index: number, shardCount: number): string =>
  `${shardCount}-${String(index).padStart(3, '0')}`;

/** The name of the shard holding a series: the shard count is part of it, so a new count starts new shards. */
export const shardOf = (id: string, shardCount: number): string =>
  shardName(seriesHash(id) % shardCount, shardCount);

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

/**
 * The residue of the hash that groups a fan-out's shards: stores may partition recent points by the series hash
 * modulo a multiple of 8 (the DynamoDB store's 24 log buckets), so shards of one residue modulo 8 share their
 * partitions (with 24 buckets and a power-of-two count of 8 or more, 3 buckets of the 24).
 */
const fanoutResidues = 8;

const fanoutOrders = new Map<number, readonly string[]>();

/**
 * All shards of a count in the fan-out's order: by their index modulo 8 (modulo gcd(count, 8) when the count
 * is no multiple of 8, the residue of the hash they share), then by index. The Distributed Map (and local
 * mode's pool) cut this list into consecutive batches, so a batch's shards need few of a store's partitions
 * and its worker reads only those (see {@link shardSelection}).
 *
 * @example fanoutShardOrder(16) // ['16-000', '16-008', '16-001', '16-009', ..., '16-007', '16-015']
 */
export function fanoutShardOrder(shardCount: number): readonly string[] {
  let order = fanoutOrders.get(shardCount);
  if (!order) {
    const shared = greatestCommonDivisor(shardCount, fanoutResidues);
    const indexes = Array.from({ length: shardCount }, (_, index) => index);
    indexes.sort((a, b) => (a % shared) - (b % shared) || a - b);
    order = indexes.map((index) => shardName(index, shardCount));
    fanoutOrders.set(shardCount, order);
  }
  return order;
}

/**
 * The series of some shards of a count, in hash terms: what a worker asks of the bulk read of recent points.
 * A name that is not a shard of the count holds none of its series, so it selects none.
 */
export function shardSelection(names: readonly string[], shardCount: number): SeriesSelection {
  const all = shardNames(shardCount);
  const residues = names.map((name) => all.indexOf(name)).filter((index) => index >= 0);
  return { modulus: shardCount, residues };
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
