import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { interval, TimestreamQueryStore } from '../../lib/adapters/timestream-query.ts';
import { QueryTimeoutError } from '../../lib/ports/store-errors.ts';

const queryMock = mockClient(TimestreamQueryClient);
const seriesId = '0123456789abcdef';
const other = 'fedcba9876543210';

const store = (callTimeoutMs?: number) =>
  new TimestreamQueryStore({
    database: 'normalcy',
    pointsTable: 'points',
    bandsTable: 'bands',
    client: new TimestreamQueryClient({ region: 'eu-west-1' }),
    callTimeoutMs,
  });

const row = (...values: string[]) => ({ Data: values.map((value) => ({ ScalarValue: value })) });
const sent = () => queryMock.commandCalls(QueryCommand).map((call) => call.args[0].input);

beforeEach(() => queryMock.reset());

describe('TimestreamQueryStore', () => {
  it('downsamples a counter with bin(): sums per series step, then mean, min and max per step', async () => {
    queryMock.on(QueryCommand).resolves({ Rows: [row('1800000', '4.5', '1', '9', '60')], ColumnInfo: [] });
    const buckets = await store().readValueBuckets({
      seriesId,
      type: 'counter',
      from: 0,
      to: 3_600_000,
      seriesStepMs: 60_000,
      stepMs: 1_800_000,
    });
    expect(buckets).toEqual([{ start: 1_800_000, avg: 4.5, min: 1, max: 9, count: 60 }]);
    expect(sent()[0]?.QueryString).toBe(
      'SELECT to_milliseconds(bin(t, 30m)) AS bucket, avg(v), min(v), max(v), sum(n) FROM (' +
        'SELECT bin(time, 1m) AS t, sum(measure_value::double) AS v, count(*) AS n FROM "normalcy"."points" ' +
        `WHERE series_id = '${seriesId}' AND measure_name = 'value' ` +
        'AND time >= from_milliseconds(0) AND time < from_milliseconds(3600000) ' +
        'GROUP BY bin(time, 1m)) GROUP BY bin(t, 30m) ORDER BY bucket',
    );
  });

  it('averages a gauge or timer per series step', async () => {
    queryMock.on(QueryCommand).resolves({ Rows: [], ColumnInfo: [] });
    await store().readValueBuckets({
      seriesId,
      type: 'timer',
      from: 0,
      to: 86_400_000,
      seriesStepMs: 300_000,
      stepMs: 86_400_000,
    });
    expect(sent()[0]?.QueryString).toContain('SELECT bin(time, 5m) AS t, avg(measure_value::double) AS v');
    expect(sent()[0]?.QueryString).toContain('GROUP BY bin(t, 1d) ORDER BY bucket');
  });

  it('reads band envelopes per step', async () => {
    queryMock.on(QueryCommand).resolves({ Rows: [row('0', '10', '1', '20', '0.7', 'true')], ColumnInfo: [] });
    const bands = await store().readBandBuckets(seriesId, 0, 600_000, 600_000);
    expect(bands).toEqual([{ start: 0, expected: 10, lower: 1, upper: 20, score: 0.7, anomaly: true }]);
    expect(sent()[0]?.QueryString).toBe(
      'SELECT to_milliseconds(bin(time, 10m)) AS bucket, avg(expected), min(lower), max(upper), max(score), ' +
        `bool_or(anomaly) FROM "normalcy"."bands" WHERE series_id = '${seriesId}' AND measure_name = 'band' ` +
        'AND time >= from_milliseconds(0) AND time < from_milliseconds(600000) GROUP BY bin(time, 10m) ORDER BY bucket',
    );
  });

  it('reads the newest values of a page of series in one query, bounded in time', async () => {
    queryMock.on(QueryCommand).resolves({ Rows: [row(other, '42')], ColumnInfo: [] });
    const values = await store().valuesAt([
      { seriesId, timestamp: 1_000_000 },
      { seriesId: other, timestamp: 2_000_000 },
    ]);
    expect([...values]).toEqual([[other, 42]]);
    expect(sent()[0]?.QueryString).toBe(
      `SELECT series_id, measure_value::double FROM "normalcy"."points" WHERE measure_name = 'value' ` +
        'AND time >= from_milliseconds(1000000) AND time <= from_milliseconds(2000000) AND (' +
        `(series_id = '${seriesId}' AND time = from_milliseconds(1000000)) OR ` +
        `(series_id = '${other}' AND time = from_milliseconds(2000000)))`,
    );
  });

  it('asks for at most 100 series per newest-values query', async () => {
    queryMock.on(QueryCommand).resolves({ Rows: [], ColumnInfo: [] });
    const entries = Array.from({ length: 150 }, (_, i) => ({ seriesId, timestamp: 1_000_000 + i }));
    await store().valuesAt(entries);
    const pairs = sent().map((input) => input.QueryString?.match(/series_id = /g)?.length);
    expect(pairs).toEqual([100, 50]);
  });

  it('pages anomalies newest first from a cursor position, ties by series id', async () => {
    queryMock
      .on(QueryCommand)
      .resolves({ Rows: [row(other, '60000', '5', '1', '0', '2', '0.9')], ColumnInfo: [] });
    const records = await store().findAnomalies({
      from: 0,
      to: 3_600_000,
      limit: 50,
      seriesId: other,
      after: { timestamp: 120_000, seriesId },
    });
    expect(records).toEqual([
      {
        seriesId: other,
        timestamp: 60_000,
        value: 5,
        expected: 1,
        lower: 0,
        upper: 2,
        score: 0.9,
        anomaly: true,
      },
    ]);
    expect(sent()[0]?.QueryString).toBe(
      'SELECT series_id, to_milliseconds(time), value, expected, lower, upper, score FROM "normalcy"."bands" ' +
        "WHERE measure_name = 'band' AND anomaly = true " +
        'AND time >= from_milliseconds(0) AND time < from_milliseconds(3600000) ' +
        `AND series_id = '${other}' ` +
        `AND (time < from_milliseconds(120000) OR (time = from_milliseconds(120000) AND series_id > '${seriesId}')) ` +
        'ORDER BY time DESC, series_id LIMIT 50',
    );
  });

  it('follows NextToken through empty pages, sending the same query with each token', async () => {
    queryMock
      .on(QueryCommand)
      .resolvesOnce({ Rows: [], NextToken: 'first', ColumnInfo: [] })
      .resolvesOnce({ Rows: [row('0', '1', '1', '1', '1')], NextToken: 'second', ColumnInfo: [] })
      .resolvesOnce({ Rows: [], NextToken: 'third', ColumnInfo: [] })
      .resolvesOnce({ Rows: [row('60000', '2', '2', '2', '1')], ColumnInfo: [] });
    const buckets = await store().readValueBuckets({
      seriesId,
      type: 'gauge',
      from: 0,
      to: 120_000,
      seriesStepMs: 60_000,
      stepMs: 60_000,
    });
    expect(buckets.map((bucket) => bucket.start)).toEqual([0, 60_000]);
    const inputs = sent();
    expect(inputs.map((input) => input.NextToken)).toEqual([undefined, 'first', 'second', 'third']);
    expect(new Set(inputs.map((input) => input.QueryString)).size).toBe(1);
  });

  it('abandons a call at the per-call limit (Timestream stops at 60 s) with a 504 that says what to change', async () => {
    // A call that never answers, until the signal it was sent with fires (as the SDK's HTTP handler does).
    queryMock.send.callsFake(
      (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
          );
        }),
    );
    const read = store(20).readBandBuckets(seriesId, 0, 60_000, 60_000);
    await expect(read).rejects.toBeInstanceOf(QueryTimeoutError);
    await expect(read).rejects.toMatchObject({ statusCode: 504, code: 'query_timeout' });
  });

  it('leaves the caller its own abort when the request budget ran out first', async () => {
    queryMock.on(QueryCommand).rejects(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    const controller = new AbortController();
    controller.abort();
    const read = store().readBandBuckets(seriesId, 0, 60_000, 60_000, { signal: controller.signal });
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses a series id that could inject SQL, before any call', async () => {
    await expect(store().readBandBuckets("x' OR 1=1 --", 0, 1, 60_000)).rejects.toThrow(/not a series id/);
    expect(sent()).toHaveLength(0);
  });

  it.each([
    [86_400_000, '1d'],
    [7_200_000, '2h'],
    [300_000, '5m'],
    [90_000, '90s'],
    [1_500, '1500ms'],
  ])('writes %i ms as the interval literal %s', (ms, literal) => {
    expect(interval(ms)).toBe(literal);
  });
});
