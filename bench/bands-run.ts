/**
 * One band-job process of `npm run bench:bands` (see bench/bands.ts): `node bands-run.mjs DIR STORE SERIES
 * SHARDS`. Runs the job cold, then warm on the next bucket, with the real cloud adapters against counting
 * fakes at the AWS boundary, and prints the figures as JSON.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
  QueryCommand as DynamoQueryCommand,
  type QueryCommandInput as DynamoQueryInput,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  QueryCommand,
  type QueryCommandInput,
  type Row,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import {
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { ConsoleNotifier } from '../lib/adapters/console-notifier.ts';
import { DynamoDbMetricStore } from '../lib/adapters/dynamodb-metric-store.ts';
import { S3StateStore } from '../lib/adapters/s3-state-store.ts';
import { openSqliteStores } from '../lib/adapters/sqlite-stores.ts';
import { TimestreamStore } from '../lib/adapters/timestream-store.ts';
import { defaultEngine } from '../lib/bands/index.ts';
import { type BandJobSummary, runBandJob } from '../lib/jobs/band-job.ts';
import type { SeriesPoint } from '../lib/metrics/point.ts';
import type { BandStore } from '../lib/ports/band-store.ts';
import type { MetricStore, TimedValue } from '../lib/ports/metric-store.ts';
import type { SeriesState } from '../lib/ports/series-state-store.ts';
import { dynamoQueryReadUnits, dynamoWriteUnits, timestreamWriteUnits } from '../scripts/cost/metering.ts';
import { FakeS3 } from '../scripts/dev/fake-s3.ts';
import { benchSeries, benchStart, benchValue, minuteMs, templateCount } from './bands-common.ts';

const [directory = '', pointsStore = 'timestream', seriesArgument = '0', shardsArgument = '16'] =
  process.argv.slice(2);
const seriesCount = Number(seriesArgument);
const stateShards = Number(shardsArgument);
let now = benchStart + minuteMs + 20_000;

// S3, with the shards bench/bands.ts saved (on disk: this process holds only what the job holds).
const s3 = new FakeS3({ directory: mkdtempSync(join(directory, `s3-${pointsStore}-`)) });
for (const object of JSON.parse(readFileSync(join(directory, 's3.json'), 'utf8')) as {
  key: string;
  etag: string;
  file: string;
}[]) {
  s3.objects.set(object.key, { file: object.file, etag: object.etag });
}
const sqlite = openSqliteStores(join(directory, 'normalcy.db'));
const series = Array.from({ length: seriesCount }, (_, index) => benchSeries(index));

/** Requests made to the AWS services by one run, and what they are metered as. */
const requests = {
  timestreamQueries: 0,
  timestreamQueryPages: 0,
  timestreamQueryRows: 0,
  timestreamWriteRecords: 0,
  timestreamRecords: 0,
  timestreamWriteUnits: 0,
  dynamoBatchWrites: 0,
  dynamoWriteUnits: 0,
  dynamoQueries: 0,
  dynamoReadUnits: 0,
};
const clearRequests = () => {
  for (const key of Object.keys(requests) as (keyof typeof requests)[]) requests[key] = 0;
  s3.clearRequests();
};

/*
 * The fakes below count requests themselves and keep no mock call history (the mocks' fakes clear it on every
 * call): it would hold every request body, which the job's process does not keep once a request is sent.
 */

/** Clears a mock's call history once the call being made is recorded (sinon refuses it during one). */
const forgetCall = (mock: { resetHistory(): void }) => queueMicrotask(() => mock.resetHistory());

/** The rows of a Timestream answer, made page by page as they are asked for, as Timestream sends them. */
function* rowPages(recent: ReadonlyMap<string, readonly TimedValue[]>): Generator<Row[]> {
  // Timestream answers at most 1 MB a page: about 10,000 rows of three short columns.
  let page: Row[] = [];
  for (const [id, points] of recent) {
    for (const point of points) {
      page.push({
        Data: [
          { ScalarValue: id },
          { ScalarValue: String(point.timestamp) },
          { ScalarValue: String(point.value) },
        ],
      });
      if (page.length === 10_000) {
        yield page;
        page = [];
      }
    }
  }
  if (page.length > 0) yield page;
}

