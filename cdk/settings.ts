import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { isTimeZone } from '../lib/alerts/mutes.ts';
import { defaultStateShards } from '../lib/jobs/state-shards.ts';
import { niceStepsMs } from '../lib/metrics/step.ts';

/** Every setting the stack reads from CDK context (`cdk.json` or `-c normalcy:key=value`), with its default. */
/** Where points and bands live: Timestream (the default) or DynamoDB (for accounts without Timestream). */
export const storeChoices = ['timestream', 'dynamodb'] as const;
export type StoreChoice = (typeof storeChoices)[number];
export const dynamoTableClasses = ['standard', 'infrequent-access'] as const;
export type DynamoTableClass = (typeof dynamoTableClasses)[number];

export interface StackSettings {
  readonly store: StoreChoice;
  /** Days points and bands are kept in DynamoDB (TTL) when store=dynamodb. */
  readonly dynamoRetentionDays: number;
  /** EventBridge schedule expression of the band job. */
  readonly bandSchedule: string;
  /**
   * Hours a point stays in Timestream's memory store (fast writes and point queries). The band job reads only
   * the last minutes; older data is read from the magnetic store. The memory store is the largest cost at
   * 24 h (docs/cost.md).
   */
  readonly memoryRetentionHours: number;
  /** Days a point stays in Timestream's magnetic store. */
  readonly magneticRetentionDays: number;
  /** An email address subscribed to the alert topic, if any. */
  readonly alertEmail: string | undefined;
  /** An email address subscribed to the operations topic (the stack's own alarms), if any. */
  readonly opsEmail: string | undefined;
  /** Days the functions' logs are kept. */
  readonly logRetentionDays: RetentionDays;
  /** Steady requests per second the API stage accepts, and the burst above it. */
  readonly apiRateLimit: number;
  readonly apiBurstLimit: number;
  /** The smallest step (seconds) a series is aggregated to, and the step of a series too sparse to show its own. */
  readonly minStepSeconds: number;
  /** The band engine's default sensitivity, 0 (page only for the extreme) to 1. */
  readonly sensitivity: number;
  /** The dashboard's base URL alert links point to (default: the API's URL). */
  readonly dashboardUrl: string | undefined;
  /**
   * Shards of the band job's state (S3 objects): about 1,000 to 6,000 series each. It can change on a running
   * deployment: the next run moves every series' state to the new count's shards (lib/jobs/reshard.ts).
   */
  readonly stateShards: number;
  /** Minutes within which related alerts join one incident, and the shortest time between its UPDATEs. */
  readonly incidentWindowMinutes: number;
  readonly incidentUpdateMinutes: number;
  /** The IANA time zone alerts are explained in (the season a band judged by, the times). */
  readonly timeZone: string;
  /** Alertmanager's base URL, if alerts go there too (docs/alerts.md); it may carry Basic auth credentials. */
  readonly alertmanagerUrl: string | undefined;
  /** The name of a Secrets Manager secret whose string is the Alertmanager URL (instead of alertmanagerUrl). */
  readonly alertmanagerSecret: string | undefined;
  /**
   * The DynamoDB data table's class when store=dynamodb: `standard`, or `infrequent-access` (storage at 40 % of
   * the price, requests 25 % dearer: it pays once the table holds about eight months of points).
   */
  readonly dynamoTableClass: DynamoTableClass;
}

const logRetentionChoices = Object.values(RetentionDays).filter(
  (value): value is number => typeof value === 'number',
);

