import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import {
  RejectedRecordsException,
  TimestreamWriteClient,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TimestreamStore } from '../../lib/adapters/timestream-store.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { PointsRefusedError } from '../../lib/ports/store-errors.ts';

const writeMock = mockClient(TimestreamWriteClient);
const queryMock = mockClient(TimestreamQueryClient);
const seriesId = '0123456789abcdef';

const store = () =>
  new TimestreamStore({
    database: 'normalcy',
    pointsTable: 'points',
    bandsTable: 'bands',
    writeClient: new TimestreamWriteClient({ region: 'eu-west-1' }),
    queryClient: new TimestreamQueryClient({ region: 'eu-west-1' }),
    version: () => 1000,
  });

const points = (count: number): SeriesPoint[] =>
  Array.from({ length: count }, (_, i) => ({
    seriesId,
    name: 'shop.login.time',
    type: 'timer',
    value: i,
    timestamp: 1764028800000 + i * 60_000,
    dimensions: (i === 0 ? { host: 'web-1' } : {}) as Record<string, string>,
  }));

const rejection = (records: { RecordIndex: number; Reason: string; ExistingVersion?: number }[]) =>
  new RejectedRecordsException({ message: 'rejected', $metadata: {}, RejectedRecords: records });

beforeEach(() => {
  writeMock.reset();
  queryMock.reset();
});

describe('TimestreamStore.writePoints', () => {
  it('writes 250 points as three WriteRecords calls of 100, 100 and 50 records with common attributes', async () => {
    writeMock.on(WriteRecordsCommand).resolves({});
    await store().writePoints(points(250));
    const calls = writeMock.commandCalls(WriteRecordsCommand);
    expect(calls.map((call) => call.args[0].input.Records?.length)).toEqual([100, 100, 50]);
    const input = calls[0]?.args[0].input;
    expect(input?.DatabaseName).toBe('normalcy');
    expect(input?.TableName).toBe('points');
    expect(input?.CommonAttributes).toEqual({
      MeasureName: 'value',
      MeasureValueType: 'DOUBLE',
      TimeUnit: 'MILLISECONDS',
      Version: 1000,
    });
    expect(input?.Records?.[0]).toEqual({
      Dimensions: [
        { Name: 'series_id', Value: seriesId },
        { Name: 'metric', Value: 'shop.login.time' },
        { Name: 'type', Value: 'timer' },
        { Name: 'dims', Value: '{"host":"web-1"}' },
      ],
      MeasureValue: '0',
      Time: '1764028800000',
    });
  });

  it('rewrites a record refused for its version with a version above the existing one', async () => {
    writeMock
      .on(WriteRecordsCommand)
      .rejectsOnce(rejection([{ RecordIndex: 1, Reason: 'version', ExistingVersion: 5000 }]))
      .resolves({});
    await store().writePoints(points(3));
    const calls = writeMock.commandCalls(WriteRecordsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Records).toHaveLength(1);
    expect(calls[1]?.args[0].input.Records?.[0]?.MeasureValue).toBe('1');
    expect(calls[1]?.args[0].input.Records?.[0]?.Version).toBe(5001);
  });

  it('reports records refused for good with their index across batches and reason', async () => {
    writeMock
      .on(WriteRecordsCommand)
      .resolvesOnce({})
      .rejectsOnce(rejection([{ RecordIndex: 3, Reason: 'The record timestamp is outside the time range' }]));
    const write = store().writePoints(points(150));
    await expect(write).rejects.toBeInstanceOf(PointsRefusedError);
    await expect(write).rejects.toMatchObject({
      refused: [{ index: 103, reason: 'The record timestamp is outside the time range' }],
    });
  });
});

