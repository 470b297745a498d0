import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BandEngineFactory, BandResult, BandSettings } from '../../lib/bands/engine.ts';
import {
  defaultEngine,
  detectorEngine,
  detectorEngineWith,
  detectorTuning,
  normalcyEngine,
  surpriseThreshold,
} from '../../lib/bands/index.ts';
import { learnedTraits } from '../../lib/query/learned-traits.ts';
import { gaussian, seededRandom } from '../../scripts/dev/random.ts';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
/** 2024-01-01 00:00 UTC, a Monday. */
const monday = Date.UTC(2024, 0, 1);

/** A deterministic pseudo-random sequence in [0, 1) (a linear congruential generator). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function run(
  points: ReadonlyArray<readonly [number, number]>,
  settings?: Partial<BandSettings>,
): BandResult[] {
  const engine = detectorEngine.create(settings);
  return points.map(([timestamp, value]) => engine.update(timestamp, value));
}

/** Hourly-ish traffic: a daily cycle plus noise, every `stepMs`, for `days` days. */
function dailyTraffic(days: number, stepMs: number, seed = 1): Array<[number, number]> {
  const noise = random(seed);
  const points: Array<[number, number]> = [];
  for (let t = monday; t < monday + days * day; t += stepMs) {
    const hourOfDay = (t % day) / hour;
    points.push([t, 100 + 40 * Math.sin((2 * Math.PI * hourOfDay) / 24) + 4 * (noise() - 0.5)]);
  }
  return points;
}

/** Thursday 04:00 of week `week` (0: the first) of the series that start on `monday`. */
const thursday = (week: number) => monday + (7 * week + 3) * day + 4 * hour;
/** The Tuesday 04:00 of the fourth week, when {@link smallWeeklyEvent} has its bump on another weekday. */
const bumpTuesday = monday + 22 * day + 4 * hour;

/**
 * Like the demo's login time, four weeks every 5 minutes: a daily cycle, noise of sd 5, and +35 (7 sd) every
 * Thursday 04:00 to 05:00, too small for the weekly profile to win the season (which stays daily); the same
 * bump once on a Tuesday ({@link bumpTuesday}).
 */
function smallWeeklyEvent(): Array<[number, number]> {
  const noise = gaussian(seededRandom(11));
  const bump = (t: number) => {
    const dayOfWeek = Math.floor((t - monday) / day) % 7; // 0 = Monday
    const hourOfDay = (t % day) / hour;
    const inHour = hourOfDay >= 4 && hourOfDay < 5;
    return (inHour && dayOfWeek === 3) || (t >= bumpTuesday && t < bumpTuesday + hour) ? 35 : 0;
  };
  const points: Array<[number, number]> = [];
  for (let t = monday; t < monday + 28 * day; t += 5 * minute) {
    const hourOfDay = (t % day) / hour;
    points.push([t, 95 + 20 * Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24) + 5 * noise() + bump(t)]);
  }
  return points;
}

