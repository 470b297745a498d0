/**
 * The cloud composition root: builds the adapters each function needs from its environment, once per
 * container. Only the adapters a function uses are built, so each bundle pulls in only its own SDK clients.
 */
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { TimestreamStore } from '../../lib/adapters/timestream-store.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import type { BandJobDependencies } from '../../lib/jobs/band-job.ts';
import { cachedKeyStore } from '../../lib/keys.ts';
import { systemClock } from '../../lib/ports.ts';
import type { IngestDependencies } from '../ingest.ts';
import type { QueryDependencies } from '../query.ts';

/** Reads a required environment variable; a missing one is a deployment error, reported by name. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const timestream = () =>
  new TimestreamStore({
    database: requiredEnv('TIMESTREAM_DATABASE'),
    pointsTable: requiredEnv('TIMESTREAM_POINTS_TABLE'),
    bandsTable: requiredEnv('TIMESTREAM_BANDS_TABLE'),
  });

const state = () => new DynamoDbStateStore({ table: requiredEnv('STATE_TABLE') });

export function cloudIngestDependencies(): IngestDependencies {
  const stateStore = state();
  const maxPointAgeDays = Number(process.env.NORMALCY_MAX_POINT_AGE_DAYS);
  return {
    metrics: timestream(),
    series: stateStore,
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
    // The magnetic store's retention: Timestream refuses older records.
    maxPointAgeMs: maxPointAgeDays > 0 ? maxPointAgeDays * 86_400_000 : undefined,
  };
}

export function cloudQueryDependencies(): QueryDependencies {
  const stateStore = state();
  const store = timestream();
  return {
    metrics: store,
    bands: store,
    series: stateStore,
    keys: cachedKeyStore(stateStore),
    clock: systemClock,
  };
}

export function cloudBandDependencies(): BandJobDependencies {
  const store = timestream();
  return {
    metrics: store,
    bands: store,
    series: state(),
    notifier: new SnsNotifier({ topicArn: requiredEnv('ALERT_TOPIC_ARN') }),
    engine: defaultEngine,
    clock: systemClock,
  };
}
