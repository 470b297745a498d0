/**
 * The cloud composition root: builds the adapters each function needs from its environment, once per
 * container. Only the adapters a function uses are built, so each bundle pulls in only its own SDK clients.
 */

import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { TimestreamQueryStore } from '../../lib/adapters/timestream-query.ts';
import { TimestreamStore } from '../../lib/adapters/timestream-store.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { bandSettingsFromEnvironment, minStepFromEnvironment } from '../../lib/bands/settings-from-env.ts';
import type { BandJobDependencies, BandJobOptions } from '../../lib/jobs/band-job.ts';
import { cachedKeyStore } from '../../lib/keys.ts';
import { type BandStore, type MetricStore, systemClock } from '../../lib/ports.ts';
import type { AlertsDependencies } from '../alerts.ts';
import type { IngestDependencies } from '../ingest.ts';
import type { QueryDependencies } from '../query.ts';
import { bundledDocuments } from './documents.ts';

/** Reads a required environment variable; a missing one is a deployment error, reported by name. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The points-and-bands store the stack chose (context normalcy:store). */
function dataStore(): (MetricStore & BandStore) | DynamoDbMetricStore {
  const store = process.env.NORMALCY_STORE ?? 'timestream';
  if (store === 'dynamodb') {
    return new DynamoDbMetricStore({
      table: requiredEnv('DATA_TABLE'),
      retentionDays: Number(requiredEnv('DATA_RETENTION_DAYS')),
    });
  }
  if (store !== 'timestream') throw new Error(`NORMALCY_STORE must be timestream or dynamodb, got ${store}`);
  return new TimestreamStore({
    database: requiredEnv('TIMESTREAM_DATABASE'),
    pointsTable: requiredEnv('TIMESTREAM_POINTS_TABLE'),
    bandsTable: requiredEnv('TIMESTREAM_BANDS_TABLE'),
  });
}

const state = () => new DynamoDbStateStore({ table: requiredEnv('STATE_TABLE') });
const alertStore = () => new DynamoDbAlertStore({ table: requiredEnv('ALERT_TABLE') });
/** The band job's state shards and the listing summaries (bucket STATE_BUCKET). */
const stateShards = () => new S3StateStore({ bucket: requiredEnv('STATE_BUCKET') });

export function cloudIngestDependencies(): IngestDependencies {
  const stateStore = state();
  const maxPointAgeDays = Number(process.env.NORMALCY_MAX_POINT_AGE_DAYS);
  return {
    metrics: dataStore(),
    series: stateStore,
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
    // The store's retention (Timestream's magnetic store, or DynamoDB's TTL): older points are refused.
    maxPointAgeMs: maxPointAgeDays > 0 ? maxPointAgeDays * 86_400_000 : undefined,
  };
}

export function cloudQueryDependencies(): QueryDependencies {
  const stateStore = state();
  const store = dataStore();
  return {
    metrics: store,
    bands: store,
    series: stateStore,
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
    queries:
      store instanceof DynamoDbMetricStore
        ? store
        : new TimestreamQueryStore({
            database: requiredEnv('TIMESTREAM_DATABASE'),
            pointsTable: requiredEnv('TIMESTREAM_POINTS_TABLE'),
            bandsTable: requiredEnv('TIMESTREAM_BANDS_TABLE'),
          }),
    documents: bundledDocuments(process.env.LAMBDA_TASK_ROOT ?? process.cwd()),
    summaries: stateShards(),
  };
}

export function cloudBandDependencies(): BandJobDependencies {
  const store = dataStore();
  return {
    metrics: store,
    bands: store,
    series: state(),
    states: stateShards(),
    alerts: alertStore(),
    notifier: new SnsNotifier({ topicArn: requiredEnv('ALERT_TOPIC_ARN') }),
    engine: defaultEngine,
    clock: systemClock,
  };
}

/** The band job's settings from the environment (read when the function starts). */
export function cloudBandOptions(): BandJobOptions {
  const dashboardUrl = process.env.NORMALCY_DASHBOARD_URL;
  const stateShards = Number(process.env.NORMALCY_STATE_SHARDS);
  const minStepMs = minStepFromEnvironment(process.env);
  return {
    ...(dashboardUrl && { dashboardUrl }),
    ...(Number.isInteger(stateShards) && stateShards > 0 && { stateShards }),
    settings: bandSettingsFromEnvironment(process.env),
    ...(minStepMs !== undefined && { minStepMs }),
  };
}

export function cloudAlertsDependencies(): AlertsDependencies {
  return { alerts: alertStore(), keys: cachedKeyStore(state()), clock: systemClock };
}
