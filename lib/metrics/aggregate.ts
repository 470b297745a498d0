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
  const byStart = new Map<number, { sum: number; count: number; min: number; max: number }>();
  for (const point of points) {
    const start = bucketStart(point.timestamp, stepMs);
    const bucket = byStart.get(start);
    if (bucket) {
      bucket.sum += point.value;
      bucket.count += 1;
      bucket.min = Math.min(bucket.min, point.value);
      bucket.max = Math.max(bucket.max, point.value);
    } else {
      byStart.set(start, { sum: point.value, count: 1, min: point.value, max: point.value });
    }
  }
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
