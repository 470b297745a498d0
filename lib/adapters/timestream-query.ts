import {
  QueryCommand,
  type QueryCommandOutput,
  type Row,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import type { AnomalyRecord } from '../ports/band-store.ts';
import type {
  AnomalyQuery,
  BandBucket,
  QueryStore,
  ReadOptions,
  ValueBucket,
  ValueBucketQuery,
} from '../ports/query-store.ts';
import { isAbortError, QueryTimeoutError } from '../ports/store-errors.ts';
import { dayMs, hourMs, minuteMs } from '../time.ts';
import { checkedId, integer, numberAt, quotedTable, timeBetween } from './timestream-sql.ts';

/** Timestream runs one Query call for at most 60 s; a call is abandoned there, whatever the caller allows. */
export const timestreamQueryTimeoutMs = 60_000;

/** How many series one "values at" query asks for (keeps the SQL text well under Timestream's limit). */
const valuesPerQuery = 100;

export interface TimestreamQueryOptions {
  readonly database: string;
  readonly pointsTable: string;
  readonly bandsTable: string;
  readonly client?: TimestreamQueryClient;
  /** The budget of one Query call (the first page or a NextToken follow-up). Default 60 s, Timestream's own. */
  readonly callTimeoutMs?: number;
}

/**
 * The query API's reads from Amazon Timestream for LiveAnalytics: downsampling with `bin()` in SQL (points
 * first to the series' step, then to the step asked for), band envelopes, newest values and pages of
 * anomalies. Every query follows NextToken through every page, empty ones included; each call is abandoned at
 * Timestream's 60-second limit or when the caller's signal fires, whichever comes first (a 504 for the client).
 */
export class TimestreamQueryStore implements QueryStore {
  private readonly client: TimestreamQueryClient;
  private readonly callTimeoutMs: number;

  constructor(private readonly options: TimestreamQueryOptions) {
    this.client = options.client ?? new TimestreamQueryClient({});
    this.callTimeoutMs = options.callTimeoutMs ?? timestreamQueryTimeoutMs;
  }

  async readValueBuckets(query: ValueBucketQuery, options: ReadOptions = {}): Promise<ValueBucket[]> {
    const seriesStepValue = query.type === 'counter' ? 'sum' : 'avg';
    const rows = await this.query(
      `SELECT to_milliseconds(bin(t, ${interval(query.stepMs)})) AS bucket, avg(v), min(v), max(v), sum(n) FROM (` +
        `SELECT bin(time, ${interval(query.seriesStepMs)}) AS t, ${seriesStepValue}(measure_value::double) AS v, ` +
        `count(*) AS n FROM ${this.table('points')} ` +
        `WHERE series_id = '${checkedId(query.seriesId)}' AND measure_name = 'value' ` +
        `AND ${timeBetween(query.from, query.to)} ` +
        `GROUP BY bin(time, ${interval(query.seriesStepMs)})` +
        `) GROUP BY bin(t, ${interval(query.stepMs)}) ORDER BY bucket`,
      options,
    );
    return rows.map((row) => ({
      start: numberAt(row, 0),
      avg: numberAt(row, 1),
      min: numberAt(row, 2),
      max: numberAt(row, 3),
      count: numberAt(row, 4),
    }));
  }

  async readBandBuckets(
    seriesId: string,
    from: number,
    to: number,
    stepMs: number,
    options: ReadOptions = {},
  ): Promise<BandBucket[]> {
    const rows = await this.query(
      `SELECT to_milliseconds(bin(time, ${interval(stepMs)})) AS bucket, avg(expected), min(lower), max(upper), ` +
        `max(score), bool_or(anomaly) FROM ${this.table('bands')} ` +
        `WHERE series_id = '${checkedId(seriesId)}' AND measure_name = 'band' AND ${timeBetween(from, to)} ` +
        `GROUP BY bin(time, ${interval(stepMs)}) ORDER BY bucket`,
      options,
    );
    return rows.map((row) => ({
      start: numberAt(row, 0),
      expected: numberAt(row, 1),
      lower: numberAt(row, 2),
      upper: numberAt(row, 3),
      score: numberAt(row, 4),
      anomaly: row.Data?.[5]?.ScalarValue === 'true',
    }));
  }

  async valuesAt(
    entries: readonly { readonly seriesId: string; readonly timestamp: number }[],
    options: ReadOptions = {},
  ): Promise<Map<string, number>> {
    const values = new Map<string, number>();
    for (let offset = 0; offset < entries.length; offset += valuesPerQuery) {
      const batch = entries.slice(offset, offset + valuesPerQuery);
      const times = batch.map((entry) => integer(entry.timestamp));
      const matches = batch
        .map(
          (entry) =>
            `(series_id = '${checkedId(entry.seriesId)}' AND time = from_milliseconds(${integer(entry.timestamp)}))`,
        )
        .join(' OR ');
      // The outer time bounds let Timestream prune partitions before it tests each pair.
      const rows = await this.query(
        `SELECT series_id, measure_value::double FROM ${this.table('points')} ` +
          `WHERE measure_name = 'value' AND time >= from_milliseconds(${Math.min(...times)}) ` +
          `AND time <= from_milliseconds(${Math.max(...times)}) AND (${matches})`,
        options,
      );
      for (const row of rows) {
        const id = row.Data?.[0]?.ScalarValue;
        if (id !== undefined) values.set(id, numberAt(row, 1));
      }
    }
    return values;
  }

  async findAnomalies(query: AnomalyQuery, options: ReadOptions = {}): Promise<AnomalyRecord[]> {
    const conditions = [`measure_name = 'band'`, 'anomaly = true', timeBetween(query.from, query.to)];
    if (query.seriesId !== undefined) conditions.push(`series_id = '${checkedId(query.seriesId)}'`);
    if (query.after) {
      const at = `from_milliseconds(${integer(query.after.timestamp)})`;
      conditions.push(
        `(time < ${at} OR (time = ${at} AND series_id > '${checkedId(query.after.seriesId)}'))`,
      );
    }
    const rows = await this.query(
      `SELECT series_id, to_milliseconds(time), value, expected, lower, upper, score FROM ${this.table('bands')} ` +
        `WHERE ${conditions.join(' AND ')} ORDER BY time DESC, series_id LIMIT ${integer(query.limit)}`,
      options,
    );
    return rows.map((row) => ({
      seriesId: row.Data?.[0]?.ScalarValue ?? '',
      timestamp: numberAt(row, 1),
      value: numberAt(row, 2),
      expected: numberAt(row, 3),
      lower: numberAt(row, 4),
      upper: numberAt(row, 5),
      score: numberAt(row, 6),
      anomaly: true,
    }));
  }

  private table(kind: 'points' | 'bands'): string {
    return quotedTable(
      this.options.database,
      kind === 'points' ? this.options.pointsTable : this.options.bandsTable,
    );
  }

  /**
   * Every row of a query, following NextToken through every page (Timestream returns empty pages while a
   * query runs). Each call gets its own timeout; the caller's signal bounds them all.
   */
  private async query(queryString: string, options: ReadOptions): Promise<Row[]> {
    const rows: Row[] = [];
    let nextToken: string | undefined;
    do {
      const callTimeout = AbortSignal.timeout(this.callTimeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, callTimeout]) : callTimeout;
      let page: QueryCommandOutput;
      try {
        page = await this.client.send(new QueryCommand({ QueryString: queryString, NextToken: nextToken }), {
          abortSignal: signal,
        });
      } catch (error) {
        // The caller's own abort is theirs to report; a call past Timestream's limit is reported here.
        if (isAbortError(error) && callTimeout.aborted && !options.signal?.aborted) {
          throw new QueryTimeoutError(this.callTimeoutMs, { cause: error });
        }
        throw error;
      }
      rows.push(...(page.Rows ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }
}

/**
 * A Timestream interval literal for a step in milliseconds, in the largest whole unit.
 *
 * @example interval(1_800_000) // '30m'
 */
export function interval(ms: number): string {
  const step = integer(ms);
  if (step <= 0) throw new Error(`not a step: ${ms}`);
  for (const [unit, size] of [
    ['d', dayMs],
    ['h', hourMs],
    ['m', minuteMs],
    ['s', 1_000],
  ] as const) {
    if (step % size === 0) return `${step / size}${unit}`;
  }
  return `${step}ms`;
}