describe('Engine: normalcy/5, the detector of normalcy/7', () => {
  it('is part of the default engine', () => {
    expect(defaultEngine).toBe(normalcyEngine);
  });

  it('maps sensitivity to a surprise threshold: one in a thousand by default', () => {
    expect(surpriseThreshold(0.5)).toBe(3);
    expect(surpriseThreshold(0)).toBe(4.5);
    expect(surpriseThreshold(1)).toBe(1.5);
  });

  it('learns a weekly spike: Thursday 04:00 is normal after two weeks, the same spike on Tuesday is not', () => {
    const step = 15 * minute;
    const noise = random(7);
    const points: Array<[number, number]> = [];
    const thursdaySpike = (t: number) => {
      const dayOfWeek = Math.floor((t - monday) / day) % 7; // 0 = Monday
      const hourOfDay = (t % day) / hour;
      return dayOfWeek === 3 && hourOfDay >= 4 && hourOfDay < 5 ? 200 : 0;
    };
    for (let t = monday; t < monday + 21 * day; t += step)
      points.push([t, 50 + 5 * noise() + thursdaySpike(t)]);
    const thirdThursday = monday + 17 * day + 4 * hour;
    const tuesday = monday + 15 * day + 4 * hour;
    const withTuesdaySpike = points.map(([t, v]): [number, number] => [t, t === tuesday ? v + 200 : v]);
    const results = run(withTuesdaySpike);
    const at = (timestamp: number) => results.find((result) => result.timestamp === timestamp);
    expect(at(thirdThursday)?.value).toBeGreaterThan(240);
    expect(at(thirdThursday)?.anomaly).toBe(false);
    expect(at(tuesday)?.anomaly).toBe(true);
    expect(at(tuesday)?.value).toBeGreaterThan(at(tuesday)?.upper ?? Number.POSITIVE_INFINITY);
  });

  it('learns a small weekly event the season does not carry: no page on its 3rd and 4th Thursday, one on a Tuesday', () => {
    const points = smallWeeklyEvent();
    const engine = detectorEngine.create();
    const results = points.map(([t, v]) => engine.update(t, v));
    expect(learnedTraits(engine)?.seasonality).toBe('daily');
    const alertsFrom = (start: number) =>
      results.filter(
        (result) => result.anomaly && result.timestamp >= start && result.timestamp < start + 2 * hour,
      );
    // The 2nd Thursday still pages (once); the 3rd and 4th do not.
    expect(alertsFrom(thursday(1)).length).toBe(1);
    expect(alertsFrom(thursday(2))).toEqual([]);
    expect(alertsFrom(thursday(3))).toEqual([]);
    expect(results.find((result) => result.timestamp === thursday(3))?.value).toBeGreaterThan(
      results.find((result) => result.timestamp === thursday(3))?.upper ?? Number.POSITIVE_INFINITY,
    );
    // The same bump on a Tuesday, a slot that never departed, pages.
    expect(alertsFrom(bumpTuesday).length).toBe(1);
    expect(alertsFrom(bumpTuesday)[0]?.timestamp).toBe(bumpTuesday);
  });

  it('flags a level shift, then accepts it as the new normal and says it re-learned', () => {
    const noise = random(3);
    const step = 5 * minute;
    const points: Array<[number, number]> = [];
    for (let t = monday; t < monday + 4 * day; t += step) {
      const shifted = t >= monday + 3 * day;
      points.push([t, (shifted ? 80 : 50) + 2 * (noise() - 0.5)]);
    }
    const results = run(points, { relearnAfterMs: 2 * hour });
    const shiftIndex = results.findIndex((result) => result.timestamp >= monday + 3 * day);
    const firstHour = results.slice(shiftIndex, shiftIndex + 12);
    expect(firstHour.some((result) => result.anomaly)).toBe(true);
    const relearnedAt = results.findIndex((result) => result.relearned === true);
    expect(relearnedAt).toBeGreaterThan(shiftIndex);
    expect(results[relearnedAt]?.timestamp ?? 0).toBeLessThanOrEqual(monday + 3 * day + 2 * hour + step);
    const afterwards = results.slice(relearnedAt + 1);
    expect(afterwards.filter((result) => result.anomaly)).toEqual([]);
    expect(afterwards.at(-1)?.expected).toBeCloseTo(80, 0);
    // The shift did not widen the band: it is as narrow around 80 as it was around 50 (noise is ±1).
    const last = afterwards.at(-1);
    expect((last?.upper ?? 0) - (last?.lower ?? 0)).toBeLessThan(12);
  });

  it('does not flag a gap of a day by itself', () => {
    const points = dailyTraffic(10, 5 * minute).filter(
      ([t]) => t < monday + 8 * day || t >= monday + 9 * day,
    );
    const results = run(points);
    const afterGap = results.filter((result) => result.timestamp >= monday + 9 * day);
    expect(afterGap.length).toBeGreaterThan(200);
    expect(afterGap.filter((result) => result.anomaly)).toEqual([]);
  });

  it('flags a value stuck flat in a series that always moves', () => {
    const points = dailyTraffic(4, 5 * minute);
    const stuckFrom = points.length - 30;
    const stuckValue = points[stuckFrom]?.[1] ?? 0;
    const results = run(points.map(([t, v], i): [number, number] => [t, i >= stuckFrom ? stuckValue : v]));
    const stuck = results.slice(stuckFrom).filter((result) => result.anomaly);
    expect(stuck.map((result) => result.reason)).toContain('stuck');
    expect(results.slice(0, stuckFrom).filter((result) => result.reason === 'stuck')).toEqual([]);
  });

  it('flags a series that gets much noisier with the same mean, as a change in variance', () => {
    // Mostly calm, with an occasional noisy bucket (so single large deviations are not news), then noisy
    // throughout from day 4: no single bucket is unusual, the spread is.
    const noise = gaussian(seededRandom(5));
    const pick = seededRandom(105);
    const step = 5 * minute;
    const noisyFrom = monday + 4 * day;
    const points: Array<[number, number]> = [];
    for (let t = monday; t < monday + 5 * day; t += step) {
      const spread = t >= noisyFrom || pick() < 0.05 ? 3 : 1;
      points.push([t, 50 + spread * noise()]);
    }
    const results = run(points);
    const firstHours = results.filter(
      (result) => result.timestamp >= noisyFrom && result.timestamp < noisyFrom + 3 * hour,
    );
    expect(firstHours.filter((result) => result.anomaly).map((result) => result.reason)).toEqual([
      'variance-change',
    ]);
    // The mean did not move: the expected value stays where it was.
    expect(firstHours.at(-1)?.expected).toBeCloseTo(50, 0);
  });

  it('flags a missing expected pattern: the daily peak that does not come', () => {
    const noise = random(17);
    const step = 5 * minute;
    const missingDay = monday + 6 * day;
    const points: Array<[number, number]> = [];
    for (let t = monday; t < monday + 7 * day; t += step) {
      const hourOfDay = (t % day) / hour;
      // A flat 20 with a daily peak of 100 around 11:00 (08:00 to 14:00); on the last day the peak does not come.
      const peaking = hourOfDay >= 8 && hourOfDay < 14 && t < missingDay;
      const peak = peaking ? 80 * Math.sin((Math.PI * (hourOfDay - 8)) / 6) ** 2 : 0;
      points.push([t, 20 + peak + 2 * (noise() - 0.5)]);
    }
    const results = run(points);
    const missingPeak = results.filter(
      (result) => result.timestamp >= missingDay + 8 * hour && result.timestamp < missingDay + 14 * hour,
    );
    const alerts = missingPeak.filter((result) => result.anomaly);
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts[0]?.timestamp).toBeLessThan(missingDay + 11 * hour);
    // The peak was expected: the flat value is judged against the level and the season.
    expect(alerts[0]?.expected).toBeGreaterThan(25);
    expect(alerts[0]?.reason).toBe('unusual-level');
    // The days with their peak never alerted.
    const normalDays = results.filter(
      (result) => result.timestamp >= monday + 2 * day && result.timestamp < missingDay,
    );
    expect(normalDays.filter((result) => result.anomaly)).toEqual([]);
  });

  it('pages for a burst further out than the series has gone in weeks, not for one no bigger than its last', () => {
    const at = (days: number, hours: number) => monday + days * day + hours * hour;
    const withBursts = (bursts: ReadonlyMap<number, number>) =>
      run(dailyTraffic(13, 5 * minute).map(([t, v]): [number, number] => [t, v + (bursts.get(t) ?? 0)]));
    // Four days apart: the first burst's incident has faded, its precedent has not.
    const first = at(6, 10);
    const smaller = at(10, 10);
    const larger = at(11, 10);
    const results = withBursts(
      new Map([
        [first, 100],
        [smaller, 80],
        [larger, 200],
      ]),
    );
    const result = (timestamp: number) => results.find((one) => one.timestamp === timestamp);
    expect(result(first)?.anomaly).toBe(true);
    expect(result(smaller)?.anomaly).toBe(false);
    expect(result(smaller)?.score).toBe(0);
    expect(result(larger)?.anomaly).toBe(true);
    // The same burst, without the larger one before it, is news.
    const alone = withBursts(new Map([[smaller, 80]])).find((one) => one.timestamp === smaller);
    expect(alone?.anomaly).toBe(true);
  });

  it('finds a dip to an all-time low more surprising than its tails alone say', () => {
    // A month of noise (sd 3) with a dip of up to 20 about once a day, the lowest to 78.35, then a dip at noon
    // on day 30.
    const dip = monday + 30 * day + 12 * hour;
    const lastScore = (factory: BandEngineFactory, dayOneNoon: number, low = 76) => {
      const noise = gaussian(seededRandom(21));
      const pick = seededRandom(22);
      const depth = seededRandom(23);
      const engine = factory.create();
      let last: BandResult | undefined;
      for (let t = monday; t <= dip; t += 5 * minute) {
        const usual = 100 + 3 * noise() - (pick() < 1 / 288 ? 20 * depth() : 0);
        last = engine.update(t, t === dip ? low : t === monday + day + 12 * hour ? dayOneNoon : usual);
      }
      return last?.score ?? 0;
    };
    const withoutExtremes = detectorEngineWith({ ...detectorTuning, extremeSurprise: 0 });
    const allTimeLow = lastScore(detectorEngine, 100);
    expect(allTimeLow).toBeGreaterThan(lastScore(withoutExtremes, 100) + 0.05);
    expect(allTimeLow).toBeGreaterThan(lastScore(detectorEngine, 40) + 0.05);
    // A dip to 78 only matches the lowest before (0.35 under it, a ninth of a standard deviation): it is not
    // beyond it, and scores as it would without extremes.
    const matching = lastScore(detectorEngine, 100, 78);
    expect(matching).toBe(lastScore(withoutExtremes, 100, 78));
    expect(matching).toBeCloseTo(0.558, 3);
    // normalcy/4 as first merged took any value below the lowest for an extreme: 0.653.
    expect(lastScore(detectorEngineWith({ ...detectorTuning, extremeMargin: 0 }), 100, 78)).toBeCloseTo(
      0.653,
      3,
    );
  });

  it('flags a burst in a counter that is mostly zero, and never draws its band below zero', () => {
    const noise = random(11);
    const points: Array<[number, number]> = [];
    for (let i = 0; i < 3000; i++) points.push([monday + i * minute, noise() < 0.03 ? 1 : 0]);
    points.push([monday + 3000 * minute, 40]);
    const results = run(points, { kind: 'count' });
    expect(results.at(-1)?.anomaly).toBe(true);
    expect(results.every((result) => result.lower >= 0)).toBe(true);
    // Each departure is judged at one-in-a-thousand by default: the quiet stretch stays well under 1% alerts.
    const quiet = results.slice(1500, 3000).filter((result) => result.anomaly);
    expect(quiet.length).toBeLessThan(15);
  });

  it('keeps a ratio band inside [0, 1]', () => {
    const noise = random(5);
    const points: Array<[number, number]> = [];
    for (let i = 0; i < 2000; i++) points.push([monday + i * minute, 0.97 + 0.03 * noise()]);
    const results = run(points, { kind: 'ratio' });
    expect(results.every((result) => result.upper <= 1 && result.lower >= 0)).toBe(true);
  });

  it('only alerts in the direction asked for', () => {
    const points = dailyTraffic(3, 5 * minute);
    const last = points.length - 1;
    const drop = points.map(([t, v], i): [number, number] => [t, i === last ? v - 150 : v]);
    expect(run(drop, { direction: 'below' }).at(-1)?.anomaly).toBe(true);
    expect(run(drop, { direction: 'above' }).at(-1)?.anomaly).toBe(false);
  });

  it('does not alert before the minimum history, whatever it sees, and does after it', () => {
    // A spike before the minimum history, and a larger one after it (a repeat of the same size would be less
    // surprising, having been seen).
    const spikes = new Map([
      [200, 10],
      [2 * 288 + 200, 30],
    ]);
    const points = dailyTraffic(3, 5 * minute).map(([t, v], i): [number, number] => [
      t,
      v * (spikes.get(i) ?? 1),
    ]);
    const results = run(points, { minHistoryMs: day });
    expect(results.slice(0, 288).filter((result) => result.anomaly)).toEqual([]);
    expect(results[2 * 288 + 200]?.anomaly).toBe(true);
  });

  it('gives scores in [0, 1] and a band whose lower edge is never above its upper', () => {
    const results = run(dailyTraffic(3, 5 * minute));
    for (const result of results) {
      expect(result.score).toBeGreaterThanOrEqual(0);
      expect(result.score).toBeLessThanOrEqual(1);
      expect(result.lower).toBeLessThanOrEqual(result.upper);
    }
  });

  it('describes what it learned: the seasonality after two days, and a ratio from its values', () => {
    const describe = (engine: ReturnType<BandEngineFactory['create']>) =>
      (engine as unknown as { describe(): { kind: string | null; seasonality: string | null } }).describe();
    const daily = detectorEngine.create();
    const seasonalities: (string | null)[] = [];
    for (const [t, v] of dailyTraffic(10, 5 * minute)) {
      daily.update(t, v);
      if ((t - monday) % day === 0) seasonalities.push(describe(daily).seasonality);
    }
    // Midnight of days 1 to 10: not enough history on the first two, a daily cycle from the third on.
    expect(seasonalities).toEqual([null, null, ...Array.from({ length: 8 }, () => 'daily')]);

    const flat = detectorEngine.create();
    const noise = random(3);
    for (let i = 0; i < 3 * 288; i += 1) flat.update(monday + i * 5 * minute, 50 + 5 * noise());
    expect(describe(flat).seasonality).toBe('none');

    const share = detectorEngine.create();
    const latency = detectorEngine.create({ kind: 'latency' });
    for (let i = 0; i < 500; i += 1) {
      share.update(monday + i * minute, 0.4 + 0.1 * Math.sin(i / 10));
      latency.update(monday + i * minute, 120 + 10 * Math.sin(i / 10));
    }
    expect(describe(share).kind).toBe('ratio');
    expect(describe(latency).kind).toBe('latency');
    share.update(monday + 500 * minute, 3);
    expect(describe(share).kind).toBeNull();
  });

  it('keeps its daily band through an outage hundreds of deviations out, and is inside it once the series is back', () => {
    const outageAt = monday + 8 * day + 4 * hour;
    const down = (t: number) => t >= outageAt && t < outageAt + 45 * minute;
    const points = dailyTraffic(10, 5 * minute).map(([t, v]): [number, number] => [
      t,
      down(t) ? v + 2000 : v,
    ]);
    const engine = detectorEngine.create();
    const describe = () => (engine as unknown as { describe(): { seasonality: string | null } }).describe();
    const after: BandResult[] = [];
    for (const [t, v] of points) {
      const result = engine.update(t, v);
      if (t >= outageAt + 45 * minute) after.push(result);
    }
    expect(describe().seasonality).toBe('daily');
    // After it, the daily cycle (100 ± 40) stays inside the band, but for a few buckets at the outage's hour the
    // next day (the daily profile learned a little of it, clipped); nothing is flagged.
    const outside = after.filter((result) => result.value > result.upper || result.value < result.lower);
    const hourOf = (result: BandResult) => Math.floor((result.timestamp % day) / hour);
    expect(outside.length).toBeLessThan(after.length / 50);
    expect(outside.filter((result) => hourOf(result) !== 4)).toEqual([]);
    expect(after.filter((result) => result.anomaly)).toEqual([]);
  });

  it('restores from a JSON round trip and then behaves identically', () => {
    const points = dailyTraffic(6, 5 * minute, 9);
    const split = 1000;
    const original = detectorEngine.create();
    for (const [t, v] of points.slice(0, split)) original.update(t, v);
    const saved = JSON.parse(JSON.stringify(original.toState()));
    const restored = detectorEngine.restore(saved);
    const rest = points.slice(split);
    const fromOriginal = rest.map(([t, v]) => original.update(t, v));
    const fromRestored = rest.map(([t, v]) => restored.update(t, v));
    expect(fromRestored).toEqual(fromOriginal);
    expect(JSON.stringify(restored.toState())).toBe(JSON.stringify(original.toState()));
  });

  it('keeps its state JSON-safe and small', () => {
    const engine = detectorEngine.create();
    for (const [t, v] of dailyTraffic(20, 5 * minute)) engine.update(t, v);
    const state = engine.toState();
    const json = JSON.stringify(state);
    // Every value survives JSON: no undefined, NaN or Infinity (which JSON turns into null or drops).
    expect(JSON.parse(json)).toEqual(state);
    expect(json).not.toContain('null');
    // About 4 KB: normalcy/4 was 4,044 characters here; normalcy/5's second recurrence bit per weekly slot adds 56.
    expect(json.length).toBeLessThanOrEqual(4160);
  });

  it('starts afresh from the state of another engine', () => {
    const engine = detectorEngine.restore({ engine: 'seasonal-median/1' });
    expect(engine.update(monday, 5).anomaly).toBe(false);
    expect(engine.toState().engine).toBe('normalcy/5');
  });

  it('upgrades a normalcy/3 state instead of starting afresh: a spike the next day pages at once', () => {
    // Written by normalcy/3 after the first three days of dailyTraffic(4, 5 minutes).
    const stored = JSON.parse(
      readFileSync(new URL('./fixtures/normalcy-3-state.json', import.meta.url), 'utf8'),
    );
    const spikeAt = monday + 3 * day + 12 * hour;
    const dayFour = dailyTraffic(4, 5 * minute)
      .filter(([t]) => t >= monday + 3 * day)
      .map(([t, v]): [number, number] => [t, t === spikeAt ? v + 100 : v]);
    const upgraded = detectorEngine.restore(stored);
    const fresh = detectorEngine.create();
    const atSpike = (results: BandResult[]) => results.find((result) => result.timestamp === spikeAt);
    const fromUpgraded = dayFour.map(([t, v]) => upgraded.update(t, v));
    const fromFresh = dayFour.map(([t, v]) => fresh.update(t, v));
    expect(upgraded.toState().engine).toBe('normalcy/5');
    expect(atSpike(fromUpgraded)?.anomaly).toBe(true);
    // A fresh engine does not have the minimum history yet.
    expect(atSpike(fromFresh)?.anomaly).toBe(false);
    // The band goes on where it was: at noon the cycle is at its mean, 100.
    expect(atSpike(fromUpgraded)?.expected).toBeGreaterThan(90);
    expect(atSpike(fromUpgraded)?.expected).toBeLessThan(110);
  });

  it('upgrades a normalcy/4 state in place: its departures of last week carry over', () => {
    // Written by normalcy/4 after the first 16 days of smallWeeklyEvent() (its 1st and 2nd Thursdays).
    const stored = JSON.parse(
      readFileSync(new URL('./fixtures/normalcy-4-state.json', import.meta.url), 'utf8'),
    );
    const upgraded = detectorEngine.restore(stored);
    const rest = smallWeeklyEvent().filter(([t]) => t >= monday + 16 * day);
    const results = rest.map(([t, v]) => upgraded.update(t, v));
    expect(upgraded.toState().engine).toBe('normalcy/5');
    expect(learnedTraits(upgraded)?.seasonality).toBe('daily');
    const alertsFrom = (start: number) =>
      results.filter(
        (result) => result.anomaly && result.timestamp >= start && result.timestamp < start + 2 * hour,
      );
    // The 3rd Thursday is the second in a row the upgraded state knows of: it pages, once; the 4th does not.
    expect(alertsFrom(thursday(2)).length).toBe(1);
    expect(alertsFrom(thursday(3))).toEqual([]);
    expect(alertsFrom(bumpTuesday).length).toBe(1);
    // The band goes on where it was, and the state survives a round trip.
    expect(results[0]?.expected).toBeGreaterThan(70);
    expect(results[0]?.expected).toBeLessThan(120);
    const again = detectorEngine.restore(JSON.parse(JSON.stringify(upgraded.toState())));
    expect(again.toState()).toEqual(upgraded.toState());
  });

  it('starts afresh from a damaged state of its own kind instead of failing', () => {
    const engine = detectorEngine.create();
    for (const [t, v] of dailyTraffic(2, 5 * minute)) engine.update(t, v);
    const saved = engine.toState();
    const fresh = detectorEngine.create().toState();
    for (const damage of [{ tails: 'AAAA' }, { daily: 12 }, { scalars: 'high' }, { scalars: null }]) {
      const restored = detectorEngine.restore({ ...saved, ...damage });
      expect(restored.toState()).toEqual(fresh);
      expect(restored.update(monday, 5).anomaly).toBe(false);
    }
    expect(detectorEngine.restore(saved).toState()).toEqual(saved);
  });

  it('ignores values that are not numbers', () => {
    const engine = detectorEngine.create();
    engine.update(monday, 1);
    expect(engine.update(monday + minute, Number.NaN).anomaly).toBe(false);
    expect(JSON.stringify(engine.toState())).not.toMatch(/null|NaN/);
  });
});

