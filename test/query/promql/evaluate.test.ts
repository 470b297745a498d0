import { describe, expect, it } from 'vitest';
import type { LabelMatcher } from '../../../lib/query/promql/ast.ts';
import {
  PromqlBadDataError,
  PromqlExecutionError,
  PromqlTimeoutError,
} from '../../../lib/query/promql/errors.ts';
import {
  evaluateInstant,
  evaluateRange,
  type InstantResult,
  type SampleSource,
  type SeriesSamples,
} from '../../../lib/query/promql/evaluate.ts';
import { compileMatcher, matchesAll } from '../../../lib/query/promql/labels.ts';
import { parsePromql } from '../../../lib/query/promql/parse.ts';

const s = 1_000;
const m = 60_000;

/** A source over fixed series: each selector gets the series its matchers match, samples in the window. */
function memorySource(series: readonly SeriesSamples[]): SampleSource & { reads: number } {
  const source = {
    reads: 0,
    async select(matchers: readonly LabelMatcher[], from: number, to: number) {
      source.reads += 1;
      const compiled = matchers.map((matcher) => compileMatcher(matcher));
      return series
        .filter((entry) => matchesAll(entry.labels, compiled))
        .map((entry) => {
          const kept = entry.timestamps.flatMap((time, index) => (time >= from && time <= to ? [index] : []));
          return {
            labels: entry.labels,
            timestamps: kept.map((index) => entry.timestamps[index] as number),
            values: kept.map((index) => entry.values[index] as number),
          };
        });
    },
  };
  return source;
}

const series = (labels: Record<string, string>, points: [number, number][]): SeriesSamples => ({
  labels,
  timestamps: points.map(([time]) => time),
  values: points.map(([, value]) => value),
});

// A counter that grows by 1 a minute from 0 at t=0, two hosts; a gauge per host.
const source = memorySource([
  series(
    { __name__: 'requests_total', host: 'a', zone: 'eu' },
    [0, 1, 2, 3, 4].map((i) => [i * m, i]),
  ),
  series(
    { __name__: 'requests_total', host: 'b', zone: 'eu' },
    [0, 1, 2, 3].map((i) => [i * m, [10, 20, 5, 15][i] ?? 0]),
  ),
  series({ __name__: 'load', host: 'a', zone: 'eu' }, [
    [0, 2],
    [m, 4],
    [2 * m, 6],
  ]),
  series({ __name__: 'load', host: 'b', zone: 'us' }, [
    [0, 3],
    [m, 5],
  ]),
  series({ __name__: 'shop.requests', host: 'a' }, [[0, 7]]),
]);

const instant = async (query: string, time: number, from: SampleSource = source) =>
  evaluateInstant(parsePromql(query), time, from);

/** A vector result as `labels → value`, labels written as JSON. */
function vector(result: InstantResult): Record<string, number> {
  if (result.resultType !== 'vector') throw new Error(`expected a vector, got ${result.resultType}`);
  return Object.fromEntries(result.samples.map((sample) => [JSON.stringify(sample.labels), sample.value]));
}

const scalar = (result: InstantResult): number => {
  if (result.resultType !== 'scalar') throw new Error(`expected a scalar, got ${result.resultType}`);
  return result.value;
};

describe('PromQL evaluation: scalars', () => {
  it.each([
    ['1+1', 2],
    ['2 * 3 - 4 / 8', 5.5],
    ['2 ^ 3 ^ 2', 512],
    ['-2^2', -4],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['(1 + 2) * 3', 9],
    ['1 < bool 2', 1],
    ['2 == bool 3', 0],
    ['0x10 + 1e1 + .5', 26.5],
    ['1 / 0', Number.POSITIVE_INFINITY],
    ['1 ^ NaN', 1],
  ])('%s = %d', async (query, expected) => {
    expect(scalar(await instant(query, 0))).toBe(expected);
  });

  it('reads no series for a query without selectors', async () => {
    const counting = memorySource([]);
    await instant('1+1', 0, counting);
    expect(counting.reads).toBe(0);
  });
});

