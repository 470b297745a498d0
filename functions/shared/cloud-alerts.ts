/**
 * Cloud composition for the alerts function: builds the adapters it needs from its environment, once per
 * container. Each function has its own composition file, so its bundle loads only its own SDK clients.
 */
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { DynamoDbFeedbackStore } from '../../lib/adapters/dynamodb-feedback-store.ts';
import { DynamoDbIncidentStore } from '../../lib/adapters/dynamodb-incident-store.ts';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { secretsManagerKeySecret } from '../../lib/adapters/secrets-manager-key-secret.ts';
import { TimestreamQueryStore } from '../../lib/adapters/timestream-query.ts';
import { cachedKeyStore } from '../../lib/keys.ts';
import { systemClock } from '../../lib/ports/clock.ts';
import { dataStore, timestreamTables } from './data-store.ts';
import type { AlertsDependencies } from './dependencies.ts';
import { alertTable, keySecretArn, stateBucket, stateTable } from './environment.ts';

export function cloudAlertsDependencies(): AlertsDependencies {
  const stateStore = new DynamoDbStateStore({
    table: stateTable(),
    keySecret: secretsManagerKeySecret(keySecretArn()),
  });
  // Replays read points and bands as the query function does (the store the stack chose).
  const store = dataStore();
  return {
    alerts: new DynamoDbAlertStore({ table: alertTable() }),
    incidents: new DynamoDbIncidentStore({ table: alertTable() }),
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
    series: stateStore,
    summaries: new S3StateStore({ bucket: stateBucket() }),
    queries: store instanceof DynamoDbMetricStore ? store : new TimestreamQueryStore(timestreamTables()),
    metrics: store,
    feedback: new DynamoDbFeedbackStore({ table: alertTable() }),
  };
}
