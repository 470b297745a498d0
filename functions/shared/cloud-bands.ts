/**
 * Cloud composition for the band job function: builds the adapters it needs from its environment, once per
 * container. Each function has its own composition file, so its bundle loads only its own SDK clients.
 */
import { AlertmanagerNotifier, firingWindowFor } from '../../lib/adapters/alertmanager-notifier.ts';
import { FanOutNotifier } from '../../lib/adapters/console-notifier.ts';
import { DynamoDbIncidentStore } from '../../lib/adapters/dynamodb-incident-store.ts';
import { secretsManagerString } from '../../lib/adapters/secrets-manager-string.ts';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { bandSettingsFromEnvironment, minStepFromEnvironment } from '../../lib/bands/settings-from-env.ts';
import type { BandJobDependencies, BandJobOptions } from '../../lib/jobs/band-job.ts';
import { cloudBandWorkerDependencies } from './cloud-band-fanout.ts';
import {
  alertmanagerUrlEnv,
  alertTable,
  incidentSettingsEnv,
  positiveNumberEnv,
  requiredEnv,
  timeZoneEnv,
} from './environment.ts';

export function cloudBandDependencies(): BandJobDependencies {
  // A worker's adapters (cloud-band-fanout.ts), and what delivery needs besides: incidents and the notifier.
  return {
    ...cloudBandWorkerDependencies(),
    incidents: new DynamoDbIncidentStore({ table: alertTable() }),
    notifier: cloudNotifier(),
  };
}

/**
 * The alert topic, and Alertmanager after it when `NORMALCY_ALERTMANAGER_URL` is set (the stack sets it from
 * `normalcy:alertmanagerUrl`) or `NORMALCY_ALERTMANAGER_SECRET` names a Secrets Manager secret holding the URL
 * (from `normalcy:alertmanagerSecret`: credentials stay out of the template and the environment; it is read
 * when the first alert is posted). SNS goes first: a transition Alertmanager refused is published again on its
 * retry, with the same transition id (the deduplication id on a FIFO topic), rather than held from the topic.
 */
function cloudNotifier(): BandJobDependencies['notifier'] {
  const topic = new SnsNotifier({ topicArn: requiredEnv('ALERT_TOPIC_ARN') });
  const secret = process.env.NORMALCY_ALERTMANAGER_SECRET?.trim();
  const alertmanagerUrl = secret ? secretsManagerString(secret) : alertmanagerUrlEnv();
  if (!alertmanagerUrl) return topic;
  const bandIntervalMs = positiveNumberEnv('NORMALCY_BAND_INTERVAL_MS') ?? 60_000;
  return new FanOutNotifier([
    topic,
    new AlertmanagerNotifier({ url: alertmanagerUrl, firingWindowMs: firingWindowFor(bandIntervalMs) }),
  ]);
}

/** The band job's settings from the environment (read when the function starts). */
export function cloudBandOptions(): BandJobOptions {
  const dashboardUrl = process.env.NORMALCY_DASHBOARD_URL;
  const stateShards = positiveNumberEnv('NORMALCY_STATE_SHARDS', { integer: true });
  const minStepMs = minStepFromEnvironment(process.env);
  const timeZone = timeZoneEnv('NORMALCY_TIME_ZONE');
  return {
    ...(dashboardUrl && { dashboardUrl }),
    ...(stateShards !== undefined && { stateShards }),
    settings: bandSettingsFromEnvironment(process.env),
    ...(minStepMs !== undefined && { minStepMs }),
    incidents: incidentSettingsEnv(),
    ...(timeZone !== undefined && { timeZone }),
  };
}
