import { afterAll, beforeAll } from 'vitest';
import { DynamoDbFeedbackStore } from '../../lib/adapters/dynamodb-feedback-store.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { describeFeedbackStoreContract } from './feedback-store.contract.ts';

/**
 * The FeedbackStore contract against SQLite (in memory) and against DynamoDB (dynalite, which evaluates the
 * adapter's condition and update expressions for real), the table shaped as the stack creates the alert table.
 */
const opened: SqliteStores[] = [];
let dynamo: LocalDynamoDb;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});

afterAll(async () => {
  for (const stores of opened) stores.close();
  await dynamo.close();
});

describeFeedbackStoreContract('SQLite', async () => {
  const stores = openSqliteStores(':memory:');
  opened.push(stores);
  return stores.feedback;
});

describeFeedbackStoreContract(
  'DynamoDB (dynalite)',
  async () => new DynamoDbFeedbackStore({ table: await dynamo.createAlertTable(), client: dynamo.client }),
);
