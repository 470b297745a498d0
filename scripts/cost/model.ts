/**
 * The monthly cost of running Normalcy for a number of series, from what the code measurably does: requests
 * and metered units per ingest request and per band-job run (measured by running the cloud adapters against
 * counting fakes), band-job CPU time and state size per series (from `npm run bench:bands`), and the prices
 * in prices.ts. Pure: scripts/cost.ts measures, this prices.
 */
import type { DynamoTableClass } from '../../cdk/settings.ts';
import { dynamoPrices, hoursPerMonth, prices } from './prices.ts';

export type PointsStore = 'timestream' | 'dynamodb';

/** What the deployment looks like. */
export interface Deployment {
  readonly series: number;
  /** Seconds between two points of a series (and between two band buckets). */
  readonly resolutionSeconds: number;
  /** Series per ingest request (one point each): how agents batch. */
  readonly seriesPerRequest: number;
  /** Band job runs a month (the schedule: once a minute). */
  readonly runsPerMonth: number;
  readonly stateShards: number;
  /** Timestream memory store retention (hours) and magnetic / DynamoDB retention (days). */
  readonly memoryRetentionHours: number;
  readonly retentionDays: number;
  /** Lambda memory of the ingest and band functions (GB). */
  readonly ingestMemoryGb: number;
  readonly bandsMemoryGb: number;
  /** Assumed latencies (no benchmark here has a network): one AWS round trip, one Timestream query. */
  readonly roundTripMs: number;
  readonly queryMs: number;
  /** The DynamoDB table class of the data table (`normalcy:dynamoTableClass`); standard when absent. */
  readonly dynamoTableClass?: DynamoTableClass;
}

/** What the code was measured to do (see scripts/cost.ts for how each figure is obtained). */
export interface Measured {
  /** One ingest request of `seriesPerRequest` points: store requests, metered write units, bytes stored. */
  readonly ingest: {
    readonly requests: number;
    readonly writeUnits: number;
    /** Sequential round trips the request waits for. */
    readonly roundTrips: number;
    /** Bytes a point takes in the store (the metered size for Timestream, the item size for DynamoDB). */
    readonly storedBytesPerPoint: number;
    readonly cpuMs: number;
  };
  /** One band per series: write requests and units per band, bytes stored per band. */
  readonly bands: {
    readonly requestsPerBand: number;
    readonly unitsPerBand: number;
    readonly storedBytes: number;
  };
  /** One band-job run: bulk-read queries, their pages or read units, and the bytes a query scans per series. */
  readonly read: {
    readonly queriesPerRun: number;
    readonly readUnitsPerSeries: number;
    readonly scannedBytesPerSeries: number;
  };
  /** DynamoDB only: the band job's folding of the logs into series-hour items, write units per point. */
  readonly compaction?: { readonly unitsPerPoint: number };
  /** Band-job CPU seconds per series and run (bench:bands, warm run), gzip'd state bytes per series. */
  readonly cpuSecondsPerSeries: number;
  readonly stateBytesPerSeries: number;
}

export interface LineItem {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthly: number;
  readonly source: string;
}

export interface Estimate {
  readonly store: PointsStore;
  readonly items: LineItem[];
  /** Everything but the growth of long-term storage: requests, compute, hot storage. */
  readonly running: number;
  /** Long-term storage once the retention is full (it grows to this over the retention period). */
  readonly storageAtFullRetention: number;
  readonly perSeriesMonth: { readonly running: number; readonly atFullRetention: number };
  readonly cloudWatchPerSeriesMonth: number;
}

/** CloudWatch's price for one series watched like Normalcy watches it: a custom metric and an anomaly alarm. */
export const cloudWatchPerSeriesMonth =
  prices.cloudWatchMetricMonth + prices.cloudWatchAnomalyAlarmFactor * prices.cloudWatchAlarmMonth;

