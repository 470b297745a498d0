import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAlertStore } from '../../lib/adapters/sqlite-alert-store.ts';
import { SqliteStore } from '../../lib/adapters/sqlite-store.ts';
import { describeAlertStoreContract } from '../contract/alert-store.contract.ts';

describeAlertStoreContract('SQLite', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-alerts-'));
  const sqlite = new SqliteStore(join(directory, 'normalcy.db'));
  return {
    store: new SqliteAlertStore(sqlite.database),
    async close() {
      sqlite.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
