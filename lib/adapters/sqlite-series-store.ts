import type Database from 'better-sqlite3';
import type { LearnedKind, Seasonality } from '../bands/engine.ts';
import type { Dimensions, MetricType } from '../metrics/point.ts';
import { sortedDimensions } from '../metrics/series.ts';
import { seriesMatcher } from '../metrics/series-filter.ts';
import type { SeriesCatalog, SeriesPage, SeriesQuery } from '../ports/series-catalog.ts';
import type {
  PendingSeries,
  SeriesInfo,
  SeriesProgress,
  SeriesStore,
  SeriesTouch,
} from '../ports/series-store.ts';
import { storedProgress } from './series-progress.ts';

interface SeriesRow {
  id: string;
  name: string;
  type: MetricType;
  dimensions: string;
  last_ts: number;
  version: number;
  step_ms: number | null;
  processed_until: number | null;
  anomalous: number;
  engine_state: string | null;
  kind: LearnedKind | null;
  seasonality: Seasonality | null;
  pending_from: number | null;
  pending_after: number | null;
}

/**
 * Local mode's series catalog and the band job's pending list (the `series` table of the shared database, see
 * sqlite-database.ts), as the DynamoDB state store keeps them in the cloud.
 */
export class SqliteSeriesStore implements SeriesStore, SeriesCatalog {
  constructor(private readonly database: Database.Database) {}

  async recordSeries(touches: readonly SeriesTouch[]): Promise<void> {
    // A new series starts pending (version 1, handled 0; the job reads it from its first point whatever comes);
    // a backfill marks a known series pending again, from its oldest point on, and makes a series the job had
    // put off ready at once.
    const upsert = this.database.prepare(`
      INSERT INTO series (id, name, type, dimensions, last_ts)
      VALUES (@id, @name, @type, @dimensions, @maxTimestamp)
      ON CONFLICT (id) DO UPDATE SET last_ts = max(last_ts, excluded.last_ts),
        version = version + @backfill,
        pending_from = CASE WHEN @backfill THEN min(coalesce(pending_from, @minTimestamp), @minTimestamp)
          ELSE pending_from END,
        pending_after = CASE WHEN @backfill THEN NULL ELSE pending_after END`);
    this.database.transaction(() => {
      for (const touch of touches) {
        upsert.run({
          id: touch.id,
          name: touch.name,
          type: touch.type,
          dimensions: JSON.stringify(sortedDimensions(touch.dimensions)),
          maxTimestamp: touch.maxTimestamp,
          minTimestamp: touch.minTimestamp,
          backfill: touch.backfill === false ? 0 : 1,
        });
      }
    })();
  }

  async settlePending(seriesId: string, version: number): Promise<void> {
    this.database
      .prepare(
        `UPDATE series SET handled_version = max(handled_version, @version), pending_from = NULL,
           pending_after = NULL
         WHERE id = @seriesId AND version <= @version`,
      )
      .run({ version, seriesId });
  }

  async deferPending(seriesId: string, version: number, until: number): Promise<void> {
    this.database
      .prepare('UPDATE series SET pending_after = ? WHERE id = ? AND version <= ?')
      .run(until, seriesId, version);
  }

  async listSeries(): Promise<SeriesInfo[]> {
    return this.database
      .prepare<[], SeriesRow>('SELECT * FROM series ORDER BY name, id')
      .all()
      .map(toSeriesInfo);
  }

  async getSeries(id: string): Promise<SeriesInfo | undefined> {
    const row = this.database.prepare<[string], SeriesRow>('SELECT * FROM series WHERE id = ?').get(id);
    return row && toSeriesInfo(row);
  }

  async pendingSeries(limit: number, now: number): Promise<PendingSeries[]> {
    const rows = this.database
      .prepare<[number, number], SeriesRow>(
        `SELECT * FROM series WHERE version > handled_version AND (pending_after IS NULL OR pending_after <= ?)
         ORDER BY last_ts LIMIT ?`,
      )
      .all(now, limit);
    return rows.map((row) => ({
      series: toSeriesInfo(row),
      progress: storedProgress({
        stepMs: row.step_ms,
        processedUntil: row.processed_until,
        engineState: row.engine_state,
        anomalous: row.anomalous === 1,
      }),
      version: row.version,
      ...(row.pending_from !== null && { pendingFrom: row.pending_from }),
    }));
  }

  async saveProgress(
    seriesId: string,
    progress: SeriesProgress,
    version: number,
    caughtUp: boolean,
  ): Promise<void> {
    this.database
      .prepare(
        `UPDATE series SET step_ms = ?, processed_until = ?, engine_state = ?, anomalous = ?,
           handled_version = CASE WHEN ? THEN max(handled_version, ?) ELSE handled_version END,
           kind = CASE WHEN ? THEN ? ELSE kind END, seasonality = CASE WHEN ? THEN ? ELSE seasonality END
         WHERE id = ?`,
      )
      .run(
        progress.stepMs,
        progress.processedUntil,
        JSON.stringify(progress.engineState),
        progress.anomalous ? 1 : 0,
        caughtUp ? 1 : 0,
        version,
        progress.learned ? 1 : 0,
        progress.learned?.kind ?? null,
        progress.learned ? 1 : 0,
        progress.learned?.seasonality ?? null,
        seriesId,
      );
  }

  async findSeries(query: SeriesQuery): Promise<SeriesPage> {
    const conditions: string[] = [];
    const parameters: (string | number)[] = [];
    if (query.after) {
      conditions.push('(name, id) > (?, ?)');
      parameters.push(query.after.name, query.after.id);
    }
    if (query.prefix) {
      conditions.push('name >= ?');
      parameters.push(query.prefix);
      const end = prefixEnd(query.prefix);
      if (end !== undefined) {
        conditions.push('name < ?');
        parameters.push(end);
      }
    }
    if (query.anomalous !== undefined) {
      conditions.push('anomalous = ?');
      parameters.push(query.anomalous ? 1 : 0);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const matches = seriesMatcher(query);
    const series: SeriesInfo[] = [];
    let more = false;
    const rows = this.database
      .prepare<(string | number)[], SeriesRow>(`SELECT * FROM series ${where} ORDER BY name, id`)
      .iterate(...parameters);
    for (const row of rows) {
      const info = toSeriesInfo(row);
      if (!matches(info)) continue;
      if (series.length === query.limit) {
        more = true;
        break;
      }
      series.push(info);
    }
    const last = series.at(-1);
    return { series, next: more && last ? { name: last.name, id: last.id } : undefined };
  }
}

const toSeriesInfo = (row: SeriesRow): SeriesInfo => ({
  id: row.id,
  name: row.name,
  type: row.type,
  dimensions: JSON.parse(row.dimensions) as Dimensions,
  lastTimestamp: row.last_ts,
  stepMs: row.step_ms,
  anomalous: row.anomalous === 1,
  kind: row.kind,
  seasonality: row.seasonality,
});

/** The smallest text after every text starting with `prefix` (its last character raised by one). */
function prefixEnd(prefix: string): string | undefined {
  const characters = [...prefix];
  const last = characters.pop();
  const code = last?.codePointAt(0);
  if (code === undefined || code >= 0x10ffff) return undefined;
  // Past the surrogate range: a lone surrogate is no character.
  const next = code + 1 >= 0xd800 && code + 1 <= 0xdfff ? 0xe000 : code + 1;
  return characters.join('') + String.fromCodePoint(next);
}
