import type Database from 'better-sqlite3';
import type { SeriesPoint } from '../metrics/point.ts';
import { type SeriesSelection, selectsSeries } from '../metrics/series-hash.ts';
import type { MetricStore, TimedValue } from '../ports/metric-store.ts';

/**
 * Local mode's raw points (the `points` table of the shared database, see sqlite-database.ts). A batch is
 * written in one transaction: stored whole or not at all.
 */
export class SqliteMetricStore implements MetricStore {
  constructor(private readonly database: Database.Database) {}

  async writePoints(points: readonly SeriesPoint[]): Promise<void> {
    const insert = this.database.prepare(
      'INSERT INTO points (series_id, ts, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    this.database.transaction(() => {
      for (const point of points) insert.run(point.seriesId, point.timestamp, point.value);
    })();
  }

  async readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]> {
    return this.database
      .prepare<[string, number, number], TimedValue>(
        'SELECT ts AS timestamp, value FROM points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts',
      )
      .all(seriesId, from, to);
  }

  async earliestTimestamp(seriesId: string): Promise<number | undefined> {
    const row = this.database
      .prepare<[string], { ts: number | null }>('SELECT min(ts) AS ts FROM points WHERE series_id = ?')
      .get(seriesId);
    return row?.ts ?? undefined;
  }

  /**
   * A selection is applied to the rows read: the table is not partitioned by the series hash (SQLite has no
   * FNV-1a), so the time range is read whole.
   */
  async readRecentPoints(
    from: number,
    to: number,
    selection?: SeriesSelection,
  ): Promise<Map<string, TimedValue[]>> {
    const bySeries = new Map<string, TimedValue[]>();
    const selected = selection && selectsSeries(selection);
    const rows = this.database
      .prepare<[number, number], { series_id: string; ts: number; value: number }>(
        'SELECT series_id, ts, value FROM points WHERE ts >= ? AND ts < ? ORDER BY ts',
      )
      .iterate(from, to);
    for (const row of rows) {
      if (selected && !selected(row.series_id)) continue;
      const points = bySeries.get(row.series_id);
      const point = { timestamp: row.ts, value: row.value };
      if (points) points.push(point);
      else bySeries.set(row.series_id, [point]);
    }
    return bySeries;
  }
}
