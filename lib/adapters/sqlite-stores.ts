import type Database from 'better-sqlite3';
import type { KeySecretSource } from '../keys.ts';
import { SqliteAlertStore } from './sqlite-alert-store.ts';
import { SqliteBandStore } from './sqlite-band-store.ts';
import { openSqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.ts';
import { SqliteFeedbackStore } from './sqlite-feedback-store.ts';
import { SqliteIncidentStore } from './sqlite-incident-store.ts';
import { SqliteKeyStore, sqliteKeySecret } from './sqlite-key-store.ts';
import { SqliteMetricStore } from './sqlite-metric-store.ts';
import { SqliteQueryStore } from './sqlite-query-store.ts';
import { SqliteSeriesStore } from './sqlite-series-store.ts';
import { SqliteStateStore } from './sqlite-state-store.ts';

export interface SqliteStoresOptions extends SqliteDatabaseOptions {
  /**
   * Where the API key secret comes from. By default the file `key-secret` beside the database (made on first
   * open, mode 0600), or, for an in-memory database, random bytes that live as long as it.
   */
  readonly keySecret?: KeySecretSource;
}

/**
 * Local mode's adapters over one SQLite connection: one adapter per port, each beside the cloud adapter that
 * serves the same port (a cloud adapter may serve several ports of one service):
 *
 * | port                                 | local (SQLite)    | cloud                                        |
 * | ------------------------------------ | ----------------- | -------------------------------------------- |
 * | MetricStore                          | SqliteMetricStore | TimestreamStore, or DynamoDbMetricStore      |
 * | BandStore                            | SqliteBandStore   | TimestreamStore, or DynamoDbMetricStore      |
 * | QueryStore                           | SqliteQueryStore  | TimestreamQueryStore, or DynamoDbMetricStore |
 * | SeriesStore and SeriesCatalog        | SqliteSeriesStore | DynamoDbStateStore                           |
 * | KeyStore                             | SqliteKeyStore    | DynamoDbStateStore                           |
 * | AlertStore                           | SqliteAlertStore  | DynamoDbAlertStore                           |
 * | IncidentStore                        | SqliteIncidentStore | DynamoDbIncidentStore                      |
 * | SeriesStateStore, SeriesSummaryStore | SqliteStateStore  | S3StateStore                                 |
 *
 * FeedbackStore: SqliteFeedbackStore here, DynamoDbFeedbackStore (in the alert table) in the cloud.
 */
export interface SqliteStores {
  /** The connection they share (for scripts and tests that hold a lock or read a table directly). */
  readonly database: Database.Database;
  readonly metrics: SqliteMetricStore;
  readonly series: SqliteSeriesStore;
  readonly bands: SqliteBandStore;
  readonly queries: SqliteQueryStore;
  readonly keys: SqliteKeyStore;
  readonly alerts: SqliteAlertStore;
  readonly incidents: SqliteIncidentStore;
  /** "This was normal" and "this was an incident" (lib/feedback/model.ts). */
  readonly feedback: SqliteFeedbackStore;
  /** The band job's state shards and the listing summaries. */
  readonly states: SqliteStateStore;
  close(): void;
}

/**
 * Opens local mode's SQLite file (see openSqliteDatabase) and every adapter over it. Each call is a connection
 * of its own: the server, the band job's thread and a script may each open the same file.
 */
export function openSqliteStores(file: string, options: SqliteStoresOptions = {}): SqliteStores {
  const database = openSqliteDatabase(file, options);
  try {
    return {
      database,
      metrics: new SqliteMetricStore(database),
      series: new SqliteSeriesStore(database),
      bands: new SqliteBandStore(database),
      queries: new SqliteQueryStore(database),
      keys: new SqliteKeyStore(database, options.keySecret ?? sqliteKeySecret(database, file)),
      alerts: new SqliteAlertStore(database),
      incidents: new SqliteIncidentStore(database),
      feedback: new SqliteFeedbackStore(database),
      states: new SqliteStateStore(database),
      close: () => database.close(),
    };
  } catch (error) {
    database.close();
    throw error;
  }
}
