import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { dayMs, hourMs, minuteMs, weekMs } from '../../lib/time.ts';
import { gaussian, seededRandom } from '../../scripts/dev/random.ts';

/** The lengths of time the tests use, from lib/time.ts (the one place they are declared). */
export { dayMs, hourMs, minuteMs, weekMs };

/** A gauge point of series `seriesId` named `m`, without dimensions: what store tests write. */
export const gaugePoint = (seriesId: string, timestamp: number, value: number): SeriesPoint => ({
  seriesId,
  name: 'm',
  type: 'gauge',
  value,
  timestamp,
  dimensions: {},
});

/** The three series types the band job tells apart (it passes the engine a kind for each, see `settingsFor`). */
export type SeriesType = 'counter' | 'gauge' | 'timer';

/** The engine settings the band job passes for a series of this type (lib/jobs/band-job.ts, `settingsFor`). */
export const jobSettings = {
  counter: { kind: 'count' },
  gauge: { kind: 'auto' },
  timer: { kind: 'latency' },
} as const;

/**
 * A day of web traffic as a multiplier of its mean: lowest (0.5) at 04:00 UTC, highest (1.5) at 16:00.
 *
 * @example dailyShape(Date.UTC(2025, 0, 1, 16)) // 1.5
 */
export const dailyShape = (timestamp: number): number =>
  1 - 0.5 * Math.cos((2 * Math.PI * ((timestamp % dayMs) - 4 * hourMs)) / dayMs);

export interface SyntheticSeries {
  readonly type: SeriesType;
  readonly stepMs: number;
  readonly from: number;
  readonly to: number;
  readonly seed: number;
  /**
   * What happens to the series at a time: a multiplier of its normal value (1: nothing), or undefined for a
   * bucket with no point at all (a silent gap). Default 1 everywhere.
   */
  readonly change?: (timestamp: number) => number | undefined;
  /** A change of level added to the value, in the series' units (after `change`). Default 0 everywhere. */
  readonly offset?: (timestamp: number) => number;
}

/**
 * A realistic series of one type, one bucket per step in `[from, to)`, with the daily pattern of
 * {@link dailyShape} and seeded noise, times what `change` says:
 *
 * - counter: requests counted per bucket, 200 a minute on average, Poisson-like noise plus 3 % more; integers;
 * - gauge: a share of CPU around 40, its daily swing a third as large as traffic's, noise of sd 1.5;
 * - timer: a latency around 80 ms, slower when busy, with lognormal noise of 6 %.
 *
 * The noise does not depend on `change`: the same seed gives the same noise, so a series with a change and its
 * twin without it differ only where the change is.
 */
export function syntheticSeries(spec: SyntheticSeries): Array<[number, number]> {
  const noise = gaussian(seededRandom(spec.seed));
  const points: Array<[number, number]> = [];
  const perMinute = spec.stepMs / minuteMs;
  for (let t = spec.from; t < spec.to; t += spec.stepMs) {
    const first = noise();
    const second = noise();
    const change = spec.change ? spec.change(t) : 1;
    if (change === undefined) continue;
    const daily = dailyShape(t);
    const offset = spec.offset ? spec.offset(t) : 0;
    if (spec.type === 'counter') {
      const mean = 200 * perMinute * daily * change + offset;
      points.push([t, Math.max(0, Math.round(mean * (1 + 0.03 * second) + Math.sqrt(mean) * first))]);
    } else if (spec.type === 'gauge') {
      points.push([t, (40 * (1 + (daily - 1) / 3) + 1.5 * first) * change + offset]);
    } else {
      points.push([t, (80 * (1 + 0.3 * (daily - 1)) + offset) * Math.exp(0.06 * first) * change]);
    }
  }
  return points;
}
