import { describe, expect, it } from 'vitest';
import {
  byFamily,
  type LabelledSeries,
  scoreCorpus,
  scoreSeries,
  summarize,
  UnlabelledAlertError,
} from '../../lib/backtest/score.ts';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const week = 7 * day;
/** Day 20 at noon: after the 14-day warm-up of a series that starts at 0. */
const onset = 20 * day + 12 * hour;

/** A six-week series from 0 with one-minute buckets and one incident of an hour from `onset`. */
function series(overrides: Partial<LabelledSeries> = {}): LabelledSeries {
  return {
    name: 'ops/a-1.csv',
    family: 'a',
    stepMs: minute,
    start: 0,
    end: 6 * week,
    incidents: [[onset, onset + hour]],
    normalEvents: [],
    ...overrides,
  };
}

describe('Function: scoreSeries', () => {
  it('catches an incident from 15 minutes before its onset to 60 minutes after its end, both included', () => {
    const caughtAt = (startedAt: number) => scoreSeries(series(), [startedAt]).incidents[0]?.caughtBy;
    expect(caughtAt(onset - 15 * minute)).toBe(onset - 15 * minute);
    expect(caughtAt(onset - 15 * minute - 1)).toBeNull();
    expect(caughtAt(onset + hour + 60 * minute)).toBe(onset + hour + 60 * minute);
    expect(caughtAt(onset + hour + 60 * minute + 1)).toBeNull();
  });

  it('counts an alert outside every incident window as false, and one inside as not', () => {
    expect(scoreSeries(series(), [onset - 16 * minute]).falseAlertStarts).toEqual([onset - 16 * minute]);
    expect(scoreSeries(series(), [onset + 30 * minute]).falseAlertStarts).toEqual([]);
  });

  it('takes the latency from the first alert in the window, and 0 when it started before the onset', () => {
    const late = scoreSeries(series(), [onset + 40 * minute, onset + 7 * minute]).incidents[0];
    expect(late).toEqual({ onset, end: onset + hour, caughtBy: onset + 7 * minute, latencyMs: 7 * minute });
    const early = scoreSeries(series(), [onset - 10 * minute]).incidents[0];
    expect(early?.latencyMs).toBe(0);
    expect(scoreSeries(series(), []).incidents[0]?.latencyMs).toBeNull();
  });

  it('ignores alerts that start in the first 14 days: neither false nor catching', () => {
    const warmUpEnd = 14 * day;
    const early = series({ incidents: [[warmUpEnd - hour, warmUpEnd + hour]] });
    const ignored = scoreSeries(early, [warmUpEnd - 1]);
    expect(ignored).toMatchObject({ alerts: 0, falseAlertStarts: [] });
    expect(ignored.incidents[0]?.caughtBy).toBeNull();
    expect(scoreSeries(early, [warmUpEnd]).incidents[0]?.caughtBy).toBe(warmUpEnd);
    expect(scoreSeries(series(), [warmUpEnd]).falseAlertStarts).toEqual([warmUpEnd]);
  });

  it('counts the weeks from the end of the warm-up, from the series own start', () => {
    expect(scoreSeries(series(), []).seriesWeeks).toBe(4);
    expect(scoreSeries(series({ start: week, end: 4 * week + 3 * day + 12 * hour }), []).seriesWeeks).toBe(
      1.5,
    );
    expect(scoreSeries(series({ end: 10 * day }), []).seriesWeeks).toBe(0);
  });

  it('counts normal events from their 3rd occurrence, paged when an alert starts within [start, end)', () => {
    const thursday = (n: number) =>
      [n * week + 3 * day + 4 * hour, n * week + 3 * day + 4 * hour + 20 * minute] as const;
    // Given out of order: the occurrences are counted in time order.
    const weekly = series({
      incidents: [],
      normalEvents: [thursday(3), thursday(0), thursday(1), thursday(2)],
    });
    const alerts = [thursday(1)[0], thursday(2)[1], thursday(3)[0] + 19 * minute];
    const scored = scoreSeries(weekly, alerts);
    expect(scored.normalEvents).toBe(2);
    // The alert at the 3rd occurrence's end is not within it; the one in the 4th is.
    expect(scored.normalEventsPaged).toEqual([thursday(3)]);
    // An alert in a normal event is still an alert that caught no incident.
    expect(scored.falseAlertStarts).toEqual([thursday(2)[1], thursday(3)[0] + 19 * minute]);
  });

  it('lets one alert catch two incidents whose windows overlap', () => {
    const twice = series({
      incidents: [
        [onset, onset + hour],
        [onset + 90 * minute, onset + 2 * hour],
      ],
    });
    const scored = scoreSeries(twice, [onset + 80 * minute]);
    expect(scored.incidents.map((incident) => incident.latencyMs)).toEqual([80 * minute, 0]);
    expect(scored.falseAlertStarts).toEqual([]);
  });
});

