import { describe, expect, it } from 'vitest';
import { type EvaluatedBucket, evaluateSeries } from '../../lib/alerts/evaluate.ts';
import { emptyMonitor } from '../../lib/alerts/model.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { countDeviate, rateOfMeanLog } from '../../lib/bands/counting.ts';
import { normalcyEngine } from '../../lib/bands/index.ts';
import { seededRandom } from '../../scripts/dev/random.ts';
import { dailyShape, dayMs, hourMs, jobSettings, minuteMs, weekMs } from '../helpers/series.ts';
import { monday } from './band-results.ts';

/** E[ln(X + 1)] for X Poisson with `rate`, summed plainly. */
function meanLog(rate: number): number {
  let sum = 0;
  let logFactorial = 0;
  for (let k = 0; k < rate + 20 * Math.sqrt(rate) + 30; k++) {
    if (k > 0) logFactorial += Math.log(k);
    sum += Math.exp(k * Math.log(rate) - rate - logFactorial) * Math.log(k + 1);
  }
  return sum;
}

describe('rateOfMeanLog', () => {
  it.each([0.001, 0.04, 0.3, 1, 2.5, 10, 120, 700])(
    'turns the mean log of Poisson(%s) counts back into it',
    (rate) => {
      expect(rateOfMeanLog(meanLog(rate))).toBeCloseTo(rate, rate < 1 ? 3 : 1);
    },
  );

  it('is larger than e^y − 1, what the log scale turns back into, and 0 for nothing', () => {
    expect(rateOfMeanLog(Math.log(2))).toBeGreaterThan(1.25);
    expect(rateOfMeanLog(0)).toBe(0);
    expect(rateOfMeanLog(-1)).toBe(0);
    // Far past the table: the expansion it ends with, within a part in a thousand.
    expect(rateOfMeanLog(meanLog(30_000)) / 30_000).toBeCloseTo(1, 3);
  });
});

describe('countDeviate', () => {
  it('says how many standard deviations counts are from those expected, on the side they are', () => {
    expect(countDeviate(17, 2.4)).toBeCloseTo(6.11, 2);
    expect(countDeviate(2.4, 2.4)).toBe(0);
    expect(countDeviate(0, 2.4)).toBeCloseTo(-Math.sqrt(4.8), 6);
    expect(countDeviate(3, 0)).toBe(0);
    // Close to a plain z for many counts.
    expect(countDeviate(10_100, 10_000)).toBeCloseTo(1, 1);
  });
});

/** A Poisson count of mean `mean` (Knuth's, for small means). */
function poisson(random: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}

/**
 * An error counter of one minute: `rate` errors a minute on average along the day's shape (0.05 unless said),
 * mostly zero, for three weeks; `raise` multiplies its rate.
 */
function errors(seed: number, raise: (t: number) => number, rate = 0.05): Array<[number, number]> {
  const random = seededRandom(seed);
  const points: Array<[number, number]> = [];
  for (let t = monday; t < monday + 3 * weekMs; t += minuteMs)
    points.push([t, poisson(random, rate * dailyShape(t) * raise(t))]);
  return points;
}

/** Runs a series through the engine and the default rule: its buckets, and when each alert started. */
function alertsOf(points: Array<[number, number]>) {
  const engine = normalcyEngine.create(jobSettings.counter);
  const buckets: EvaluatedBucket[] = points.map(([timestamp, value]) => ({
    timestamp,
    value,
    band: engine.update(timestamp, value),
  }));
  const identity = { id: 'errors', name: 'errors', dimensions: {} };
  const outcome = evaluateSeries({
    series: identity,
    stepMs: minuteMs,
    monitor: emptyMonitor(identity.id),
    rules: [builtInDefaultRule],
    buckets,
    now: monday + 4 * weekMs,
    link: () => '',
  });
  return { buckets, starts: outcome.alerts.map((alert) => alert.startedAt) };
}

describe('Band: counts judged as counts', () => {
  // The third Wednesday, 13:00 to 15:00: eight times the usual errors (about 0.5 a minute instead of 0.07).
  const from = monday + 2 * weekMs + 2 * dayMs + 13 * hourMs;
  const to = from + 2 * hourMs;
  const raised = (t: number) => (t >= from && t < to ? 8 : 1);

  it('pages a sparse counter raised eight times over for two hours, while every bucket is inside the band', () => {
    const { buckets, starts } = alertsOf(errors(11, raised));
    const during = buckets.filter((bucket) => bucket.timestamp >= from && bucket.timestamp < to);
    // Hardly a bucket alone is far: the raise shows in the running count, not in the buckets.
    expect(during.filter((bucket) => bucket.value > (bucket.band?.upper ?? 0)).length).toBeLessThan(5);
    expect(during.filter((bucket) => bucket.band?.anomaly).length).toBeGreaterThan(20);
    expect(starts.filter((start) => start >= from && start < to)).toHaveLength(1);
  });

  it('stays quiet on the same counter without the raise, across its last two weeks', () => {
    const { buckets, starts } = alertsOf(errors(11, () => 1));
    const warm = monday + weekMs;
    expect(starts.filter((start) => start >= warm)).toEqual([]);
    // At most a lone bucket of two or three errors, outside the band on its own.
    const during = buckets.filter((bucket) => bucket.timestamp >= from && bucket.timestamp < to);
    expect(during.filter((bucket) => bucket.band?.anomaly).length).toBeLessThan(3);
  });

  // Three hours of a rarer counter raised: the running count climbs slowly, in steps of one error.
  const longer = (t: number) => t >= from && t < from + 3 * hourMs;
  const caughtIn = (starts: number[]) =>
    starts.filter((start) => start >= from - 15 * minuteMs && start < from + 4 * hourMs);

  it('opens one alert for a raise whose running count crosses its edge back and forth', () => {
    const { starts } = alertsOf(errors(2, (t) => (longer(t) ? 8 : 1), 0.02));
    expect(caughtIn(starts)).toHaveLength(1);
  });

  it('pages a slowly building raise: a count above expected but not yet past its edge does not widen the spread', () => {
    const { starts } = alertsOf(errors(8, (t) => (longer(t) ? 8 : 1), 0.01));
    expect(caughtIn(starts)).toHaveLength(1);
  });
});
