import {
  QueryCommand,
  type QueryCommandOutput,
  type Row,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import {
  type _Record,
  RejectedRecordsException,
  TimestreamWriteClient,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import type { SeriesPoint } from '../metrics/point.ts';
import type { AnomalyRecord, BandStore, MetricStore, StoredBand, TimedValue } from '../ports.ts';

/** Timestream's limit of records per WriteRecords call. */
export const maxRecordsPerWrite = 100;

export interface TimestreamStoreOptions {
  readonly database: string;
  readonly pointsTable: string;
  readonly bandsTable: string;
  readonly writeClient?: TimestreamWriteClient;
  readonly queryClient?: TimestreamQueryClient;
  /** Record versions; the write time in ms by default, so a rewrite of a point is an upsert. */
  readonly version?: () => number;
}

/** A record Timestream refused, with its reason. */
export interface RejectedRecord {
  readonly index: number;
  readonly reason: string;
}

/** Thrown when Timestream refused some records of a write for good (retrying them would not help). */
export class RecordsRejectedError extends Error {
  override readonly name = 'RecordsRejectedError';
  constructor(readonly rejected: readonly RejectedRecord[]) {
    super(`Timestream rejected ${rejected.length} record(s): ${rejected[0]?.reason ?? ''}`);
  }
}

const seriesIdPattern = /^[0-9a-f]{16}$/;

/**
 * Points and bands in Amazon Timestream for LiveAnalytics. Points: one record per point, dimensions
 * `series_id`, `metric`, `type` and `dims` (the dimensions as JSON), measure `value`. Bands: one multi-measure
 * record per bucket. Writes go in batches of at most 100 records; queries follow NextToken through every page,
 * empty ones included.
 */
export class TimestreamStore implements MetricStore, BandStore {
  private readonly writeClient: TimestreamWriteClient;
  private readonly queryClient: TimestreamQueryClient;
  private readonly version: () => number;

  constructor(private readonly options: TimestreamStoreOptions) {
    this.writeClient = options.writeClient ?? new TimestreamWriteClient({});
    this.queryClient = options.queryClient ?? new TimestreamQueryClient({});
    this.version = options.version ?? (() => Date.now());
  }

  async writePoints(points: readonly SeriesPoint[]): Promise<void> {
    const version = this.version();
    await this.writeAll(
      this.options.pointsTable,
      points.map((point): _Record => {
        const dimensions = [
          { Name: 'series_id', Value: point.seriesId },
          { Name: 'metric', Value: point.name },
          { Name: 'type', Value: point.type },
        ];
        if (Object.keys(point.dimensions).length > 0) {
          dimensions.push({ Name: 'dims', Value: JSON.stringify(point.dimensions) });
        }
        return {
          Dimensions: dimensions,
          MeasureName: 'value',
          MeasureValue: String(point.value),
          MeasureValueType: 'DOUBLE',
          Time: String(point.timestamp),
          TimeUnit: 'MILLISECONDS',
          Version: version,
        };
      }),
    );
  }

  async readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(time) AS t, measure_value::double AS v FROM ${this.table('points')} ` +
        `WHERE series_id = '${checkedId(seriesId)}' AND measure_name = 'value' ` +
        `AND time >= from_milliseconds(${integer(from)}) AND time < from_milliseconds(${integer(to)}) ORDER BY time`,
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

  async writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void> {
    const version = this.version();
    const double = (name: string, value: number) => ({
      Name: name,
      Value: String(value),
      Type: 'DOUBLE' as const,
    });
    await this.writeAll(
      this.options.bandsTable,
      bands.map(
        (band): _Record => ({
          Dimensions: [{ Name: 'series_id', Value: seriesId }],
          MeasureName: 'band',
          MeasureValueType: 'MULTI',
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
          Version: version,
        }),
      ),
    );
  }

  async readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(time), value, expected, lower, upper, score, anomaly FROM ${this.table('bands')} ` +
        `WHERE series_id = '${checkedId(seriesId)}' ` +
        `AND time >= from_milliseconds(${integer(from)}) AND time < from_milliseconds(${integer(to)}) ORDER BY time`,
    );
    return rows.map(toBand);
  }

  async listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(time), value, expected, lower, upper, score, anomaly, series_id ` +
        `FROM ${this.table('bands')} WHERE anomaly = true ` +
        `AND time >= from_milliseconds(${integer(from)}) AND time < from_milliseconds(${integer(to)}) ` +
        `ORDER BY time DESC LIMIT ${integer(limit)}`,
    );
    return rows.map((row) => ({ ...toBand(row), seriesId: row.Data?.[7]?.ScalarValue ?? '' }));
  }

  private table(kind: 'points' | 'bands'): string {
    const name = kind === 'points' ? this.options.pointsTable : this.options.bandsTable;
    return `"${this.options.database}"."${name}"`;
  }

  /** Every row of a query, following NextToken through every page (Timestream may return empty pages). */
  private async query(queryString: string): Promise<Row[]> {
    const rows: Row[] = [];
    let nextToken: string | undefined;
    do {
      const page: QueryCommandOutput = await this.queryClient.send(
        new QueryCommand({ QueryString: queryString, NextToken: nextToken }),
      );
      rows.push(...(page.Rows ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  /** Writes records in batches of at most 100; records rejected for good are reported together at the end. */
  private async writeAll(table: string, records: readonly _Record[]): Promise<void> {
    const rejected: RejectedRecord[] = [];
    for (let offset = 0; offset < records.length; offset += maxRecordsPerWrite) {
      const batch = records.slice(offset, offset + maxRecordsPerWrite);
      for (const refusal of await this.writeBatch(table, batch)) {
        rejected.push({ index: offset + refusal.index, reason: refusal.reason });
      }
    }
    if (rejected.length > 0) throw new RecordsRejectedError(rejected);
  }

  /**
   * One WriteRecords call. A record refused because an equal or newer version already exists is rewritten
   * once with a version above the existing one (an upsert); other refusals are returned.
   */
  private async writeBatch(table: string, batch: readonly _Record[]): Promise<RejectedRecord[]> {
    const send = (records: readonly _Record[]) =>
      this.writeClient.send(
        new WriteRecordsCommand({
          DatabaseName: this.options.database,
          TableName: table,
          Records: [...records],
        }),
      );
    try {
      await send(batch);
      return [];
    } catch (error) {
      if (!(error instanceof RejectedRecordsException)) throw error;
      const refusals = error.RejectedRecords ?? [];
      const retry: { index: number; record: _Record }[] = [];
      const rejected: RejectedRecord[] = [];
      for (const refusal of refusals) {
        const index = refusal.RecordIndex ?? -1;
        const record = batch[index];
        if (record && refusal.ExistingVersion !== undefined) {
          retry.push({ index, record: { ...record, Version: refusal.ExistingVersion + 1 } });
        } else {
          rejected.push({ index, reason: refusal.Reason ?? 'rejected' });
        }
      }
      if (retry.length > 0) {
        try {
          await send(retry.map((entry) => entry.record));
        } catch (retryError) {
          if (!(retryError instanceof RejectedRecordsException)) throw retryError;
          for (const refusal of retryError.RejectedRecords ?? []) {
            const original = retry[refusal.RecordIndex ?? -1];
            rejected.push({ index: original?.index ?? -1, reason: refusal.Reason ?? 'rejected' });
          }
        }
      }
      return rejected;
    }
  }
}

function checkedId(seriesId: string): string {
  if (!seriesIdPattern.test(seriesId)) throw new Error(`not a series id: ${seriesId.slice(0, 40)}`);
  return seriesId;
}

function integer(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return value;
}

const numberAt = (row: Row, column: number): number => Number(row.Data?.[column]?.ScalarValue);

const toBand = (row: Row): StoredBand => ({
  timestamp: numberAt(row, 0),
  value: numberAt(row, 1),
  expected: numberAt(row, 2),
  lower: numberAt(row, 3),
  upper: numberAt(row, 4),
  score: numberAt(row, 5),
  anomaly: row.Data?.[6]?.ScalarValue === 'true',
});