export function readSettings(node: Node): StackSettings {
  const context = (name: string) => node.tryGetContext(`normalcy:${name}`);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = context(name);
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`context normalcy:${name} must be a number from ${min} to ${max}, got ${String(raw)}`);
    }
    return value;
  };
  const email = (name: string) => {
    const value = String(context(name) ?? '').trim();
    return value === '' ? undefined : value;
  };
  const logRetentionDays = number('logRetentionDays', 30, 1, 3653);
  if (!logRetentionChoices.includes(logRetentionDays)) {
    throw new Error(`context normalcy:logRetentionDays must be one of ${logRetentionChoices.join(', ')}`);
  }
  const store = String(context('store') ?? 'timestream');
  if (!(storeChoices as readonly string[]).includes(store)) {
    throw new Error(`context normalcy:store must be one of ${storeChoices.join(', ')}, got ${store}`);
  }
  const dashboardUrl = String(context('dashboardUrl') ?? '').trim();
  if (dashboardUrl !== '' && !/^https?:\/\/\S+$/.test(dashboardUrl)) {
    throw new Error(`context normalcy:dashboardUrl must be an http(s) URL, got ${dashboardUrl}`);
  }
  const timeZone = String(context('timeZone') ?? 'UTC').trim() || 'UTC';
  if (!isTimeZone(timeZone)) {
    throw new Error(
      `context normalcy:timeZone must be an IANA time zone such as Europe/Paris, got ${timeZone}`,
    );
  }
  const alertmanagerUrl = String(context('alertmanagerUrl') ?? '').trim();
  if (alertmanagerUrl !== '' && !/^https?:\/\/\S+$/.test(alertmanagerUrl)) {
    // Not repeated: it may carry credentials.
    throw new Error(
      'context normalcy:alertmanagerUrl must be an http(s) URL such as http://alertmanager:9093',
    );
  }
  const dynamoTableClass = String(context('dynamoTableClass') ?? 'standard').trim();
  if (!(dynamoTableClasses as readonly string[]).includes(dynamoTableClass)) {
    throw new Error(
      `context normalcy:dynamoTableClass must be one of ${dynamoTableClasses.join(', ')}, got ${dynamoTableClass}`,
    );
  }
  const alertmanagerSecret = String(context('alertmanagerSecret') ?? '').trim();
  if (alertmanagerSecret !== '' && !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(alertmanagerSecret)) {
    throw new Error(
      'context normalcy:alertmanagerSecret must be the name of a Secrets Manager secret (letters, digits and /_+=.@-), not an ARN',
    );
  }
  if (alertmanagerSecret !== '' && alertmanagerUrl !== '') {
    throw new Error(
      'context normalcy:alertmanagerUrl and normalcy:alertmanagerSecret: give one of them, not both',
    );
  }

  return {
    store: store as StoreChoice,
    dynamoRetentionDays: number('dynamoRetentionDays', 400, 1, 36_500),
    bandSchedule: String(context('bandSchedule') ?? 'rate(1 minute)'),
    memoryRetentionHours: number('memoryRetentionHours', 2, 1, 8766),
    magneticRetentionDays: number('magneticRetentionDays', 400, 1, 73_000),
    alertEmail: email('alertEmail'),
    opsEmail: email('opsEmail'),
    logRetentionDays: logRetentionDays as RetentionDays,
    apiRateLimit: number('apiRateLimit', 500, 1, 10_000),
    apiBurstLimit: number('apiBurstLimit', 1000, 1, 5000),
    dashboardUrl: dashboardUrl === '' ? undefined : dashboardUrl,
    sensitivity: number('sensitivity', 0.5, 0, 1),
    minStepSeconds: minStepSeconds(number('minStepSeconds', 60, 60, 86_400)),
    stateShards: number('stateShards', defaultStateShards, 1, 256),
    incidentWindowMinutes: number('incidentWindowMinutes', 10, 1, 1440),
    incidentUpdateMinutes: number('incidentUpdateMinutes', 5, 1, 1440),
    timeZone,
    alertmanagerUrl: alertmanagerUrl === '' ? undefined : alertmanagerUrl,
    alertmanagerSecret: alertmanagerSecret === '' ? undefined : alertmanagerSecret,
    dynamoTableClass: dynamoTableClass as DynamoTableClass,
  };
}

/**
 * The interval of an EventBridge `rate(...)` expression in milliseconds, undefined for a `cron(...)` one.
 *
 * @example scheduleIntervalMs('rate(5 minutes)') // 300_000
 */
export function scheduleIntervalMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (\w+)\)$/.exec(expression.trim());
  const unit = match ? rateUnitsMs[match[2] ?? ''] : undefined;
  return match && unit !== undefined ? Number(match[1]) * unit : undefined;
}

const rateUnitsMs: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** A smallest step must be one of the steps series are kept at (each divides a day). */
function minStepSeconds(seconds: number): number {
  if (!(niceStepsMs as readonly number[]).includes(seconds * 1000)) {
    throw new Error(
      `context normalcy:minStepSeconds must be one of ${niceStepsMs.map((step) => step / 1000).join(', ')}`,
    );
  }
  return seconds;
}
