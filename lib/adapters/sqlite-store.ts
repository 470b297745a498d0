import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { LearnedKind, Seasonality } from '../bands/engine.ts';
import { KeyDigester, type KeySecretSource, minKeySecretBytes } from '../keys.ts';
import type { Dimensions, MetricType, SeriesPoint } from '../metrics/point.ts';
import { sortedDimensions } from '../metrics/series.ts';
import { seriesMatcher } from '../metrics/series-filter.ts';
import type { AnomalyRecord, BandStore, SeriesBand, StoredBand } from '../ports/band-store.ts';
import type { ApiKeyRecord, KeyHashVersion, KeyScope, KeyStore } from '../ports/key-store.ts';
import type { MetricStore, TimedValue } from '../ports/metric-store.ts';
import type {
  AnomalyQuery,
  BandBucket,
  QueryStore,
  ValueBucket,
  ValueBucketQuery,
} from '../ports/query-store.ts';
import type { SeriesCatalog, SeriesPage, SeriesQuery } from '../ports/series-catalog.ts';
import type {
  PendingSeries,
  SeriesInfo,
  SeriesProgress,
  SeriesStore,
  SeriesTouch,
} from '../ports/series-store.ts';
import { localKeySecret } from './local-key-files.ts';
import { storedProgress } from './series-progress.ts';

const schema = `
CREATE TABLE IF NOT EXISTS series (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  dimensions TEXT NOT NULL,
  last_ts INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  handled_version INTEGER NOT NULL DEFAULT 0,
  step_ms INTEGER,
  processed_until INTEGER,
  anomalous INTEGER NOT NULL DEFAULT 0,
  engine_state TEXT
);
CREATE INDEX IF NOT EXISTS series_pending ON series(id) WHERE version > handled_version;
CREATE INDEX IF NOT EXISTS series_by_name ON series(name, id);
CREATE TABLE IF NOT EXISTS points (
  series_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_by_time ON points(ts);
CREATE TABLE IF NOT EXISTS bands (
  series_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  expected REAL NOT NULL,
  lower REAL NOT NULL,
  upper REAL NOT NULL,
  score REAL NOT NULL,
  anomaly INTEGER NOT NULL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bands_anomalies ON bands(ts) WHERE anomaly = 1;
CREATE TABLE IF NOT EXISTS api_keys (
  hash TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  hash_version TEXT
);
`;

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

/** Columns added after the first release, with their definitions: added to older databases on open. */
const addedColumns = {
  series: {
    kind: 'TEXT',
    seasonality: 'TEXT',
    /** The oldest point of the backfills recorded since the series was last settled. */
    pending_from: 'INTEGER',
    /** A pending series the band job put off is listed again from this time (or when new data marks it). */
    pending_after: 'INTEGER',
  },
  // NULL on keys filed with plain SHA-256 before keyed digests.
  api_keys: { hash_version: 'TEXT' },
} as const;

interface BandRow {
  series_id: string;
  ts: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  score: number;
  anomaly: number;
}

interface KeyRow {
  hash: string;
  name: string;
  scopes: string;
  created_at: number;
  revoked_at: number | null;
  hash_version: KeyHashVersion | null;
}

export interface SqliteStoreOptions {
  /**
   * Where the API key secret comes from. By default the file `key-secret` beside the database (made on first
   * open, mode 0600), or, for an in-memory database, random bytes that live as long as it.
   */
  readonly keySecret?: KeySecretSource;
  /**
   * How long a write waits for another connection's write to end before it fails with SQLITE_BUSY. Default
   * 5 s. better-sqlite3 is synchronous: the wait blocks the thread that writes, its event loop included.
   */
  readonly busyTimeoutMs?: number;
}

/**
 * Local mode's store: every port on one SQLite file (better-sqlite3, WAL mode: readers never wait for the
 * writer, and several connections, threads or processes may share the file). Writes of a batch run in one
 * transaction, so a batch is stored whole or not at all. The file and its -wal and -shm are readable by their
 * owner only.
 */
