import type Database from 'better-sqlite3';
import { aggregate } from '../metrics/aggregate.ts';
import { bucketStart } from '../metrics/step.ts';
import type { AnomalyRecord } from '../ports/band-store.ts';
import type {
  AnomalyQuery,
  BandBucket,
  QueryStore,
  ValueBucket,
  ValueBucketQuery,
} from '../ports/query-store.ts';
import { type BandRow, toAnomaly } from './sqlite-band-store.ts';

/**
 * The query API's reads in local mode: buckets of points and bands aggregated by SQLite over the tables the
 * metric and band stores write (see sqlite-database.ts), as Timestream aggregates them in the cloud.
 */
export class SqliteQueryStore implements QueryStore {
  constructor(private readonly database: Database.Database) {}

  async readValueBuckets(query: ValueBucketQuery): Promise<ValueBucket[]> {
    if (query.stepMs === query.seriesStepMs) return this.readSeriesStep(query);
    const seriesStepValue = query.type === 'counter' ? 'sum(value)' : 'avg(value)';
    return this.database
      .prepare<[number, number, string, number, number], ValueBucket>(
        // `%` works on integers (bound numbers are REAL, so `/` would not truncate).
        `SELECT t - t % ? AS start, avg(v) AS avg, min(v) AS min, max(v) AS max, sum(n) AS count FROM (
           SELECT ts - ts % ? AS t, ${seriesStepValue} AS v, count(*) AS n
           FROM points WHERE series_id = ? AND ts >= ? AND ts < ? GROUP BY t
         ) GROUP BY start ORDER BY start`,
      )
      .all(query.stepMs, query.seriesStepMs, query.seriesId, query.from, query.to);
  }

  /**
   * Buckets at the series' own step. SQLite's GROUP BY on `ts - ts % step` sorts every row again; reading the
   * rows in key order and adding them up here is about three times faster for a month of minutes (what each
   * series of a PromQL query reads). The figures are lib/metrics/aggregate.ts's (the DynamoDB store's), which
   * also takes over should a bucket's sum overflow. O(n).
   */
  private readSeriesStep(query: ValueBucketQuery): ValueBucket[] {
    const rows = this.database
      .prepare<[string, number, number], [number, number]>(
        'SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts',
      )
      .raw()
      .all(query.seriesId, query.from, query.to);
    const buckets: ValueBucket[] = [];
    let start = Number.NaN;
    let sum = 0;
    let count = 0;
    const close = () => {
      if (count === 0) return;
      const value = query.type === 'counter' ? sum : sum / count;
      buckets.push({ start, avg: value, min: value, max: value, count });
    };
    for (const [timestamp, value] of rows) {
      const bucket = bucketStart(timestamp, query.stepMs);
      if (bucket !== start) {
        close();
        start = bucket;
        sum = 0;
        count = 0;
      }
      sum += value;
      count += 1;
    }
    close();
    if (buckets.every((bucket) => Number.isFinite(bucket.avg))) return buckets;
    const points = rows.map(([timestamp, value]) => ({ timestamp, value }));
    return aggregate(query.type, points, query.stepMs).map((bucket) => ({
      start: bucket.start,
      avg: bucket.value,
      min: bucket.value,
      max: bucket.value,
      count: bucket.count,
    }));
  }

  async readBandBuckets(seriesId: string, from: number, to: number, stepMs: number): Promise<BandBucket[]> {
    return this.database
      .prepare<[number, string, number, number], Omit<BandBucket, 'anomaly'> & { anomaly: number }>(
        `SELECT ts - ts % ? AS start, avg(expected) AS expected, min(lower) AS lower, max(upper) AS upper,
           max(score) AS score, max(anomaly) AS anomaly
         FROM bands WHERE series_id = ? AND ts >= ? AND ts < ? GROUP BY start ORDER BY start`,
      )
      .all(stepMs, seriesId, from, to)
      .map((row) => ({ ...row, anomaly: row.anomaly === 1 }));
  }

  async valuesAt(
    entries: readonly { readonly seriesId: string; readonly timestamp: number }[],
  ): Promise<Map<string, number>> {
    const select = this.database.prepare<[string, number], { value: number }>(
      'SELECT value FROM points WHERE series_id = ? AND ts = ?',
    );
    const values = new Map<string, number>();
    for (const entry of entries) {
      const row = select.get(entry.seriesId, entry.timestamp);
      if (row) values.set(entry.seriesId, row.value);
    }
    return values;
  }

  async findAnomalies(query: AnomalyQuery): Promise<AnomalyRecord[]> {
    const conditions = ['anomaly = 1', 'ts >= ?', 'ts < ?'];
    const parameters: (string | number)[] = [query.from, query.to];
    if (query.seriesId !== undefined) {
      conditions.push('series_id = ?');
      parameters.push(query.seriesId);
    }
    if (query.after) {
      conditions.push('(ts < ? OR (ts = ? AND series_id > ?))');
      parameters.push(query.after.timestamp, query.after.timestamp, query.after.seriesId);
    }
    parameters.push(query.limit);
    return this.database
      .prepare<(string | number)[], BandRow>(
        `SELECT * FROM bands WHERE ${conditions.join(' AND ')} ORDER BY ts DESC, series_id LIMIT ?`,
      )
      .all(...parameters)
      .map(toAnomaly);
  }
}