describe('Function: summarize', () => {
  it('adds counts up and takes medians over every caught incident, in minutes and in its own buckets', () => {
    const scores = [
      // 2 minutes at a 1-minute step: 2 buckets.
      scoreSeries(series({ name: 'a', family: 'x' }), [onset + 2 * minute, onset + 5 * day]),
      // 10 minutes at a 5-minute step: 2 buckets; the second incident is missed.
      scoreSeries(
        series({
          name: 'b',
          family: 'y',
          stepMs: 5 * minute,
          incidents: [
            [onset, onset + hour],
            [onset + 3 * day, onset + 3 * day + hour],
          ],
        }),
        [onset + 10 * minute],
      ),
      // 0 minutes at an hourly step.
      scoreSeries(series({ name: 'c', family: 'x', stepMs: hour }), [onset - 5 * minute]),
    ];
    expect(summarize(scores)).toEqual({
      series: 3,
      seriesWeeks: 12,
      alerts: 4,
      incidents: 4,
      caught: 3,
      falseAlerts: 1,
      falseAlertsPerSeriesWeek: 1 / 12,
      medianLatencyMinutes: 2,
      medianLatencyBuckets: 2,
      normalEvents: 0,
      normalEventsPaged: 0,
    });
    const families = byFamily(scores);
    expect(Object.keys(families)).toEqual(['x', 'y']);
    // x: latencies of 2 and 0 minutes (2 and 0 buckets): medians of two are their mean.
    expect(families.x).toMatchObject({
      series: 2,
      caught: 2,
      medianLatencyMinutes: 1,
      medianLatencyBuckets: 1,
    });
    expect(families.y).toMatchObject({ series: 1, incidents: 2, caught: 1, medianLatencyBuckets: 2 });
  });

  it('has no rate without series-weeks and no latency without a caught incident', () => {
    expect(summarize([scoreSeries(series({ end: 14 * day }), [])])).toMatchObject({
      seriesWeeks: 0,
      falseAlertsPerSeriesWeek: null,
      medianLatencyMinutes: null,
      medianLatencyBuckets: null,
    });
  });
});

describe('Function: scoreCorpus', () => {
  it('gives each series its own alerts, and the figures per family and in total', () => {
    const corpus = [
      series({ name: 'ops/a-1.csv' }),
      series({ name: 'ops/b-1.csv', family: 'b', incidents: [] }),
    ];
    const scored = scoreCorpus(corpus, [
      { series: 'ops/b-1.csv', startedAt: onset },
      { series: 'ops/a-1.csv', startedAt: onset + minute },
    ]);
    expect(
      scored.series.map((score) => [score.name, score.incidents.length, score.falseAlertStarts]),
    ).toEqual([
      ['ops/a-1.csv', 1, []],
      ['ops/b-1.csv', 0, [onset]],
    ]);
    expect(scored.total).toMatchObject({
      series: 2,
      incidents: 1,
      caught: 1,
      falseAlerts: 1,
      seriesWeeks: 8,
    });
    expect(scored.families.b).toMatchObject({ falseAlerts: 1, falseAlertsPerSeriesWeek: 0.25 });
  });

  it('refuses an alert of a series the corpus does not have', () => {
    expect(() => scoreCorpus([series()], [{ series: 'ops/other.csv', startedAt: onset }])).toThrow(
      UnlabelledAlertError,
    );
  });
});
