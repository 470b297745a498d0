import type { QueryCommandOutput, Row, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import {
  type _Record,
  RejectedRecordsException,
  TimestreamWriteClient,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import type { SeriesPoint } from '../metrics/point.ts';
import { type SeriesSelection, selectsSeries } from '../metrics/series-hash.ts';
import type { AnomalyRecord, BandStore, SeriesBand, StoredBand } from '../ports/band-store.ts';
import type { MetricStore, TimedValue, WriteOptions } from '../ports/metric-store.ts';
import { PointsRefusedError, type RefusedPoint, WriteIncompleteError } from '../ports/store-errors.ts';
import { checkedId, integer, numberAt, quotedTable, timeBetween } from './timestream-sql.ts';

/** Timestream's limit of records per WriteRecords call. */
export const maxRecordsPerWrite = 100;

/** Timestream's limit on the size of one record (dimension names and values, measure and time), bytes. */
export const maxRecordBytes = 2048;

export interface TimestreamStoreOptions {
  readonly database: string;
  readonly pointsTable: string;
  readonly bandsTable: string;
  readonly writeClient?: TimestreamWriteClient;
  readonly queryClient?: TimestreamQueryClient;
  /** Record versions; the write time in ms by default, so a rewrite of a point is an upsert. */
  readonly version?: () => number;
  /** WriteRecords calls in flight at once for one write. Default 8. */
  readonly concurrency?: number;
  /** Longest wait for one WriteRecords call before it counts as failed and is retried (ms). Default 5000. */
  readonly attemptTimeoutMs?: number;
  /** First retry delay (ms); each retry doubles it, with full jitter. Default 50. */
  readonly retryBaseMs?: number;
  /** How long a write may take when the caller gives no deadline (ms). Default 20000. */
  readonly defaultBudgetMs?: number;
  /** Waits (tests replace it). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Errors after which the same WriteRecords call may succeed: throttling, server faults, timeouts, resets. */
export function isRetryableWriteError(error: unknown): boolean {
  const failure = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
  } | null;
  if (!failure || typeof failure !== 'object') return false;
  if (failure.$retryable) return true;
  const name = failure.name ?? '';
  if (/Throttl|InternalServer|ServiceUnavailable|Timeout|AbortError|RequestTimeout/.test(name)) return true;
  if (failure.$fault === 'server') return true;
  const status = failure.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  return /^(?:ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|UND_ERR)/.test(failure.code ?? '');
}

/** Errors that say the data itself is wrong: the whole call would fail again with the same records. */
const isDataError = (error: unknown): boolean =>
  (error as { name?: string } | null)?.name === 'ValidationException';

/** A Timestream dimension list for one series and type, shared by every record of that series in a write. */
type SeriesDimensions = NonNullable<_Record['Dimensions']>;

/**
 * The records for points: dimensions `series_id`, `metric`, `type` and `dims` (the dimensions as JSON), the
 * value and the time in ms. Measure name, type, time unit and version go in the call's CommonAttributes.
 * Dimension lists are built once per series and shared. O(n).
 */
export function pointRecords(points: readonly SeriesPoint[]): _Record[] {
  const dimensionsBySeries = new Map<string, SeriesDimensions>();
  const records: _Record[] = new Array(points.length);
  for (let index = 0; index < points.length; index++) {
    const point = points[index] as SeriesPoint;
    const key = point.type === 'gauge' ? point.seriesId : `${point.seriesId}:${point.type}`;
    let dimensions = dimensionsBySeries.get(key);
    if (dimensions === undefined) {
      dimensions = [
        { Name: 'series_id', Value: point.seriesId },
        { Name: 'metric', Value: point.name },
        { Name: 'type', Value: point.type },
      ];
      for (const _ in point.dimensions) {
        dimensions.push({ Name: 'dims', Value: JSON.stringify(point.dimensions) });
        break;
      }
      dimensionsBySeries.set(key, dimensions);
    }
    records[index] = {
      Dimensions: dimensions,
      MeasureValue: String(point.value),
      Time: String(point.timestamp),
    };
  }
  return records;
}

/** The bytes Timestream counts for a record: dimension names and values, measure name and value, time. */
function recordBytes(record: _Record, measureName: string): number {
  let bytes = measureName.length + (record.MeasureValue?.length ?? 0) + (record.Time?.length ?? 0);
  for (const dimension of record.Dimensions ?? []) {
    bytes += Buffer.byteLength(dimension.Name ?? '') + Buffer.byteLength(dimension.Value ?? '');
  }
  return bytes;
}

const pointsCommon = { MeasureName: 'value', MeasureValueType: 'DOUBLE', TimeUnit: 'MILLISECONDS' } as const;
const bandsCommon = { MeasureName: 'band', MeasureValueType: 'MULTI' } as const;

/**
 * The band job's one bulk read per run: every point of every series in a time range. Only the three columns
 * it needs, so the query scans (and is billed for) little more than the range's points.
 */
export const recentPointsQuery = (table: string, from: number, to: number): string =>
  `SELECT series_id, to_milliseconds(time), measure_value::double FROM ${table} ` +
  `WHERE measure_name = 'value' AND ${timeBetween(from, to)}`;

/** One multi-measure record per band: dimension `series_id`; measure name, type and time unit are common. */
export function bandRecords(bands: readonly SeriesBand[]): _Record[] {
  const double = (name: string, value: number) => ({
    Name: name,
    Value: String(value),
    Type: 'DOUBLE' as const,
  });
  return bands.map(
    (band): _Record => ({
      Dimensions: [{ Name: 'series_id', Value: band.seriesId }],
      MeasureValues: [
        double('value', band.value),
        double('expected', band.expected),
        double('lower', band.lower),
        double('upper', band.upper),
        double('score', band.score),
        { Name: 'anomaly', Value: String(band.anomaly), Type: 'BOOLEAN' },
      ],
      Time: String(band.timestamp),
      TimeUnit: 'MILLISECONDS',
    }),
  );
}

/**
 * Points and bands in Amazon Timestream for LiveAnalytics. Points: one record per point (see
 * {@link pointRecords}). Bands: one multi-measure record per bucket. Writes go in calls of at most 100
 * records, a few at once, each retried with jittered backoff on throttling, server errors and timeouts until
 * the deadline; refusals are handled by reason (a version conflict becomes an upsert). Queries follow
 * NextToken through every page, empty ones included.
 */
export class TimestreamStore implements MetricStore, BandStore {
  private readonly writeClient: TimestreamWriteClient;
  /** The query SDK, loaded on the first read: the ingest function only writes and never pays for it. */
  private querySdk: Promise<typeof import('@aws-sdk/client-timestream-query')> | undefined;
  private queryClient: TimestreamQueryClient | undefined;
  private readonly version: () => number;

  constructor(private readonly options: TimestreamStoreOptions) {
    // Retries are ours (within the function's time budget), so the SDK makes one attempt per call.
    this.writeClient = options.writeClient ?? new TimestreamWriteClient({ maxAttempts: 1 });
    this.version = options.version ?? (() => Date.now());
  }

  async writePoints(points: readonly SeriesPoint[], options: WriteOptions = {}): Promise<void> {
    const records = pointRecords(points);
    const oversized: RefusedPoint[] = [];
    const sendable: number[] = [];
    for (let index = 0; index < records.length; index++) {
      const bytes = recordBytes(records[index] as _Record, pointsCommon.MeasureName);
      if (bytes > maxRecordBytes) {
        oversized.push({
          index,
          reason: `the record is ${bytes} bytes, over Timestream's ${maxRecordBytes}-byte limit: use fewer or shorter dimensions`,
        });
      } else sendable.push(index);
    }
    await this.writeAll(
      this.options.pointsTable,
      records,
      sendable,
      pointsCommon,
      options.deadline,
      oversized,
    );
  }

  async readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(time) AS t, measure_value::double AS v FROM ${this.table('points')} ` +
        `WHERE series_id = '${checkedId(seriesId)}' AND measure_name = 'value' ` +
        `AND ${timeBetween(from, to)} ORDER BY time`,
    );
    return rows.map((row) => ({ timestamp: numberAt(row, 0), value: numberAt(row, 1) }));
  }

  async earliestTimestamp(seriesId: string): Promise<number | undefined> {
    const rows = await this.query(
      `SELECT to_milliseconds(min(time)) FROM ${this.table('points')} WHERE series_id = '${checkedId(seriesId)}'`,
    );
    const value = rows[0]?.Data?.[0];
    return value?.ScalarValue === undefined || value.NullValue ? undefined : Number(value.ScalarValue);
  }

  /**
   * A selection is applied to the rows as they arrive: Timestream cannot partition by the series hash (its SQL
   * has no FNV-1a), so the query scans and returns the time range whole; only the selected series are kept.
   */
  async readRecentPoints(
    from: number,
    to: number,
    selection?: SeriesSelection,
  ): Promise<Map<string, TimedValue[]>> {
    const bySeries = new Map<string, TimedValue[]>();
    const selected = selection && selectsSeries(selection);
    await this.queryPages(recentPointsQuery(this.table('points'), from, to), (row) => {
      const id = row.Data?.[0]?.ScalarValue;
      if (id === undefined) return;
      if (selected && !selected(id)) return;
      const point = { timestamp: numberAt(row, 1), value: numberAt(row, 2) };
      const points = bySeries.get(id);
      if (points) points.push(point);
      else bySeries.set(id, [point]);
    });
    // Rows come in no particular order (an ORDER BY would cost the query a sort over every row).
    for (const points of bySeries.values()) points.sort((a, b) => a.timestamp - b.timestamp);
    return bySeries;
  }

  async writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void> {
    await this.writeManyBands(bands.map((band) => ({ ...band, seriesId })));
  }

  async writeManyBands(bands: readonly SeriesBand[]): Promise<void> {
    const records = bandRecords(bands);
    await this.writeAll(
      this.options.bandsTable,
      records,
      records.map((_, index) => index),
      bandsCommon,
      undefined,
      [],
    );
  }

  async readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(time), value, expected, lower, upper, score, anomaly FROM ${this.table('bands')} ` +
        `WHERE series_id = '${checkedId(seriesId)}' ` +
        `AND ${timeBetween(from, to)} ORDER BY time`,
    );
    return rows.map(toBand);
  }

  async listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(time), value, expected, lower, upper, score, anomaly, series_id ` +
        `FROM ${this.table('bands')} WHERE anomaly = true ` +
        `AND ${timeBetween(from, to)} ` +
        `ORDER BY time DESC LIMIT ${integer(limit)}`,
    );
    return rows.map((row) => ({ ...toBand(row), seriesId: row.Data?.[7]?.ScalarValue ?? '' }));
  }

  private table(kind: 'points' | 'bands'): string {
    return quotedTable(
      this.options.database,
      kind === 'points' ? this.options.pointsTable : this.options.bandsTable,
    );
  }

  /** Every row of a query, following NextToken through every page (Timestream may return empty pages). */
  private async query(queryString: string): Promise<Row[]> {
    const rows: Row[] = [];
    await this.queryPages(queryString, (row) => {
      rows.push(row);
    });
    return rows;
  }

  /** Hands every row of a query to `onRow`, page by page, so a large result is never held whole. */
  private async queryPages(queryString: string, onRow: (row: Row) => void): Promise<void> {
    this.querySdk ??= import('@aws-sdk/client-timestream-query');
    const sdk = await this.querySdk;
    this.queryClient ??= this.options.queryClient ?? new sdk.TimestreamQueryClient({});
    const client = this.queryClient;
    let nextToken: string | undefined;
    do {
      const page: QueryCommandOutput = await client.send(
        new sdk.QueryCommand({ QueryString: queryString, NextToken: nextToken }),
      );
      for (const row of page.Rows ?? []) onRow(row);
      nextToken = page.NextToken;
    } while (nextToken);
  }

  /**
   * Writes the records at `indexes` in calls of at most 100, `concurrency` at once, each call retried until
   * it is confirmed or the deadline passes. Throws PointsRefusedError when records were refused for good and
   * every other one is stored, WriteIncompleteError when some could not be confirmed in time.
   */
  private async writeAll(
    table: string,
    records: readonly _Record[],
    indexes: readonly number[],
    common: Omit<_Record, 'Version'>,
    deadline: number | undefined,
    refusedBefore: readonly RefusedPoint[],
  ): Promise<void> {
    const until = deadline ?? Date.now() + (this.options.defaultBudgetMs ?? 20_000);
    const version = this.version();
    const batches: number[][] = [];
    for (let offset = 0; offset < indexes.length; offset += maxRecordsPerWrite) {
      batches.push(indexes.slice(offset, offset + maxRecordsPerWrite));
    }
    const refused: RefusedPoint[] = [...refusedBefore];
    let unconfirmed = 0;
    let lastFailure: unknown;
    let next = 0;
    const worker = async () => {
      for (let batch = batches[next++]; batch; batch = batches[next++]) {
        const outcome = await this.writeBatch(table, records, batch, { ...common, Version: version }, until);
        refused.push(...outcome.refused);
        unconfirmed += outcome.unconfirmed.length;
        lastFailure = outcome.failure ?? lastFailure;
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency ?? 8, batches.length));
    await Promise.all(Array.from({ length: workers }, worker));
    refused.sort((a, b) => a.index - b.index);
    if (unconfirmed > 0) throw new WriteIncompleteError(unconfirmed, refused, { cause: lastFailure });
    if (refused.length > 0) throw new PointsRefusedError(refused);
  }

  /**
   * One call's worth of records, sent until every record is stored or refused for good, or the deadline
   * passes. A record refused because the same point exists with an equal or higher version is sent again
   * with a version above it (an upsert), unless the reason says the stored record is identical (nothing to
   * do). Records refused for other reasons (time out of range, limits) are refused for good.
   */
  private async writeBatch(
    table: string,
    records: readonly _Record[],
    batch: readonly number[],
    common: _Record,
    deadline: number,
  ): Promise<{ refused: RefusedPoint[]; unconfirmed: readonly number[]; failure?: unknown }> {
    const refused: RefusedPoint[] = [];
    let pending: { index: number; record: _Record }[] = batch.map((index) => ({
      index,
      record: records[index] as _Record,
    }));
    let failure: unknown;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return { refused, unconfirmed: pending.map((entry) => entry.index), failure };
      try {
        await withTimeout(Math.min(this.options.attemptTimeoutMs ?? 5_000, remaining), (abortSignal) =>
          this.writeClient.send(
            new WriteRecordsCommand({
              DatabaseName: this.options.database,
              TableName: table,
              CommonAttributes: common,
              Records: pending.map((entry) => entry.record),
            }),
            { abortSignal },
          ),
        );
        return { refused, unconfirmed: [] };
      } catch (error) {
        failure = error;
        if (error instanceof RejectedRecordsException) {
          const again: { index: number; record: _Record }[] = [];
          for (const rejection of error.RejectedRecords ?? []) {
            const entry = pending[rejection.RecordIndex ?? -1];
            if (!entry) continue;
            const reason = rejection.Reason ?? 'rejected';
            if (/identical|same (?:measure )?value/i.test(reason) && !/different/i.test(reason)) continue;
            if (rejection.ExistingVersion !== undefined) {
              again.push({
                index: entry.index,
                record: { ...entry.record, Version: rejection.ExistingVersion + 1 },
              });
            } else refused.push({ index: entry.index, reason });
          }
          // Records not named in RejectedRecords were written by this call.
          pending = again;
          continue;
        }
        if (isDataError(error)) {
          const reason = (error as Error).message || 'refused by Timestream';
          for (const entry of pending) refused.push({ index: entry.index, reason });
          return { refused, unconfirmed: [] };
        }
        if (!isRetryableWriteError(error))
          return { refused, unconfirmed: pending.map((entry) => entry.index), failure };
        const delay = Math.round(
          (this.options.random ?? Math.random)() *
            Math.min(2_000, (this.options.retryBaseMs ?? 50) * 2 ** attempt),
        );
        if (Date.now() + delay >= deadline)
          return { refused, unconfirmed: pending.map((entry) => entry.index), failure };
        await (this.options.sleep ?? sleep)(delay);
      }
    }
    return { refused, unconfirmed: [] };
  }
}

/** A call that gives up after `ms`: the SDK call is aborted, and the wait ends even if the call ignores it. */
async function withTimeout<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`WriteRecords did not answer within ${ms} ms`);
      error.name = 'TimeoutError';
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const toBand = (row: Row): StoredBand => ({
  timestamp: numberAt(row, 0),
  value: numberAt(row, 1),
  expected: numberAt(row, 2),
  lower: numberAt(row, 3),
  upper: numberAt(row, 4),
  score: numberAt(row, 5),
  anomaly: row.Data?.[6]?.ScalarValue === 'true',
});
