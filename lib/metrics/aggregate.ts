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
 * gauges and timers average. O(n log n).
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
  return [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, b]) => ({
      start,
      value: type === 'counter' ? b.sum : b.sum / b.count,
      count: b.count,
      min: b.min,
      max: b.max,
    }));
}
