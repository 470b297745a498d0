/**
 * Cloud composition for the ingest function: builds the adapters it needs from its environment, once per
 * container. Each function has its own composition file, so its bundle loads only its own SDK clients.
 */
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { secretsManagerKeySecret } from '../../lib/adapters/secrets-manager-key-secret.ts';
import { cachedKeyStore } from '../../lib/keys.ts';
import { systemClock } from '../../lib/ports/clock.ts';
import { dayMs } from '../../lib/time.ts';
import { dataStore } from './data-store.ts';
import type { IngestDependencies } from './dependencies.ts';
import { keySecretArn, positiveNumberEnv, stateTable } from './environment.ts';

export function cloudIngestDependencies(): IngestDependencies {
  const stateStore = new DynamoDbStateStore({
    table: stateTable(),
    keySecret: secretsManagerKeySecret(keySecretArn()),
  });
  const maxPointAgeDays = positiveNumberEnv('NORMALCY_MAX_POINT_AGE_DAYS');
  return {
    metrics: dataStore(),
    series: stateStore,
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
    // The store's retention (Timestream's magnetic store, or DynamoDB's TTL): older points are refused.
    maxPointAgeMs: maxPointAgeDays === undefined ? undefined : maxPointAgeDays * dayMs,
  };
}
