import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * The tables of local mode's metrics, series catalog, bands and API keys (the alert and state stores add their
 * own tables to the same file). Unchanged since the first release but for `addedColumns`, so existing data
 * directories open as they are.
 */
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

export interface SqliteDatabaseOptions {
  /**
   * How long a write waits for another connection's write to end before it fails with SQLITE_BUSY. Default
   * 5 s. better-sqlite3 is synchronous: the wait blocks the thread that writes, its event loop included.
   */
  readonly busyTimeoutMs?: number;
}

/** Whether `file` names a file on disk rather than a database in memory. */
export const isOnDisk = (file: string): boolean => file !== '' && file !== ':memory:';

/**
 * Opens local mode's SQLite file (better-sqlite3, WAL mode: readers never wait for the writer, and several
 * connections, threads or processes may share the file) with its tables made or brought up to date: the one
 * connection the SQLite adapters share. The file and its -wal and -shm are readable by their owner only.
 */
export function openSqliteDatabase(file: string, options: SqliteDatabaseOptions = {}): Database.Database {
  const onDisk = isOnDisk(file);
  if (onDisk) keepPrivate(file);
  const database = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.exec(schema);
  addMissingColumns(database);
  // Made by an older version with the default mode: narrowed now that they exist.
  if (onDisk) for (const suffix of ['-wal', '-shm']) keepPrivate(`${file}${suffix}`, { onlyIfPresent: true });
  return database;
}

function addMissingColumns(database: Database.Database): void {
  for (const [table, columns] of Object.entries(addedColumns)) {
    const present = new Set(
      database
        .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)')
        .all(table)
        .map((column) => column.name),
    );
    for (const [column, definition] of Object.entries(columns)) {
      if (!present.has(column)) database.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
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
