/**
 * One fan-out worker of `npm run bench:fanout` (see bench/fanout.ts), in a process of its own as a Lambda
 * container is: `node fanout-worker.mjs DIR SERIES SHARDS RUN_ID SHARD...`. Runs the real worker handler
 * (functions/band-worker.ts) once, cold, with the cloud adapters against counting fakes at the AWS boundary as
 * bench/bands-run.ts has them (Timestream query and write clients, S3 on disk; the catalog and alert store in
 * SQLite, their calls counted as DynamoDB requests), and prints its figures as JSON. With `BENCH_STORE=dynamodb`
 * the bulk read asks the DynamoDB store, whose Query calls a fake answers from the recent-points log
 * bench/fanout.ts left on disk (a file per log bucket, read only when a query's key range reaches it), 1 MB a
 * page as DynamoDB answers; bands still go to Timestream.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeValue,
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
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createBandWorkerHandler } from '../functions/band-worker.ts';
import { DynamoDbMetricStore } from '../lib/adapters/dynamodb-metric-store.ts';
import { logBucketRange, logBuckets } from '../lib/adapters/dynamodb-packing.ts';
import { S3StateStore } from '../lib/adapters/s3-state-store.ts';
import { S3SummaryPartStore } from '../lib/adapters/s3-summary-parts.ts';
import { openSqliteStores } from '../lib/adapters/sqlite-stores.ts';
import { TimestreamStore } from '../lib/adapters/timestream-store.ts';
import { defaultEngine } from '../lib/bands/index.ts';
import type { ShardBatchReport } from '../lib/jobs/band-job.ts';
import { dynamoQueryReadUnits, timestreamWriteUnits } from '../scripts/cost/metering.ts';
import { FakeS3 } from '../scripts/dev/fake-s3.ts';
import { benchStart, benchValue, minuteMs, templateCount } from './bands-common.ts';

const [directory = '', seriesArgument = '0', shardsArgument = '16', runId = 'run', ...shards] =
  process.argv.slice(2);
const seriesCount = Number(seriesArgument);
const stateShards = Number(shardsArgument);
const now = benchStart + minuteMs + 20_000;

const s3 = new FakeS3({ directory: mkdtempSync(join(directory, 's3-worker-')) });
for (const object of JSON.parse(readFileSync(join(directory, 's3.json'), 'utf8')) as {
  key: string;
  etag: string;
  file: string;
}[]) {
  s3.objects.set(object.key, { file: object.file, etag: object.etag });
}
const sqlite = openSqliteStores(join(directory, 'normalcy.db'), { busyTimeoutMs: 30_000 });
/** Every series' id, 16 characters each, in index order (what Timestream answers the bulk read with). */
const ids = readFileSync(join(directory, 'ids.txt'), 'utf8');

const requests = {
  timestreamQueries: 0,
  timestreamQueryPages: 0,
  timestreamQueryRows: 0,
  timestreamWriteRecords: 0,
  timestreamRecords: 0,
  timestreamWriteUnits: 0,
  dynamoQueries: 0,
  dynamoQueryPages: 0,
  dynamoLogEntriesRead: 0,
  dynamoReadUnits: 0,
};
const forgetCall = (mock: { resetHistory(): void }) => queueMicrotask(() => mock.resetHistory());

