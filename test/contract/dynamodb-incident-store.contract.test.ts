import { afterAll, beforeAll } from 'vitest';
import { DynamoDbIncidentStore } from '../../lib/adapters/dynamodb-incident-store.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { describeIncidentStoreContract } from './incident-store.contract.ts';

/**
 * The IncidentStore contract against a DynamoDB that evaluates the adapter's condition, update and key
 * expressions for real (dynalite, in memory), in the alert table shaped as the stack creates it.
 */
let dynamo: LocalDynamoDb;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});

afterAll(() => dynamo.close());

describeIncidentStoreContract('DynamoDB (dynalite)', async () => ({
  store: new DynamoDbIncidentStore({ table: await dynamo.createAlertTable(), client: dynamo.client }),
  close: async () => {},
}));
