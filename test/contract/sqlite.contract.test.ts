import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localDocuments } from '../../functions/local/documents.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { now, queryContract } from './query-api.contract.ts';

queryContract('SQLite (local mode)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-contract-'));
  const stores = openSqliteStores(join(directory, 'normalcy.db'));
  return {
    dependencies: {
      metrics: stores.metrics,
      series: stores.series,
      bands: stores.bands,
      queries: stores.queries,
      keys: stores.keys,
      clock: { now: () => now },
      documents: localDocuments(),
    },
    async close() {
      stores.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
