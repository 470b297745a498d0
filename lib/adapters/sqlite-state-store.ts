import type Database from 'better-sqlite3';
import type {
  SeriesState,
  SeriesStateStore,
  StateLayout,
  StateLayoutSnapshot,
  StateShardSnapshot,
} from '../ports/series-state-store.ts';
import type {
  SeriesSummariesSnapshot,
  SeriesSummary,
  SeriesSummaryStore,
} from '../ports/series-summary-store.ts';

const schema = `
CREATE TABLE IF NOT EXISTS state_shards (
  shard TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  body TEXT NOT NULL
) WITHOUT ROWID;
`;

/** The summaries document's key in the shards table (no shard is named so). */
const summariesKey = 'summaries';
/** The layout record's key (no shard is named so either: shard names start with their count). */
const layoutKey = 'layout';

/**
 * Local mode's band-job state: each shard a JSON document in a table beside the metrics, saved with a
 * version check like the S3 adapter's conditional writes.
 */
export class SqliteStateStore implements SeriesStateStore, SeriesSummaryStore {
  constructor(private readonly database: Database.Database) {
    database.exec(schema);
  }

  async loadShard(
    shard: string,
    knownVersion?: string,
  ): Promise<StateShardSnapshot | 'unchanged' | undefined> {
    const found = this.load(shard, knownVersion);
    if (found === undefined || found === 'unchanged') return found;
    return { version: found.version, states: JSON.parse(found.body) as SeriesState[] };
  }

  async saveShard(
    shard: string,
    states: readonly SeriesState[],
    expectedVersion: string | undefined,
  ): Promise<string | 'conflict'> {
    return this.save(shard, JSON.stringify(states), expectedVersion);
  }

  async loadLayout(): Promise<StateLayoutSnapshot | undefined> {
    const found = this.load(layoutKey, undefined);
    if (found === undefined || found === 'unchanged') return undefined;
    return { version: found.version, layout: JSON.parse(found.body) as StateLayout };
  }

  async saveLayout(layout: StateLayout, expectedVersion: string | undefined): Promise<string | 'conflict'> {
    return this.save(layoutKey, JSON.stringify(layout), expectedVersion);
  }

  async loadSummaries(knownVersion?: string): Promise<SeriesSummariesSnapshot | 'unchanged' | undefined> {
    const found = this.load(summariesKey, knownVersion);
    if (found === undefined || found === 'unchanged') return found;
    const summaries = JSON.parse(found.body) as SeriesSummary[];
    return { version: found.version, summaries: new Map(summaries.map((summary) => [summary.id, summary])) };
  }

  async saveSummaries(summaries: readonly SeriesSummary[]): Promise<void> {
    const current = this.load(summariesKey, undefined);
    const version = current === undefined || current === 'unchanged' ? undefined : current.version;
    this.save(summariesKey, JSON.stringify(summaries), version);
  }

  private load(key: string, knownVersion: string | undefined) {
    const row = this.database
      .prepare<[string], { version: number; body: string }>(
        'SELECT version, body FROM state_shards WHERE shard = ?',
      )
      .get(key);
    if (!row) return undefined;
    if (String(row.version) === knownVersion) return 'unchanged' as const;
    return { version: String(row.version), body: row.body };
  }

  private save(key: string, body: string, expectedVersion: string | undefined): string | 'conflict' {
    const result =
      expectedVersion === undefined
        ? this.database
            .prepare(
              'INSERT INTO state_shards (shard, version, body) VALUES (?, 1, ?) ON CONFLICT DO NOTHING',
            )
            .run(key, body)
        : this.database
            .prepare(
              'UPDATE state_shards SET version = version + 1, body = ? WHERE shard = ? AND version = ?',
            )
            .run(body, key, Number(expectedVersion));
    if (result.changes === 0) return 'conflict';
    return expectedVersion === undefined ? '1' : String(Number(expectedVersion) + 1);
  }
}
