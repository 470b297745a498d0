import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { localDocuments } from '../../functions/local/documents.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { TimestreamQueryStore } from '../../lib/adapters/timestream-query.ts';
import { TimestreamStore } from '../../lib/adapters/timestream-store.ts';
import { FakeTimestream } from './fake-timestream.ts';
import { now, queryContract } from './query-api.contract.ts';

/**
 * The cloud's point and band stores (Timestream, behind aws-sdk-client-mock) with the catalog and keys in
 * SQLite; the DynamoDB catalog has its own request-level tests in test/adapters/dynamodb-catalog.test.ts.
 */
queryContract('Timestream (cloud)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-contract-'));
  const catalog = openSqliteStores(join(directory, 'normalcy.db'));
  const fake = new FakeTimestream({ points: 'points', bands: 'bands' });
  const tables = { database: 'normalcy', pointsTable: 'points', bandsTable: 'bands' };
  const queryClient = new TimestreamQueryClient({ region: 'eu-west-1' });
  const store = new TimestreamStore({
    ...tables,
    writeClient: new TimestreamWriteClient({ region: 'eu-west-1' }),
    queryClient,
  });
  return {
    dependencies: {
      metrics: store,
      bands: store,
      queries: new TimestreamQueryStore({ ...tables, client: queryClient }),
      series: catalog.series,
      keys: catalog.keys,
      clock: { now: () => now },
      documents: localDocuments(),
    },
    async close() {
      fake.reset();
      catalog.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