/** The points (and bands) store under test: the real adapter against a counting fake of its service. */
function pointsAdapter(): MetricStore & BandStore {
  if (pointsStore === 'timestream') {
    /** The answers being paged through, by the token of their next page (with that page made already). */
    const pages = new Map<string, { rest: Iterator<Row[]>; page: IteratorResult<Row[]> }>();
    const queryMock = mockClient(TimestreamQueryClient);
    const writeMock = mockClient(TimestreamWriteClient);
    queryMock.on(QueryCommand).callsFake(async (input: QueryCommandInput) => {
      forgetCall(queryMock);
      requests.timestreamQueryPages += 1;
      let answer = input.NextToken ? pages.get(input.NextToken) : undefined;
      if (input.NextToken) pages.delete(input.NextToken);
      if (!answer) {
        requests.timestreamQueries += 1;
        const [from = 0, to = 0] = [...(input.QueryString ?? '').matchAll(/from_milliseconds\((\d+)\)/g)].map(
          (match) => Number(match[1]),
        );
        const rest = rowPages(await sqlite.metrics.readRecentPoints(from, to));
        answer = { rest, page: rest.next() };
      }
      const page = answer.page.done ? [] : answer.page.value;
      requests.timestreamQueryRows += page.length;
      const next = answer.rest.next();
      const token = next.done ? undefined : `page-${requests.timestreamQueryPages}`;
      if (token) pages.set(token, { rest: answer.rest, page: next });
      return { Rows: page, NextToken: token, ColumnInfo: [], QueryId: 'q' };
    });
    writeMock.on(WriteRecordsCommand).callsFake(async (input: WriteRecordsCommandInput) => {
      forgetCall(writeMock);
      requests.timestreamWriteRecords += 1;
      requests.timestreamRecords += input.Records?.length ?? 0;
      requests.timestreamWriteUnits += timestreamWriteUnits(input.Records ?? [], input.CommonAttributes);
      return {};
    });
    const timestream = new TimestreamStore({
      database: 'normalcy',
      pointsTable: 'points',
      bandsTable: 'bands',
      writeClient: new TimestreamWriteClient({ region: 'us-east-1' }),
      queryClient: new TimestreamQueryClient({ region: 'us-east-1' }),
    });
    return timestream;
  }
  const table = new Map<string, Record<string, AttributeValue>[]>();
  const mock = mockClient(DynamoDBClient);
  mock.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput) => {
    forgetCall(mock);
    requests.dynamoBatchWrites += 1;
    for (const request of input.RequestItems?.data ?? []) {
      const item = request.PutRequest?.Item;
      if (!item) continue;
      requests.dynamoWriteUnits += dynamoWriteUnits(item);
      const pk = item.pk?.S ?? '';
      // Only the recent-points log is kept: the job reads nothing else in steady state.
      if (pk.startsWith('R#')) table.set(pk, [...(table.get(pk) ?? []), item]);
    }
    return {};
  });
  mock.on(DynamoQueryCommand).callsFake(async (input: DynamoQueryInput) => {
    forgetCall(mock);
    requests.dynamoQueries += 1;
    const items = table.get(input.ExpressionAttributeValues?.[':pk']?.S ?? '') ?? [];
    requests.dynamoReadUnits += dynamoQueryReadUnits(
      items.reduce((sum, item) => sum + (item.d?.S?.length ?? 0) + 40, 0),
    );
    return { Items: items };
  });
  return new DynamoDbMetricStore({
    table: 'data',
    retentionDays: 400,
    client: new DynamoDBClient({ region: 'us-east-1' }),
    now: () => now,
  });
}

const adapter = pointsAdapter();
/** Points through the cloud store's own write path (DynamoDB keeps its recent-points log from it). */
const metrics: MetricStore & BandStore = {
  writePoints: (points) => sqlite.metrics.writePoints(points),
  readPoints: (id, from, to) => sqlite.metrics.readPoints(id, from, to),
  earliestTimestamp: (id) => sqlite.metrics.earliestTimestamp(id),
  readRecentPoints: (from, to, selection) => adapter.readRecentPoints(from, to, selection),
  writeBands: (id, bands) => adapter.writeBands(id, bands),
  writeManyBands: (bands) => adapter.writeManyBands(bands),
  readBands: (id, from, to) => sqlite.bands.readBands(id, from, to),
  listAnomalies: (from, to, limit) => sqlite.bands.listAnomalies(from, to, limit),
};

/** Calls per method of a port (each one request to DynamoDB in the cloud, for the catalog and alerts). */
function counting<T extends object>(target: T, calls: Record<string, number>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls[property] = (calls[property] ?? 0) + 1;
        return value.apply(object, args);
      };
    },
  });
}
const catalogCalls: Record<string, number> = {};
const alertCalls: Record<string, number> = {};
const states = new S3StateStore({ bucket: 'bench', client: new S3Client({ region: 'us-east-1' }) });

/** The points of the bucket starting at `start`, for every series, as one agent request of 500 each. */
async function ingestBucket(
  start: number,
): Promise<{ requests: number; writeUnits: number; batchWrites: number }> {
  const points: SeriesPoint[] = series.map((entry, index) => ({
    ...entry,
    seriesId: entry.id,
    type: 'gauge',
    timestamp: start + (index % 50) * 1000,
    value: benchValue(index % templateCount, start),
  }));
  const before = { ...requests };
  let ingestRequests = 0;
  for (let offset = 0; offset < points.length; offset += 500) {
    const batch = points.slice(offset, offset + 500);
    if (start > benchStart) await sqlite.metrics.writePoints(batch);
    if (pointsStore === 'dynamodb') await adapter.writePoints(batch);
    ingestRequests += 1;
  }
  return {
    requests: ingestRequests,
    writeUnits: requests.dynamoWriteUnits - before.dynamoWriteUnits,
    batchWrites: requests.dynamoBatchWrites - before.dynamoBatchWrites,
  };
}

