import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbMetricStore, UnprocessedItemsError } from '../../lib/adapters/dynamodb-metric-store.ts';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';

const dynamoMock = mockClient(DynamoDBClient);
const documentMock = mockClient(DynamoDBDocumentClient);
const seriesId = '0123456789abcdef';
const base = Date.parse('2026-03-01T00:00:00Z');
const noWait = async () => undefined;

const points = (count: number): SeriesPoint[] =>
  Array.from({ length: count }, (_, i) => ({
    seriesId,
    name: 'm',
    type: 'gauge',
    value: i,
    timestamp: base + i * 60_000,
    dimensions: {},
  }));

const metricStore = (now: number) =>
  new DynamoDbMetricStore({
    table: 'data',
    retentionDays: 30,
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    sleep: noWait,
    now: () => now,
  });

/** One point of each of `count` series at `timestamp`. */
const recentPoints = (count: number, timestamp: number): SeriesPoint[] =>
  Array.from({ length: count }, (_, i) => ({
    seriesId: i.toString(16).padStart(16, '0'),
    name: 'm',
    type: 'gauge',
    value: i,
    timestamp,
    dimensions: {},
  }));

beforeEach(() => {
  dynamoMock.reset();
  documentMock.reset();
});

describe('DynamoDbMetricStore requests', () => {
  it('writes recent points of 60 series as log items (a bucket of series each) with a TTL, then lowers each earliest marker once', async () => {
    dynamoMock.on(BatchWriteItemCommand).resolves({});
    dynamoMock.on(UpdateItemCommand).resolves({});
    const now = base + 5 * 60_000;
    await metricStore(now).writePoints(recentPoints(60, base + 4 * 60_000));
    const batches = dynamoMock
      .commandCalls(BatchWriteItemCommand)
      .map((call) => call.args[0].input.RequestItems?.data ?? []);
    const items = batches.flat().map((request) => request.PutRequest?.Item ?? {});
    expect(batches.length).toBeLessThanOrEqual(1);
    expect(items.length).toBeLessThanOrEqual(24);
    expect(items.flatMap((item) => item.d?.S?.split(';') ?? [])).toHaveLength(60);
    expect(items[0]).toEqual({
      pk: { S: `R#${(base + 4 * 60_000) / 60_000}` },
      sk: { N: expect.stringMatching(new RegExp(`^\\d{1,2}${now}\\d{6}$`)) },
      d: { S: expect.stringMatching(/^[0-9a-f]{16},\d+,\d+/) },
      expiresAt: { N: String(now / 1000 + 7 * 86_400) },
    });
    expect(dynamoMock.commandCalls(UpdateItemCommand)).toHaveLength(60);
    expect(dynamoMock.commandCalls(UpdateItemCommand)[0]?.args[0].input).toEqual({
      TableName: 'data',
      Key: { pk: { S: `F#${'0'.repeat(16)}` }, sk: { N: '0' } },
      UpdateExpression: 'SET #first = :first',
      ConditionExpression: 'attribute_not_exists(#first) OR #first > :first',
      ExpressionAttributeNames: { '#first': 'first' },
      ExpressionAttributeValues: { ':first': { N: String(base + 4 * 60_000) } },
    });
  });

  it('retries unprocessed (throttled) items until DynamoDB takes them', async () => {
    dynamoMock.on(UpdateItemCommand).resolves({});
    const store = metricStore(base + 60_000);
    dynamoMock
      .on(BatchWriteItemCommand)
      .callsFakeOnce((input) => ({ UnprocessedItems: { data: input.RequestItems.data.slice(3) } }))
      .resolves({});
    await store.writePoints(recentPoints(25, base));
    const calls = dynamoMock.commandCalls(BatchWriteItemCommand);
    const sizes = calls.map((call) => call.args[0].input.RequestItems?.data?.length ?? 0);
    expect(sizes).toHaveLength(2);
    expect(sizes[1]).toBe((sizes[0] ?? 0) - 3);
  });

  it('fails loudly, never silently, when items stay unprocessed', async () => {
    dynamoMock.on(BatchWriteItemCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    await expect(metricStore(base).writePoints(recentPoints(3, base))).rejects.toBeInstanceOf(
      UnprocessedItemsError,
    );
  });
});

describe('DynamoDbStateStore.saveProgress', () => {
  it('clears the pending mark only if no ingest bumped the version meanwhile', async () => {
    documentMock
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }))
      .resolves({});
    const store = new DynamoDbStateStore({
      table: 'state',
      client: new DynamoDBClient({ region: 'eu-west-1' }),
    });
    const progress = { stepMs: 60_000, processedUntil: base, engineState: { engine: 'x' }, anomalous: false };
    await store.saveProgress(seriesId, progress, 7, true);
    const inputs = documentMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]?.UpdateExpression).toBe(
      'SET stepMs = :step, processedUntil = :until, engineState = :state, anomalous = :anomalous REMOVE pendingShard',
    );
    expect(inputs[0]?.ConditionExpression).toBe('version = :version');
    expect(inputs[0]?.ExpressionAttributeValues?.[':version']).toBe(7);
    expect(inputs[1]?.UpdateExpression).toBe(
      'SET stepMs = :step, processedUntil = :until, engineState = :state, anomalous = :anomalous',
    );
    expect(inputs[1]?.ConditionExpression).toBeUndefined();
  });
});

