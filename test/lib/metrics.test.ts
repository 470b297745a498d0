import { describe, expect, it } from 'vitest';
import { aggregate, widen } from '../../lib/metrics/aggregate.ts';
import { seriesId, seriesKey } from '../../lib/metrics/series.ts';
import { inferStep } from '../../lib/metrics/step.ts';
import { minuteMs } from '../../lib/time.ts';

describe('seriesKey and seriesId', () => {
  it('sorts dimensions so that their order does not change the identity', () => {
    expect(seriesKey('shop.login.time', { region: 'eu', host: 'web-1' })).toBe(
      'shop.login.time{host=web-1,region=eu}',
    );
    expect(seriesId('a', { x: '1', y: '2' })).toBe(seriesId('a', { y: '2', x: '1' }));
  });

  it('tells apart series that differ in a dimension value, a name, or by escaping', () => {
    expect(seriesId('a', { x: '1' })).not.toBe(seriesId('a', { x: '2' }));
    expect(seriesId('a', {})).not.toBe(seriesId('b', {}));
    expect(seriesKey('a', { x: '1,y=2' })).not.toBe(seriesKey('a', { x: '1', y: '2' }));
  });

  it('is 16 lowercase hex digits', () => {
    expect(seriesId('shop.login.time', { host: 'web-1' })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('inferStep', () => {
  it('keeps a 5-minute step for 5-minute data and rounds 10-second flushes up to a minute', () => {
    expect(inferStep([0, 5, 10, 15, 20].map((m) => m * minuteMs))).toBe(5 * minuteMs);
    expect(inferStep([0, 10_000, 20_000, 30_000])).toBe(minuteMs);
  });

  it('tolerates jitter and a gap: the median gap decides', () => {
    expect(inferStep([0, 4.6, 10, 15.2, 20, 120].map((m) => m * minuteMs))).toBe(5 * minuteMs);
    expect(inferStep([0, 60, 120, 180].map((m) => m * minuteMs))).toBe(60 * minuteMs);
  });

  it('needs three distinct timestamps', () => {
    expect(inferStep([0, minuteMs, minuteMs])).toBeUndefined();
  });
});

describe('aggregate', () => {
  const points = [
    { timestamp: 65_000, value: 4 },
    { timestamp: 10_000, value: 1 },
    { timestamp: 50_000, value: 3 },
  ];
  it('sums counters and averages gauges per bucket, in time order', () => {
    expect(aggregate('counter', points, 60_000)).toEqual([
      { start: 0, value: 4, count: 2, min: 1, max: 3 },
      { start: 60_000, value: 4, count: 1, min: 4, max: 4 },
    ]);
    expect(aggregate('gauge', points, 60_000)[0]?.value).toBe(2);
  });

  it('stays finite when values near the largest double add up past it', () => {
    const huge = [
      { timestamp: 0, value: 1e308 },
      { timestamp: 10_000, value: 1e308 },
      { timestamp: 60_000, value: -1e308 },
      { timestamp: 70_000, value: -1e308 },
    ];
    expect(aggregate('counter', huge, 60_000).map((bucket) => bucket.value)).toEqual([
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
    ]);
    expect(aggregate('gauge', huge, 60_000).map((bucket) => bucket.value)).toEqual([1e308, -1e308]);
    expect(
      aggregate('timer', [...huge.slice(0, 2), { timestamp: 20_000, value: 0 }], 60_000)[0]?.value,
    ).toBeCloseTo((1e308 / 3) * 2, -300);
  });
});

describe('widen', () => {
  it('groups series-step buckets into wider ones: mean, lowest and highest value, and every point held', () => {
    const minuteBuckets = aggregate(
      'counter',
      [
        { timestamp: 0, value: 2 },
        { timestamp: 30_000, value: 2 },
        { timestamp: 60_000, value: 8 },
        { timestamp: 300_000, value: 5 },
      ],
      60_000,
    );
    expect(widen(minuteBuckets, 300_000)).toEqual([
      // The minute buckets 4 (two points) and 8: their mean, not the mean of the three points.
      { start: 0, avg: 6, min: 4, max: 8, count: 3 },
      { start: 300_000, avg: 5, min: 5, max: 5, count: 1 },
    ]);
  });

  it('puts the wider buckets in time order, whatever order the buckets came in', () => {
    const buckets = [
      { start: 600_000, value: 1, count: 1, min: 1, max: 1 },
      { start: 0, value: 2, count: 1, min: 2, max: 2 },
    ];
    expect(widen(buckets, 300_000).map((bucket) => bucket.start)).toEqual([0, 600_000]);
  });
});

describe('inferStep with a coarser smallest step', () => {
  it('never returns a step below the deployment smallest step', () => {
    expect(inferStep([0, 60_000, 120_000, 180_000], 300_000)).toBe(300_000);
    expect(inferStep([0, 900_000, 1_800_000], 300_000)).toBe(900_000);
  });
});
