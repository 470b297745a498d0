import { describe, expect, it } from 'vitest';
import {
  byFamily,
  type LabelledSeries,
  scoreCorpus,
  scoreSeries,
  summarize,
  UnlabelledAlertError,
} from '../../lib/backtest/score.ts';
import { dayMs, hourMs, minuteMs, weekMs } from '../../lib/time.ts';

/** Day 20 at noon: after the 14-day warm-up of a series that starts at 0. */
const onset = 20 * dayMs + 12 * hourMs;

/** A six-week series from 0 with one-minute buckets and one incident of an hour from `onset`. */
function series(overrides: Partial<LabelledSeries> = {}): LabelledSeries {
  return {
    name: 'ops/a-1.csv',
    family: 'a',
    stepMs: minuteMs,
    start: 0,
    end: 6 * weekMs,
    incidents: [[onset, onset + hourMs]],
    normalEvents: [],
    ...overrides,
  };
}

describe('Function: scoreSeries', () => {
  it('catches an incident from 15 minutes before its onset to 60 minutes after its end, both included', () => {
    const caughtAt = (startedAt: number) => scoreSeries(series(), [startedAt]).incidents[0]?.caughtBy;
    expect(caughtAt(onset - 15 * minuteMs)).toBe(onset - 15 * minuteMs);
    expect(caughtAt(onset - 15 * minuteMs - 1)).toBeNull();
    expect(caughtAt(onset + hourMs + 60 * minuteMs)).toBe(onset + hourMs + 60 * minuteMs);
    expect(caughtAt(onset + hourMs + 60 * minuteMs + 1)).toBeNull();
  });

  it('counts an alert outside every incident window as false, and one inside as not', () => {
    expect(scoreSeries(series(), [onset - 16 * minuteMs]).falseAlertStarts).toEqual([onset - 16 * minuteMs]);
    expect(scoreSeries(series(), [onset + 30 * minuteMs]).falseAlertStarts).toEqual([]);
  });

  it('takes the latency from the first alert in the window, and 0 when it started before the onset', () => {
    const late = scoreSeries(series(), [onset + 40 * minuteMs, onset + 7 * minuteMs]).incidents[0];
    expect(late).toEqual({
      onset,
      end: onset + hourMs,
      caughtBy: onset + 7 * minuteMs,
      latencyMs: 7 * minuteMs,
    });
    const early = scoreSeries(series(), [onset - 10 * minuteMs]).incidents[0];
    expect(early?.latencyMs).toBe(0);
    expect(scoreSeries(series(), []).incidents[0]?.latencyMs).toBeNull();
  });

  it('ignores alerts that start in the first 14 days: neither false nor catching', () => {
    const warmUpEnd = 14 * dayMs;
    const early = series({ incidents: [[warmUpEnd - hourMs, warmUpEnd + hourMs]] });
    const ignored = scoreSeries(early, [warmUpEnd - 1]);
    expect(ignored).toMatchObject({ alerts: 0, falseAlertStarts: [] });
    expect(ignored.incidents[0]?.caughtBy).toBeNull();
    expect(scoreSeries(early, [warmUpEnd]).incidents[0]?.caughtBy).toBe(warmUpEnd);
    expect(scoreSeries(series(), [warmUpEnd]).falseAlertStarts).toEqual([warmUpEnd]);
  });

  it('counts the weeks from the end of the warm-up, from the series own start', () => {
    expect(scoreSeries(series(), []).seriesWeeks).toBe(4);
    expect(
      scoreSeries(series({ start: weekMs, end: 4 * weekMs + 3 * dayMs + 12 * hourMs }), []).seriesWeeks,
    ).toBe(1.5);
    expect(scoreSeries(series({ end: 10 * dayMs }), []).seriesWeeks).toBe(0);
  });

  it('counts normal events from their 3rd occurrence, paged when an alert starts within [start, end)', () => {
    const thursday = (n: number) =>
      [n * weekMs + 3 * dayMs + 4 * hourMs, n * weekMs + 3 * dayMs + 4 * hourMs + 20 * minuteMs] as const;
    // Given out of order: the occurrences are counted in time order.
    const weekly = series({
      incidents: [],
      normalEvents: [thursday(3), thursday(0), thursday(1), thursday(2)],
    });
    const alerts = [thursday(1)[0], thursday(2)[1], thursday(3)[0] + 19 * minuteMs];
    const scored = scoreSeries(weekly, alerts);
    expect(scored.normalEvents).toBe(2);
    // The alert at the 3rd occurrence's end is not within it; the one in the 4th is.
    expect(scored.normalEventsPaged).toEqual([thursday(3)]);
    // An alert in a normal event is still an alert that caught no incident.
    expect(scored.falseAlertStarts).toEqual([thursday(2)[1], thursday(3)[0] + 19 * minuteMs]);
  });

  it('lets one alert catch two incidents whose windows overlap', () => {
    const twice = series({
      incidents: [
        [onset, onset + hourMs],
        [onset + 90 * minuteMs, onset + 2 * hourMs],
      ],
    });
    const scored = scoreSeries(twice, [onset + 80 * minuteMs]);
    expect(scored.incidents.map((incident) => incident.latencyMs)).toEqual([80 * minuteMs, 0]);
    expect(scored.falseAlertStarts).toEqual([]);
  });
});

describe('Function: summarize', () => {
  it('adds counts up and takes medians over every caught incident, in minutes and in its own buckets', () => {
    const scores = [
      // 2 minutes at a 1-minute step: 2 buckets.
      scoreSeries(series({ name: 'a', family: 'x' }), [onset + 2 * minuteMs, onset + 5 * dayMs]),
      // 10 minutes at a 5-minute step: 2 buckets; the second incident is missed.
      scoreSeries(
        series({
          name: 'b',
          family: 'y',
          stepMs: 5 * minuteMs,
          incidents: [
            [onset, onset + hourMs],
            [onset + 3 * dayMs, onset + 3 * dayMs + hourMs],
          ],
        }),
        [onset + 10 * minuteMs],
      ),
      // 0 minutes at an hourly step.
      scoreSeries(series({ name: 'c', family: 'x', stepMs: hourMs }), [onset - 5 * minuteMs]),
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
    expect(summarize([scoreSeries(series({ end: 14 * dayMs }), [])])).toMatchObject({
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
      { series: 'ops/a-1.csv', startedAt: onset + minuteMs },
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
