import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localDocuments } from '../../functions/local/documents.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { TimestreamQueryStore } from '../../lib/adapters/timestream-query.ts';
import { TimestreamStore } from '../../lib/adapters/timestream-store.ts';
import { FakeTimestream } from './fake-timestream.ts';
import { metricStoreContract } from './metric-store.contract.ts';
import { now, queryContract } from './query-api.contract.ts';

const tables = { database: 'normalcy', pointsTable: 'points', bandsTable: 'bands' };

/** The points and bands store the cloud uses by default, on the fake Timestream (behind aws-sdk-client-mock). */
metricStoreContract('Timestream (cloud)', async () => {
  const fake = new FakeTimestream(tables);
  const store = new TimestreamStore({
    ...tables,
    writeClient: fake.writeClient,
    queryClient: fake.queryClient,
  });
  return { metrics: store, bands: store };
});

/**
 * The cloud's point and band stores (Timestream, behind aws-sdk-client-mock) with the catalog and keys in
 * SQLite; the DynamoDB catalog has its own request-level tests in test/adapters/dynamodb-catalog.test.ts.
 */
queryContract('Timestream (cloud)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-contract-'));
  const catalog = openSqliteStores(join(directory, 'normalcy.db'));
  const fake = new FakeTimestream(tables);
  const store = new TimestreamStore({
    ...tables,
    writeClient: fake.writeClient,
    queryClient: fake.queryClient,
  });
  return {
    dependencies: {
      metrics: store,
      bands: store,
      queries: new TimestreamQueryStore({ ...tables, client: fake.queryClient }),
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
