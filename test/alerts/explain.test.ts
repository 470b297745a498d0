import { describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  explainAlert,
  explanationHeadline,
  formatNumber,
  unitOf,
} from '../../lib/alerts/explain.ts';

/** Thursday 3 December 2026, at a time of day in UTC. */
const thursday = (hours: number, minutes: number): number => Date.UTC(2026, 11, 3, hours, minutes);

/** A band alert on Thursday at 04:00 UTC that started at 03:30 and is told as of 04:05. */
const band = (facts: Partial<AlertFacts> = {}): AlertFacts => ({
  ruleKind: 'band',
  value: 360,
  expected: 1250,
  lower: 1100,
  upper: 1400,
  threshold: null,
  judgedAt: thursday(4, 0),
  startedAt: thursday(3, 30),
  until: thursday(4, 5),
  ...facts,
});

const threshold = (facts: Partial<AlertFacts> = {}): AlertFacts => ({
  ruleKind: 'threshold',
  value: 730,
  expected: null,
  lower: null,
  upper: null,
  threshold: 500,
  direction: 'above',
  judgedAt: thursday(13, 50),
  startedAt: thursday(13, 20),
  until: thursday(13, 55),
  ...facts,
});

const silence = (facts: Partial<AlertFacts> = {}): AlertFacts => ({
  ruleKind: 'nodata',
  value: null,
  expected: null,
  lower: null,
  upper: null,
  threshold: null,
  judgedAt: thursday(14, 5),
  startedAt: thursday(13, 20),
  until: thursday(14, 5),
  ...facts,
});

