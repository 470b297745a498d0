import { QueryCommand } from '@aws-sdk/client-timestream-query';
import {
  type _Record,
  RejectedRecordsException,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { describe, expect, it } from 'vitest';
import { FakeTimestream } from './fake-timestream.ts';

/** The fake refuses what Timestream refuses, so the contract suite cannot pass on requests the service would not take. */
const now = Date.UTC(2026, 10, 2);
const tables = { database: 'normalcy', pointsTable: 'points', bandsTable: 'bands' };
const common = { MeasureName: 'value', MeasureValueType: 'DOUBLE', TimeUnit: 'MILLISECONDS' } as const;
const record = (value: number, time = now, version?: number): _Record => ({
  Dimensions: [{ Name: 'series_id', Value: 'aaaaaaaaaaaaaaaa' }],
  MeasureValue: String(value),
  Time: String(time),
  ...(version === undefined ? {} : { Version: version }),
});

const write = (fake: FakeTimestream, records: _Record[], table = 'points') =>
  fake.writeClient.send(
    new WriteRecordsCommand({
      DatabaseName: 'normalcy',
      TableName: table,
      CommonAttributes: common,
      Records: records,
    }),
  );

const rejection = async (call: Promise<unknown>) => {
  const error = await call.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(RejectedRecordsException);
  return (error as RejectedRecordsException).RejectedRecords;
};

describe('the fake Timestream', () => {
  it('refuses a different value at the same dimensions and time unless its version is higher', async () => {
    const fake = new FakeTimestream({ ...tables, now: () => now });
    await write(fake, [record(1, now, 5)]);
    await write(fake, [record(1, now, 5)]);
    expect(await rejection(write(fake, [record(2, now, 5), record(3, now + 1)]))).toEqual([
      expect.objectContaining({ RecordIndex: 0, ExistingVersion: 5 }),
    ]);
    await write(fake, [record(2, now, 6)]);
    expect(fake.records('points').map((r) => [r.time, r.measures['measure_value::double']])).toEqual([
      [now, 2],
      [now + 1, 3],
    ]);
  });

  it('refuses records outside retention, oversized records, and more than 100 records or malformed ones in a call', async () => {
    const fake = new FakeTimestream({ ...tables, now: () => now, magneticRetentionDays: 10 });
    expect(
      await rejection(write(fake, [record(1, now - 11 * 86_400_000), record(1, now + 3_600_000)])),
    ).toEqual([expect.objectContaining({ RecordIndex: 0 }), expect.objectContaining({ RecordIndex: 1 })]);
    const huge = { ...record(1), Dimensions: [{ Name: 'series_id', Value: 'x'.repeat(2_100) }] };
    expect(await rejection(write(fake, [huge]))).toEqual([expect.objectContaining({ RecordIndex: 0 })]);
    await expect(
      write(
        fake,
        Array.from({ length: 101 }, (_, i) => record(i, now - i)),
      ),
    ).rejects.toThrow(/1 to 100 records/);
    await expect(write(fake, [record(Number.NaN)])).rejects.toThrow(/not a DOUBLE/);
    await expect(write(fake, [{ ...record(1), Time: '1.5' }])).rejects.toThrow(/Time must be an integer/);
    await expect(write(fake, [record(1)], 'nowhere')).rejects.toThrow(/does not exist/);
    expect(fake.records('points')).toEqual([]);
  });

  it('answers only the SQL it knows, and names a column no record has as an error', async () => {
    const fake = new FakeTimestream({ ...tables, now: () => now });
    await write(fake, [record(1)]);
    const query = (sql: string) => fake.queryClient.send(new QueryCommand({ QueryString: sql }));
    await expect(query(`SELECT host FROM "normalcy"."points" WHERE series_id = 'a'`)).rejects.toThrow(
      /Column 'host' does not exist/,
    );
    await expect(query('SELECT * FROM somewhere')).rejects.toThrow(/does not know this query/);
    const sql =
      `SELECT to_milliseconds(time) FROM "normalcy"."points" WHERE series_id = 'aaaaaaaaaaaaaaaa' ` +
      `AND (time = from_milliseconds(${now}) OR time < from_milliseconds(0))`;
    const first = await query(sql);
    expect(first.Rows).toEqual([]);
    const second = await fake.queryClient.send(
      new QueryCommand({ QueryString: sql, NextToken: first.NextToken }),
    );
    expect(second.Rows).toEqual([{ Data: [{ ScalarValue: String(now) }] }]);
    expect(second.NextToken).toBeUndefined();
  });
});
