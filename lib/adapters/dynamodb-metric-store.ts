import { randomInt } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mapConcurrently } from '../concurrency.ts';
import { aggregate, widen } from '../metrics/aggregate.ts';
import { ingestLimits } from '../metrics/limits.ts';
import { liveWindowMs, readMarginMs } from '../metrics/live-window.ts';
import type { SeriesPoint } from '../metrics/point.ts';
import { type SeriesSelection, selectsSeries } from '../metrics/series-hash.ts';
import type { AnomalyRecord, BandStore, SeriesBand, StoredBand } from '../ports/band-store.ts';
import type { MetricStore, TimedValue } from '../ports/metric-store.ts';
import type {
  AnomalyQuery,
  BandBucket,
  QueryStore,
  ValueBucket,
  ValueBucketQuery,
} from '../ports/query-store.ts';
import { dayMs, hourMs, minuteMs } from '../time.ts';
import { isConditionFailure } from './dynamodb-documents.ts';
import {
  bandEntry,
  hourStartOf,
  logBucket,
  logBucketRange,
  logBucketRanges,
  logBuckets,
  logBucketsOfSelection,
  logSortKey,
  mergeByTimestamp,
  packBands,
  packPoints,
  parseBandEntry,
  parsePointEntry,
  pointEntry,
  roundBand,
  unpackBands,
  unpackBandsFormat1,
  unpackPoints,
  unpackPointsFormat1,
} from './dynamodb-packing.ts';
import { anomalyIndex } from './schema.ts';

/** DynamoDB's limit of items per BatchWriteItem call. */
export const maxItemsPerBatchWrite = 25;
/** DynamoDB's limit of keys per BatchGetItem call. */
export const maxKeysPerBatchGet = 100;

const maxBatchAttempts = 8;
/** Entries per item of the points and bands logs (a band entry is about 90 bytes: an item stays under 30 KB). */
export const recentPointsPerItem = 300;
/**
 * How long log items live (TTL): until compaction has folded them into series-hour items, which it does
 * about an hour after their hour; a week leaves room for a band job that was stopped for days.
 */
