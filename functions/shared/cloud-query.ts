/**
 * Cloud composition for the query function: builds the adapters it needs from its environment, once per
 * container. Each function has its own composition file, so its bundle loads only its own SDK clients.
 */
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { secretsManagerKeySecret } from '../../lib/adapters/secrets-manager-key-secret.ts';
import { TimestreamQueryStore } from '../../lib/adapters/timestream-query.ts';
import { cachedKeyStore } from '../../lib/keys.ts';
import { systemClock } from '../../lib/ports/clock.ts';
import { dataStore, timestreamTables } from './data-store.ts';
import type { QueryDependencies } from './dependencies.ts';
import { bundledDocuments } from './documents.ts';
import { keySecretArn, stateBucket, stateTable } from './environment.ts';

export function cloudQueryDependencies(): QueryDependencies {
  const stateStore = new DynamoDbStateStore({
    table: stateTable(),
    keySecret: secretsManagerKeySecret(keySecretArn()),
  });
  const store = dataStore();
  return {
    metrics: store,
    bands: store,
    series: stateStore,
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
    queries: store instanceof DynamoDbMetricStore ? store : new TimestreamQueryStore(timestreamTables()),
    documents: bundledDocuments(process.env.LAMBDA_TASK_ROOT ?? process.cwd()),
    summaries: new S3StateStore({ bucket: stateBucket() }),
  };
}
