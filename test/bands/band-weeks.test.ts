import { describe, expect, it } from 'vitest';
import { detectorEngine, normalcyEngine } from '../../lib/bands/index.ts';
import { dayMs, hourMs, jobSettings, minuteMs, syntheticSeries, weekMs } from '../helpers/series.ts';
import { departing, iso, monday, runBand, within } from './band-results.ts';

/**
 * The band's week: weekday levels learned from the first days on (each day measured against the other days seen),
 * and weekly events remembered from one week or two before. Each case is what a user saw page falsely in the
 * scenario generator's traffic series (`../shared/scenarios`, seeds 1-20) before normalcy/7.
 */

describe('Band: weekdays learned from the first week', () => {
  it.each([1, 2, 3])('weekends at 75 % all day: the third week is not paged (seed %i)', (seed) => {
    // Weekends a quarter down from midnight to midnight (inside the young band: not a departure). Before, the
    // first day (measured against itself) and the unseen slots of a weekday's three counted as zero deviations:
    // the third Monday started at the weekend's level and paged at midnight.
    const weekend = (t: number) => Math.floor((t - monday) / dayMs) % 7 >= 5;
    const results = runBand({
      type: 'counter',
      stepMs: 5 * minuteMs,
      from: monday,
      to: monday + 3 * weekMs,
      seed,
      change: (t) => (weekend(t) ? 0.75 : 1),
    });
    const thirdWeek = within(results, monday + 2 * weekMs, monday + 3 * weekMs);
    expect(thirdWeek).toHaveLength(7 * 288);
    expect(departing(thirdWeek)).toEqual([]);
  });
});

describe('Band: a weekly event seen one or two weeks before is inside', () => {
  // A deploy ×3 for 20 minutes every Thursday at 04:00 but in the second week (no deploy that week, or one the
  // young band, still wide, did not notice): the third week's is inside from the first week's, the fourth week's
  // from the third's. Before, both weeks before had to show it, and the third and fourth weeks paged.
  const thursday = (week: number) => monday + week * weekMs + 3 * dayMs + 4 * hourMs;
  const deploys = [0, 1, 2, 3].map(thursday);
  const size = (t: number) => {
    const week = deploys.findIndex((at) => t >= at && t < at + 20 * minuteMs);
    return week < 0 || week === 1 ? 1 : 3;
  };
  // The same deploy on a Tuesday of the fourth week is outside: it is the time that makes it normal.
  const tuesday = monday + 3 * weekMs + dayMs + 4 * hourMs;
  const elsewhere = (t: number) => t >= tuesday && t < tuesday + 20 * minuteMs;

  it.each([1, 2, 3])('a 5-minute counter (seed %i)', (seed) => {
    const results = runBand({
      type: 'counter',
      stepMs: 5 * minuteMs,
      from: monday,
      to: monday + 4 * weekMs,
      seed,
      change: (t) => (elsewhere(t) ? 3 : size(t)),
    });
    for (const at of deploys.slice(2)) {
      const event = within(results, at - 5 * minuteMs, at + 30 * minuteMs);
      expect(event.length).toBeGreaterThan(0);
      expect(departing(event), `the deploy of ${iso(at)}`).toEqual([]);
    }
    const onTuesday = within(results, tuesday, tuesday + 20 * minuteMs);
    expect(onTuesday.filter((result) => !result.anomaly).map((result) => iso(result.timestamp))).toEqual([]);
  });
});

describe('Engine: a normalcy/6 state is upgraded', () => {
  it('keeps what its detector learned and starts the band afresh', () => {
    const series = syntheticSeries({
      type: 'counter',
      stepMs: 5 * minuteMs,
      from: monday,
      to: monday + weekMs,
      seed: 4,
    });
    const engine = normalcyEngine.create(jobSettings.counter);
    const detector = detectorEngine.create(jobSettings.counter);
    for (const [timestamp, value] of series) {
      engine.update(timestamp, value);
      detector.update(timestamp, value);
    }
    // normalcy/6 stored the detector's state (normalcy/5's) beside a band of another layout.
    const previous = {
      engine: 'normalcy/6',
      detector: detector.toState(),
      band: { scalars: 'AAAA', arrays: 'AAAA', episodes: '' },
    };

    const upgraded = normalcyEngine.restore(JSON.parse(JSON.stringify(previous)), jobSettings.counter);
    expect(upgraded.toState().engine).toBe('normalcy/9');
    // The detector goes on where it was, the band as a fresh engine's.
    const next: [number, number] = [monday + weekMs, 800];
    const fresh = normalcyEngine.create(jobSettings.counter).update(...next);
    const trained = engine.update(...next);
    const result = upgraded.update(...next);
    expect(result.score).toBe(trained.score);
    expect(result.news).toBe(trained.news);
    expect([result.expected, result.lower, result.upper]).toEqual([fresh.expected, fresh.lower, fresh.upper]);
    expect(trained.expected).not.toBe(fresh.expected);
  });
});