describe('PromQL evaluation: selectors', () => {
  it('finds the newest sample at most 5 minutes old (inclusive, as Prometheus 2.x), keeping the name', async () => {
    expect(vector(await instant('load{host="a"}', 2 * m + 30 * s))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
    });
    expect(vector(await instant('load{host="a"}', 7 * m))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
    });
    expect(vector(await instant('load{host="a"}', 7 * m + 1))).toEqual({});
    expect(vector(await instant('load{host="a"}', -1))).toEqual({});
  });

  it('matches with = != =~ !~, regular expressions anchored', async () => {
    const hosts = async (query: string) =>
      Object.keys(vector(await instant(query, m)))
        .map((key) => JSON.parse(key).host as string)
        .sort();
    expect(await hosts('load{host="a"}')).toEqual(['a']);
    expect(await hosts('load{host!="a"}')).toEqual(['b']);
    expect(await hosts('load{zone=~"e"}')).toEqual([]);
    expect(await hosts('load{zone=~"e."}')).toEqual(['a']);
    expect(await hosts('load{zone!~"e.|x"}')).toEqual(['b']);
    expect(await hosts('{__name__="shop.requests"}')).toEqual(['a']);
    expect(await hosts('{"shop.requests"}')).toEqual(['a']);
  });

  it('shifts by offset', async () => {
    expect(Object.values(vector(await instant('load{host="a"} offset 1m', 2 * m)))).toEqual([4]);
  });

  it('returns a range selector as a matrix at the top of an instant query', async () => {
    const result = await instant('load{host="a"}[1m]', 2 * m);
    expect(result).toEqual({
      resultType: 'matrix',
      series: [
        { labels: { __name__: 'load', host: 'a', zone: 'eu' }, timestamps: [m, 2 * m], values: [4, 6] },
      ],
    });
  });
});

describe('PromQL evaluation: functions', () => {
  it('rate and increase extrapolate as Prometheus does, and drop the name', async () => {
    // Host a: 0..4 at 0..4 min. At 5 min over [0, 5m]: an increase of 4 over 240 s, extrapolated by 0 s at the
    // start and 60 s at the end (both within 1.1 intervals): 4 * 300/240 = 5, or 5/300 per second.
    expect(vector(await instant('rate(requests_total{host="a"}[5m])', 5 * m))).toEqual({
      '{"host":"a","zone":"eu"}': 5 / 300,
    });
    expect(vector(await instant('increase(requests_total{host="a"}[5m])', 5 * m))).toEqual({
      '{"host":"a","zone":"eu"}': 5,
    });
  });

  it('adds back a counter reset', async () => {
    // Host b: 10, 20, 5, 15: 5 after the reset plus the 20 before it, no extrapolation at [0, 3m].
    expect(vector(await instant('increase(requests_total{host="b"}[3m])', 3 * m))).toEqual({
      '{"host":"b","zone":"eu"}': 25,
    });
  });

  it('gives nothing for fewer than two samples', async () => {
    expect(vector(await instant('rate(load{host="b"}[30s])', m))).toEqual({});
  });

  it.each([
    ['avg_over_time', 4],
    ['min_over_time', 2],
    ['max_over_time', 6],
    ['sum_over_time', 12],
    ['count_over_time', 3],
  ])('%s over a range', async (name, expected) => {
    expect(vector(await instant(`${name}(load{host="a"}[2m])`, 2 * m))).toEqual({
      '{"host":"a","zone":"eu"}': expected,
    });
  });

  it('last_over_time keeps the name', async () => {
    expect(vector(await instant('last_over_time(load{host="a"}[10m])', 9 * m))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
    });
  });
});