describe('Engine: normalcy band (what alerts are kept open by)', () => {
  /** What the engine expects of the same series without `change`, by timestamp. */
  const expectedWithout = (points: ReadonlyArray<readonly [number, number]>) =>
    new Map(run(points).map((result) => [result.timestamp, result.expected]));
  /** Whether the band's expected value stays within `share` of what it is without the anomaly. */
  const unmoved = (results: readonly BandResult[], twin: Map<number, number>, share: number) =>
    results.filter((result) => {
      const reference = twin.get(result.timestamp) ?? Number.NaN;
      return !(Math.abs(result.expected - reference) < share * reference);
    });

  it('does not move during an outage: the expected value stays with the season, and data back is inside', () => {
    const down = monday + 8 * day + 14 * hour;
    const normal = dailyTraffic(9, 5 * minute, 21);
    const points = normal.map(([t, v]): [number, number] => [t, t >= down && t < down + 45 * minute ? 0 : v]);
    const results = run(points);
    const during = results.filter((r) => r.timestamp >= down && r.timestamp < down + 45 * minute);
    const after = results.filter((r) => r.timestamp >= down + 45 * minute && r.timestamp < down + 3 * hour);
    expect(during).toHaveLength(9);
    expect(during[0]?.anomaly).toBe(true);
    expect(unmoved([...during, ...after], expectedWithout(normal), 0.03)).toEqual([]);
    // The outage stays outside the band throughout, and the series is back inside as soon as it is back.
    expect(during.every((r) => r.value < r.lower)).toBe(true);
    expect(after.every((r) => r.value >= r.lower && r.value <= r.upper)).toBe(true);
    // Nor did the outage widen the band.
    const before = results.find((r) => r.timestamp === down - 5 * minute);
    const width = (r: BandResult | undefined) => (r?.upper ?? 0) - (r?.lower ?? 0);
    expect(width(after.at(-1))).toBeLessThan(1.2 * width(before));
  });

  it('does not chase a leak: a steady climb leaves the band, is flagged, and stays outside for hours', () => {
    // From 18:00, when the daily cycle is at its flat bottom, one unit more every 5 minutes (the noise is
    // about ±2): no single step is unusual, the climb is.
    const leakFrom = monday + 8 * day + 18 * hour;
    const normal = dailyTraffic(9, 5 * minute, 23);
    const points = normal.map(([t, v]): [number, number] => [
      t,
      t >= leakFrom ? v + (1 + (t - leakFrom) / (5 * minute)) : v,
    ]);
    const results = run(points);
    const leaking = results.filter((r) => r.timestamp >= leakFrom && r.timestamp < leakFrom + 4 * hour);
    // Flagged within the first two hours...
    const flaggedAt = leaking.findIndex((r) => r.anomaly);
    expect(flaggedAt).toBeGreaterThanOrEqual(0);
    expect(flaggedAt).toBeLessThan(24);
    // ...while the band stays with the season: four hours and 48 units later, it has not followed, so the
    // series stays outside it from the alert on (an open alert stays open).
    expect(unmoved(leaking, expectedWithout(normal), 0.05)).toEqual([]);
    expect(leaking.slice(flaggedAt).every((r) => r.value > r.upper)).toBe(true);
  });

  it('does not learn a one-off outage into next week, while it does learn a weekly event', () => {
    const step = 5 * minute;
    const weekday = (t: number) => Math.floor((t - monday) / day) % 7; // 0 = Monday
    const hourOf = (t: number) => (t % day) / hour;
    // A weekly batch every Thursday 04:00 to 04:30 (so the engine keeps a weekly profile), and one outage on
    // the second Tuesday from 14:00 to 15:00.
    const outageFrom = monday + 8 * day + 14 * hour;
    const series = (withOutage: boolean) => {
      const noise = random(29);
      const points: Array<[number, number]> = [];
      for (let t = monday; t < monday + 22 * day; t += step) {
        const batch = weekday(t) === 3 && hourOf(t) >= 4 && hourOf(t) < 4.5 ? 150 : 0;
        const down = withOutage && t >= outageFrom && t < outageFrom + hour;
        points.push([t, down ? 0 : 50 + 10 * Math.sin((2 * Math.PI * hourOf(t)) / 24) + 4 * noise() + batch]);
      }
      return points;
    };
    const results = run(series(true));
    // The third Tuesday from 13:00 to 16:00 is as normal as ever: nothing flagged, the band where it would
    // be had the outage never happened.
    const thirdTuesday = results.filter(
      (r) => r.timestamp >= outageFrom + 14 * day - hour && r.timestamp < outageFrom + 14 * day + 2 * hour,
    );
    expect(thirdTuesday.filter((r) => r.anomaly)).toEqual([]);
    expect(unmoved(thirdTuesday, expectedWithout(series(false)), 0.05)).toEqual([]);
    // The third Thursday's batch is inside the band, and not flagged.
    const thirdBatch = results.filter(
      (r) => r.timestamp >= monday + 17 * day + 4 * hour && r.timestamp < monday + 17 * day + 4.5 * hour,
    );
    expect(thirdBatch).toHaveLength(6);
    expect(thirdBatch.every((r) => r.value > 190 && r.value >= r.lower && r.value <= r.upper)).toBe(true);
    expect(thirdBatch.filter((r) => r.anomaly)).toEqual([]);
  });
});

describe('Engine: normalcy causality', () => {
  it('says the same about the first k buckets whether or not later buckets exist', () => {
    const points = dailyTraffic(5, 5 * minute, 4);
    const full = run(points);
    for (const k of [1, 10, 500, 1000]) expect(run(points.slice(0, k))).toEqual(full.slice(0, k));
  });
});
