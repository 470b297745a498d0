/**
 * `npm run cost -- --series 10000 --resolution 60 [--store timestream|dynamodb] [--series-per-request 500]`
 *
 * The monthly cost of a deployment, itemised, per points store, beside CloudWatch's price for the same series
 * with anomaly-detection alarms. Every request count comes from the code itself: the cloud adapters are run
 * here against counting fakes at the AWS boundary (one ingest request, one run's bands), and the band job's
 * figures per run (queries, read units, CPU time per series, state size) come from `npm run bench:bands`
 * (bench/results/bands.json, written only by `npm run bench:bands -- --record`; `--bench FILE` reads another,
 * such as an unrecorded run's bench/out/bands.json). Prices: scripts/cost/prices.ts. Assumed (no benchmark has a
 * network): the latency of one AWS round trip and of one Timestream query; options below.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoTableClasses, readSettings } from '../cdk/settings.ts';
import { DynamoDbMetricStore, maxItemsPerBatchWrite } from '../lib/adapters/dynamodb-metric-store.ts';
import { packBands, packPoints, roundBand } from '../lib/adapters/dynamodb-packing.ts';
import { TimestreamStore } from '../lib/adapters/timestream-store.ts';
import type { SeriesPoint } from '../lib/metrics/point.ts';
import { seriesId } from '../lib/metrics/series.ts';
import type { SeriesBand } from '../lib/ports/band-store.ts';
import { fanoutLines } from './cost/fanout-report.ts';
import { money, quantity } from './cost/format.ts';
import { dynamoItemBytes, dynamoWriteUnits, timestreamWriteBytes } from './cost/metering.ts';
import { type Deployment, estimate, type Measured, type PointsStore } from './cost/model.ts';
import { hoursPerMonth, pricesAsOf } from './cost/prices.ts';

const argument = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
};
// The stack's settings as cdk.json and cdk/settings.ts give them, unless an option overrides one.
const settings = readSettings(
  new App({ context: (JSON.parse(readFileSync(resolve('cdk.json'), 'utf8')) as { context: object }).context })
    .node,
);
const deployment: Deployment = {
  series: Number(argument('series', '10000')),
  resolutionSeconds: Number(argument('resolution', '60')),
  seriesPerRequest: Number(argument('series-per-request', '500')),
  runsPerMonth: hoursPerMonth * 60,
  stateShards: Number(argument('shards', String(settings.stateShards))),
  memoryRetentionHours: Number(argument('memory-hours', String(settings.memoryRetentionHours))),
  retentionDays: Number(argument('retention-days', String(settings.magneticRetentionDays))),
  ingestMemoryGb: 1,
  bandsMemoryGb: 2,
  roundTripMs: Number(argument('round-trip-ms', '20')),
  queryMs: Number(argument('query-ms', '500')),
  dynamoTableClass: argument('table-class', settings.dynamoTableClass) as Deployment['dynamoTableClass'],
};
if (!(dynamoTableClasses as readonly string[]).includes(deployment.dynamoTableClass ?? '')) {
  throw new Error(
    `--table-class must be one of ${dynamoTableClasses.join(', ')}, not ${deployment.dynamoTableClass}`,
  );
}
const stores: PointsStore[] = process.argv.includes('--store')
  ? [argument('store', 'timestream') as PointsStore]
  : ['timestream', 'dynamodb'];
const benchFile = resolve(argument('bench', 'bench/results/bands.json'));

/** Native JSON: parse, validate, prepare and encode, points per second on one core (BENCHMARKS.md, Ingest). */
const ingestPointsPerSecond = 920_158;

interface BenchRun {
  seconds: number;
  cloudRequests: Record<string, number>;
}
const bench = JSON.parse(readFileSync(benchFile, 'utf8')) as {
  seriesCount: number;
  stateBytesGzip: number;
  stores: Record<PointsStore, { warm: BenchRun }>;
};

/** One ingest request's points: `seriesPerRequest` series of a typical shape, one point each. */
function requestPoints(at: number): SeriesPoint[] {
  return Array.from({ length: deployment.seriesPerRequest }, (_, index) => {
    const dimensions = { host: `web-${index}`, region: 'us-east-1' };
    return {
      seriesId: seriesId('shop.login.time', dimensions),
      name: 'shop.login.time',
      type: 'timer',
      value: 100 + index / 7,
      timestamp: at,
      dimensions,
    };
  });
}

const bandsOf = (count: number): SeriesBand[] =>
  Array.from({ length: count }, (_, index) => ({
    seriesId: index.toString(16).padStart(16, '0'),
    timestamp: Date.UTC(2026, 10, 2),
    value: 100 + index / 7,
    expected: 101.25,
    lower: 88.5,
    upper: 113.75,
    score: 0.31,
    anomaly: false,
  }));

const bandsPerShard = Math.ceil(
  (deployment.series * 60) / deployment.resolutionSeconds / deployment.stateShards,
);