describe('PromQL evaluation: aggregations', () => {
  it.each([
    ['sum(load)', { '{}': 11 }],
    ['sum by (zone) (load)', { '{"zone":"eu"}': 6, '{"zone":"us"}': 5 }],
    ['avg without (host) (load)', { '{"zone":"eu"}': 6, '{"zone":"us"}': 5 }],
    ['max(load)', { '{}': 6 }],
    ['min(load) by (host)', { '{"host":"a"}': 6, '{"host":"b"}': 5 }],
    ['count by (__name__) ({zone="eu"})', { '{"__name__":"load"}': 1, '{"__name__":"requests_total"}': 2 }],
  ])('%s', async (query, expected) => {
    expect(vector(await instant(query, 2 * m))).toEqual(expected);
  });
});

describe('PromQL evaluation: binary operators', () => {
  it('scalar and vector: arithmetic drops the name, comparisons filter (keeping the vector value) or give 0/1', async () => {
    expect(vector(await instant('load * 2 + 1', m))).toEqual({
      '{"host":"a","zone":"eu"}': 9,
      '{"host":"b","zone":"us"}': 11,
    });
    expect(vector(await instant('10 - load', m))).toEqual({
      '{"host":"a","zone":"eu"}': 6,
      '{"host":"b","zone":"us"}': 5,
    });
    expect(vector(await instant('load > 4', m))).toEqual({ '{"__name__":"load","host":"b","zone":"us"}': 5 });
    expect(vector(await instant('4.5 < load', m))).toEqual({
      '{"__name__":"load","host":"b","zone":"us"}': 5,
    });
    expect(vector(await instant('load > bool 4', m))).toEqual({
      '{"host":"a","zone":"eu"}': 0,
      '{"host":"b","zone":"us"}': 1,
    });
    expect(vector(await instant('-load', m))).toEqual({
      '{"host":"a","zone":"eu"}': -4,
      '{"host":"b","zone":"us"}': -5,
    });
  });

  it('vector and vector: one-to-one on all labels but the name, or on(...) / ignoring(...)', async () => {
    expect(vector(await instant('requests_total / load', m))).toEqual({ '{"host":"a","zone":"eu"}': 1 / 4 });
    expect(vector(await instant('requests_total / on(host) load', m))).toEqual({
      '{"host":"a"}': 1 / 4,
      '{"host":"b"}': 20 / 5,
    });
    expect(vector(await instant('requests_total - ignoring(zone) load', m))).toEqual({
      '{"host":"a"}': -3,
      '{"host":"b"}': 15,
    });
    // As Prometheus: on(...) keeps only the labels it names, the name included only when named.
    expect(vector(await instant('requests_total > on(host) load', m))).toEqual({ '{"host":"b"}': 20 });
    expect(vector(await instant('requests_total >= bool on(host) load', m))).toEqual({
      '{"host":"a"}': 0,
      '{"host":"b"}': 1,
    });
  });

  it('refuses many-to-one matches (422) and results with the same labels twice', async () => {
    await expect(instant('requests_total / on(zone) load', m)).rejects.toThrow(/multiple matches for labels/);
    await expect(instant('load / on(zone) requests_total', m)).rejects.toThrow(
      /duplicate series for the match group/,
    );
    await expect(instant('load / on(zone) requests_total', m)).rejects.toThrow(PromqlExecutionError);
    await expect(instant('{zone="eu"} * 1', m)).rejects.toThrow(
      'vector cannot contain metrics with the same labelset',
    );
  });
});

