import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../lib/query/duration.ts';
import { automaticStep, maxPointsPerResponse, stepProblem } from '../../lib/query/step.ts';
import { dayMs, minuteMs } from '../../lib/time.ts';

describe('automaticStep', () => {
  it('answers a month of 1-minute data at 30 minutes: at most 2,000 buckets', () => {
    const step = automaticStep(30 * dayMs, minuteMs, 2_000);
    expect(step).toBe(30 * minuteMs);
    expect(Math.ceil((30 * dayMs) / step) + 1).toBeLessThanOrEqual(2_000);
  });

  it('keeps the series step when it fits, and never goes finer', () => {
    expect(automaticStep(2 * 3_600_000, minuteMs, 2_000)).toBe(minuteMs);
    expect(automaticStep(3_600_000, 5 * minuteMs, 2_000)).toBe(5 * minuteMs);
  });

  it('chooses only multiples of the series step', () => {
    // 5-minute data over a week with 500 buckets: 30m fits (337), and 2m or 10m/15m would be skipped or too many.
    expect(automaticStep(7 * dayMs, 5 * minuteMs, 500)).toBe(30 * minuteMs);
    expect(automaticStep(7 * dayMs, 5 * minuteMs, 500) % (5 * minuteMs)).toBe(0);
  });

  it('goes to whole days for 400 days in few buckets', () => {
    expect(automaticStep(400 * dayMs, minuteMs, 100)).toBe(5 * dayMs);
  });
});

describe('stepProblem', () => {
  it('accepts a multiple of the series step under the cap', () => {
    expect(stepProblem(10 * minuteMs, 5 * minuteMs, dayMs)).toBeUndefined();
  });

  it('refuses a step finer than the data, or not a multiple of it', () => {
    expect(stepProblem(minuteMs, 5 * minuteMs, dayMs)).toBe("1m is finer than the series' step of 5m");
    expect(stepProblem(7 * minuteMs, 5 * minuteMs, dayMs)).toBe(
      "must be a multiple of the series' step of 5m",
    );
  });

  it('refuses more than the cap of points, naming a step that would do', () => {
    expect(stepProblem(minuteMs, minuteMs, 30 * dayMs)).toBe(
      `1m over this range gives 43200 points, more than the limit of ${maxPointsPerResponse} per response: ` +
        'use a step of at least 5m or a shorter range',
    );
  });
});

describe('durations', () => {
  it.each([
    ['300000', 300_000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['1d', dayMs],
    ['250ms', 250],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'fast', '5 minutes', '-5m', '1w'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    [dayMs, '1d'],
    [30 * minuteMs, '30m'],
    [90_000, '90s'],
    [1_500, '1500ms'],
  ])('writes %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
