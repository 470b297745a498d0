import { deflateRawSync } from 'node:zlib';
import { type AttributeValue, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import {
  logBucket as logBucketOf,
  packBands,
  packPoints,
  toSinglePrecision,
  unpackBands,
  unpackPoints,
} from '../../lib/adapters/dynamodb-packing.ts';
import type { StoredBand } from '../../lib/ports/band-store.ts';
import { dayMs, hourMs, minuteMs } from '../../lib/time.ts';
import { dynamoWriteUnits } from '../../scripts/cost/metering.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { gaugePoint } from '../helpers/series.ts';

/** The packed layout of the DynamoDB store on dynalite: what it costs, and what survives compaction. */
let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(() => dynamo.close());

const hour = Date.parse('2026-03-02T10:00:00Z');
const idOf = (index: number) => index.toString(16).padStart(16, '0');
const point = gaugePoint;
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
    // Entries carry their time within the log item's minute: 28 units (35 with whole timestamps).
    expect(units).toBeLessThanOrEqual(30);
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
    for (const part of parts) expect(part.c?.B?.length ?? 0).toBeLessThan(400_000);
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

/** A series-hour of one-minute points of a timer with 3 decimals, as agents send them (seeded noise). */
const timerHour = Array.from({ length: 60 }, (_, i) => ({
  timestamp: hour + i * minuteMs,
  value:
    Math.round((100 + 20 * Math.sin(i / 60) + 5 * ((Math.sin(i * 12.9898) * 43_758.5453) % 1)) * 1000) / 1000,
}));

describe('series-hour packing (format 2)', () => {
  it('keeps every double exactly, the edge ones too, with timestamps off the common step', () => {
    const values = [
      0,
      -0,
      1,
      -1,
      0.1 + 0.2,
      1 / 3,
      -123.456,
      1e308,
      -1.7976931348623157e308,
      5e-324,
      2.2250738585072014e-308,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 2,
      -(2 ** 60),
      1e-300,
      123_456_789.123,
      42.000000001,
      1e21,
      7,
    ];
    const points = values.map((value, i) => ({
      // A common step of a minute, with a late point, a skipped minute and a point a millisecond apart.
      timestamp:
        hour + i * minuteMs + (i === 5 ? 1_234 : 0) + (i > 9 ? minuteMs : 0) + (i === 18 ? -59_999 : 0),
      value,
    }));
    const [packed] = packPoints(points);
    const read = unpackPoints(packed ?? Buffer.alloc(0), hour);
    expect(read.map((p) => p.timestamp)).toEqual(points.map((p) => p.timestamp));
    for (const [i, p] of read.entries()) expect(Object.is(p.value, values[i])).toBe(true);
  });

  it('packs an hour of one-minute 3-decimal values in at most 4 bytes a point (format 1: about 8)', () => {
    const [packed] = packPoints(timerHour);
    expect((packed ?? Buffer.alloc(0)).length / 60).toBeLessThanOrEqual(4);
    expect(unpackPoints(packed ?? Buffer.alloc(0), hour)).toEqual(timerHour);
  });

  it("stores a band's value only where it differs from its point's, and fills it back exactly", () => {
    const values = new Map(timerHour.map((p) => [p.timestamp, p.value]));
    const bands = timerHour.map((p, i) => ({
      ...band(p.timestamp, i === 7 ? 99.5 : p.value, i === 7),
      expected: 100.25 + i,
    }));
    bands.push(band(hour + 59 * minuteMs + 30_000, 3)); // a band without a point
    const [withPoints] = packBands(bands, values);
    const [alone] = packBands(bands, new Map());
    expect((withPoints ?? Buffer.alloc(0)).length).toBeLessThan((alone ?? Buffer.alloc(0)).length - 100);
    expect(unpackBands(withPoints ?? Buffer.alloc(0), hour, (t) => values.get(t))).toEqual(bands);
  });

  it("rounds a band's expected value, edges and score to float32 as their shortest decimal, and no further", () => {
    expect(toSinglePrecision(0.12)).toBe(0.12);
    expect(toSinglePrecision(10.25)).toBe(10.25);
    expect(toSinglePrecision(1 / 3)).toBe(0.33333334);
    expect(toSinglePrecision(101.23456789)).toBe(101.234566);
    expect(Math.abs(toSinglePrecision(-98_765.4321) - -98_765.4321)).toBeLessThan(0.005);
    // Outside float32's normal range a number stays exact.
    for (const x of [1e300, -1e-300, 0, Number.POSITIVE_INFINITY]) expect(toSinglePrecision(x)).toBe(x);
  });

  it('reads series-hour items of format 1 (attribute d), and rewrites them in format 2 on a merge', async () => {
    const { store, table, partitions } = await storeAt(hour + 2 * dayMs);
    const id = idOf(8);
    const gaps = Buffer.alloc(4 + 2 * 12);
    gaps.writeUInt32LE(2, 0);
    gaps.writeUInt32LE(0, 4);
    gaps.writeUInt32LE(minuteMs, 8);
    gaps.writeDoubleLE(1.5, 12);
    gaps.writeDoubleLE(-2.25, 20);
    const bands = Buffer.alloc(4 + 4 + 5 * 8 + 1);
    bands.writeUInt32LE(1, 0);
    bands.writeUInt32LE(0, 4);
    [1.5, 10.25, 5.5, 15.75, 0.12].forEach((x, c) => {
      bands.writeDoubleLE(x, 8 + c * 8);
    });
    bands.writeUInt8(0, 48);
    for (const [pk, bytes] of [
      [`PH#${id}`, gaps],
      [`BH#${id}`, bands],
    ] as const) {
      await dynamo.client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: pk }, sk: { N: String(hour) }, d: { B: deflateRawSync(bytes) }, ver: { N: '1' } },
        }),
      );
    }
    expect(await store.readPoints(id, hour, hour + hourMs)).toEqual([
      { timestamp: hour, value: 1.5 },
      { timestamp: hour + minuteMs, value: -2.25 },
    ]);
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([band(hour, 1.5)]);
    await store.writePoints([point(id, hour + 2 * minuteMs, 3)]);
    const [item] = await partitions(`PH#${id}`);
    expect([item?.d, item?.c?.B?.[0]]).toEqual([undefined, 2]);
    expect((await store.readPoints(id, hour, hour + hourMs)).map((p) => p.value)).toEqual([1.5, -2.25, 3]);
  });

  it("reads a folded band's value from its point, and the same rounded numbers before and after folding", async () => {
    const { clock, store, partitions } = await storeAt(hour + 5 * minuteMs);
    const id = idOf(9);
    const at = hour + 3 * minuteMs;
    await store.writePoints([point(id, at, 1 / 7)]);
    const written = { ...band(at, 1 / 7, true), expected: 1 / 3, upper: 2 / 3 };
    await store.writeBands(id, [written]);
    const rounded = { ...written, expected: 0.33333334, upper: 0.6666667 };
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([rounded]);
    expect(await store.listAnomalies(hour, hour + hourMs, 10)).toEqual([{ ...rounded, seriesId: id }]);
    clock.now = hour + hourMs + 13 * minuteMs;
    for (let run = 0; run < 7; run++) await store.compact();
    expect((await partitions(`BH#${id}`)).length).toBe(1);
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([rounded]);
  });

  it('reads log entries of before, which carry whole timestamps, beside the shorter ones', async () => {
    const { clock, store, table } = await storeAt(hour + 5 * minuteMs);
    const id = idOf(10);
    const at = hour + 3 * minuteMs;
    await store.writePoints([point(id, at + 500, 2)]);
    await store.writeBands(id, [band(at + 500, 2)]);
    const minute = at / minuteMs;
    const sk = (n: number) => `${logBucketOf(id)}${String(hour).padStart(13, '0')}00000${n}`;
    for (const [pk, entry] of [
      [`R#${minute}`, `${id},${at},1.5`],
      [`L#${minute}`, `${id},${at},1.5,10.25,5.5,15.75,0.12,0`],
    ] as const) {
      await dynamo.client.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { N: sk(1) }, d: { S: entry } } }),
      );
    }
    const expected = [
      { timestamp: at, value: 1.5 },
      { timestamp: at + 500, value: 2 },
    ];
    expect(await store.readPoints(id, hour, hour + hourMs)).toEqual(expected);
    expect((await store.readRecentPoints(at, at + minuteMs)).get(id)).toEqual(expected);
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([band(at, 1.5), band(at + 500, 2)]);
    clock.now = hour + hourMs + 13 * minuteMs;
    for (let run = 0; run < 7; run++) await store.compact();
    expect(await store.readPoints(id, hour, hour + hourMs)).toEqual(expected);
    expect(await store.readBands(id, hour, hour + hourMs)).toEqual([band(at, 1.5), band(at + 500, 2)]);
  });
});
