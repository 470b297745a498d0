import { describe, expect, it } from 'vitest';
import type { BandResult } from '../../lib/bands/engine.ts';
import { dayMs, hourMs, minuteMs, type SeriesType, weekMs } from '../helpers/series.ts';
import { departing, inside, iso, monday, outside, runBand, shown, within } from './band-results.ts';

/**
 * Issue 12, item 2: "A band that is the series' normal, not its recent past". Each test runs normalcy/7 over
 * fixed seeded series of each type the band job knows, with the settings the job passes for it, and checks what
 * a user would see on the chart: which buckets are outside the band, and where the band is.
 */

const types: readonly SeriesType[] = ['counter', 'gauge', 'timer'];
const stepName = (stepMs: number) => (stepMs === hourMs ? '1 h' : `${stepMs / minuteMs} min`);

/** Each day's departures (what the default rule pages on), for the days that are not `except`. */
function departuresPerDay(
  results: readonly BandResult[],
  from: number,
  to: number,
  except: (day: number) => boolean,
) {
  const days: string[] = [];
  for (let day = from; day < to; day += dayMs) {
    if (except(day)) continue;
    const flagged = departing(within(results, day, day + dayMs));
    if (flagged.length > 0)
      days.push(`${iso(day).slice(0, 10)}: ${flagged.length} departing, first ${flagged[0]}`);
  }
  return days;
}

describe('Band: a departure does not move the band; a lasting shift is accepted after relearnAfterMs', () => {
  // Two weeks of history, then a 45-minute drop to 40 %, the next day two hours at three times the value, and
  // the day after a lasting shift of half the level: one and a half times the value for counts and latencies
  // (which the band judges by ratios), 20 more for a gauge (whose level moves, not its daily swing).
  const dropAt = monday + 15 * dayMs + 14 * hourMs;
  const excursionAt = monday + 16 * dayMs + 10 * hourMs;
  const shiftAt = monday + 17 * dayMs + 9 * hourMs;
  const departure = (t: number) => {
    if (t >= dropAt && t < dropAt + 45 * minuteMs) return 0.4;
    return t >= excursionAt && t < excursionAt + 2 * hourMs ? 3 : 1;
  };

  const cases = types.flatMap((type) => [minuteMs, 5 * minuteMs].map((stepMs) => ({ type, stepMs })));
  it.each(cases)('$type at a step of $stepMs ms', ({ type, stepMs }) => {
    const shifted = (t: number) => t >= shiftAt;
    const spec = { type, stepMs, from: monday, to: shiftAt + 27 * hourMs, seed: 5 };
    const results = runBand({
      ...spec,
      change: (t) => departure(t) * (type !== 'gauge' && shifted(t) ? 1.5 : 1),
      offset: (t) => (type === 'gauge' && shifted(t) ? 20 : 0),
    });
    // The same series without any of it: where the band would be had nothing happened.
    const twin = new Map(runBand(spec).map((result) => [result.timestamp, result.expected]));
    const newLevel = (normal: number) => (type === 'gauge' ? normal + 20 : 1.5 * normal);
    /** The buckets whose expected value is not within `share` of `level` of the twin's. */
    const astray = (buckets: readonly BandResult[], share: number, level = (normal: number) => normal) =>
      buckets
        .filter((result) => {
          const normal = level(twin.get(result.timestamp) ?? Number.NaN);
          return !(Math.abs(result.expected - normal) <= share * normal);
        })
        .map((result) => `${shown(result)} against ${level(twin.get(result.timestamp) ?? 0).toFixed(1)}`);

    const drop = within(results, dropAt, dropAt + 45 * minuteMs);
    const excursion = within(results, excursionAt, excursionAt + 2 * hourMs);
    expect(drop).toHaveLength((45 * minuteMs) / stepMs);
    expect(excursion).toHaveLength((2 * hourMs) / stepMs);
    // Every bucket of either departure is outside the band, and the band stays where it was.
    expect.soft(inside(drop), 'drop buckets inside the band').toEqual([]);
    expect.soft(inside(excursion), 'excursion buckets inside the band').toEqual([]);
    expect.soft(astray([...drop, ...excursion], 0.03), 'expected moved by a departure').toEqual([]);
    // Back to normal, the series is inside at once, and nothing was accepted.
    const afterDrop = within(results, dropAt + 45 * minuteMs, dropAt + 2 * hourMs);
    const afterExcursion = within(results, excursionAt + 2 * hourMs, excursionAt + 3 * hourMs);
    expect.soft(outside([...afterDrop, ...afterExcursion]), 'normal buckets after a departure').toEqual([]);
    const relearned = results.filter((result) => result.relearned);
    expect.soft(within(relearned, monday, shiftAt).map(shown), 'accepted before the shift').toEqual([]);

    // The lasting shift is outside for six hours, then accepted once, and the band holds the new level.
    const acceptedAt = within(relearned, shiftAt, spec.to)[0]?.timestamp;
    expect(acceptedAt, 'the shift was never accepted').toBeDefined();
    const acceptedAfter = (acceptedAt ?? 0) - shiftAt;
    expect.soft(acceptedAfter, 'accepted after (ms)').toBeGreaterThanOrEqual(6 * hourMs);
    expect.soft(acceptedAfter, 'accepted after (ms)').toBeLessThanOrEqual(6 * hourMs + 30 * minuteMs);
    // Before that it is outside (a half again is some 5 to 8 times the noise: a few noisy buckets may be in).
    const before = within(results, shiftAt, acceptedAt ?? 0);
    expect
      .soft(inside(before).length, `inside before acceptance: ${inside(before).slice(0, 5).join('; ')}`)
      .toBeLessThanOrEqual(0.02 * before.length);
    const accepted = within(results, (acceptedAt ?? 0) + stepMs, (acceptedAt ?? 0) + 20 * hourMs);
    expect.soft(within(relearned, (acceptedAt ?? 0) + 1, spec.to).map(shown), 'accepted again').toEqual([]);
    expect.soft(astray(accepted, 0.1, newLevel).slice(0, 5), 'expected after acceptance').toEqual([]);
    const outsideAfter = outside(accepted);
    expect
      .soft(outsideAfter.length, `outside after acceptance: ${outsideAfter.slice(0, 5).join('; ')}`)
      .toBeLessThanOrEqual(3);
  });
});

