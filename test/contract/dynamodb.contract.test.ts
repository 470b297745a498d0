import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { localDocuments } from '../../functions/local/documents.ts';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { now, queryContract } from './query-api.contract.ts';

/**
 * The query routes with points and bands in DynamoDB (the stack's store=dynamodb), on dynalite through the real
 * SDK client, and the catalog and keys in SQLite.
 */
let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(() => dynamo.close());

queryContract('DynamoDB (cloud, store=dynamodb)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-contract-'));
  const catalog = openSqliteStores(join(directory, 'normalcy.db'));
  const store = new DynamoDbMetricStore({
    table: await dynamo.createDataTable(),
    retentionDays: 400,
    client: dynamo.client,
  });
  return {
    dependencies: {
      metrics: store,
      bands: store,
      queries: store,
      series: catalog.series,
      keys: catalog.keys,
      clock: { now: () => now },
      documents: localDocuments(),
    },
    async close() {
      catalog.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
