/**
 * Cloud composition for the alerts function: builds the adapters it needs from its environment, once per
 * container. Each function has its own composition file, so its bundle loads only its own SDK clients.
 */
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { secretsManagerKeySecret } from '../../lib/adapters/secrets-manager-key-secret.ts';
import { cachedKeyStore } from '../../lib/keys.ts';
import { systemClock } from '../../lib/ports.ts';
import type { AlertsDependencies } from '../alerts.ts';
import { alertTable, keySecretArn, stateTable } from './environment.ts';

export function cloudAlertsDependencies(): AlertsDependencies {
  return {
    alerts: new DynamoDbAlertStore({ table: alertTable() }),
    keys: cachedKeyStore(
      new DynamoDbStateStore({
        table: stateTable(),
        keySecret: secretsManagerKeySecret(keySecretArn()),
      }),
    ),
    clock: systemClock,
  };
}
