import { afterAll, beforeAll } from 'vitest';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { metricStoreContract } from './metric-store.contract.ts';
import { seriesStoreContract } from './series-store.contract.ts';

/** The DynamoDB adapters against dynalite, a DynamoDB-compatible engine, through the real SDK client. */
let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(() => dynamo.close());

metricStoreContract('DynamoDB (dynalite)', async () => {
  const table = await dynamo.createDataTable();
  const store = new DynamoDbMetricStore({ table, retentionDays: 30, client: dynamo.client });
  return { metrics: store, bands: store };
});

seriesStoreContract('DynamoDB (dynalite)', async () => {
  const table = await dynamo.createStateTable();
  const store = new DynamoDbStateStore({ table, client: dynamo.client });
  return { series: store, keys: store };
});