const logSeconds = 7 * 86_400;
/** How many (hour, bucket) pairs of the log one compaction call folds at most (24 an hour keep up). */
export const compactionsPerCall = 4;
/** Parallel requests of one read or compaction. */
const concurrency = 16;
/** The item holding, per log bucket, the time before which the log is folded into series-hour items. */
const watermarkKey = { pk: { S: 'W#compacted' }, sk: { N: '0' } };

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
 * Points and bands in one DynamoDB table, for accounts that cannot create Timestream tables, packed so that a
 * write unit carries many points (docs/cost.md has the arithmetic). Items, by partition key `pk`:
 *
 * - `R#<minute>` and `L#<minute>`: the write-ahead logs of recent points and bands (timestamps within the
 *   live window of the writer's clock), one item per request, minute and log bucket (series ids hashed into
 *   {@link logBuckets}), entries as text; sort key: bucket, write time, random digits (lib/adapters/dynamodb-packing.ts).
 *   The band job reads the points log a minute at a time; one series' recent data is one bucket of a minute.
 * - `PH#<series>` and `BH#<series>`: a series-hour of points or bands in one binary attribute `d`, sort key
 *   the hour's start (plus the part number when an hour outgrows one item), version `ver` for conditional
 *   rewrites. Written by compaction (the log's hour, about an hour later: {@link compact}) and directly by
 *   writes of older data (backfill), which read, merge and rewrite the hour.
 * - `W#compacted`: per log bucket, the time before which the log is folded into series-hour items.
 * - `B#<series>#<day>` (sort key the timestamp): one item per anomalous band, with `anomalyDay`, the partition
 *   of the sparse `anomalies` index that lists anomalies across series.
 * - `F#<series>`: the series' earliest timestamp.
 *
 * Items of the first layout (one per point `P#<series>#<day>`, one per band `B#...`) are still read, beneath
 * the packed ones: deployments keep their history without a migration, and it expires by its TTL.
 *
 * A timestamp written twice keeps its last value: within a log the later entry wins (sort key order), and a
 * series-hour item wins over the log because data reaches an hour item directly only once it is older than
 * the live window, after any log entry of the same timestamp.
 */
export class DynamoDbMetricStore implements MetricStore, BandStore, QueryStore {
  private readonly client: DynamoDBClient;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Earliest timestamp known to be recorded per series, so a batch updates the marker only when it is earlier. */
  private readonly knownEarliest = new Map<string, number>();

  constructor(private readonly options: DynamoDbMetricStoreOptions) {
    this.client = options.client ?? new DynamoDBClient({});
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  async writePoints(points: readonly SeriesPoint[]): Promise<void> {
    const liveFrom = this.now() - liveWindowMs;
    const recent = points.filter((point) => point.timestamp >= liveFrom);
    await this.batchPut(
      this.logItems(
        'R',
        recent.map((point) => ({
          seriesId: point.seriesId,
          timestamp: point.timestamp,
          entry: pointEntry(point.seriesId, point),
        })),
      ),
    );
    const older = groupByHour(points.filter((point) => point.timestamp < liveFrom));
    await inParallel([...older.values()], ({ seriesId, hourStart, rows }) =>
      this.mergeHour(
        'P',
        seriesId,
        hourStart,
        rows.map(({ timestamp, value }) => ({ timestamp, value })),
        false,
      ),
    );
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

  /**
   * A minute's partition of the log at a time. With a selection, only the buckets that can hold its series
   * (one Query per run of adjacent buckets, `sk BETWEEN`; the whole partition when every bucket can), and
   * only its series are kept: a fan-out worker of 4 shards of 256 reads 3 buckets of the 24.
   */
  async readRecentPoints(
    from: number,
    to: number,
    selection?: SeriesSelection,
  ): Promise<Map<string, TimedValue[]>> {
    const selected = selection && selectsSeries(selection);
    const buckets = selection ? logBucketsOfSelection(selection) : undefined;
    const ranges = buckets && buckets.length < logBuckets ? logBucketRanges(buckets) : undefined;
    const bySeries = new Map<string, Map<number, TimedValue>>();
    for (let minute = Math.floor(from / minuteMs); minute <= Math.floor((to - 1) / minuteMs); minute++) {
      const pk = { ':pk': { S: `R#${minute}` } };
      const items = ranges
        ? (
            await inParallel(ranges, ([low, high]) =>
              this.queryAll({
                TableName: this.options.table,
                KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
                ExpressionAttributeValues: { ...pk, ':low': { N: low }, ':high': { N: high } },
              }),
            )
          ).flat()
        : await this.queryAll({
            TableName: this.options.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: pk,
          });
      for (const item of sortByKey(items)) {
        for (const entry of (item.d?.S ?? '').split(';')) {
          // The id first: a bucket also holds other shards' series, not worth parsing.
          if (selected && !selected(entry.slice(0, entry.indexOf(',')))) continue;
          const parsed = parsePointEntry(entry, minute * minuteMs);
          if (!parsed || !(parsed.point.timestamp >= from && parsed.point.timestamp < to)) continue;
          const series = bySeries.get(parsed.seriesId);
          if (series) series.set(parsed.point.timestamp, parsed.point);
          else bySeries.set(parsed.seriesId, new Map([[parsed.point.timestamp, parsed.point]]));
        }
      }
    }
    return new Map(
      [...bySeries].map(([id, series]) => [
        id,
        [...series.values()].sort((a, b) => a.timestamp - b.timestamp),
      ]),
    );
  }

  async readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]> {
    const [legacy, logged, packed] = await Promise.all([
      this.queryDays('P', seriesId, from, to),
      this.readLog('R', seriesId, from, to, parsePointEntry, (parsed) => parsed.point),
      this.readHours(seriesId, from, to),
    ]);
    const old = legacy.map((item) => ({ timestamp: Number(item.sk?.N), value: Number(item.v?.N) }));
    return inRange(mergeByTimestamp(mergeByTimestamp(old, logged), packed), from, to);
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

  async writeManyBands(given: readonly SeriesBand[]): Promise<void> {
    // Rounded here, once, so the log, the hour items and the anomaly listings all read the same numbers.
    const bands = given.map(roundBand);
    const liveFrom = this.now() - liveWindowMs;
    const recent = bands.filter((band) => band.timestamp >= liveFrom);
    await this.batchPut([
      ...this.logItems(
        'L',
        recent.map((band) => ({
          seriesId: band.seriesId,
          timestamp: band.timestamp,
          entry: bandEntry(band.seriesId, band),
        })),
      ),
      ...bands.filter((band) => band.anomaly).map((band) => this.anomalyItem(band)),
    ]);
    const older = groupByHour(bands.filter((band) => band.timestamp < liveFrom));
    await inParallel([...older.values()], async ({ seriesId, hourStart, rows }) => {
      const { before, after } = await this.mergeHour(
        'B',
        seriesId,
        hourStart,
        rows.map(withoutSeries),
        false,
      );
      await this.deleteWithdrawnAnomalies(seriesId, before, after);
    });
  }

  async readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    const [legacy, logged, packed] = await Promise.all([
      this.queryDays('B', seriesId, from, to),
      this.readLog('L', seriesId, from, to, parseBandEntry, (parsed) => parsed.band),
      this.readBandHours(seriesId, from, to),
    ]);
    return inRange(mergeByTimestamp(mergeByTimestamp(legacy.map(toBand), logged), packed), from, to);
  }

  /**
   * Folds closed hours of the logs into series-hour items, at most {@link compactionsPerCall} (hour, bucket)
   * pairs a call, oldest first; an hour closes once later entries can no longer reach it (the live window and
   * the band job's read margin after its end). Idempotent: a pair folded twice gives the same items. The band
   * job calls it once a run. Returns the pairs folded.
   */
  async compact(): Promise<number> {
    const now = this.now();
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.options.table, Key: watermarkKey, ConsistentRead: true }),
    );
    const marks = watermarks(Item, now);
    let folded = 0;
    while (folded < compactionsPerCall) {
      const [bucket, hourStart] = [...marks].reduce((a, b) => (b[1] < a[1] ? b : a));
      if (hourStart + hourMs + liveWindowMs + readMarginMs > now) break;
      await this.foldHour(bucket, hourStart);
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: watermarkKey,
          UpdateExpression: 'SET #mark = :mark',
          ExpressionAttributeNames: { '#mark': `c${bucket}` },
          ExpressionAttributeValues: { ':mark': { N: String(hourStart + hourMs) } },
        }),
      );
      marks.set(bucket, hourStart + hourMs);
      folded++;
    }
    return folded;
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
    await inParallel(entries, async ({ seriesId, timestamp }) => {
      const [point] = await this.readPoints(seriesId, timestamp, timestamp + 1);
      if (point) values.set(seriesId, point.value);
    });
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
          await this.readBands(seriesId, Math.max(query.from, d * dayMs), Math.min(query.to, (d + 1) * dayMs))
        )
          .filter((band) => band.anomaly)
          .map((band) => ({ ...band, seriesId }));
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

  /** Log items of a write: entries by minute and bucket, in chunks of {@link recentPointsPerItem}. */
  private logItems(
    kind: 'R' | 'L',
    entries: readonly { readonly seriesId: string; readonly timestamp: number; readonly entry: string }[],
  ): Record<string, AttributeValue>[] {
    const now = this.now();
    const groups = new Map<string, { minute: number; bucket: number; entries: string[] }>();
    for (const { seriesId, timestamp, entry } of entries) {
      const minute = Math.floor(timestamp / minuteMs);
      const bucket = logBucket(seriesId);
      const key = `${minute}/${bucket}`;
      const group = groups.get(key);
      if (group) group.entries.push(entry);
      else groups.set(key, { minute, bucket, entries: [entry] });
    }
    const items: Record<string, AttributeValue>[] = [];
    const expiresAt = { N: String(Math.floor(now / 1000) + logSeconds) };
    for (const { minute, bucket, entries: list } of groups.values()) {
      for (let offset = 0; offset < list.length; offset += recentPointsPerItem) {
        items.push({
          pk: { S: `${kind}#${minute}` },
          // Random digits: requests never overwrite each other's items.
          sk: { N: logSortKey(bucket, now, randomInt(1_000_000)) },
          d: { S: list.slice(offset, offset + recentPointsPerItem).join(';') },
          expiresAt,
        });
      }
    }
    return items;
  }

  /**
   * One series' entries of a log in [from, to) not yet folded into series-hour items: its bucket of each
   * minute from the bucket's watermark, in write order (the last entry of a timestamp wins).
   */
  private async readLog<Parsed extends { seriesId: string }, Row extends { timestamp: number }>(
    kind: 'R' | 'L',
    seriesId: string,
    from: number,
    to: number,
    parse: (entry: string, minuteStart: number) => Parsed | undefined,
    row: (parsed: Parsed) => Row,
  ): Promise<Row[]> {
    const now = this.now();
    const bucket = logBucket(seriesId);
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.options.table, Key: watermarkKey }),
    );
    const folded = watermarks(Item, now).get(bucket) ?? initialWatermark(now);
    const start = Math.max(from, folded);
    const end = Math.min(to, now + ingestLimits.maxFutureSkewMs + minuteMs);
    if (start >= end) return [];
    const minutes: number[] = [];
    for (let m = Math.floor(start / minuteMs); m <= Math.floor((end - 1) / minuteMs); m++) minutes.push(m);
    const byTime = new Map<number, Row>();
    for (const { entry, minuteStart } of await this.logEntries(kind, bucket, minutes)) {
      const parsed = parse(entry, minuteStart);
      if (parsed?.seriesId === seriesId) {
        const value = row(parsed);
        byTime.set(value.timestamp, value);
      }
    }
    return [...byTime.values()];
  }

  /**
   * The entries of one bucket of a log (`R` points, `L` bands) over the given minutes, each with its item's
   * minute, in write order within each minute (a later entry for a series and time is the later write).
   */
  private async logEntries(
    kind: 'R' | 'L',
    bucket: number,
    minutes: readonly number[],
  ): Promise<{ readonly entry: string; readonly minuteStart: number }[]> {
    const [low, high] = logBucketRange(bucket);
    const pages = await inParallel(minutes, (minute) =>
      this.queryAll({
        TableName: this.options.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
        ExpressionAttributeValues: {
          ':pk': { S: `${kind}#${minute}` },
          ':low': { N: low },
          ':high': { N: high },
        },
      }),
    );
    return pages.flatMap((items) =>
      sortByKey(items).flatMap((item) =>
        (item.d?.S ?? '').split(';').map((entry) => ({ entry, minuteStart: logMinuteStart(item) })),
      ),
    );
  }

  /** One series' series-hour items of points overlapping [from, to), unpacked (every row of each hour). */
  private async readHours(seriesId: string, from: number, to: number): Promise<TimedValue[]> {
    const items = await this.hourItems('P', seriesId, from, to, false);
    return items.flatMap((item) => unpackPointItem(item));
  }

  /** The same for bands, whose values are read from the points' hour items of the same hours. */
  private async readBandHours(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    const [items, points] = await Promise.all([
      this.hourItems('B', seriesId, from, to, false),
      this.readHours(seriesId, from, to),
    ]);
    const values = valuesByTime(points);
    return items.flatMap((item) => unpackBandItem(item, values));
  }

  /** One series' series-hour items of a kind overlapping [from, to). */
  private hourItems(kind: 'P' | 'B', seriesId: string, from: number, to: number, consistent: boolean) {
    return this.queryAll({
      TableName: this.options.table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :last',
      ExpressionAttributeValues: {
        ':pk': { S: `${kind}H#${seriesId}` },
        ':from': { N: String(hourStartOf(from)) },
        ':last': { N: String(to - 1) },
      },
      ...(consistent && { ConsistentRead: true }),
    });
  }

  /**
   * Merges rows into one series-hour (read, merge, conditional rewrite; again on a concurrent change). With
   * `existingWins`, rows already in the hour keep their values (compaction: the hour's rows are newer than
   * the log's). Bands are packed against the hour's points (`points`, read here when not given): a band
   * stores its value only where the point's differs. Returns the hour's rows before and after.
   */
  private async mergeHour<Row extends TimedValue | StoredBand>(
    kind: 'P' | 'B',
    seriesId: string,
    hourStart: number,
    rows: readonly Row[],
    existingWins: boolean,
    points?: readonly TimedValue[],
  ): Promise<{ before: Row[]; after: Row[] }> {
    const pk = `${kind}H#${seriesId}`;
    for (let attempt = 0; ; attempt++) {
      const [parts, pointItems] = await Promise.all([
        this.hourItems(kind, seriesId, hourStart, hourStart + hourMs, true),
        kind === 'B' && !points ? this.hourItems('P', seriesId, hourStart, hourStart + hourMs, true) : [],
      ]);
      const values = valuesByTime(points ?? pointItems.flatMap((item) => unpackPointItem(item)));
      const before = parts.flatMap((item) =>
        kind === 'P' ? unpackPointItem(item) : unpackBandItem(item, values),
      ) as Row[];
      const after = existingWins ? mergeByTimestamp(rows, before) : mergeByTimestamp(before, rows);
      const packed =
        kind === 'P' ? packPoints(after as TimedValue[]) : packBands(after as StoredBand[], values);
      const versions = new Map(parts.map((item) => [Number(item.sk?.N) - hourStart, item.ver?.N]));
      try {
        for (const [part, bytes] of packed.entries()) {
          const version = versions.get(part);
          await this.client.send(
            new PutItemCommand({
              TableName: this.options.table,
              Item: {
                pk: { S: pk },
                sk: { N: String(hourStart + part) },
                c: { B: bytes },
                ver: { N: String(Number(version ?? 0) + 1) },
                expiresAt: { N: String(this.expiry(hourStart + hourMs)) },
              },
              ConditionExpression: version === undefined ? 'attribute_not_exists(pk)' : 'ver = :ver',
              ...(version !== undefined && { ExpressionAttributeValues: { ':ver': { N: version } } }),
            }),
          );
        }
        for (const part of versions.keys()) {
          if (part < packed.length) continue;
          await this.client.send(
            new DeleteItemCommand({
              TableName: this.options.table,
              Key: { pk: { S: pk }, sk: { N: String(hourStart + part) } },
            }),
          );
        }
        return { before, after };
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= maxBatchAttempts) throw error;
        await this.sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
      }
    }
  }

  /** Folds one bucket's hour of both logs into its series' hour items. */
  private async foldHour(bucket: number, hourStart: number): Promise<void> {
    const minutes = Array.from({ length: 60 }, (_, i) => hourStart / minuteMs + i);
    const read = (kind: 'R' | 'L') => this.logEntries(kind, bucket, minutes);
    const points = new Map<string, Map<number, TimedValue>>();
    for (const { entry, minuteStart } of await read('R')) {
      const parsed = parsePointEntry(entry, minuteStart);
      if (parsed) mapOf(points, parsed.seriesId).set(parsed.point.timestamp, parsed.point);
    }
    const bands = new Map<string, Map<number, StoredBand>>();
    const everAnomalous = new Map<string, Set<number>>();
    for (const { entry, minuteStart } of await read('L')) {
      const parsed = parseBandEntry(entry, minuteStart);
      if (!parsed) continue;
      mapOf(bands, parsed.seriesId).set(parsed.band.timestamp, parsed.band);
      if (parsed.band.anomaly) setOf(everAnomalous, parsed.seriesId).add(parsed.band.timestamp);
    }
    const hourPoints = new Map<string, TimedValue[]>();
    await inParallel([...points], async ([seriesId, rows]) => {
      const { after } = await this.mergeHour('P', seriesId, hourStart, [...rows.values()], true);
      hourPoints.set(seriesId, after);
    });
    await inParallel([...bands], async ([seriesId, rows]) => {
      const { after } = await this.mergeHour(
        'B',
        seriesId,
        hourStart,
        [...rows.values()],
        true,
        hourPoints.get(seriesId),
      );
      const logged = [...(everAnomalous.get(seriesId) ?? [])].map((timestamp) => ({
        timestamp,
        anomaly: true,
      }));
      await this.deleteWithdrawnAnomalies(seriesId, logged, after);
    });
  }

  /** Deletes the anomaly items of timestamps that were anomalous before and are not after. */
  private async deleteWithdrawnAnomalies(
    seriesId: string,
    before: readonly { timestamp: number; anomaly: boolean }[],
    after: readonly StoredBand[],
  ): Promise<void> {
    const normal = new Set(after.filter((band) => !band.anomaly).map((band) => band.timestamp));
    const withdrawn = before.filter((band) => band.anomaly && normal.has(band.timestamp));
    await inParallel(withdrawn, ({ timestamp }) =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.options.table,
          Key: { pk: { S: `B#${seriesId}#${day(timestamp)}` }, sk: { N: String(timestamp) } },
        }),
      ),
    );
  }

  /** The item of an anomalous band in the `anomalies` index (the first layout's band item, which reads too). */
  private anomalyItem(band: SeriesBand): Record<string, AttributeValue> {
    return {
      pk: { S: `B#${band.seriesId}#${day(band.timestamp)}` },
      sk: { N: String(band.timestamp) },
      series: { S: band.seriesId },
      v: { N: String(band.value) },
      e: { N: String(band.expected) },
      lo: { N: String(band.lower) },
      hi: { N: String(band.upper) },
      s: { N: String(band.score) },
      a: { N: '1' },
      anomalyDay: { S: `A#${day(band.timestamp)}` },
      expiresAt: { N: String(this.expiry(band.timestamp)) },
    };
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

  /** Every item of the first layout of one series' kind of partition, day by day over [from, to), in parallel. */
  private async queryDays(kind: 'P' | 'B', seriesId: string, from: number, to: number) {
    const days: number[] = [];
    for (let d = day(from); d <= day(to - 1); d++) days.push(d);
    const pages = await inParallel(days, (d) =>
      this.queryAll({
        TableName: this.options.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :last',
        ExpressionAttributeValues: {
          ':pk': { S: `${kind}#${seriesId}#${d}` },
          ':from': { N: String(from) },
          ':last': { N: String(to - 1) },
        },
      }),
    );
    return pages.flat();
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

/** Where the log is folded up to when no compaction has run: the previous hour (see {@link DynamoDbMetricStore.compact}). */
const initialWatermark = (now: number): number => hourStartOf(now) - hourMs;

/** Each log bucket's watermark, from the watermark item (a bucket it lacks starts at the initial one). */
function watermarks(item: Record<string, AttributeValue> | undefined, now: number): Map<number, number> {
  const marks = new Map<number, number>();
  for (let bucket = 1; bucket <= logBuckets; bucket++) {
    const mark = item?.[`c${bucket}`]?.N;
    marks.set(bucket, mark === undefined ? initialWatermark(now) : Number(mark));
  }
  return marks;
}

/** A series-hour item's points: attribute `c` (a format byte first), or `d` of format 1. */
function unpackPointItem(item: Record<string, AttributeValue>): TimedValue[] {
  const hourStart = hourStartOf(Number(item.sk?.N));
  if (item.c?.B) return unpackPoints(item.c.B, hourStart);
  return item.d?.B ? unpackPointsFormat1(item.d.B, hourStart) : [];
}

/** A series-hour item's bands; `values` the hour's points, for bands stored without their value. */
function unpackBandItem(
  item: Record<string, AttributeValue>,
  values: ReadonlyMap<number, number>,
): StoredBand[] {
  const hourStart = hourStartOf(Number(item.sk?.N));
  if (item.c?.B) return unpackBands(item.c.B, hourStart, (timestamp) => values.get(timestamp));
  return item.d?.B ? unpackBandsFormat1(item.d.B, hourStart) : [];
}

const valuesByTime = (points: readonly TimedValue[]): Map<number, number> =>
  new Map(points.map((point) => [point.timestamp, point.value]));

/** The start of a log item's minute, from its key (`R#<minute>` or `L#<minute>`). */
const logMinuteStart = (item: Record<string, AttributeValue>): number =>
  Number(item.pk?.S?.slice(2)) * minuteMs;

/** Log items in sort-key order (bucket, then write time), compared exactly (the keys pass 2^53). */
const sortByKey = (items: Record<string, AttributeValue>[]) =>
  [...items].sort((a, b) => {
    const left = BigInt(a.sk?.N ?? '0');
    const right = BigInt(b.sk?.N ?? '0');
    return left < right ? -1 : left > right ? 1 : 0;
  });

/** Rows of many series grouped by series-hour. */
function groupByHour<Row extends { readonly seriesId: string; readonly timestamp: number }>(
  rows: readonly Row[],
) {
  const groups = new Map<string, { seriesId: string; hourStart: number; rows: Row[] }>();
  for (const row of rows) {
    const hourStart = hourStartOf(row.timestamp);
    const key = `${row.seriesId}@${hourStart}`;
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { seriesId: row.seriesId, hourStart, rows: [row] });
  }
  return groups;
}

const withoutSeries = ({ seriesId: _, ...band }: SeriesBand): StoredBand => band;

const inRange = <Row extends { timestamp: number }>(rows: Row[], from: number, to: number) =>
  rows.filter((row) => row.timestamp >= from && row.timestamp < to);

function mapOf<K, V>(maps: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let map = maps.get(key);
  if (!map) {
    map = new Map();
    maps.set(key, map);
  }
  return map;
}

function setOf<V>(sets: Map<string, Set<V>>, key: string): Set<V> {
  let set = sets.get(key);
  if (!set) {
    set = new Set();
    sets.set(key, set);
  }
  return set;
}

/** Runs `work` on every item, at most {@link concurrency} at a time; results in the items' order. */
const inParallel = <T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> =>
  mapConcurrently(items, concurrency, work);

const toBand = (item: Record<string, { N?: string; S?: string }>): StoredBand => ({
  timestamp: Number(item.sk?.N),
  value: Number(item.v?.N),
  expected: Number(item.e?.N),
  lower: Number(item.lo?.N),
  upper: Number(item.hi?.N),
  score: Number(item.s?.N),
  anomaly: item.a?.N === '1',
});
