import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
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

const metricStore = () =>
  new DynamoDbMetricStore({
    table: 'data',
    retentionDays: 30,
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    sleep: noWait,
  });

beforeEach(() => {
  dynamoMock.reset();
  documentMock.reset();
});

describe('DynamoDbMetricStore requests', () => {
  it('writes 60 points as BatchWriteItem calls of 25, 25 and 10 items with a TTL, then lowers the earliest marker once', async () => {
    dynamoMock.on(BatchWriteItemCommand).resolves({});
    dynamoMock.on(UpdateItemCommand).resolves({});
    await metricStore().writePoints(points(60));
    const batches = dynamoMock
      .commandCalls(BatchWriteItemCommand)
      .map((call) => call.args[0].input.RequestItems?.data);
    expect(batches.map((batch) => batch?.length)).toEqual([25, 25, 10]);
    expect(batches[0]?.[0]).toEqual({
      PutRequest: {
        Item: {
          pk: { S: `P#${seriesId}#${base / 86_400_000}` },
          sk: { N: String(base) },
          v: { N: '0' },
          expiresAt: { N: String(base / 1000 + 30 * 86_400) },
        },
      },
    });
    const updates = dynamoMock.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);
    expect(updates).toEqual([
      {
        TableName: 'data',
        Key: { pk: { S: `F#${seriesId}` }, sk: { N: '0' } },
        UpdateExpression: 'SET #first = :first',
        ConditionExpression: 'attribute_not_exists(#first) OR #first > :first',
        ExpressionAttributeNames: { '#first': 'first' },
        ExpressionAttributeValues: { ':first': { N: String(base) } },
      },
    ]);
  });

  it('retries unprocessed (throttled) items until DynamoDB takes them', async () => {
    dynamoMock.on(UpdateItemCommand).resolves({});
    const store = metricStore();
    dynamoMock
      .on(BatchWriteItemCommand)
      .callsFakeOnce((input) => ({ UnprocessedItems: { data: input.RequestItems.data.slice(20) } }))
      .resolves({});
    await store.writePoints(points(25));
    const calls = dynamoMock.commandCalls(BatchWriteItemCommand);
    expect(calls.map((call) => call.args[0].input.RequestItems?.data?.length)).toEqual([25, 5]);
  });

  it('fails loudly, never silently, when items stay unprocessed', async () => {
    dynamoMock.on(BatchWriteItemCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    await expect(metricStore().writePoints(points(3))).rejects.toBeInstanceOf(UnprocessedItemsError);
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
    expect(log.map((item) => [item.pk?.S, item.d?.S?.split(';').length])).toEqual([
      [`R#${(base + 60_000) / 60_000}`, 300],
      [`R#${(base + 60_000) / 60_000}`, 300],
      [`R#${(base + 60_000) / 60_000}`, 100],
    ]);
    expect(log[0]?.d?.S?.split(';')[0]).toBe(`0000000000000000,${base + 60_000},0`);
    expect(log[0]?.expiresAt).toEqual({ N: String(now / 1000 + 86_400) });

    dynamoMock.on(QueryCommand).resolves({ Items: [log[2] ?? {}] });
    const recent = await store.readRecentPoints(base, base + 120_000);
    expect(recent.size).toBe(100);
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
