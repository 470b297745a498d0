import { S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NormalcyStack } from '../../cdk/stack.ts';
import { createBandDeliveryHandler } from '../../functions/band-delivery.ts';
import { createBandWorkerHandler } from '../../functions/band-worker.ts';
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { DynamoDbFeedbackStore } from '../../lib/adapters/dynamodb-feedback-store.ts';
import { DynamoDbIncidentStore } from '../../lib/adapters/dynamodb-incident-store.ts';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { S3SummaryPartStore } from '../../lib/adapters/s3-summary-parts.ts';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import type { BandJobDependencies, BandJobSummary } from '../../lib/jobs/band-job.ts';
import { runBandJob } from '../../lib/jobs/band-job.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { seriesHash } from '../../lib/metrics/series-hash.ts';
import { FakeS3 } from '../../scripts/dev/fake-s3.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { definitionOfTemplate, type MachineJson, runDefinition } from '../helpers/state-machine.ts';

/**
 * The fanned-out band job against the cloud adapters (DynamoDB on dynalite, S3 faked at the SDK boundary, SNS
 * mocked): the state machine the stack synthesizes, run in process (its Pass, Distributed Map and Tasks, the
 * worker and last-step handlers answering its Tasks), gives the same bands, alerts and notifications as the
 * single band function over the same data.
 */
const stateShards = 8;
const shardsPerWorker = 3;
const step = 300_000;
const start = Date.UTC(2026, 10, 2);
const historyEnd = start + 3 * 86_400_000;
const hosts = Array.from({ length: 12 }, (_, index) => ({ host: `web-${index}` }));
/** Four hosts' series leave their band in the second run's buckets. */
const spiking = new Set([0, 3, 7, 10]);

const shardIndexOf = (id: string) => seriesHash(id) % stateShards;

let dynamo: LocalDynamoDb;
const s3 = new FakeS3();
const sns = mockClient(SNSClient);
let machine: MachineJson;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      'normalcy:bandJobMode': 'fanout',
      'normalcy:stateShards': stateShards,
      'normalcy:bandShardsPerWorker': shardsPerWorker,
      'normalcy:bandWorkerConcurrency': 2,
    },
  });
  const template = Template.fromStack(new NormalcyStack(app, 'Fanout'));
  machine = definitionOfTemplate(template.findResources('AWS::StepFunctions::StateMachine'));
}, 120_000);

afterAll(async () => {
  s3.restore();
  sns.restore();
  await dynamo.close();
});

/** One deployment's cloud adapters: its own tables, bucket and topic. */
async function deployment(name: string, clock: { now(): number }) {
  const [stateTable, dataTable, alertTable] = [
    await dynamo.createStateTable(),
    await dynamo.createDataTable(),
    await dynamo.createAlertTable(),
  ];
  const client = dynamo.client;
  const metrics = new DynamoDbMetricStore({
    table: dataTable,
    retentionDays: 400,
    client,
    now: () => clock.now(),
  });
  const s3Client = new S3Client({ region: 'eu-west-1' });
  const dependencies: BandJobDependencies = {
    metrics,
    bands: metrics,
    series: new DynamoDbStateStore({ table: stateTable, client }),
    states: new S3StateStore({ bucket: name, client: s3Client }),
    alerts: new DynamoDbAlertStore({ table: alertTable, client }),
    incidents: new DynamoDbIncidentStore({ table: alertTable, client }),
    feedback: new DynamoDbFeedbackStore({ table: alertTable, client }),
    notifier: new SnsNotifier({
      topicArn: `arn:aws:sns:eu-west-1:123456789012:${name}`,
      client: new SNSClient({ region: 'eu-west-1' }),
    }),
    engine: defaultEngine,
    clock,
  };
  return { dependencies, parts: new S3SummaryPartStore({ bucket: name, client: s3Client }) };
}

/** The points of every host from `from` to `to`, the spiking hosts 40 times their usual from `spikeFrom`. */
function points(from: number, to: number, spikeFrom = Number.POSITIVE_INFINITY): SeriesPoint[] {
  const all: SeriesPoint[] = [];
  for (const [index, dimensions] of hosts.entries()) {
    const id = seriesId('shop.requests', dimensions);
    for (let t = from; t < to; t += step) {
      const usual = 100 + 10 * index + 20 * Math.sin((2 * Math.PI * t) / 86_400_000) + ((t / step) % 3);
      const value = spiking.has(index) && t >= spikeFrom ? 40 * usual : usual;
      all.push({ seriesId: id, name: 'shop.requests', type: 'gauge', dimensions, timestamp: t, value });
    }
  }
  return all;
}