/** The bucket every series has a point in, as Timestream pages it (at most 10,000 rows a page). */
function* rowPages(from: number, to: number): Generator<Row[]> {
  let page: Row[] = [];
  for (let index = 0; index < seriesCount; index++) {
    const timestamp = benchStart + (index % 50) * 1000;
    if (timestamp < from || timestamp >= to) continue;
    page.push({
      Data: [
        { ScalarValue: ids.slice(index * 16, index * 16 + 16) },
        { ScalarValue: String(timestamp) },
        { ScalarValue: String(benchValue(index % templateCount, benchStart)) },
      ],
    });
    if (page.length === 10_000) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

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
    const rest = rowPages(from, to);
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

type Item = Record<string, AttributeValue>;

/** The log items of partition `pk` with a sort key in [low, high], in key order, 1 MB a page. */
function* logPages(pk: string, low: bigint, high: bigint): Generator<{ items: Item[]; bytes: number }> {
  if (pk !== `R#${benchStart / minuteMs}`) return;
  let page: Item[] = [];
  let bytes = 0;
  for (let bucket = 1; bucket <= logBuckets; bucket++) {
    const [first, last] = logBucketRange(bucket).map(BigInt) as [bigint, bigint];
    const file = join(directory, `log-${bucket}.txt`);
    if (last < low || first > high || !existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [sk = '', d = ''] = line.split('\t');
      if (!line || BigInt(sk) < low || BigInt(sk) > high) continue;
      const size = pk.length + sk.length + d.length + 12;
      if (bytes + size > 1_048_576 && page.length > 0) {
        yield { items: page, bytes };
        [page, bytes] = [[], 0];
      }
      page.push({ pk: { S: pk }, sk: { N: sk }, d: { S: d } });
      bytes += size;
    }
  }
  if (page.length > 0) yield { items: page, bytes };
}

/** The DynamoDB store's bulk read against the log on disk (Query only: the worker's read asks nothing else). */
function dynamoStore(): DynamoDbMetricStore {
  const answers = new Map<string, Generator<{ items: Item[]; bytes: number }>>();
  const mock = mockClient(DynamoDBClient);
  mock.on(DynamoQueryCommand).callsFake(async (input: DynamoQueryInput) => {
    forgetCall(mock);
    requests.dynamoQueryPages += 1;
    const values = input.ExpressionAttributeValues ?? {};
    const pk = values[':pk']?.S ?? '';
    const token = input.ExclusiveStartKey && `${pk}/${input.ExclusiveStartKey.sk?.N}/${values[':low']?.N}`;
    let answer = token ? answers.get(token) : undefined;
    if (token) answers.delete(token);
    if (!answer) {
      requests.dynamoQueries += 1;
      answer = logPages(pk, BigInt(values[':low']?.N ?? 0), BigInt(values[':high']?.N ?? 10n ** 30n));
    }
    const page = answer.next();
    const items = page.done ? [] : page.value.items;
    requests.dynamoReadUnits += dynamoQueryReadUnits(page.done ? 0 : page.value.bytes);
    for (const item of items) requests.dynamoLogEntriesRead += (item.d?.S ?? '').split(';').length;
    const last = items.at(-1);
    // A full page may have more after it: DynamoDB then gives its last key (the next query starts there).
    if (!last || page.done || page.value.bytes < 1_000_000) return { Items: items };
    answers.set(`${pk}/${last.sk?.N}/${values[':low']?.N}`, answer);
    return {
      Items: items,
      LastEvaluatedKey: { pk: last.pk as AttributeValue, sk: last.sk as AttributeValue },
    };
  });
  return new DynamoDbMetricStore({
    table: 'data',
    retentionDays: 400,
    client: new DynamoDBClient({ region: 'us-east-1' }),
    now: () => now,
  });
}

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
const client = new S3Client({ region: 'us-east-1' });
const handler = createBandWorkerHandler(
  () => ({
    job: {
      metrics: process.env.BENCH_STORE === 'dynamodb' ? dynamoStore() : timestream,
      bands: timestream,
      series: counting(sqlite.series, catalogCalls),
      states: new S3StateStore({ bucket: 'bench', client }),
      alerts: counting(sqlite.alerts, alertCalls),
      engine: defaultEngine,
      clock: { now: () => now },
    },
    parts: new S3SummaryPartStore({ bucket: 'bench', client }),
  }),
  { stateShards },
);

let peak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const started = performance.now();
const cpuStart = process.cpuUsage();
const report = (await handler({ runId, shards }, {
  functionName: 'bench-worker',
  awsRequestId: runId,
  getRemainingTimeInMillis: () => 180_000,
} as unknown as Context)) as ShardBatchReport;
const seconds = (performance.now() - started) / 1000;
const { user, system } = process.cpuUsage(cpuStart);
clearInterval(sampler);

process.stdout.write(
  JSON.stringify({
    shards,
    seconds: Number(seconds.toFixed(2)),
    cpuSeconds: Number(((user + system) / 1e6).toFixed(2)),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    sampledPeakRssMB: Math.round(peak / 1e6),
    seriesProcessed: report.counts.series,
    recentSeries: report.recentSeries,
    shardResults: report.shardResults,
    cloudRequests: {
      ...requests,
      s3Gets: s3.gets.length,
      s3Puts: s3.puts.length,
      s3PutBytes: s3.putBytes,
      dynamoCatalogRequests: catalogCalls,
      dynamoAlertRequests: alertCalls,
    },
  }),
);
