import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localDocuments } from '../../functions/local/documents.ts';
import { SqliteStore } from '../../lib/adapters/sqlite-store.ts';
import { now, queryContract } from './query-api.contract.ts';

queryContract('SQLite (local mode)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-contract-'));
  const store = new SqliteStore(join(directory, 'normalcy.db'));
  return {
    dependencies: {
      metrics: store,
      series: store,
      bands: store,
      queries: store,
      keys: store,
      clock: { now: () => now },
      documents: localDocuments(),
    },
    async close() {
      store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