/** Prices one deployment on one points store. */
export function estimate(store: PointsStore, deployment: Deployment, measured: Measured): Estimate {
  const d = deployment;
  const pointsPerMonth = d.series * ((hoursPerMonth * 3600) / d.resolutionSeconds);
  const requestsPerMonth = pointsPerMonth / d.seriesPerRequest;
  const bandsPerMonth = pointsPerMonth;
  const items: LineItem[] = [];
  const add = (item: string, quantity: number, unit: string, price: number, source: string) =>
    items.push({ item, quantity, unit, monthly: quantity * price, source });

  add(
    'API Gateway HTTP API requests',
    requestsPerMonth,
    'requests',
    prices.httpApiRequest,
    'points ÷ series per request',
  );
  add('Lambda requests (ingest)', requestsPerMonth, 'requests', prices.lambdaRequest, 'one per API request');
  const ingestSeconds = (measured.ingest.cpuMs + measured.ingest.roundTrips * d.roundTripMs) / 1000;
  add(
    'Lambda GB-s (ingest)',
    requestsPerMonth * ingestSeconds * d.ingestMemoryGb,
    'GB-s',
    prices.lambdaArmGbSecond,
    `${measured.ingest.cpuMs.toFixed(2)} ms CPU (bench:ingest) + ${measured.ingest.roundTrips} round trip(s) × ${d.roundTripMs} ms (assumed)`,
  );
  add(
    'Lambda requests (band job)',
    d.runsPerMonth,
    'requests',
    prices.lambdaRequest,
    'schedule: once a minute',
  );
  const shardRoundTrips = 4 + 2 * d.stateShards;
  const runSeconds =
    measured.cpuSecondsPerSeries * d.series + (d.queryMs + shardRoundTrips * d.roundTripMs) / 1000;
  add(
    'Lambda GB-s (band job)',
    d.runsPerMonth * runSeconds * d.bandsMemoryGb,
    'GB-s',
    prices.lambdaArmGbSecond,
    `${(measured.cpuSecondsPerSeries * 1000).toFixed(3)} ms per series (bench:bands, warm) + query ${d.queryMs} ms + ${shardRoundTrips} round trips (assumed latencies)`,
  );

  const storedPerMonth =
    pointsPerMonth * measured.ingest.storedBytesPerPoint + bandsPerMonth * measured.bands.storedBytes;
  let storageAtFullRetention = 0;
  if (store === 'timestream') {
    add(
      'Timestream writes (points)',
      requestsPerMonth * measured.ingest.writeUnits,
      '1-KiB writes',
      prices.timestreamWriteUnit,
      `${measured.ingest.writeUnits} units in ${measured.ingest.requests} WriteRecords per ingest request (measured)`,
    );
    add(
      'Timestream writes (bands)',
      bandsPerMonth * measured.bands.unitsPerBand,
      '1-KiB writes',
      prices.timestreamWriteUnit,
      `${measured.bands.unitsPerBand.toFixed(3)} units per band, 100 records per WriteRecords (measured)`,
    );
    const scanned = Math.max(
      prices.timestreamQueryMinimumBytes,
      measured.read.scannedBytesPerSeries * d.series,
    );
    add(
      'Timestream queries (band job bulk read)',
      (d.runsPerMonth * measured.read.queriesPerRun * scanned) / 1e9,
      'GB scanned',
      prices.timestreamQueryGb,
      `${measured.read.queriesPerRun} query per run (measured), ${(scanned / 1e6).toFixed(1)} MB billed each (10 MB minimum)`,
    );
    const memoryGb = ((storedPerMonth / hoursPerMonth) * d.memoryRetentionHours) / 1e9;
    add(
      'Timestream memory store',
      memoryGb * hoursPerMonth,
      'GB-hours',
      prices.timestreamMemoryGbHour,
      `${d.memoryRetentionHours} h of points and bands kept in memory`,
    );
    const monthGb = storedPerMonth / 1e9;
    add(
      'Timestream magnetic store (first month)',
      monthGb / 2,
      'GB-months',
      prices.timestreamMagneticGbMonth,
      'half a month of data on average; grows each month',
    );
    storageAtFullRetention = monthGb * (d.retentionDays / 30.4) * prices.timestreamMagneticGbMonth;
  } else {
    const dynamo = dynamoPrices(d.dynamoTableClass);
    add(
      'DynamoDB writes (points log)',
      requestsPerMonth * measured.ingest.writeUnits,
      'write units',
      dynamo.writeUnit,
      `${measured.ingest.writeUnits} units in ${measured.ingest.requests} request(s) per ingest request (measured)`,
    );
    add(
      'DynamoDB writes (bands log)',
      bandsPerMonth * measured.bands.unitsPerBand,
      'write units',
      dynamo.writeUnit,
      `${measured.bands.unitsPerBand.toFixed(3)} units per band: log items of a bucket of series each (measured)`,
    );
    add(
      'DynamoDB writes (compaction into series-hour items)',
      pointsPerMonth * (measured.compaction?.unitsPerPoint ?? 0),
      'write units',
      dynamo.writeUnit,
      `${((measured.compaction?.unitsPerPoint ?? 0) * 60).toFixed(0)} units per series-hour: its points and its bands, once (measured)`,
    );
    add(
      'DynamoDB reads (band job bulk read)',
      d.runsPerMonth * measured.read.readUnitsPerSeries * d.series,
      'read units',
      dynamo.readUnit,
      `${measured.read.queriesPerRun} Query per run on the recent-points log (bench:bands)`,
    );
    const monthGb = storedPerMonth / 1e9;
    add(
      'DynamoDB storage (first month)',
      monthGb / 2,
      'GB-months',
      dynamo.gbMonth,
      `${measured.ingest.storedBytesPerPoint.toFixed(1)} bytes a point and ${measured.bands.storedBytes.toFixed(1)} a band (series-hour items, measured); half a month on average, grows until TTL`,
    );
    storageAtFullRetention = monthGb * (d.retentionDays / 30.4) * dynamo.gbMonth;
  }

  const putsPerRun = d.stateShards + 1;
  add(
    'S3 PUT (state shards, summaries)',
    d.runsPerMonth * putsPerRun,
    'requests',
    prices.s3Put,
    `${putsPerRun} per run: one per shard and the summaries`,
  );
  add(
    'S3 GET (state shards)',
    d.runsPerMonth * d.stateShards,
    'requests',
    prices.s3Get,
    `${d.stateShards} per run (304 when unchanged)`,
  );
  const stateGb = (measured.stateBytesPerSeries * d.series) / 1e9;
  add(
    'S3 storage (state, and a day of old versions)',
    stateGb * (1 + d.runsPerMonth / (hoursPerMonth / 24)),
    'GB-months',
    prices.s3GbMonth,
    `${Math.round(measured.stateBytesPerSeries)} bytes gzip'd per series (bench:bands), rewritten every run`,
  );
  const logBytes = requestsPerMonth * 350 + d.runsPerMonth * 1200;
  add(
    'CloudWatch Logs',
    logBytes / 1e9,
    'GB',
    prices.logsIngestGb,
    'Lambda START/END/REPORT lines and the band job summary line',
  );

  const running = items.reduce((sum, item) => sum + item.monthly, 0);
  return {
    store,
    items,
    running,
    storageAtFullRetention,
    perSeriesMonth: {
      running: running / d.series,
      atFullRetention: (running + storageAtFullRetention) / d.series,
    },
    cloudWatchPerSeriesMonth,
  };
}
