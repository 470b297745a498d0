import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { describeAlertStoreContract } from '../contract/alert-store.contract.ts';

describeAlertStoreContract('SQLite', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-alerts-'));
  const sqlite = openSqliteStores(join(directory, 'normalcy.db'));
  return {
    store: sqlite.alerts,
    async close() {
      sqlite.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
