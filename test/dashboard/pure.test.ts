import { describe, expect, it } from 'vitest';
import { episodeLink, groupIntoEpisodes } from '../../dashboard/src/alert-history.ts';
import type { AnomalyView } from '../../dashboard/src/api.ts';
import { chartColumns } from '../../dashboard/src/chart-data.ts';
import { formatDuration, formatValue, seriesLabel } from '../../dashboard/src/format.ts';
import { parseRoute } from '../../dashboard/src/route.ts';

const minute = 60_000;
const anomaly = (seriesId: string, timestamp: number, value: number): AnomalyView => ({
  seriesId,
  timestamp,
  value,
  expected: 100,
  lower: 90,
  upper: 110,
  score: 0.9,
  anomaly: true,
  name: `series-${seriesId}`,
  dimensions: { host: 'web-1' },
  stepMs: 5 * minute,
  link: '',
});

describe('groupIntoEpisodes (alert history from anomalies)', () => {
  it('makes one alert of consecutive anomalous buckets of a series, and separate ones across gaps and series', () => {
    const episodes = groupIntoEpisodes([
      anomaly('b', 10 * minute, 200),
      anomaly('a', 0, 120),
      anomaly('a', 5 * minute, 160),
      anomaly('a', 10 * minute, 125),
      anomaly('a', 60 * minute, 111),
    ]);
    expect(episodes.map((e) => [e.seriesId, e.start, e.end, e.buckets, e.severity, e.peak.value])).toEqual([
      ['a', 60 * minute, 65 * minute, 1, 'warning', 111],
      ['b', 10 * minute, 15 * minute, 1, 'critical', 200],
      ['a', 0, 15 * minute, 3, 'critical', 160],
    ]);
    expect(episodes[2]?.link).toBe(episodeLink('a', 0, 15 * minute));
  });

  it('links an alert to its series view with context around it, marking its start', () => {
    expect(episodeLink('abc', 100_000_000, 100_900_000)).toBe(
      '#/series/abc?from=78400000&to=122500000&at=100000000',
    );
  });
});

describe('chartColumns', () => {
  it('turns points into uPlot columns in seconds, with a row of nulls at each gap', () => {
    const point = (timestamp: number, anomalous = false) => ({
      timestamp,
      value: 5,
      min: 4,
      max: 6,
      count: 1,
      expected: 5,
      lower: 3,
      upper: 7,
      score: 0.1,
      anomaly: anomalous,
    });
    const columns = chartColumns({
      stepMs: minute,
      points: [point(0), point(minute, true), point(5 * minute)],
    });
    expect(columns.time).toEqual([0, 60, 120, 300]);
    expect(columns.value).toEqual([5, 5, null, 5]);
    expect(columns.lower).toEqual([3, 3, null, 3]);
    expect(columns.anomaly).toEqual([null, 5, null, null]);
  });
});

describe('parseRoute', () => {
  it('reads the series view with an absolute range and a mark, or a preset', () => {
    expect(parseRoute('#/series/abc?from=1&to=2&at=1')).toEqual({
      view: 'series',
      id: 'abc',
      range: undefined,
      from: 1,
      to: 2,
      at: 1,
    });
    expect(parseRoute('#/series/abc?range=30d')).toMatchObject({ range: '30d', from: undefined });
    expect(parseRoute('#/series/abc?range=1y')).toMatchObject({ range: '7d' });
  });

  it('falls back to the list for anything else', () => {
    expect(parseRoute('')).toEqual({ view: 'list', pattern: undefined });
    expect(parseRoute('#/?pattern=shop.*')).toEqual({ view: 'list', pattern: 'shop.*' });
    expect(parseRoute('#/nowhere')).toEqual({ view: 'list', pattern: undefined });
  });
});

describe('format', () => {
  it.each([
    [0.6523, '0.652'],
    [1742, '1.74k'],
    [2_500_000, '2.5M'],
    [-1200, '-1.2k'],
    [null, '–'],
  ])('shows %s as %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it('shows durations and identities as people write them', () => {
    expect(formatDuration(45 * minute)).toBe('45 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(seriesLabel('shop.requests', { service: 'web' })).toBe('shop.requests{service=web}');
    expect(seriesLabel(null, null)).toBe('(deleted series)');
  });
});