export class SqliteStore implements MetricStore, SeriesStore, SeriesCatalog, BandStore, QueryStore, KeyStore {
  readonly database: Database.Database;
  private readonly keyDigester: KeyDigester;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    const onDisk = file !== '' && file !== ':memory:';
    if (onDisk) keepPrivate(file);
    this.database = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    this.database.pragma('journal_mode = WAL');
    this.database.pragma('synchronous = NORMAL');
    this.database.exec(schema);
    this.addMissingColumns();
    this.keyDigester = new KeyDigester(options.keySecret ?? this.defaultKeySecret(file));
    // Made by an older version with the default mode: narrowed now that they exist.
    if (onDisk)
      for (const suffix of ['-wal', '-shm']) keepPrivate(`${file}${suffix}`, { onlyIfPresent: true });
  }

  private addMissingColumns(): void {
    for (const [table, columns] of Object.entries(addedColumns)) {
      const present = new Set(
        this.database
          .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)')
          .all(table)
          .map((column) => column.name),
      );
      for (const [column, definition] of Object.entries(columns)) {
        if (!present.has(column))
          this.database.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
      }
    }
  }

  /**
   * The secret beside the database file, read (or made) now, so that a missing one is reported at start. When
   * keys were already filed under a secret, a missing file is an error rather than a new secret.
   */
  private defaultKeySecret(file: string): KeySecretSource {
    if (file === ':memory:' || file === '') {
      const secret = randomBytes(minKeySecretBytes);
      return () => secret;
    }
    const keyed = this.database
      .prepare<[], { found: number }>(
        'SELECT 1 AS found FROM api_keys WHERE hash_version IS NOT NULL LIMIT 1',
      )
      .get();
    const secret = localKeySecret(dirname(file), { mustExist: keyed !== undefined });
    return () => secret;
  }

  close(): void {
    this.database.close();
  }

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

  async readRecentPoints(from: number, to: number): Promise<Map<string, TimedValue[]>> {
    const bySeries = new Map<string, TimedValue[]>();
    const rows = this.database
      .prepare<[number, number], { series_id: string; ts: number; value: number }>(
        'SELECT series_id, ts, value FROM points WHERE ts >= ? AND ts < ? ORDER BY ts',
      )
      .iterate(from, to);
    for (const row of rows) {
      const points = bySeries.get(row.series_id);
      const point = { timestamp: row.ts, value: row.value };
      if (points) points.push(point);
      else bySeries.set(row.series_id, [point]);
    }
    return bySeries;
  }

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

  async writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void> {
    await this.writeManyBands(bands.map((band) => ({ ...band, seriesId })));
  }

  async writeManyBands(bands: readonly SeriesBand[]): Promise<void> {
    const insert = this.database.prepare(`
      INSERT INTO bands (series_id, ts, value, expected, lower, upper, score, anomaly)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET value = excluded.value, expected = excluded.expected, lower = excluded.lower,
        upper = excluded.upper, score = excluded.score, anomaly = excluded.anomaly`);
    this.database.transaction(() => {
      for (const band of bands) {
        insert.run(
          band.seriesId,
          band.timestamp,
          band.value,
          band.expected,
          band.lower,
          band.upper,
          band.score,
          band.anomaly ? 1 : 0,
        );
      }
    })();
  }

  async readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    return this.database
      .prepare<[string, number, number], BandRow>(
        'SELECT * FROM bands WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts',
      )
      .all(seriesId, from, to)
      .map(toBand);
  }

  async listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]> {
    return this.database
      .prepare<[number, number, number], BandRow>(
        'SELECT * FROM bands WHERE anomaly = 1 AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT ?',
      )
      .all(from, to, limit)
      .map((row) => ({ seriesId: row.series_id, ...toBand(row) }));
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

  async readValueBuckets(query: ValueBucketQuery): Promise<ValueBucket[]> {
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
      .map((row) => ({ seriesId: row.series_id, ...toBand(row) }));
  }

  digestKey(key: string): Promise<string> {
    return this.keyDigester.digest(key);
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.database.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE hash = ?').get(hash);
    return row && toKey(row);
  }

  async putKey(record: ApiKeyRecord): Promise<void> {
    this.database
      .prepare(
        `INSERT INTO api_keys (hash, name, scopes, created_at, revoked_at, hash_version) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET name = excluded.name, scopes = excluded.scopes, revoked_at = excluded.revoked_at,
           hash_version = excluded.hash_version`,
      )
      .run(
        record.hash,
        record.name,
        record.scopes.join(','),
        record.createdAt,
        record.revokedAt,
        record.hashVersion ?? null,
      );
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return this.database.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at').all().map(toKey);
  }

  async revokeKey(hash: string, at: number): Promise<boolean> {
    const result = this.database
      .prepare('UPDATE api_keys SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL')
      .run(at, hash);
    return result.changes > 0;
  }

  async upgradeKeyHash(legacyHash: string, record: ApiKeyRecord): Promise<boolean> {
    // One UPDATE of the primary key: it fails on a duplicate, and matches nothing once revoked or refiled.
    try {
      const result = this.database
        .prepare(
          `UPDATE api_keys SET hash = ?, hash_version = ?
           WHERE hash = ? AND hash_version IS NULL AND revoked_at IS NULL`,
        )
        .run(record.hash, record.hashVersion ?? null, legacyHash);
      return result.changes > 0;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
      throw error;
    }
  }
}

/**
 * Makes a file readable and writable by its owner only (0600), creating it empty if missing. SQLite gives a
 * database's -wal and -shm files the database file's mode when it creates them, so they stay private too.
 */
function keepPrivate(file: string, options: { onlyIfPresent?: boolean } = {}): void {
  if (existsSync(file)) chmodSync(file, 0o600);
  else if (!options.onlyIfPresent) writeFileSync(file, '', { mode: 0o600, flag: 'a' });
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

const toBand = (row: BandRow): StoredBand => ({
  timestamp: row.ts,
  value: row.value,
  expected: row.expected,
  lower: row.lower,
  upper: row.upper,
  score: row.score,
  anomaly: row.anomaly === 1,
});

const toKey = (row: KeyRow): ApiKeyRecord => ({
  hash: row.hash,
  name: row.name,
  scopes: row.scopes.split(',').filter(Boolean) as KeyScope[],
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  ...(row.hash_version !== null && { hashVersion: row.hash_version }),
});
