/**
 * The range-vector functions Normalcy evaluates, each over the samples a range selector found at one
 * evaluation time: `rate` and `increase` (Prometheus's extrapolation, line for line), and the
 * `*_over_time` family. Pure arithmetic on arrays; each is O(n) in the samples of the range.
 */
import type { RangeFunction } from './ast.ts';

/** The samples of one series in one range, oldest first (times in epoch ms). */
export interface RangeSamples {
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** Index of the first and one past the last sample of the range in the arrays. */
  readonly first: number;
  readonly end: number;
}

/**
 * Prometheus's `extrapolatedRate` (promql/functions.go, v2.42) for float samples: the increase over the
 * samples (counter resets added back when `isCounter`), extrapolated to the range's edges when the first and
 * last samples lie within 1.1 average intervals of them (else by half an interval), and never below the
 * counter's zero point; divided by the range in seconds when `isRate`. Undefined with fewer than two samples.
 *
 * @example extrapolatedRate({ timestamps: [60_000, 120_000], values: [1, 2], first: 0, end: 2 }, 0, 120_000, true, true)
 * // 0.01666… (an increase of 1 over 60 s, extrapolated to the range's start: 2 over 120 s)
 */
export function extrapolatedRate(
  samples: RangeSamples,
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const { timestamps, values, first, end } = samples;
  const count = end - first;
  if (count < 2) return undefined;
  const firstValue = values[first] as number;
  const lastValue = values[end - 1] as number;
  const firstTime = timestamps[first] as number;
  const lastTime = timestamps[end - 1] as number;
  let resultValue = lastValue - firstValue;
  if (isCounter) {
    let previous = firstValue;
    for (let index = first + 1; index < end; index++) {
      const current = values[index] as number;
      if (current < previous) resultValue += previous;
      previous = current;
    }
  }
  // Duration between the first/last samples and the boundaries of the range.
  let durationToStart = (firstTime - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - lastTime) / 1000;
  const sampledInterval = (lastTime - firstTime) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (count - 1);
  if (isCounter && resultValue > 0 && firstValue >= 0) {
    // Counters cannot be negative: extrapolate no further back than the counter's zero point.
    const durationToZero = sampledInterval * (firstValue / resultValue);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval +=
    durationToStart < extrapolationThreshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval +=
    durationToEnd < extrapolationThreshold ? durationToEnd : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return resultValue * factor;
}

/** `avg_over_time` ... `last_over_time` over the samples of a range; undefined when it has none. */
function overTime(name: RangeFunction, samples: RangeSamples): number | undefined {
  const { values, first, end } = samples;
  if (end <= first) return undefined;
  switch (name) {
    case 'count_over_time':
      return end - first;
    case 'last_over_time':
      return values[end - 1];
    case 'sum_over_time':
    case 'avg_over_time': {
      let sum = 0;
      for (let index = first; index < end; index++) sum += values[index] as number;
      return name === 'sum_over_time' ? sum : sum / (end - first);
    }
    case 'min_over_time':
    case 'max_over_time': {
      let result = values[first] as number;
      for (let index = first + 1; index < end; index++) {
        const value = values[index] as number;
        // As Prometheus: NaN gives way to any number.
        if (name === 'min_over_time' ? value < result : value > result) result = value;
        else if (Number.isNaN(result)) result = value;
      }
      return result;
    }
    default:
      return undefined;
  }
}

/**
 * A range function's value for one series at one evaluation time, whose range is `[rangeStart, rangeEnd]`;
 * undefined when the series gives no value there (too few samples).
 */
export function applyRangeFunction(
  name: RangeFunction,
  samples: RangeSamples,
  rangeStart: number,
  rangeEnd: number,
): number | undefined {
  if (name === 'rate') return extrapolatedRate(samples, rangeStart, rangeEnd, true, true);
  if (name === 'increase') return extrapolatedRate(samples, rangeStart, rangeEnd, true, false);
  return overTime(name, samples);
}