async function measureTimestream(): Promise<Measured> {
  const writes: WriteRecordsCommandInput[] = [];
  const mock = mockClient(TimestreamWriteClient);
  mock.on(WriteRecordsCommand).callsFake(async (input: WriteRecordsCommandInput) => {
    writes.push(input);
    return {};
  });
  const store = new TimestreamStore({
    database: 'normalcy',
    pointsTable: 'points',
    bandsTable: 'bands',
    writeClient: new TimestreamWriteClient({ region: 'us-east-1' }),
  });
  await store.writePoints(requestPoints(Date.now()));
  const ingestCalls = writes.splice(0);
  const bytes = ingestCalls.map((input) => timestreamWriteBytes(input.Records ?? [], input.CommonAttributes));
  await store.writeManyBands(bandsOf(bandsPerShard));
  const bandCalls = writes.splice(0);
  const bandUnits = bandCalls.reduce(
    (sum, input) => sum + Math.ceil(timestreamWriteBytes(input.Records ?? [], input.CommonAttributes) / 1024),
    0,
  );
  const bandBytes = bandCalls.reduce(
    (sum, input) => sum + timestreamWriteBytes(input.Records ?? [], input.CommonAttributes),
    0,
  );
  mock.restore();
  const warm = bench.stores.timestream.warm;
  // The bulk read's window: since the last run (a minute) plus the job's 2-minute margin, columns read:
  // series_id (16 bytes), time (8), measure_value (8), measure_name (5).
  const pointsInWindow = (3 * 60) / deployment.resolutionSeconds;
  return {
    ingest: {
      requests: ingestCalls.length,
      writeUnits: bytes.reduce((sum, b) => sum + Math.ceil(b / 1024), 0),
      // WriteRecords calls go 8 at a time (TimestreamStore's default concurrency).
      roundTrips: Math.ceil(ingestCalls.length / 8),
      storedBytesPerPoint: bytes.reduce((sum, b) => sum + b, 0) / deployment.seriesPerRequest,
      cpuMs: (deployment.seriesPerRequest / ingestPointsPerSecond) * 1000,
    },
    bands: {
      requestsPerBand: bandCalls.length / bandsPerShard,
      unitsPerBand: bandUnits / bandsPerShard,
      storedBytes: bandBytes / bandsPerShard,
    },
    read: {
      queriesPerRun: warm.cloudRequests.timestreamQueries ?? 1,
      readUnitsPerSeries: 0,
      scannedBytesPerSeries: pointsInWindow * 37,
    },
    cpuSecondsPerSeries: warm.seconds / bench.seriesCount,
    stateBytesPerSeries: bench.stateBytesGzip / bench.seriesCount,
  };
}

async function measureDynamo(): Promise<Measured> {
  const writes: BatchWriteItemCommandInput[] = [];
  const mock = mockClient(DynamoDBClient);
  mock.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput) => {
    writes.push(input);
    return {};
  });
  mock.on(UpdateItemCommand).resolves({});
  const now = Date.now();
  const store = new DynamoDbMetricStore({
    table: 'data',
    retentionDays: deployment.retentionDays,
    client: new DynamoDBClient({ region: 'us-east-1' }),
    now: () => now,
  });
  // The first request of a container also records each series' earliest point; measure the next one.
  await store.writePoints(requestPoints(now - 60_000));
  writes.length = 0;
  const updatesBefore = mock.commandCalls(UpdateItemCommand).length;
  await store.writePoints(requestPoints(now));
  const updates = mock.commandCalls(UpdateItemCommand).length - updatesBefore;
  const items = writes.splice(0).flatMap((input) => input.RequestItems?.data ?? []);
  const ingestUnits = items.reduce(
    (sum, request) => sum + dynamoWriteUnits(request.PutRequest?.Item ?? {}),
    0,
  );
  const ingestCalls = Math.ceil(items.length / maxItemsPerBatchWrite) + updates;
  // Band-job runs write bands at the minute just closed: within the live window, so to the log.
  await store.writeManyBands(bandsOf(bandsPerShard).map((band) => ({ ...band, timestamp: now - 60_000 })));
  const bandItems = writes.splice(0).flatMap((input) => input.RequestItems?.data ?? []);
  mock.restore();
  const warm = bench.stores.dynamodb.warm;
  const hour = seriesHour();
  return {
    ingest: {
      requests: ingestCalls,
      writeUnits: ingestUnits,
      // DynamoDbMetricStore sends its BatchWriteItem calls one after the other.
      roundTrips: ingestCalls,
      storedBytesPerPoint: hour.pointBytes / 60,
      cpuMs: (deployment.seriesPerRequest / ingestPointsPerSecond) * 1000,
    },
    bands: {
      requestsPerBand: Math.ceil(bandItems.length / maxItemsPerBatchWrite) / bandsPerShard,
      unitsPerBand:
        bandItems.reduce((sum, request) => sum + dynamoWriteUnits(request.PutRequest?.Item ?? {}), 0) /
        bandsPerShard,
      storedBytes: hour.bandBytes / 60,
    },
    compaction: { unitsPerPoint: hour.units / 60 },
    read: {
      queriesPerRun: warm.cloudRequests.dynamoQueries ?? 0,
      readUnitsPerSeries: (warm.cloudRequests.dynamoReadUnits ?? 0) / bench.seriesCount,
      scannedBytesPerSeries: 0,
    },
    cpuSecondsPerSeries: warm.seconds / bench.seriesCount,
    stateBytesPerSeries: bench.stateBytesGzip / bench.seriesCount,
  };
}