/** Samples the process's memory every 20 ms until stopped: the sample of highest RSS (what held it then). */
function sampleMemory(label: string): () => NodeJS.MemoryUsage {
  let peak = process.memoryUsage();
  const started = performance.now();
  const timer = setInterval(() => {
    const sample = process.memoryUsage();
    if (sample.rss > peak.rss) peak = sample;
    if (process.env.BENCH_TRACE) {
      const mb = (bytes: number) => Math.round(bytes / 1e6);
      process.stderr.write(
        `${label} ${Math.round(performance.now() - started)} rss ${mb(sample.rss)} heap ${mb(sample.heapUsed)}/${mb(sample.heapTotal)} ext ${mb(sample.external)} ab ${mb(sample.arrayBuffers)}\n`,
      );
    }
  }, 20);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

let runLabel = 'cold';
/** CPU seconds (user and system, every thread of the process: zlib's too) since `start`. */
const cpuSecondsSince = (start: NodeJS.CpuUsage): number => {
  const { user, system } = process.cpuUsage(start);
  return Number(((user + system) / 1e6).toFixed(2));
};

async function measuredRun(): Promise<{
  ms: number;
  cpuSeconds: number;
  summary: BandJobSummary;
  peak: NodeJS.MemoryUsage;
}> {
  for (const key of Object.keys(catalogCalls)) delete catalogCalls[key];
  for (const key of Object.keys(alertCalls)) delete alertCalls[key];
  clearRequests();
  const stop = sampleMemory(runLabel);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const summary = await runBandJob(
    {
      metrics,
      series: counting(sqlite.series, catalogCalls),
      bands: metrics,
      states,
      alerts: counting(sqlite.alerts, alertCalls),
      notifier: new ConsoleNotifier(() => undefined),
      engine: defaultEngine,
      clock: { now: () => now },
    },
    { stateShards },
  );
  const ms = performance.now() - started;
  return { ms, cpuSeconds: cpuSecondsSince(cpuStart), summary, peak: stop() };
}

const megabytes = (usage: NodeJS.MemoryUsage) =>
  Object.fromEntries(Object.entries(usage).map(([key, bytes]) => [key, Math.round(bytes / 1e6)]));
const describeRun = ({
  ms,
  cpuSeconds,
  summary,
  peak,
}: {
  ms: number;
  cpuSeconds: number;
  summary: BandJobSummary;
  peak: NodeJS.MemoryUsage;
}) => ({
  seconds: Number((ms / 1000).toFixed(2)),
  // On a shared machine the wall time swings with the others' load; the CPU time far less.
  cpuSeconds,
  maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  atPeak: megabytes(peak),
  afterRun: megabytes(process.memoryUsage()),
  seriesProcessed: summary.seriesProcessed,
  bucketsProcessed: summary.bucketsProcessed,
  shards: summary.shards,
  cloudRequests: {
    ...requests,
    s3Gets: s3.gets.length,
    s3Puts: s3.puts.length,
    s3PutBytes: s3.putBytes,
    dynamoCatalogRequests: catalogCalls,
    dynamoAlertRequests: alertCalls,
  },
});

const firstIngest = await ingestBucket(benchStart);
clearRequests();
const cold = describeRun(await measuredRun());
now += minuteMs;
const nextIngest = await ingestBucket(benchStart + minuteMs);
clearRequests();
runLabel = 'warm';
const warm = describeRun(await measuredRun());

// The baseline: the engine alone over the same series for one bucket (restore, update, save).
const engineStates: SeriesState[] = [];
for (const shard of new Set(
  [...s3.objects.keys()].filter((key) => key.includes('/shards/')).map((key) => key.split('/').at(-1)),
)) {
  const loaded = await states.loadShard(String(shard).replace('.json.gz', ''));
  if (loaded && loaded !== 'unchanged') engineStates.push(...loaded.states);
}
const started = performance.now();
const engineCpuStart = process.cpuUsage();
for (const state of engineStates) {
  const engine = defaultEngine.restore(state.engineState);
  engine.update(state.processedUntil, state.lastValue ?? 0);
  engine.toState();
}
const engineSeconds = (performance.now() - started) / 1000;
const engineCpuSeconds = cpuSecondsSince(engineCpuStart);

process.stdout.write(
  JSON.stringify({
    store: pointsStore,
    cold,
    warm,
    engineOnlySeconds: Number(engineSeconds.toFixed(2)),
    engineOnlyCpuSeconds: engineCpuSeconds,
    ingest: { first: firstIngest, next: nextIngest },
  }),
);
