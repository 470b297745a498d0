/**
 * AWS prices the cost model uses: us-east-1, on-demand, as listed on each service's pricing page in November
 * 2026 (the figures issue 7 gives; docs/cost.md has the same table). One place: change a price here.
 */
import type { DynamoTableClass } from '../../cdk/settings.ts';

export const pricesAsOf = '2026-11 (us-east-1 pricing pages)';

export const prices = {
  /** API Gateway HTTP API, per request (first 300 million a month). */
  httpApiRequest: 1.0 / 1e6,
  /** Lambda on arm64, per GB-second, and per request. */
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** Timestream for LiveAnalytics: per 1-KiB write, memory store per GB-hour, magnetic per GB-month. */
  timestreamWriteUnit: 0.5 / 1e6,
  timestreamMemoryGbHour: 0.036,
  timestreamMagneticGbMonth: 0.03,
  /** Timestream queries: per GB scanned, at least 10 MB a query. */
  timestreamQueryGb: 0.01,
  timestreamQueryMinimumBytes: 10 * 1024 * 1024,
  /** DynamoDB on demand: per write request unit (1 KB), per read request unit (4 KB), storage per GB-month. */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoGbMonth: 0.25,
  /** The Standard-Infrequent Access table class: requests 25 % dearer, storage $0.10 per GB-month. */
  dynamoIaRequestFactor: 1.25,
  dynamoIaGbMonth: 0.1,
  /** S3 Standard: PUT and GET per request, storage per GB-month. */
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  s3GbMonth: 0.023,
  /**
   * Step Functions: a Standard workflow per state transition; an Express workflow per request and per GB-second
   * of its own memory (billed in 64 MB steps, 100 ms at least; first 1,000 GB-hours a month).
   */
  stepFunctionsStandardTransition: 0.025 / 1000,
  stepFunctionsExpressRequest: 1.0 / 1e6,
  stepFunctionsExpressGbSecond: 0.00001667,
  /** SNS publishes, per request. */
  snsPublish: 0.5 / 1e6,
  /** CloudWatch Logs ingestion, per GB. */
  logsIngestGb: 0.5,
  /** CloudWatch: a custom metric per month; a standard alarm per month (an anomaly-detection alarm is 3). */
  cloudWatchMetricMonth: 0.3,
  cloudWatchAlarmMonth: 0.1,
  cloudWatchAnomalyAlarmFactor: 3,
} as const;

/** Hours in a month, as AWS prices monthly usage. */
export const hoursPerMonth = 730;

/** DynamoDB's prices for a table class: per write unit, per read unit, per GB-month stored. */
export function dynamoPrices(tableClass: DynamoTableClass = 'standard'): {
  readonly writeUnit: number;
  readonly readUnit: number;
  readonly gbMonth: number;
} {
  const ia = tableClass === 'infrequent-access';
  const factor = ia ? prices.dynamoIaRequestFactor : 1;
  return {
    writeUnit: prices.dynamoWriteUnit * factor,
    readUnit: prices.dynamoReadUnit * factor,
    gbMonth: ia ? prices.dynamoIaGbMonth : prices.dynamoGbMonth,
  };
}
