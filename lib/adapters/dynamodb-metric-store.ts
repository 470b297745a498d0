import { randomInt } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { aggregate, widen } from '../metrics/aggregate.ts';
import { liveWindowMs } from '../metrics/live-window.ts';
import type { SeriesPoint } from '../metrics/point.ts';
import type { AnomalyRecord, BandStore, SeriesBand, StoredBand } from '../ports/band-store.ts';
import type { MetricStore, TimedValue } from '../ports/metric-store.ts';
import type {
  AnomalyQuery,
  BandBucket,
  QueryStore,
  ValueBucket,
  ValueBucketQuery,
} from '../ports/query-store.ts';
import { dayMs, minuteMs } from '../time.ts';
import { anomalyIndex } from './schema.ts';

/** DynamoDB's limit of items per BatchWriteItem call. */
export const maxItemsPerBatchWrite = 25;
/** DynamoDB's limit of keys per BatchGetItem call. */
export const maxKeysPerBatchGet = 100;

const maxBatchAttempts = 8;
/** Points per item of the recent-points log (about 40 bytes each: one item stays near 12 KB). */
export const recentPointsPerItem = 300;
/** How long log items live (TTL): the band job reads only the last minutes. */
const recentLogSeconds = 86_400;

export interface DynamoDbMetricStoreOptions {
  readonly table: string;
  /** Days points and bands are kept; DynamoDB's TTL deletes them after (attribute `expiresAt`). */
  readonly retentionDays: number;
  readonly client?: DynamoDBClient;
  /** Waits between retries of unprocessed items (tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock deciding which points are recent enough for the recent-points log. */
  readonly now?: () => number;
}

/** Thrown when DynamoDB kept refusing some items of a batch write (throttling) after every retry. */
export class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
  constructor(readonly count: number) {
    super(`DynamoDB left ${count} item(s) unprocessed after ${maxBatchAttempts} attempts`);
  }
}

/**
 * Points and bands in one DynamoDB table, for accounts that cannot create Timestream tables. Keys: partition
 * `pk` = kind, series id and UTC day (`P#<series>#<day>` for points, `B#<series>#<day>` for bands), sort `sk` =
 * the timestamp in ms, so a day of one series is one Query and a rewrite of a point is an idempotent overwrite.
 * `F#<series>` holds the series' earliest timestamp. Anomalous bands also carry `anomalyDay`, the partition of the
 * sparse `anomalies` index. Every item has `expiresAt` (epoch seconds) for TTL.
 *
 * Recent points are also written to a log the band job reads in bulk: partition `R#<minute>` (the points'
 * minute), one item per request and minute holding up to {@link recentPointsPerItem} points as text
 * (`id,timestamp,value;...`), kept a day. It costs about one write unit per 25 points, against one per point
 * for the points themselves, and lets a run read every series' new points with a Query per minute.
 */
export class DynamoDbMetricStore implements MetricStore, BandStore, QueryStore {
  private readonly client: DynamoDBClient;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Earliest timestamp known to be recorded per series, so a batch updates the marker only when it is earlier. */
  private readonly knownEarliest = new Map<string, number>();

