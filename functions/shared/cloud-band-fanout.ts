/**
 * Cloud composition for the fanned-out band job (cdk/band-fanout.ts): the worker's adapters (no notifier: a
 * worker delivers nothing) and the summary parts the workers leave for the run's last step.
 */
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { DynamoDbFeedbackStore } from '../../lib/adapters/dynamodb-feedback-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { S3SummaryPartStore } from '../../lib/adapters/s3-summary-parts.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import type { BandWorkerDependencies } from '../../lib/jobs/band-fanout.ts';
import { systemClock } from '../../lib/ports/clock.ts';
import type { SummaryPartStore } from '../../lib/ports/summary-part-store.ts';
import { dataStore } from './data-store.ts';
import { alertTable, stateBucket, stateTable } from './environment.ts';

export function cloudBandWorkerDependencies(): BandWorkerDependencies {
  const store = dataStore();
  return {
    metrics: store,
    bands: store,
    series: new DynamoDbStateStore({ table: stateTable() }),
    states: new S3StateStore({ bucket: stateBucket() }),
    alerts: new DynamoDbAlertStore({ table: alertTable() }),
    feedback: new DynamoDbFeedbackStore({ table: alertTable() }),
    engine: defaultEngine,
    clock: systemClock,
  };
}

export const cloudSummaryParts = (): SummaryPartStore => new S3SummaryPartStore({ bucket: stateBucket() });