describe('Function: explainAlert', () => {
  it.each<[string, AlertFacts, string]>([
    [
      'a band alert below: season, usual, now, relative, duration, half-widths, band',
      band(),
      'Thursday 04:00 usually 1,250, now 360, 71% below, for 35 min (5.9 band half-widths out; band 1,100 to 1,400)',
    ],
    [
      'the worst of the episode when it went further than now',
      band({ peakDeviation: 8.04 }),
      'Thursday 04:00 usually 1,250, now 360, 71% below, for 35 min (5.9 band half-widths out, 8 at worst; band 1,100 to 1,400)',
    ],
    [
      'a timer in ms',
      band({ value: 1900, expected: 820, lower: 700, upper: 1000, unit: 'ms' }),
      'Thursday 04:00 usually 820 ms, now 1,900 ms, 132% above, for 35 min (6 band half-widths out; band 700 to 1,000 ms)',
    ],
    [
      'a counter per bucket',
      band({ value: 12, expected: 3, lower: 1, upper: 5, unit: '/min' }),
      'Thursday 04:00 usually 3/min, now 12/min, 300% above, for 35 min (4.5 band half-widths out; band 1 to 5/min)',
    ],
    [
      'many times the usual value: a multiple, not thousands of percent',
      band({ value: 52_000, expected: 1250 }),
      'Thursday 04:00 usually 1,250, now 52,000, 41.6 times the usual, for 35 min (338 band half-widths out; band 1,100 to 1,400)',
    ],
    [
      'expected 0: the absolute difference',
      band({ value: 230, expected: 0, lower: -20, upper: 20 }),
      'Thursday 04:00 usually 0, now 230, 230 above, for 35 min (12 band half-widths out; band -20 to 20)',
    ],
    [
      'negative values: the absolute difference',
      band({ value: -80, expected: -20, lower: -30, upper: -10 }),
      'Thursday 04:00 usually -20, now -80, 60 below, for 35 min (6 band half-widths out; band -30 to -10)',
    ],
    [
      'a value that crosses zero: the absolute difference',
      band({ value: -5, expected: 10, lower: 8, upper: 12 }),
      'Thursday 04:00 usually 10, now -5, 15 below, for 35 min (7.5 band half-widths out; band 8 to 12)',
    ],
    [
      'a value down to zero',
      band({ value: 0 }),
      'Thursday 04:00 usually 1,250, now 0, 100% below, for 35 min (8.3 band half-widths out; band 1,100 to 1,400)',
    ],
    [
      'huge numbers compactly',
      band({ value: 9.1e9, expected: 4.57e9, lower: 4.2e9, upper: 4.9e9 }),
      'Thursday 04:00 usually 4.57B, now 9.1B, 99% above, for 35 min (14 band half-widths out; band 4.2B to 4.9B)',
    ],
    [
      'small numbers to three significant digits, tiny ones in scientific notation',
      band({ value: 0.0042, expected: 0.00123, lower: 0.001, upper: 0.0015, peakDeviation: null }),
      'Thursday 04:00 usually 0.00123, now 0.0042, 241% above, for 35 min (11 band half-widths out; band 0.001 to 0.0015)',
    ],
    [
      'a band of no width (a flat series)',
      band({ value: 101, expected: 100, lower: 100, upper: 100 }),
      'Thursday 04:00 usually 100, now 101, 1% above, for 35 min (over 1,000 band half-widths out; band 100 to 100)',
    ],
    [
      'a stuck value',
      band({ value: 1250, stuck: true }),
      'Thursday 04:00 usually 1,250, now 1,250, stuck at one value, for 35 min (band 1,100 to 1,400)',
    ],
    [
      'resolved: past tense, until when, the worst of the episode',
      band({ resolvedAt: thursday(4, 45), until: thursday(4, 45), peakDeviation: 7.25 }),
      'Thursday 04:00 usually 1,250, was 360, 71% below, for 1 h 15 min until 04:45 (7.3 band half-widths out at worst; band 1,100 to 1,400)',
    ],
    [
      'NaN and Infinity are left out, never printed',
      band({ lower: Number.NaN, upper: Number.POSITIVE_INFINITY, peakDeviation: Number.NaN }),
      'Thursday 04:00 usually 1,250, now 360, 71% below, for 35 min',
    ],
    [
      'no expected value: what it is and how long',
      band({ expected: Number.NaN }),
      'Thursday 04:00 now 360 for 35 min',
    ],
    [
      'a threshold crossed: since when, now, how far past',
      threshold(),
      'above 500 since 13:20, now 730 (46% over, for 35 min)',
    ],
    [
      'a threshold below',
      threshold({ value: 12, threshold: 50, direction: 'below' }),
      'below 50 since 13:20, now 12 (76% under, for 35 min)',
    ],
    [
      'a threshold of 0: the difference',
      threshold({ value: 3, threshold: 0 }),
      'above 0 since 13:20, now 3 (3 over, for 35 min)',
    ],
    [
      'far past a threshold: a multiple',
      threshold({ value: 12_000, threshold: 500, unit: 'ms' }),
      'above 500 ms since 13:20, now 12,000 ms (24 times the threshold, for 35 min)',
    ],
    [
      'a resolved threshold alert',
      threshold({ resolvedAt: thursday(14, 5), until: thursday(14, 5) }),
      'above 500 from 13:20 to 14:05 (45 min; 730 when it opened)',
    ],
    ['no data since', silence(), 'no data since 13:20 (45 min)'],
    [
      'no data since the day before: with the weekday',
      silence({ startedAt: Date.UTC(2026, 11, 2, 23, 50), until: thursday(0, 20) }),
      'no data since Wed 23:50 (30 min)',
    ],
    [
      'no data for over a week: with the date',
      silence({ startedAt: Date.UTC(2026, 10, 20, 8, 0) }),
      'no data since 20 Nov 08:00 (13 d 6 h)',
    ],
    ['no data, resolved', silence({ resolvedAt: thursday(14, 5) }), 'no data from 13:20 to 14:05 (45 min)'],
  ])('%s', (_, facts, line) => {
    expect(explainAlert(facts)).toBe(line);
  });

  it('tells the season and times in the time zone set (Thursday 04:00 UTC is 05:00 in Paris, 23:00 on Wednesday in New York)', () => {
    expect(explanationHeadline(explainAlert(band(), { timeZone: 'Europe/Paris' }))).toBe(
      'Thursday 05:00 usually 1,250, now 360, 71% below, for 35 min',
    );
    expect(explanationHeadline(explainAlert(band(), { timeZone: 'America/New_York' }))).toBe(
      'Wednesday 23:00 usually 1,250, now 360, 71% below, for 35 min',
    );
    expect(explainAlert(threshold(), { timeZone: 'Asia/Kolkata' })).toBe(
      'above 500 since 18:50, now 730 (46% over, for 35 min)',
    );
  });

  it('writes printable ASCII only, without NaN or Infinity, whatever the numbers', () => {
    const awkward = [0, -0, 1e-300, -1e-300, 1e300, -1e300, Number.NaN, Number.POSITIVE_INFINITY, -3.5, 7];
    for (const value of awkward)
      for (const expected of awkward)
        for (const ruleKind of ['band', 'threshold', 'nodata'] as const) {
          const line = explainAlert({
            ...band({
              ruleKind,
              value,
              expected,
              threshold: expected,
              lower: expected - 1,
              upper: expected + 1,
            }),
          });
          expect(line).toMatch(/^[\x20-\x7e]+$/);
          expect(line).not.toMatch(/NaN|Infinity|undefined|null/);
        }
  });
});

describe('Function: explanationHeadline', () => {
  it('keeps what comes before the details in brackets', () => {
    expect(explanationHeadline(explainAlert(band()))).toBe(
      'Thursday 04:00 usually 1,250, now 360, 71% below, for 35 min',
    );
    expect(explanationHeadline('no data since 13:20 (45 min)')).toBe('no data since 13:20');
    expect(explanationHeadline('as it is')).toBe('as it is');
  });
});

describe('Function: formatNumber', () => {
  it.each([
    [1250.4, '1,250'],
    [123_456, '123,456'],
    [-37_400, '-37,400'],
    [4_567_890, '4.57M'],
    [1.23e21, '1.2e+21'],
    [12.345, '12.3'],
    [0.000123, '0.000123'],
    [3e-7, '3e-7'],
    [0, '0'],
    [-0, '0'],
  ])('%d reads %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe('Function: unitOf', () => {
  it('gives timers ms, counters a rate per step, gauges nothing', () => {
    expect(unitOf('timer', 60_000)).toBe('ms');
    expect(unitOf('counter', 60_000)).toBe('/min');
    expect(unitOf('counter', 300_000)).toBe('/5 min');
    expect(unitOf('counter', 3_600_000)).toBe('/h');
    expect(unitOf('gauge', 60_000)).toBeUndefined();
    expect(unitOf(undefined, 60_000)).toBeUndefined();
  });
});
