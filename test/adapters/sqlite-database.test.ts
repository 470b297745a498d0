import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../lib/adapters/sqlite-database.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const databaseFile = () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-database-'));
  directories.push(directory);
  return join(directory, 'normalcy.db');
};

const schemaOf = (file: string) => {
  const database = new Database(file, { readonly: true });
  try {
    return database
      .prepare<[], { type: string; name: string; sql: string | null }>(
        'SELECT type, name, sql FROM sqlite_master ORDER BY name',
      )
      .all();
  } finally {
    database.close();
  }
};

/** The series and key tables as the first release made them, before the columns added since. */
const firstReleaseTables = `
CREATE TABLE series (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, dimensions TEXT NOT NULL, last_ts INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1, handled_version INTEGER NOT NULL DEFAULT 0, step_ms INTEGER,
  processed_until INTEGER, anomalous INTEGER NOT NULL DEFAULT 0, engine_state TEXT
);
CREATE TABLE api_keys (
  hash TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER
);
INSERT INTO series (id, name, type, dimensions, last_ts) VALUES ('aaaaaaaaaaaaaaaa', 'shop.requests', 'gauge', '{}', 60000);
INSERT INTO api_keys (hash, name, scopes, created_at) VALUES ('legacy-digest', 'agents', 'ingest,read', 1000);
`;

describe('the local database', () => {
  it('opens as it was left: a second open changes no table, index or column', () => {
    const file = databaseFile();
    openSqliteStores(file).close();
    const made = schemaOf(file);
    expect(made.map((entry) => entry.name)).toEqual(expect.arrayContaining(['series', 'points', 'bands']));
    openSqliteStores(file).close();
    expect(schemaOf(file)).toEqual(made);
  });

  it("brings a first release's tables up to date and keeps their rows", async () => {
    const file = databaseFile();
    const old = new Database(file);
    old.exec(firstReleaseTables);
    old.close();
    const stores = openSqliteStores(file);
    try {
      expect(await stores.series.getSeries('aaaaaaaaaaaaaaaa')).toMatchObject({
        name: 'shop.requests',
        lastTimestamp: 60_000,
        kind: null,
        seasonality: null,
      });
      // Filed before keyed digests: no hash version, refiled on its next use.
      expect(await stores.keys.listKeys()).toEqual([
        {
          hash: 'legacy-digest',
          name: 'agents',
          scopes: ['ingest', 'read'],
          createdAt: 1000,
          revokedAt: null,
        },
      ]);
    } finally {
      stores.close();
    }
  });

  it('keeps the database file and its -wal and -shm readable by their owner only', () => {
    const file = databaseFile();
    const database = openSqliteDatabase(file);
    try {
      database.exec('INSERT INTO points (series_id, ts, value) VALUES (1, 1, 1)');
      for (const name of [file, `${file}-wal`, `${file}-shm`])
        expect(statSync(name).mode & 0o777).toBe(0o600);
    } finally {
      database.close();
    }
  });
});