describe('Band: a weekly event seen in the two weeks before is inside from its third occurrence', () => {
  const thursday = (week: number) => monday + week * weekMs + 3 * dayMs + 4 * hourMs;
  const tuesday = monday + 3 * weekMs + dayMs + 4 * hourMs;
  const cases = types.flatMap((type) => [minuteMs, 5 * minuteMs, hourMs].map((stepMs) => ({ type, stepMs })));

  it.each(cases)(
    'a deploy spike ×3.5 every Thursday 04:00: $type at a step of $stepMs ms',
    ({ type, stepMs }) => {
      // A deploy lasts 15 minutes; an hourly series sees one of two hours.
      const length = stepMs === hourMs ? 2 * hourMs : 15 * minuteMs;
      const spikes = [0, 1, 2, 3, 4].map(thursday);
      const change = (t: number) => ([...spikes, tuesday].some((at) => t >= at && t < at + length) ? 3.5 : 1);
      // Four draws of the noise: the event is inside whatever the noise did on its first two occurrences.
      for (const seed of [1, 2, 3, 4]) {
        const results = runBand({ type, stepMs, from: monday, to: thursday(4) + dayMs, seed, change });
        const label = `${stepName(stepMs)} ${type}, seed ${seed}`;
        for (const [week, at] of spikes.entries()) {
          if (week < 2) continue;
          // The spike and the buckets as it ends.
          const event = within(results, at - stepMs, at + length + 2 * stepMs);
          expect(event.length).toBeGreaterThan(0);
          expect.soft(departing(event), `${label}: occurrence ${week + 1}`).toEqual([]);
        }
        // Known gap: an hourly band young in its weekly cycle can still be too wide to see a ×3.5 hour (its tails
        // learn while the weekly pattern is a deviation); at one and five minutes the spike is outside.
        if (stepMs === hourMs) continue;
        const elsewhere = within(results, tuesday, tuesday + length);
        expect(elsewhere.length).toBeGreaterThan(0);
        expect.soft(inside(elsewhere), `${label}: the same spike on a Tuesday`).toEqual([]);
      }
    },
  );

  // Known gap: at an hourly step the band is still too wide for a 40 % drop in the weeks a weekly cycle is being
  // learned (see docs/engine.md); this holds at one and five minutes.
  const weekendCases = cases.filter(({ stepMs }) => stepMs !== hourMs);
  it.each(weekendCases)(
    'weekends at 40 %, a one-off weekday at 40 %: $type at a step of $stepMs ms',
    ({ type, stepMs }) => {
      const weekday = (t: number) => Math.floor((t - monday) / dayMs) % 7; // 0 is Monday
      const oneOffWednesday = monday + 3 * weekMs + 2 * dayMs;
      // Incidents in the fifth week, which the band must still see: an outage on a Tuesday afternoon (a drop to
      // 40 %) and one on the Saturday afternoon (a drop to 40 % of the weekend's level).
      const incidentLength = stepMs === hourMs ? 2 * hourMs : 45 * minuteMs;
      const weekdayIncident = monday + 4 * weekMs + dayMs + 14 * hourMs;
      const weekendIncident = monday + 4 * weekMs + 5 * dayMs + 14 * hourMs;
      const incident = (t: number) =>
        (t >= weekdayIncident && t < weekdayIncident + incidentLength) ||
        (t >= weekendIncident && t < weekendIncident + incidentLength);
      const change = (t: number) =>
        (weekday(t) >= 5 || (t >= oneOffWednesday && t < oneOffWednesday + dayMs) ? 0.4 : 1) *
        (incident(t) ? 0.4 : 1);
      const end = monday + 5 * weekMs;
      const results = runBand({ type, stepMs, from: monday, to: end, seed: 4, change });
      const label = `${stepName(stepMs)} ${type}`;

      // The third, fourth and fifth weekends are inside the band (but for the fifth Saturday's incident).
      for (const week of [2, 3, 4]) {
        const saturday = monday + week * weekMs + 5 * dayMs;
        const weekend = within(results, saturday, saturday + 2 * dayMs).filter(
          (result) =>
            !(
              result.timestamp >= weekendIncident - stepMs &&
              result.timestamp < weekendIncident + incidentLength + 2 * stepMs
            ),
        );
        expect
          .soft(
            departing(weekend).slice(0, 5),
            `${label}: weekend ${week + 1}, ${departing(weekend).length} departing`,
          )
          .toEqual([]);
      }
      // The weekdays from the third week on are as normal as ever: the weekend does not leave the band elsewhere.
      const unusualDay = (day: number) =>
        day === oneOffWednesday || weekday(day) >= 5 || day === weekdayIncident - 14 * hourMs;
      expect
        .soft(departuresPerDay(results, monday + 2 * weekMs, end, unusualDay), `${label}: weekdays`)
        .toEqual([]);

      // A one-off Wednesday at 40 % is outside until it is accepted as the new level, after relearnAfterMs.
      // At night a one-minute counter counts some 60 a minute, whose noise now and then reaches the edge of a band
      // drawn for one page in decades: a few buckets in (at most 10 %), the departure itself unmistakable.
      const wednesday = within(results, oneOffWednesday, oneOffWednesday + 6 * hourMs);
      expect
        .soft(
          inside(wednesday).length,
          `${label}: one-off Wednesday, inside: ${inside(wednesday).slice(0, 5).join('; ')}`,
        )
        .toBeLessThanOrEqual(0.1 * wednesday.length);

      // The band of a normal weekday and of a normal weekend still sees an outage.
      const incidents = results.filter((result) => incident(result.timestamp));
      expect(incidents.length).toBe((2 * incidentLength) / stepMs);
      expect
        .soft(inside(incidents).length, `${label}: incident buckets inside: ${inside(incidents).join('; ')}`)
        .toBeLessThanOrEqual(Math.floor(0.05 * incidents.length));
    },
  );
});