async function ingest(dependencies: BandJobDependencies, batch: readonly SeriesPoint[], backfill: boolean) {
  await dependencies.metrics.writePoints(batch);
  const bySeries = new Map<string, SeriesPoint[]>();
  for (const point of batch) bySeries.set(point.seriesId, [...(bySeries.get(point.seriesId) ?? []), point]);
  await dependencies.series.recordSeries(
    [...bySeries.values()].map((series) => {
      const [first] = series;
      return {
        id: first?.seriesId ?? '',
        name: 'shop.requests',
        type: 'gauge' as const,
        dimensions: first?.dimensions ?? {},
        minTimestamp: Math.min(...series.map((point) => point.timestamp)),
        maxTimestamp: Math.max(...series.map((point) => point.timestamp)),
        backfill,
      };
    }),
  );
}

const lambdaContext = {
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test',
  memoryLimitInMB: '1024',
  awsRequestId: 'request',
  getRemainingTimeInMillis: () => 180_000,
} as unknown as Context;

/** What a deployment shows after a run: every series' bands, the alerts, the notifications, the summaries. */
async function observed(dependencies: BandJobDependencies, topic: string) {
  const bands: Record<string, unknown> = {};
  for (const dimensions of hosts) {
    const id = seriesId('shop.requests', dimensions);
    bands[id] = await dependencies.bands.readBands(id, start, historyEnd + 86_400_000);
  }
  const alerts = (await dependencies.alerts.listAlerts({ limit: 100 })).map(({ id, ...alert }) => alert);
  const published = sns
    .commandCalls(PublishCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.TopicArn?.endsWith(`:${topic}`))
    .map((input) => ({ subject: input.Subject, message: JSON.parse(input.Message ?? '{}').kind }));
  const summaries = await (dependencies.states as S3StateStore).loadSummaries();
  return {
    bands,
    alerts: alerts.sort((a, b) => a.seriesId.localeCompare(b.seriesId)),
    published,
    summaries:
      summaries === undefined || summaries === 'unchanged'
        ? undefined
        : [...summaries.summaries.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** The state machine over a deployment's handlers; `failing` makes the worker throw for batches holding it. */
function stateMachineOf(
  fanned: Awaited<ReturnType<typeof deployment>>,
  failing: { shard?: string; attempts: number } = { attempts: 0 },
) {
  const sent: { queue: unknown[]; topic: unknown[] } = { queue: [], topic: [] };
  const worker = createBandWorkerHandler(() => ({ job: fanned.dependencies, parts: fanned.parts }), {
    stateShards,
  });
  const delivery = createBandDeliveryHandler(() => ({ job: fanned.dependencies, parts: fanned.parts }), {
    stateShards,
  });
  const runFanned = async (runId: string) =>
    (await runDefinition(
      machine,
      {},
      { Execution: { Name: runId } },
      {
        BandFanoutWorkerFunction: async (input) => {
          if (failing.shard && (input as { shards: string[] }).shards.includes(failing.shard)) {
            failing.attempts += 1;
            throw new Error('the worker ran out of memory');
          }
          return await worker(input, lambdaContext);
        },
        BandsFunction: (input) => delivery(input, lambdaContext),
        'arn:aws:states:::sqs:sendMessage': async (input) => sent.queue.push(input),
        'arn:aws:states:::sns:publish': async (input) => sent.topic.push(input),
      },
    )) as { runId: string; batches: { shards: string[]; error?: string }[] };
  return { runFanned, sent };
}

describe('The band job fanned out by its state machine (dynalite, fake S3, SNS mocked)', () => {
  it('gives the same bands, alerts, notifications and summaries as the single band function', async () => {
    let now = historyEnd + 20_000;
    const clock = { now: () => now };
    const single = await deployment('single', clock);
    const fanned = await deployment('fanned', clock);
    const { runFanned, sent } = stateMachineOf(fanned);
    // Three days of history, backfilled; then the live buckets of the next half hour, four hosts spiking.
    for (const { dependencies } of [single, fanned])
      await ingest(dependencies, points(start, historyEnd), true);
    const first = await runBandJob(single.dependencies, { stateShards });
    const run = await runFanned('run-1');
    expect(run.batches.map((batch) => batch.shards)).toEqual([
      ['8-000', '8-001', '8-002'],
      ['8-003', '8-004', '8-005'],
      ['8-006', '8-007'],
    ]);
    expect(first.seriesProcessed).toBe(12);
    const single1 = await observed(single.dependencies, 'single');
    expect(single1.summaries).toHaveLength(12);
    expect(Object.values(single1.bands).every((bands) => (bands as unknown[]).length > 800)).toBe(true);
    expect(await observed(fanned.dependencies, 'fanned')).toEqual(
      await observed(single.dependencies, 'single'),
    );

    const liveEnd = historyEnd + 30 * 60_000;
    for (const { dependencies } of [single, fanned]) {
      await ingest(dependencies, points(historyEnd, liveEnd, historyEnd + 10 * 60_000), false);
    }
    now = liveEnd + 20_000;
    const second: BandJobSummary = await runBandJob(single.dependencies, { stateShards });
    const bulkReads = vi.spyOn(fanned.dependencies.metrics, 'readRecentPoints');
    await runFanned('run-2');
    // Each worker read its own shards' series only: together, every series once.
    const read = await Promise.all(bulkReads.mock.results.map((result) => result.value));
    expect(read).toHaveLength(3);
    for (const [index, series] of read.entries()) {
      const batch = bulkReads.mock.calls[index]?.[2];
      expect(batch?.modulus).toBe(stateShards);
      for (const id of series.keys()) expect(batch?.residues).toContain(shardIndexOf(id));
    }
    expect(read.reduce((sum, series) => sum + series.size, 0)).toBe(hosts.length);
    bulkReads.mockRestore();
    const single2 = await observed(single.dependencies, 'single');
    expect(second.alertsOpened).toBe(spiking.size);
    expect(single2.alerts).toHaveLength(spiking.size);
    expect(single2.published.length).toBeGreaterThan(0);
    expect(await observed(fanned.dependencies, 'fanned')).toEqual(single2);
    expect(sent).toEqual({ queue: [], topic: [] });
  }, 240_000);

  it('moves the states to a changed shard count in its first step, before any worker loads a shard', async () => {
    let now = historyEnd + 20_000;
    const clock = { now: () => now };
    const single = await deployment('single-3', clock);
    const fanned = await deployment('fanned-3', clock);
    const { runFanned } = stateMachineOf(fanned);
    for (const { dependencies } of [single, fanned])
      await ingest(dependencies, points(start, historyEnd), true);
    // The fanned deployment learned at half the shard count, then its stack was deployed with the new count.
    await runBandJob(single.dependencies, { stateShards });
    await runBandJob(fanned.dependencies, { stateShards: stateShards / 2 });
    const liveEnd = historyEnd + 30 * 60_000;
    for (const { dependencies } of [single, fanned]) {
      await ingest(dependencies, points(historyEnd, liveEnd, historyEnd + 10 * 60_000), false);
    }
    now = liveEnd + 20_000;
    const second = await runBandJob(single.dependencies, { stateShards });
    const run = await runFanned('run-2');
    const reports = run.batches as unknown as { readAlone: number; counts: { series: number } }[];
    // Every series went on from its state: none was read alone from its history as if it were new.
    expect(reports.reduce((sum, report) => sum + report.readAlone, 0)).toBe(second.seriesReadAlone);
    expect(reports.reduce((sum, report) => sum + report.counts.series, 0)).toBe(second.seriesProcessed);
    expect((await fanned.dependencies.states.loadLayout())?.layout).toEqual({ shardCount: stateShards });
    expect(await observed(fanned.dependencies, 'fanned-3')).toEqual(
      await observed(single.dependencies, 'single-3'),
    );
  }, 240_000);

  it('retries a failing worker twice, then sends its batch to the dead-letter queue and the operations topic; the others go on', async () => {
    let now = historyEnd + 20_000;
    const clock = { now: () => now };
    const single = await deployment('single-2', clock);
    const fanned = await deployment('fanned-2', clock);
    const failing = { shard: '8-004', attempts: 0 };
    const { runFanned, sent } = stateMachineOf(fanned, failing);
    for (const { dependencies } of [single, fanned])
      await ingest(dependencies, points(start, historyEnd), true);
    await runBandJob(single.dependencies, { stateShards });
    const run = await runFanned('run-1');
    expect(failing.attempts).toBe(3);
    expect(run.batches[1]).toEqual({ shards: ['8-003', '8-004', '8-005'], error: 'Error' });
    const failure = {
      runId: 'run-1',
      shards: ['8-003', '8-004', '8-005'],
      error: 'Error',
      cause: 'the worker ran out of memory',
    };
    expect(sent.queue).toEqual([
      { QueueUrl: expect.stringMatching(/^BandJobDeadLetters/), MessageBody: failure },
    ]);
    expect(sent.topic).toEqual([
      {
        TopicArn: expect.stringMatching(/^OperationsTopic/),
        Message: failure,
        Subject: 'Normalcy: a band worker failed past its retries',
      },
    ]);
    // The other batches' series are learned; the failed batch's shards wait, and the summaries stay unsaved.
    const partial = await observed(fanned.dependencies, 'fanned-2');
    const learned = Object.values(partial.bands).filter((bands) => (bands as unknown[]).length > 0);
    expect(learned.length).toBeGreaterThan(0);
    expect(learned.length).toBeLessThan(hosts.length);
    expect(partial.summaries).toBeUndefined();

    // The worker recovers: the next run catches the failed shards up, and all is as one function would have it.
    failing.shard = '';
    now += 60_000;
    await runBandJob(single.dependencies, { stateShards });
    await runFanned('run-2');
    expect(await observed(fanned.dependencies, 'fanned-2')).toEqual(
      await observed(single.dependencies, 'single-2'),
    );
  }, 240_000);
});
