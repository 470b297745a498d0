import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { KeyDigester, type KeySecretSource, minKeySecretBytes } from '../keys.ts';
import type { ApiKeyRecord, KeyHashVersion, KeyScope, KeyStore } from '../ports/key-store.ts';
import { localKeySecret } from './local-key-files.ts';
import { isOnDisk } from './sqlite-database.ts';

interface KeyRow {
  hash: string;
  name: string;
  scopes: string;
  created_at: number;
  revoked_at: number | null;
  hash_version: KeyHashVersion | null;
}

/**
 * Local mode's API keys (the `api_keys` table of the shared database, see sqlite-database.ts), filed by their
 * keyed digest under `keySecret` (see sqliteKeySecret for local mode's).
 */
export class SqliteKeyStore implements KeyStore {
  private readonly keyDigester: KeyDigester;

  constructor(
    private readonly database: Database.Database,
    keySecret: KeySecretSource,
  ) {
    this.keyDigester = new KeyDigester(keySecret);
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
 * Local mode's key secret: the file `key-secret` beside the database file `file`, read (or made, mode 0600)
 * now, so that a missing one is reported at start. When keys were already filed under a secret, a missing
 * file is an error rather than a new secret. For a database in memory, random bytes that live as long as it.
 */
export function sqliteKeySecret(database: Database.Database, file: string): KeySecretSource {
  if (!isOnDisk(file)) {
    const secret = randomBytes(minKeySecretBytes);
    return () => secret;
  }
  const keyed = database
    .prepare<[], { found: number }>('SELECT 1 AS found FROM api_keys WHERE hash_version IS NOT NULL LIMIT 1')
    .get();
  const secret = localKeySecret(dirname(file), { mustExist: keyed !== undefined });
  return () => secret;
}

const toKey = (row: KeyRow): ApiKeyRecord => ({
  hash: row.hash,
  name: row.name,
  scopes: row.scopes.split(',').filter(Boolean) as KeyScope[],
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  ...(row.hash_version !== null && { hashVersion: row.hash_version }),
});