describe('Band: a silent gap is not an incident, and learning resumes after it', () => {
  // Gaps of one, two and three hours with no point at all, on three days of the second week.
  const gaps = [
    [monday + 9 * dayMs + 12 * hourMs, hourMs],
    [monday + 10 * dayMs + 3 * hourMs, 2 * hourMs],
    [monday + 11 * dayMs + 17 * hourMs, 3 * hourMs],
  ] as const;
  const cases = types.flatMap((type) => [minuteMs, 5 * minuteMs, hourMs].map((stepMs) => ({ type, stepMs })));

  it.each(cases)('$type at a step of $stepMs ms', ({ type, stepMs }) => {
    const silent = (t: number) => gaps.some(([from, length]) => t >= from && t < from + length);
    const spec = { type, stepMs, from: monday, to: monday + 13 * dayMs, seed: 6 };
    const results = runBand({ ...spec, change: (t) => (silent(t) ? undefined : 1) });
    const twin = new Map(runBand(spec).map((result) => [result.timestamp, result]));
    // Hourly buckets learn the daily profile from 24 buckets a day: missing three of them moves it more.
    const share = stepMs === hourMs ? 0.1 : 0.05;
    for (const [from, length] of gaps) {
      const label = `${stepName(stepMs)} ${type}, after the gap at ${iso(from)}`;
      const firstHour = within(results, from + length, from + length + hourMs);
      expect(firstHour.length).toBeGreaterThan(0);
      expect.soft(outside(firstHour), label).toEqual([]);
      // The day after follows the daily pattern as if there had been no gap, and is as quiet.
      const dayAfter = within(results, from + length, from + length + dayMs);
      const astray = dayAfter
        .filter((result) => {
          const normal = twin.get(result.timestamp)?.expected ?? Number.NaN;
          return !(Math.abs(result.expected - normal) <= share * normal);
        })
        .map(shown);
      expect.soft(astray.slice(0, 5), `${label}: expected astray from the gapless series`).toEqual([]);
      const gaplessOutside = dayAfter.filter((result) => twin.get(result.timestamp)?.anomaly).length;
      expect.soft(outside(dayAfter).length, label).toBeLessThanOrEqual(gaplessOutside + 1);
    }
  });
});