/**
 * One series-hour of one-minute points and bands as the DynamoDB store's compaction writes them (a daily
 * cycle with noise, so compression is not flattered): stored bytes of each item (plus DynamoDB's 100 bytes of
 * overhead per item) and the write units of writing both once.
 */
function seriesHour() {
  const hourStart = Date.UTC(2026, 10, 2, 10);
  const noise = (i: number) => (Math.sin(i * 12.9898) * 43_758.5453) % 1;
  const points = Array.from({ length: 60 }, (_, i) => ({
    timestamp: hourStart + i * 60_000,
    value: Math.round((100 + 20 * Math.sin(i / 60) + 5 * noise(i)) * 1000) / 1000,
  }));
  const bands = points.map((point, i) => ({
    ...point,
    expected: 100 + 20 * Math.sin(i / 60) + noise(i + 1000),
    lower: 88 + 20 * Math.sin(i / 60) + noise(i + 2000),
    upper: 112 + 20 * Math.sin(i / 60) + noise(i + 3000),
    score: Math.abs(noise(i + 4000)),
    anomaly: false,
  }));
  const item = (bytes: Buffer) => ({
    pk: { S: `PH#${'0'.repeat(16)}` },
    sk: { N: String(hourStart) },
    c: { B: bytes },
    ver: { N: '1' },
    expiresAt: { N: '1800000000' },
  });
  const pointItem = item(packPoints(points)[0] ?? Buffer.alloc(0));
  const bandItem = item(
    packBands(bands.map(roundBand), new Map(points.map((point) => [point.timestamp, point.value])))[0] ??
      Buffer.alloc(0),
  );
  return {
    pointBytes: dynamoItemBytes(pointItem) + 100,
    bandBytes: dynamoItemBytes(bandItem) + 100,
    units: dynamoWriteUnits(pointItem) + dynamoWriteUnits(bandItem),
  };
}

const lines: string[] = [
  `${deployment.series.toLocaleString('en-US')} series, a point every ${deployment.resolutionSeconds} s, ` +
    `${deployment.seriesPerRequest} series per ingest request, ${deployment.stateShards} state shards, ` +
    `memory store ${deployment.memoryRetentionHours} h, retention ${deployment.retentionDays} days. ` +
    `Prices: ${pricesAsOf}. Band-job figures: ${benchFile.replace(`${process.cwd()}/`, '')} ` +
    `(${bench.seriesCount.toLocaleString('en-US')} series).`,
];
const summary: string[] = [];
/** Each store's estimate, for the fanned-out band job's section (scripts/cost/fanout-report.ts). */
const estimates: { store: PointsStore; measured: Measured; result: ReturnType<typeof estimate> }[] = [];
for (const store of stores) {
  const measured = store === 'timestream' ? await measureTimestream() : await measureDynamo();
  const result = estimate(store, deployment, measured);
  estimates.push({ store, measured, result });
  lines.push(
    '',
    store === 'dynamodb' && deployment.dynamoTableClass === 'infrequent-access'
      ? `## ${store} (table class: Standard-Infrequent Access)`
      : `## ${store}`,
    '',
    '| item | quantity | unit | per month | where the number comes from |',
    '| --- | ---: | --- | ---: | --- |',
  );
  for (const item of result.items) {
    lines.push(
      `| ${item.item} | ${quantity(item.quantity)} | ${item.unit} | ${money(item.monthly)} | ${item.source} |`,
    );
  }
  lines.push(`| **total** | | | **${money(result.running)}** | |`);
  summary.push(
    `| ${store} | ${money(result.running)} | ${money(result.perSeriesMonth.running)} | ` +
      `${money(result.storageAtFullRetention)} | ${money(result.perSeriesMonth.atFullRetention)} | ` +
      `${(result.cloudWatchPerSeriesMonth / result.perSeriesMonth.running).toFixed(0)}× cheaper |`,
  );
}
const cloudWatch = estimate('timestream', deployment, await measureTimestream()).cloudWatchPerSeriesMonth;
lines.push(
  '',
  '## Per series-month',
  '',
  '| store | per month | per series-month | long-term storage at full retention (per month) | per series-month at full retention | against CloudWatch |',
  '| --- | ---: | ---: | ---: | ---: | --- |',
  ...summary,
  `| CloudWatch: custom metric + anomaly-detection alarm | ${money(cloudWatch * deployment.series)} | ${money(cloudWatch)} | | | |`,
);
lines.push(
  ...fanoutLines(deployment, estimates, resolve(argument('fanout-bench', 'bench/results/fanout.json'))),
);
process.stdout.write(`${lines.join('\n')}\n`);
