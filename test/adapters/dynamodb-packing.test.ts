import { type AttributeValue, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import type { StoredBand } from '../../lib/ports/band-store.ts';
import { dayMs, hourMs, minuteMs } from '../../lib/time.ts';
import { dynamoWriteUnits } from '../../scripts/cost/metering.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';

/** The packed layout of the DynamoDB store on dynalite: what it costs, and what survives compaction. */
let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(() => dynamo.close());

const hour = Date.parse('2026-03-02T10:00:00Z');
const idOf = (index: number) => index.toString(16).padStart(16, '0');
const point = (seriesId: string, timestamp: number, value: number): SeriesPoint => ({
  seriesId,
  name: 'm',
  type: 'gauge',
  value,
  timestamp,
  dimensions: {},
});
const band = (timestamp: number, value: number, anomaly = false): StoredBand => ({
  timestamp,
  value,
  expected: 10.25,
  lower: 5.5,
  upper: 15.75,
  score: anomaly ? 0.93 : 0.12,
  anomaly,
});

/** A store on a fresh table with a clock the test moves, and the write units of every item it puts. */
async function storeAt(start: number) {
  const clock = { now: start };
  const table = await dynamo.createDataTable();
  const store = new DynamoDbMetricStore({
    table,
    retentionDays: 30,
    client: dynamo.client,
    now: () => clock.now,
  });
  const items: Record<string, AttributeValue>[] = [];
  const counting = new DynamoDbMetricStore({
    table,
    retentionDays: 30,
    now: () => clock.now,
    client: {
      send: async (command: { input: unknown }) => {
        const input = command.input as {
          RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, AttributeValue> } }[]>;
          Item?: Record<string, AttributeValue>;
        };
        for (const request of input.RequestItems?.[table] ?? [])
          if (request.PutRequest?.Item) items.push(request.PutRequest.Item);
        if (input.Item) items.push(input.Item);
        return dynamo.client.send(command as never);
      },
    } as never,
  });
  const partitions = async (pk: string) =>
    (
      await dynamo.client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
        }),
      )
    ).Items ?? [];
  return { clock, store, counting, items, table, partitions };
}