describe('TimestreamStore queries', () => {
  it('follows NextToken through every page, empty pages included', async () => {
    const row = (t: number, v: number) => ({
      Data: [{ ScalarValue: String(t) }, { ScalarValue: String(v) }],
    });
    queryMock
      .on(QueryCommand)
      .resolvesOnce({ Rows: [row(1, 10)], NextToken: 'a', ColumnInfo: [] })
      .resolvesOnce({ Rows: [], NextToken: 'b', ColumnInfo: [] })
      .resolvesOnce({ Rows: [row(2, 20)], ColumnInfo: [] });
    const values = await store().readPoints(seriesId, 0, 10_000);
    expect(values).toEqual([
      { timestamp: 1, value: 10 },
      { timestamp: 2, value: 20 },
    ]);
    const inputs = queryMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.NextToken)).toEqual([undefined, 'a', 'b']);
    expect(inputs[0]?.QueryString).toBe(
      'SELECT to_milliseconds(time) AS t, measure_value::double AS v FROM "normalcy"."points" ' +
        `WHERE series_id = '${seriesId}' AND measure_name = 'value' ` +
        'AND time >= from_milliseconds(0) AND time < from_milliseconds(10000) ORDER BY time',
    );
  });

  it('refuses a series id that could inject SQL', async () => {
    await expect(store().readPoints("x' OR 1=1 --", 0, 1)).rejects.toThrow(/not a series id/);
    expect(queryMock.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('writes bands as multi-measure records', async () => {
    writeMock.on(WriteRecordsCommand).resolves({});
    await store().writeBands(seriesId, [
      { timestamp: 60_000, value: 5, expected: 4, lower: 1, upper: 7, score: 0.2, anomaly: false },
    ]);
    const record = writeMock.commandCalls(WriteRecordsCommand)[0]?.args[0].input;
    expect(record?.TableName).toBe('bands');
    expect(record?.CommonAttributes).toEqual({
      MeasureName: 'band',
      MeasureValueType: 'MULTI',
      Version: 1000,
    });
    expect(record?.Records?.[0]).toMatchObject({
      Dimensions: [{ Name: 'series_id', Value: seriesId }],
      Time: '60000',
      MeasureValues: [
        { Name: 'value', Value: '5', Type: 'DOUBLE' },
        { Name: 'expected', Value: '4', Type: 'DOUBLE' },
        { Name: 'lower', Value: '1', Type: 'DOUBLE' },
        { Name: 'upper', Value: '7', Type: 'DOUBLE' },
        { Name: 'score', Value: '0.2', Type: 'DOUBLE' },
        { Name: 'anomaly', Value: 'false', Type: 'BOOLEAN' },
      ],
    });
  });
});

describe('TimestreamStore bulk requests of the band job', () => {
  it('reads every series of a time range with one query (all its pages), grouped by series in time order', async () => {
    const row = (id: string, t: number, v: number) => ({
      Data: [{ ScalarValue: id }, { ScalarValue: String(t) }, { ScalarValue: String(v) }],
    });
    const other = 'fedcba9876543210';
    queryMock
      .on(QueryCommand)
      .resolvesOnce({
        Rows: [row(seriesId, 120_000, 2), row(other, 60_000, 5)],
        NextToken: 'a',
        ColumnInfo: [],
      })
      .resolvesOnce({ Rows: [row(seriesId, 60_000, 1)], ColumnInfo: [] });
    const recent = await store().readRecentPoints(60_000, 180_000);
    expect(Object.fromEntries(recent)).toEqual({
      [seriesId]: [
        { timestamp: 60_000, value: 1 },
        { timestamp: 120_000, value: 2 },
      ],
      [other]: [{ timestamp: 60_000, value: 5 }],
    });
    expect(queryMock.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueryString:
          'SELECT series_id, to_milliseconds(time), measure_value::double FROM "normalcy"."points" ' +
          "WHERE measure_name = 'value' AND time >= from_milliseconds(60000) AND time < from_milliseconds(180000)",
        NextToken: undefined,
      },
      expect.objectContaining({ NextToken: 'a' }),
    ]);
  });

  it('writes the bands of many series in calls of 100 records', async () => {
    writeMock.on(WriteRecordsCommand).resolves({});
    const bands = Array.from({ length: 250 }, (_, i) => ({
      seriesId: i.toString(16).padStart(16, '0'),
      timestamp: 60_000,
      value: i,
      expected: i,
      lower: 0,
      upper: 2 * i,
      score: 0.1,
      anomaly: false,
    }));
    await store().writeManyBands(bands);
    const calls = writeMock.commandCalls(WriteRecordsCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.TableName, input.Records?.length])).toEqual([
      ['bands', 100],
      ['bands', 100],
      ['bands', 50],
    ]);
    expect(calls[2]?.Records?.[49]?.Dimensions).toEqual([
      { Name: 'series_id', Value: (249).toString(16).padStart(16, '0') },
    ]);
  });
});