describe('DynamoDbMetricStore recent-points log', () => {
  it('logs recent points by minute in a few items, and reads a range back with one Query per minute', async () => {
    dynamoMock.on(BatchWriteItemCommand).resolves({});
    dynamoMock.on(QueryCommand).resolves({ Items: [] });
    dynamoMock.on(PutItemCommand).resolves({});
    const now = base + 3 * 60_000;
    const store = new DynamoDbMetricStore({
      table: 'data',
      retentionDays: 30,
      client: new DynamoDBClient({ region: 'eu-west-1' }),
      sleep: noWait,
      now: () => now,
    });
    // 700 series at one instant, and one point older than the live window (not logged).
    const many = Array.from({ length: 700 }, (_, i) => ({
      ...points(1)[0],
      seriesId: i.toString(16).padStart(16, '0'),
      timestamp: base + 60_000,
    })) as SeriesPoint[];
    await store.writePoints([...many, { ...(points(1)[0] as SeriesPoint), timestamp: base - 3_600_000 }]);
    const written = dynamoMock
      .commandCalls(BatchWriteItemCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.data ?? [])
      .map((request) => request.PutRequest?.Item ?? {});
    const log = written.filter((item) => item.pk?.S?.startsWith('R#'));
    expect(new Set(log.map((item) => item.pk?.S))).toEqual(new Set([`R#${(base + 60_000) / 60_000}`]));
    expect(log).toHaveLength(24);
    expect(log.flatMap((item) => item.d?.S?.split(';') ?? [])).toHaveLength(700);
    expect(log[0]?.expiresAt).toEqual({ N: String(now / 1000 + 7 * 86_400) });

    // The older point went to its series-hour item (read, then written), not to the log.
    expect(dynamoMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item?.pk).toEqual({
      S: `PH#${seriesId}`,
    });
    dynamoMock.resetHistory();
    dynamoMock.on(QueryCommand).resolves({ Items: [log[2] ?? {}] });
    const recent = await store.readRecentPoints(base, base + 120_000);
    expect(recent.size).toBe(log[2]?.d?.S?.split(';').length);
    expect(dynamoMock.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'data',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `R#${base / 60_000}` } },
        ExclusiveStartKey: undefined,
      },
      {
        TableName: 'data',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `R#${base / 60_000 + 1}` } },
        ExclusiveStartKey: undefined,
      },
    ]);
  });
});