describe('DynamoDbMetricStore packed layout', () => {
  it('writes a 500-series ingest request as about 24 log items of one write unit, not an item per point', async () => {
    const { counting, items } = await storeAt(hour + 30 * minuteMs);
    await counting.writePoints(
      Array.from({ length: 500 }, (_, i) => point(idOf(i), hour + 29 * minuteMs, 100 + i / 7)),
    );
    const units = items.reduce((sum, item) => sum + dynamoWriteUnits(item), 0);
    expect(items.length).toBeLessThanOrEqual(30);
    expect(units).toBeLessThanOrEqual(40);
  });

  it("writes a run's bands of 600 series as log items, not an item per band", async () => {
    const { counting, items } = await storeAt(hour + 30 * minuteMs);
    await counting.writeManyBands(
      Array.from({ length: 600 }, (_, i) => ({ ...band(hour + 29 * minuteMs, i), seriesId: idOf(i) })),
    );
    expect(items.length).toBeLessThanOrEqual(30);
    expect(items.reduce((sum, item) => sum + dynamoWriteUnits(item), 0)).toBeLessThanOrEqual(80);
  });

  it('folds an hour of one-minute points, out of order and rewritten, into one series-hour item', async () => {
    const { clock, store, partitions } = await storeAt(hour);
    const id = idOf(7);
    for (let minute = 0; minute < 60; minute++) {
      clock.now = hour + minute * minuteMs + 5_000;
      // Each minute's point, and the previous minute's again (a retried request), then a late rewrite.
      const batch = [point(id, hour + minute * minuteMs, minute)];
      if (minute > 0) batch.push(point(id, hour + (minute - 1) * minuteMs, minute - 1));
      await store.writePoints(batch.reverse());
    }
    clock.now += 1_000;
    await store.writePoints([point(id, hour + 58 * minuteMs, 580)]);
    const expected = Array.from({ length: 60 }, (_, m) => ({
      timestamp: hour + m * minuteMs,
      value: m === 58 ? 580 : m,
    }));
    expect(await store.readPoints(id, hour, hour + hourMs)).toEqual(expected);

    clock.now = hour + hourMs + 11 * minuteMs;
    expect(await store.compact()).toBe(0); // the hour is not closed: late points may still come
    clock.now = hour + hourMs + 13 * minuteMs;
    expect(await store.compact()).toBe(4);
    for (let run = 0; run < 6; run++) await store.compact();
    const items = await partitions(`PH#${id}`);
    expect(items.map((item) => Number(item.sk?.N))).toEqual([hour]);
    expect(await store.readPoints(id, hour, hour + hourMs)).toEqual(expected);
    expect(await store.readPoints(id, hour + 10 * minuteMs, hour + 12 * minuteMs)).toEqual(
      expected.slice(10, 12),
    );
    // Folding again changes nothing.
    await store.compact();
    expect(await store.readPoints(id, hour - hourMs, hour + 2 * hourMs)).toEqual(expected);
  });

  it('keeps backfilled points on both sides of an hour boundary in their own hour items', async () => {
    const { store, partitions } = await storeAt(hour + 2 * dayMs);
    const id = idOf(3);
    await store.writePoints([
      point(id, hour + hourMs, 2),
      point(id, hour + hourMs - 1, 1),
      point(id, hour, 0),
    ]);
    await store.writePoints([point(id, hour + hourMs - 1, 11)]);
    expect(await store.readPoints(id, hour, hour + 2 * hourMs)).toEqual([
      { timestamp: hour, value: 0 },
      { timestamp: hour + hourMs - 1, value: 11 },
      { timestamp: hour + hourMs, value: 2 },
    ]);
    expect((await partitions(`PH#${id}`)).map((item) => Number(item.sk?.N))).toEqual([hour, hour + hourMs]);
  });

  it('splits an hour too large for one item (400 KB) into parts, and reads them back whole', async () => {
    const { store, partitions } = await storeAt(hour + 2 * dayMs);
    const id = idOf(4);
    const many = Array.from({ length: 30_000 }, (_, i) => point(id, hour + i * 120, Math.sin(i) * 1e6));
    await store.writePoints(many);
    const parts = await partitions(`PH#${id}`);
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.d?.B?.length ?? 0).toBeLessThan(400_000);
    const read = await store.readPoints(id, hour, hour + hourMs);
    expect(read).toHaveLength(30_000);
    expect(read[29_999]).toEqual({ timestamp: hour + 29_999 * 120, value: Math.sin(29_999) * 1e6 });
  });

  it('folds bands, and drops an anomaly the band job withdrew within the live window from the listings', async () => {
    const { clock, store } = await storeAt(hour + 5 * minuteMs);
    const id = idOf(5);
    await store.writeBands(id, [band(hour + 3 * minuteMs, 50, true), band(hour + 4 * minuteMs, 9)]);
    clock.now += 1_000;
    await store.writeBands(id, [band(hour + 3 * minuteMs, 50, false)]);
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([
      band(hour + 3 * minuteMs, 50),
      band(hour + 4 * minuteMs, 9),
    ]);
    clock.now = hour + hourMs + 13 * minuteMs;
    for (let run = 0; run < 7; run++) await store.compact();
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([
      band(hour + 3 * minuteMs, 50),
      band(hour + 4 * minuteMs, 9),
    ]);
    expect(await store.listAnomalies(hour, hour + hourMs, 10)).toEqual([]);
  });

  it('still reads points and bands of the first layout (an item each), beneath newer writes', async () => {
    const { store, table } = await storeAt(hour + 2 * dayMs);
    const id = idOf(6);
    const day = Math.floor(hour / dayMs);
    const put = (item: Record<string, AttributeValue>) =>
      dynamo.client.send(new PutItemCommand({ TableName: table, Item: item }));
    await put({ pk: { S: `P#${id}#${day}` }, sk: { N: String(hour) }, v: { N: '1' } });
    await put({ pk: { S: `P#${id}#${day}` }, sk: { N: String(hour + minuteMs) }, v: { N: '2' } });
    await put({
      pk: { S: `B#${id}#${day}` },
      sk: { N: String(hour) },
      series: { S: id },
      v: { N: '1' },
      e: { N: '10.25' },
      lo: { N: '5.5' },
      hi: { N: '15.75' },
      s: { N: '0.12' },
      a: { N: '0' },
    });
    await store.writePoints([point(id, hour + minuteMs, 20)]);
    expect(await store.readPoints(id, hour, hour + hourMs)).toEqual([
      { timestamp: hour, value: 1 },
      { timestamp: hour + minuteMs, value: 20 },
    ]);
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([band(hour, 1)]);
  });
});