  constructor(private readonly options: DynamoDbMetricStoreOptions) {
    this.client = options.client ?? new DynamoDBClient({});
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async writePoints(points: readonly SeriesPoint[]): Promise<void> {
    await this.batchPut([
      ...points.map((point) => ({
        pk: { S: `P#${point.seriesId}#${day(point.timestamp)}` },
        sk: { N: String(point.timestamp) },
        v: { N: String(point.value) },
        expiresAt: { N: String(this.expiry(point.timestamp)) },
      })),
      ...this.recentLogItems(points),
    ]);
    const earliest = new Map<string, number>();
    for (const point of points) {
      earliest.set(
        point.seriesId,
        Math.min(earliest.get(point.seriesId) ?? point.timestamp, point.timestamp),
      );
    }
    for (const [seriesId, timestamp] of earliest) {
      if ((this.knownEarliest.get(seriesId) ?? Number.POSITIVE_INFINITY) <= timestamp) continue;
      await this.lowerEarliest(seriesId, timestamp);
      this.knownEarliest.set(seriesId, timestamp);
    }
  }

  async readRecentPoints(from: number, to: number): Promise<Map<string, TimedValue[]>> {
    const bySeries = new Map<string, TimedValue[]>();
    for (let minute = Math.floor(from / minuteMs); minute <= Math.floor((to - 1) / minuteMs); minute++) {
      const items = await this.queryAll({
        TableName: this.options.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `R#${minute}` } },
      });
      for (const item of items) {
        for (const entry of (item.d?.S ?? '').split(';')) {
          const [id, time, value] = entry.split(',');
          const timestamp = Number(time);
          if (!id || !(timestamp >= from && timestamp < to)) continue;
          const point = { timestamp, value: Number(value) };
          const series = bySeries.get(id);
          if (series) series.push(point);
          else bySeries.set(id, [point]);
        }
      }
    }
    for (const series of bySeries.values()) series.sort((a, b) => a.timestamp - b.timestamp);
    return bySeries;
  }

  async readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]> {
    const items = await this.queryDays('P', seriesId, from, to);
    return items.map((item) => ({ timestamp: Number(item.sk?.N), value: Number(item.v?.N) }));
  }

  async earliestTimestamp(seriesId: string): Promise<number | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.options.table,
        Key: { pk: { S: `F#${seriesId}` }, sk: { N: '0' } },
        ConsistentRead: true,
      }),
    );
    return Item?.first?.N === undefined ? undefined : Number(Item.first.N);
  }

  async writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void> {
    await this.writeManyBands(bands.map((band) => ({ ...band, seriesId })));
  }

  async writeManyBands(bands: readonly SeriesBand[]): Promise<void> {
    await this.batchPut(
      bands.map((band) => {
        const item: Record<string, AttributeValue> = {
          pk: { S: `B#${band.seriesId}#${day(band.timestamp)}` },
          sk: { N: String(band.timestamp) },
          series: { S: band.seriesId },
          v: { N: String(band.value) },
          e: { N: String(band.expected) },
          lo: { N: String(band.lower) },
          hi: { N: String(band.upper) },
          s: { N: String(band.score) },
          a: { N: band.anomaly ? '1' : '0' },
          expiresAt: { N: String(this.expiry(band.timestamp)) },
        };
        if (band.anomaly) item.anomalyDay = { S: `A#${day(band.timestamp)}` };
        return item;
      }),
    );
  }

  async readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    return (await this.queryDays('B', seriesId, from, to)).map(toBand);
  }

  async listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]> {
    const anomalies: AnomalyRecord[] = [];
    for (let d = day(to - 1); d >= day(from) && anomalies.length < limit; d--) {
      const items = await this.queryAll({
        TableName: this.options.table,
        IndexName: anomalyIndex,
        KeyConditionExpression: 'anomalyDay = :day AND sk BETWEEN :from AND :last',
        ExpressionAttributeValues: {
          ':day': { S: `A#${d}` },
          ':from': { N: String(from) },
          ':last': { N: String(to - 1) },
        },
        ScanIndexForward: false,
      });
      for (const item of items) anomalies.push({ ...toBand(item), seriesId: item.series?.S ?? '' });
    }
    return anomalies.sort((a, b) => b.timestamp - a.timestamp).slice(0, limit);
  }

  /** DynamoDB cannot group: the points are read and grouped here (a month of 1-minute points is ~1 MB). */
  async readValueBuckets(query: ValueBucketQuery): Promise<ValueBucket[]> {
    const points = await this.readPoints(query.seriesId, query.from, query.to);
    return widen(aggregate(query.type, points, query.seriesStepMs), query.stepMs);
  }

  async readBandBuckets(seriesId: string, from: number, to: number, stepMs: number): Promise<BandBucket[]> {
    const grouped = new Map<
      number,
      { expected: number; n: number; lower: number; upper: number; score: number; anomaly: boolean }
    >();
    for (const band of await this.readBands(seriesId, from, to)) {
      const start = band.timestamp - (band.timestamp % stepMs);
      const bucket = grouped.get(start);
      if (bucket) {
        bucket.expected += band.expected;
        bucket.n += 1;
        bucket.lower = Math.min(bucket.lower, band.lower);
        bucket.upper = Math.max(bucket.upper, band.upper);
        bucket.score = Math.max(bucket.score, band.score);
        bucket.anomaly ||= band.anomaly;
      } else {
        grouped.set(start, { ...band, n: 1 });
      }
    }
    return [...grouped.entries()].map(([start, b]) => ({
      start,
      expected: b.expected / b.n,
      lower: b.lower,
      upper: b.upper,
      score: b.score,
      anomaly: b.anomaly,
    }));
  }

  async valuesAt(
    entries: readonly { readonly seriesId: string; readonly timestamp: number }[],
  ): Promise<Map<string, number>> {
    const values = new Map<string, number>();
    const keyOf = (seriesId: string, timestamp: number) => `P#${seriesId}#${day(timestamp)}@${timestamp}`;
    const wanted = new Map(entries.map((entry) => [keyOf(entry.seriesId, entry.timestamp), entry.seriesId]));
    let keys = entries.map((entry) => ({
      pk: { S: `P#${entry.seriesId}#${day(entry.timestamp)}` },
      sk: { N: String(entry.timestamp) },
    }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt >= maxBatchAttempts) throw new UnprocessedItemsError(keys.length);
      if (attempt > 0) await this.sleep(Math.random() * Math.min(5000, 50 * 2 ** attempt));
      const unprocessed: typeof keys = [];
      for (let offset = 0; offset < keys.length; offset += maxKeysPerBatchGet) {
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.options.table]: { Keys: keys.slice(offset, offset + maxKeysPerBatchGet) } },
          }),
        );
        for (const item of Responses?.[this.options.table] ?? []) {
          const pk = item.pk?.S ?? '';
          const series = wanted.get(`${pk}@${item.sk?.N}`);
          if (series !== undefined) values.set(series, Number(item.v?.N));
        }
        unprocessed.push(...((UnprocessedKeys?.[this.options.table]?.Keys ?? []) as typeof keys));
      }
      keys = unprocessed;
    }
    return values;
  }

  async findAnomalies(query: AnomalyQuery): Promise<AnomalyRecord[]> {
    const found: AnomalyRecord[] = [];
    const after = query.after;
    const isAfter = (record: AnomalyRecord) =>
      !after ||
      record.timestamp < after.timestamp ||
      (record.timestamp === after.timestamp && record.seriesId > after.seriesId);
    for (let d = day(query.to - 1); d >= day(query.from) && found.length < query.limit; d--) {
      let records: AnomalyRecord[];
      if (query.seriesId !== undefined) {
        const seriesId = query.seriesId;
        records = (
          await this.queryDays(
            'B',
            seriesId,
            Math.max(query.from, d * dayMs),
            Math.min(query.to, (d + 1) * dayMs),
          )
        )
          .filter((item) => item.a?.N === '1')
          .map((item) => ({ ...toBand(item), seriesId }));
      } else {
        records = (
          await this.queryAll({
            TableName: this.options.table,
            IndexName: anomalyIndex,
            KeyConditionExpression: 'anomalyDay = :day AND sk BETWEEN :from AND :last',
            ExpressionAttributeValues: {
              ':day': { S: `A#${d}` },
              ':from': { N: String(query.from) },
              ':last': { N: String(query.to - 1) },
            },
          })
        ).map((item) => ({ ...toBand(item), seriesId: item.series?.S ?? '' }));
      }
      records.sort((a, b) => b.timestamp - a.timestamp || a.seriesId.localeCompare(b.seriesId));
      for (const record of records) if (isAfter(record) && found.length < query.limit) found.push(record);
    }
    return found;
  }

  /** The recent-points log items of a write: points inside the live window, by minute, in chunks. */
  private recentLogItems(points: readonly SeriesPoint[]): Record<string, AttributeValue>[] {
    const now = this.options.now?.() ?? Date.now();
    const byMinute = new Map<number, string[]>();
    for (const point of points) {
      if (point.timestamp < now - liveWindowMs) continue;
      const minute = Math.floor(point.timestamp / minuteMs);
      const entries = byMinute.get(minute);
      const entry = `${point.seriesId},${point.timestamp},${point.value}`;
      if (entries) entries.push(entry);
      else byMinute.set(minute, [entry]);
    }
    const items: Record<string, AttributeValue>[] = [];
    const expiresAt = { N: String(Math.floor(now / 1000) + recentLogSeconds) };
    for (const [minute, entries] of byMinute) {
      for (let offset = 0; offset < entries.length; offset += recentPointsPerItem) {
        items.push({
          pk: { S: `R#${minute}` },
          // A random sort key: requests never overwrite each other's items (2^48 values).
          sk: { N: String(randomInt(2 ** 48 - 1)) },
          d: { S: entries.slice(offset, offset + recentPointsPerItem).join(';') },
          expiresAt,
        });
      }
    }
    return items;
  }

  private expiry(timestamp: number): number {
    return Math.floor(timestamp / 1000) + this.options.retentionDays * 86_400;
  }

  private async lowerEarliest(seriesId: string, timestamp: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: { pk: { S: `F#${seriesId}` }, sk: { N: '0' } },
          UpdateExpression: 'SET #first = :first',
          ConditionExpression: 'attribute_not_exists(#first) OR #first > :first',
          ExpressionAttributeNames: { '#first': 'first' },
          ExpressionAttributeValues: { ':first': { N: String(timestamp) } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Every item of one series' kind of partition, day by day over [from, to), in time order. */
  private async queryDays(kind: 'P' | 'B', seriesId: string, from: number, to: number) {
    const items = [];
    for (let d = day(from); d <= day(to - 1); d++) {
      items.push(
        ...(await this.queryAll({
          TableName: this.options.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :last',
          ExpressionAttributeValues: {
            ':pk': { S: `${kind}#${seriesId}#${d}` },
            ':from': { N: String(from) },
            ':last': { N: String(to - 1) },
          },
        })),
      );
    }
    return items;
  }

  private async queryAll(input: QueryCommandInput) {
    const items = [];
    let startKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Puts items in batches of 25, retrying unprocessed items with jittered exponential backoff. */
  private async batchPut(items: readonly Record<string, AttributeValue>[]): Promise<void> {
    for (let offset = 0; offset < items.length; offset += maxItemsPerBatchWrite) {
      let requests: WriteRequest[] = items
        .slice(offset, offset + maxItemsPerBatchWrite)
        .map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= maxBatchAttempts) throw new UnprocessedItemsError(requests.length);
        if (attempt > 0) await this.sleep(Math.random() * Math.min(5000, 50 * 2 ** attempt));
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.options.table]: requests } }),
        );
        requests = UnprocessedItems?.[this.options.table] ?? [];
      }
    }
  }
}

const day = (timestamp: number): number => Math.floor(timestamp / dayMs);

const toBand = (item: Record<string, { N?: string; S?: string }>): StoredBand => ({
  timestamp: Number(item.sk?.N),
  value: Number(item.v?.N),
  expected: Number(item.e?.N),
  lower: Number(item.lo?.N),
  upper: Number(item.hi?.N),
  score: Number(item.s?.N),
  anomaly: item.a?.N === '1',
});
