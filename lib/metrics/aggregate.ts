import { clampToFinite } from './finite.ts';
import type { MetricType } from './point.ts';
import { bucketStart } from './step.ts';

/** The points of one series that fell into one step-wide bucket. */
export interface Bucket {
  readonly start: number;
  /** The value the band engine sees: the sum for counters, the mean for gauges and timers. */
  readonly value: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Aggregates points (any order) into buckets of `stepMs`, in time order. Counters add up (a count per step);
 * gauges and timers average. Values stay finite: a count past the largest double is clamped to it, and a
 * mean whose sum overflowed is taken again from the values divided first. O(n log n).
 *
 * @example aggregate('counter', [{ timestamp: 0, value: 1 }, { timestamp: 10, value: 2 }], 60_000)
 * // [{ start: 0, value: 3, count: 2, min: 1, max: 2 }]
 */
export function aggregate(
  type: MetricType,
  points: readonly { readonly timestamp: number; readonly value: number }[],
  stepMs: number,
): Bucket[] {
  const byStart = new Map<number, Tally>();
  for (const point of points) tally(byStart, bucketStart(point.timestamp, stepMs), point.value, 1);
  const overflowedMeans = type === 'counter' ? undefined : meansOfOverflowedSums(points, stepMs, byStart);
  return [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, b]) => ({
      start,
      value: type === 'counter' ? clampToFinite(b.sum) : (overflowedMeans?.get(start) ?? b.sum / b.count),
      count: b.count,
      min: b.min,
      max: b.max,
    }));
}

/** A bucket of buckets: what a chart over a range longer than the series' step draws for each of its steps. */
export interface WideBucket {
  readonly start: number;
  /** The mean of the series-step values in the bucket (the value itself at the series' step). */
  readonly avg: number;
  /** The lowest and highest series-step value. */
  readonly min: number;
  readonly max: number;
  /** How many raw points the bucket holds. */
  readonly count: number;
}

/**
 * Groups a series' buckets (from {@link aggregate}) into buckets of `stepMs`, a multiple of their step, in
 * time order: the mean, lowest and highest of their values, and the points they hold. For stores that cannot
 * group in their queries; the SQL stores compute the same in theirs. O(n log n).
 *
 * @example widen(aggregate('gauge', [{ timestamp: 0, value: 1 }, { timestamp: 60_000, value: 3 }], 60_000), 300_000)
 * // [{ start: 0, avg: 2, min: 1, max: 3, count: 2 }]
 */
export function widen(buckets: readonly Bucket[], stepMs: number): WideBucket[] {
  const byStart = new Map<number, Tally>();
  for (const bucket of buckets) tally(byStart, bucketStart(bucket.start, stepMs), bucket.value, bucket.count);
  return [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, b]) => ({ start, avg: b.sum / b.values, min: b.min, max: b.max, count: b.count }));
}

/** The running figures of one bucket: the sum, number, lowest and highest of its values, and their weight. */
interface Tally {
  sum: number;
  values: number;
  /** The values' weights added up: points for raw points (one each), the points a bucket holds for buckets. */
  count: number;
  min: number;
  max: number;
}

/** Adds a value of the given weight to the tally of the bucket at `start`. */
function tally(byStart: Map<number, Tally>, start: number, value: number, weight: number): void {
  const bucket = byStart.get(start);
  if (bucket) {
    bucket.sum += value;
    bucket.values += 1;
    bucket.count += weight;
    bucket.min = Math.min(bucket.min, value);
    bucket.max = Math.max(bucket.max, value);
  } else {
    byStart.set(start, { sum: value, values: 1, count: weight, min: value, max: value });
  }
}

/**
 * The means of the buckets whose sum overflowed (rare: values near the largest double), as the sum of the
 * values each divided by the count first, which stays finite. Undefined when no sum overflowed.
 */
function meansOfOverflowedSums(
  points: readonly { readonly timestamp: number; readonly value: number }[],
  stepMs: number,
  byStart: ReadonlyMap<number, { readonly sum: number; readonly count: number }>,
): Map<number, number> | undefined {
  const means = new Map<number, number>();
  for (const [start, bucket] of byStart) if (!Number.isFinite(bucket.sum)) means.set(start, 0);
  if (means.size === 0) return undefined;
  for (const point of points) {
    const start = bucketStart(point.timestamp, stepMs);
    const mean = means.get(start);
    if (mean !== undefined) means.set(start, mean + point.value / (byStart.get(start)?.count ?? 1));
  }
  for (const [start, mean] of means) means.set(start, clampToFinite(mean));
  return means;
}