describe('PromQL evaluation: range queries', () => {
  it('evaluates at start + k*step up to end, a scalar as one series without labels', async () => {
    const result = await evaluateRange(parsePromql('1+1'), 10 * s, 70 * s, 30 * s, source);
    expect(result).toEqual([{ labels: {}, timestamps: [10 * s, 40 * s, 70 * s], values: [2, 2, 2] }]);
  });

  it.each([0, -1, Number.NaN])(
    'refuses a step of %s, even where start is end (it would never advance)',
    async (step) => {
      await expect(evaluateRange(parsePromql('1'), 10 * s, 10 * s, step, source)).rejects.toThrow(
        'zero or negative query resolution step widths are not accepted',
      );
    },
  );

  it('keeps each series to the steps where it has a value', async () => {
    const result = await evaluateRange(parsePromql('load{host="b"}'), 0, 7 * m, m, source);
    expect(result).toEqual([
      {
        labels: { __name__: 'load', host: 'b', zone: 'us' },
        timestamps: [0, m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m],
        values: [3, 5, 5, 5, 5, 5, 5],
      },
    ]);
  });

  it('refuses more than 11,000 points per series, a bad step or end, and range vectors (400)', async () => {
    await expect(evaluateRange(parsePromql('1'), 0, 11_001 * s, s, source)).rejects.toThrow(
      'exceeded maximum resolution of 11,000 points per timeseries',
    );
    await expect(evaluateRange(parsePromql('1'), 0, 11_000 * s, s, source)).resolves.toHaveLength(1);
    await expect(evaluateRange(parsePromql('1'), 0, m, 0, source)).rejects.toThrow(PromqlBadDataError);
    await expect(evaluateRange(parsePromql('1'), m, 0, s, source)).rejects.toThrow(
      'end timestamp must not be before start time',
    );
    await expect(evaluateRange(parsePromql('load[5m]'), 0, m, s, source)).rejects.toThrow(
      'invalid expression type "range vector"',
    );
  });
});

describe('PromQL evaluation: limits', () => {
  it('refuses past the samples limit with Prometheus message (422)', async () => {
    const query = evaluateInstant(parsePromql('load'), m, source, { limits: { maxSamples: 2 } });
    await expect(query).rejects.toThrow('query processing would load too many samples into memory');
  });

  it('stops when its signal fires (503 timeout)', async () => {
    const query = evaluateRange(parsePromql('load'), 0, 10 * m, s, source, { signal: AbortSignal.abort() });
    await expect(query).rejects.toThrow(PromqlTimeoutError);
  });
});

describe('PromQL evaluation: topk, bottomk, quantile, stddev, stdvar, group', () => {
  // At 3m: requests_total a=3, b=15 (zone eu); load a=6 (eu), b=5 (us).
  it('topk and bottomk keep the k largest (smallest) samples of each group whole, largest (smallest) first', async () => {
    expect(vector(await instant('topk(1, requests_total)', 3 * m))).toEqual({
      '{"__name__":"requests_total","host":"b","zone":"eu"}': 15,
    });
    const both = await instant('topk(2.9, load)', 3 * m);
    expect(both.resultType === 'vector' && both.samples.map((sample) => sample.value)).toEqual([6, 5]);
    const lowest = await instant('bottomk(5, load)', 3 * m);
    expect(lowest.resultType === 'vector' && lowest.samples.map((sample) => sample.value)).toEqual([5, 6]);
    expect(vector(await instant('bottomk by (zone) (1, requests_total or load)', 3 * m))).toEqual({
      '{"__name__":"requests_total","host":"a","zone":"eu"}': 3,
      '{"__name__":"load","host":"b","zone":"us"}': 5,
    });
  });

  it('topk answers nothing for k below 1, and a 422 for a k that is no 64-bit integer', async () => {
    expect(vector(await instant('topk(0.5, load)', 3 * m))).toEqual({});
    expect(vector(await instant('topk(-3, load)', 3 * m))).toEqual({});
    await expect(instant('topk(NaN, load)', 3 * m)).rejects.toThrow(PromqlExecutionError);
    await expect(instant('topk(1e19, load)', 3 * m)).rejects.toThrow('Scalar value 1e+19 overflows int64');
  });

  it('quantile interpolates between ranks; φ outside [0, 1] is ±Inf', async () => {
    expect(vector(await instant('quantile(0.5, load)', 3 * m))).toEqual({ '{}': 5.5 });
    expect(vector(await instant('quantile(0.25, load)', 3 * m))).toEqual({ '{}': 5.25 });
    expect(vector(await instant('quantile by (zone) (0.9, load)', 3 * m))).toEqual({
      '{"zone":"eu"}': 6,
      '{"zone":"us"}': 5,
    });
    expect(vector(await instant('quantile(2, load)', 3 * m))).toEqual({ '{}': Number.POSITIVE_INFINITY });
    expect(vector(await instant('quantile(-1, load)', 3 * m))).toEqual({ '{}': Number.NEGATIVE_INFINITY });
  });

  it('stddev and stdvar are the population deviation and variance; group is 1 a group', async () => {
    expect(vector(await instant('stddev(load)', 3 * m))).toEqual({ '{}': 0.5 });
    expect(vector(await instant('stdvar(requests_total)', 3 * m))).toEqual({ '{}': 36 });
    expect(vector(await instant('group by (zone) (load)', 3 * m))).toEqual({
      '{"zone":"eu"}': 1,
      '{"zone":"us"}': 1,
    });
  });
});

describe('PromQL evaluation: and, or, unless', () => {
  it('and keeps the left samples that have a match on the right, names and all', async () => {
    expect(vector(await instant('load and requests_total', 3 * m))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
    });
    expect(vector(await instant('load and on(host) requests_total', 3 * m))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
      '{"__name__":"load","host":"b","zone":"us"}': 5,
    });
  });

  it('unless keeps those without a match; or adds the right samples whose labels the left lacks', async () => {
    expect(vector(await instant('load unless requests_total', 3 * m))).toEqual({
      '{"__name__":"load","host":"b","zone":"us"}': 5,
    });
    expect(vector(await instant('load or requests_total', 3 * m))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
      '{"__name__":"load","host":"b","zone":"us"}': 5,
      '{"__name__":"requests_total","host":"b","zone":"eu"}': 15,
    });
    expect(vector(await instant('load > 5 or load < 100', 3 * m))).toEqual({
      '{"__name__":"load","host":"a","zone":"eu"}': 6,
      '{"__name__":"load","host":"b","zone":"us"}': 5,
    });
  });
});

describe('PromQL evaluation: group_left and group_right', () => {
  // At 3m: requests_total a=3, b=15 (zone eu); load a=6 (eu), b=5 (us).
  it('group_left divides each of many by the one it matches, keeping the many side labels', async () => {
    expect(vector(await instant('requests_total / on() group_left sum(requests_total)', 3 * m))).toEqual({
      '{"host":"a","zone":"eu"}': 3 / 18,
      '{"host":"b","zone":"eu"}': 15 / 18,
    });
    expect(vector(await instant('sum(requests_total) - on() group_right requests_total', 3 * m))).toEqual({
      '{"host":"a","zone":"eu"}': 15,
      '{"host":"b","zone":"eu"}': 3,
    });
  });

  it('group_left(label) takes the label from the one side, and drops it where the one side lacks it', async () => {
    expect(
      vector(
        await instant(
          'sum by (zone) (requests_total) * on(zone) group_left(host) max by (zone, host) (load{host="a"})',
          3 * m,
        ),
      ),
    ).toEqual({
      '{"host":"a","zone":"eu"}': 108,
    });
    expect(vector(await instant('load > on() group_left(zone) sum(requests_total) / 4', 3 * m))).toEqual({
      '{"__name__":"load","host":"a"}': 6,
      '{"__name__":"load","host":"b"}': 5,
    });
  });

  it('refuses a one side that repeats a match group, and results that collide (422)', async () => {
    await expect(instant('sum(load) / on() group_right load', 3 * m)).resolves.toBeDefined();
    await expect(instant('load / on() group_left load', 3 * m)).rejects.toThrow(
      /duplicate series for the match group \[\] on the right hand-side/,
    );
    await expect(
      instant('requests_total * on(zone) group_left(host) max by (zone, host) (load{host="a"})', 3 * m),
    ).rejects.toThrow('multiple matches for labels: grouping labels must ensure unique matches');
  });
});
