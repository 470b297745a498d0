import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  catalogKey,
  DynamoDbStateStore,
  maxExaminedPerPage,
} from '../../lib/adapters/dynamodb-state-store.ts';
import { catalogIndex } from '../../lib/adapters/schema.ts';
import { seriesId } from '../../lib/metrics/series.ts';

const documentsMock = mockClient(DynamoDBDocumentClient);
const store = () =>
  new DynamoDbStateStore({ table: 'state', client: new DynamoDBClient({ region: 'eu-west-1' }) });

const entry = (name: string, dimensions: Record<string, string> = {}, anomalous = false) => {
  const id = seriesId(name, dimensions);
  return {
    pk: `SERIES#${id}`,
    sk: 'SERIES',
    name,
    type: 'gauge',
    dimensions,
    anomalous,
    catalogShard: 'S',
    catalogKey: catalogKey(name, id),
  };
};
const full = (item: ReturnType<typeof entry>) => ({
  ...item,
  lastTimestamp: 1_000,
  stepMs: 60_000,
  seasonality: 'daily',
});
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const queries = () => documentsMock.commandCalls(QueryCommand).map((call) => call.args[0].input);

beforeEach(() => documentsMock.reset());

describe('DynamoDbStateStore catalog', () => {
  it('records a new series once, pending, under the catalog index with a (name, id) sort key', async () => {
    documentsMock.on(PutCommand).resolves({});
    const catalog = store();
    const touch = {
      id: 'abc',
      name: 'shop.requests',
      type: 'counter' as const,
      dimensions: {},
      minTimestamp: 1,
      maxTimestamp: 2,
      backfill: false,
    };
    await catalog.recordSeries([touch]);
    await catalog.recordSeries([{ ...touch, minTimestamp: 3, maxTimestamp: 4 }]);
    expect(documentsMock.calls().map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'state',
        Item: {
          pk: 'SERIES#abc',
          sk: 'SERIES',
          name: 'shop.requests',
          type: 'counter',
          dimensions: {},
          lastTimestamp: 2,
          version: 1,
          pendingShard: 'P',
          catalogShard: 'S',
          catalogKey: 'shop.requests\u0001abc',
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    ]);
  });

  it('marks a known series pending only when a request backfills it', async () => {
    documentsMock.on(PutCommand).rejects(conditionFailed());
    documentsMock.on(UpdateCommand).resolves({});
    const catalog = store();
    const touch = {
      id: 'abc',
      name: 'shop.requests',
      type: 'counter' as const,
      dimensions: {},
      minTimestamp: 1,
      maxTimestamp: 2,
      backfill: false,
    };
    await catalog.recordSeries([touch]);
    expect(documentsMock.commandCalls(UpdateCommand)).toHaveLength(0);
    await catalog.recordSeries([{ ...touch, backfill: true }]);
    expect(documentsMock.commandCalls(PutCommand)).toHaveLength(1);
    expect(documentsMock.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'state',
        Key: { pk: 'SERIES#abc', sk: 'SERIES' },
        UpdateExpression:
          'SET pendingShard = :mark, pendingFrom = :from ADD version :one REMOVE pendingAfter',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(pendingFrom) OR pendingFrom > :from)',
        ExpressionAttributeValues: { ':mark': 'P', ':one': 1, ':from': 1 },
      },
    ]);
  });

  it('keeps an older backfill mark: a newer one marks the series pending without moving it', async () => {
    documentsMock.on(PutCommand).rejects(conditionFailed());
    documentsMock
      .on(UpdateCommand, { ConditionExpression: 'attribute_exists(pk)' })
      .resolves({})
      .on(UpdateCommand, { ExpressionAttributeValues: { ':mark': 'P', ':one': 1, ':from': 5 } })
      .rejects(conditionFailed());
    const touch = {
      id: 'abc',
      name: 'shop.requests',
      type: 'counter' as const,
      dimensions: {},
      minTimestamp: 5,
      maxTimestamp: 6,
      backfill: true,
    };
    await store().recordSeries([touch]);
    expect(documentsMock.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ ExpressionAttributeValues: { ':mark': 'P', ':one': 1, ':from': 5 } }),
      {
        TableName: 'state',
        Key: { pk: 'SERIES#abc', sk: 'SERIES' },
        UpdateExpression: 'SET pendingShard = :mark ADD version :one REMOVE pendingAfter',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':mark': 'P', ':one': 1 },
      },
    ]);
  });

  it('puts off a pending series at the version seen, and lists it once its time has come', async () => {
    documentsMock.on(UpdateCommand).resolves({});
    documentsMock
      .on(QueryCommand, { ExpressionAttributeValues: { ':mark': 'P' } })
      .resolves({ Items: [] })
      .on(QueryCommand, { ExpressionAttributeValues: { ':mark': 'D', ':now': 50 } })
      .resolves({ Items: [{ ...entry('shop.sparse'), version: 2, pendingFrom: 7 }] });
    await store().deferPending('abc', 2, 40);
    expect(documentsMock.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: 'state',
      Key: { pk: 'SERIES#abc', sk: 'SERIES' },
      UpdateExpression: 'SET pendingShard = :deferred, pendingAfter = :until',
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':deferred': 'D', ':until': 40, ':version': 2 },
    });
    const pending = await store().pendingSeries(10, 50);
    expect(pending.map((entry) => [entry.series.name, entry.version, entry.pendingFrom])).toEqual([
      ['shop.sparse', 2, 7],
    ]);
    expect(documentsMock.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ IndexName: 'pending', ExpressionAttributeValues: { ':mark': 'P' } }),
      expect.objectContaining({
        IndexName: 'pending',
        FilterExpression: 'pendingAfter <= :now',
        ExpressionAttributeValues: { ':mark': 'D', ':now': 50 },
      }),
    ]);
  });

  it('settles a pending series only at the version the band job saw', async () => {
    documentsMock.on(UpdateCommand).rejects(conditionFailed());
    await store().settlePending('abc', 3);
    expect(documentsMock.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: 'state',
      Key: { pk: 'SERIES#abc', sk: 'SERIES' },
      UpdateExpression: 'REMOVE pendingShard, pendingFrom, pendingAfter',
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': 3 },
    });
  });

  it('queries the catalog index in order, filters in memory, and reads the full entries of the page', async () => {
    const web1 = entry('shop.requests', { host: 'web-1' }, true);
    const web2 = entry('shop.requests', { host: 'web-2' });
    const db = entry('db.queries');
    documentsMock.on(QueryCommand).resolves({ Items: [db, web1, web2] });
    documentsMock.on(BatchGetCommand).resolves({ Responses: { state: [full(web2), full(web1)] } });
    const page = await store().findSeries({ dimensions: { host: 'web-*' }, limit: 10 });
    expect(page.series.map((s) => s.dimensions.host)).toEqual(['web-1', 'web-2']);
    expect(page.series[0]).toMatchObject({
      lastTimestamp: 1_000,
      stepMs: 60_000,
      anomalous: true,
      seasonality: 'daily',
      kind: null,
    });
    expect(page.next).toBeUndefined();
    expect(queries()).toEqual([
      {
        TableName: 'state',
        IndexName: catalogIndex,
        KeyConditionExpression: 'catalogShard = :catalog',
        ExpressionAttributeValues: { ':catalog': 'S' },
        ExclusiveStartKey: undefined,
        Limit: 1000,
      },
    ]);
    const batch = documentsMock.commandCalls(BatchGetCommand)[0]?.args[0].input;
    expect(batch?.RequestItems?.state?.Keys).toEqual([
      { pk: web1.pk, sk: 'SERIES' },
      { pk: web2.pk, sk: 'SERIES' },
    ]);
    expect(batch?.RequestItems?.state?.ProjectionExpression).not.toContain('engineState');
  });

  it('narrows the key condition to a prefix and starts after the cursor inside it', async () => {
    documentsMock.on(QueryCommand).resolves({ Items: [] });
    const after = { name: 'shop.login.time', id: '0123456789abcdef' };
    await store().findSeries({ prefix: 'shop.', after, limit: 5 });
    expect(queries()[0]).toMatchObject({
      KeyConditionExpression: 'catalogShard = :catalog AND begins_with(catalogKey, :prefix)',
      ExpressionAttributeValues: { ':catalog': 'S', ':prefix': 'shop.' },
      ExclusiveStartKey: {
        pk: 'SERIES#0123456789abcdef',
        sk: 'SERIES',
        catalogShard: 'S',
        catalogKey: catalogKey(after.name, after.id),
      },
    });
  });

  it('starts at the prefix for a cursor before it, and asks nothing for a cursor past it', async () => {
    documentsMock.on(QueryCommand).resolves({ Items: [] });
    await store().findSeries({ prefix: 'shop.', after: { name: 'db.queries', id: '0' }, limit: 5 });
    expect(queries()[0]?.ExclusiveStartKey).toBeUndefined();
    const beyond = await store().findSeries({
      prefix: 'shop.',
      after: { name: 'web.requests', id: '0' },
      limit: 5,
    });
    expect(beyond).toEqual({ series: [], next: undefined });
    expect(queries()).toHaveLength(1);
  });

  it('stops at the limit with a cursor at the last series returned', async () => {
    const items = ['a', 'b', 'c'].map((name) => entry(name));
    documentsMock.on(QueryCommand).resolves({ Items: items, LastEvaluatedKey: { pk: items[2]?.pk } });
    documentsMock.on(BatchGetCommand).resolves({ Responses: { state: items.slice(0, 2).map(full) } });
    const page = await store().findSeries({ limit: 2 });
    expect(page.series.map((s) => s.name)).toEqual(['a', 'b']);
    expect(page.next).toEqual({ name: 'b', id: seriesId('b', {}) });
  });

  it('follows LastEvaluatedKey, and answers with a cursor after examining its share of the catalog', async () => {
    const page = (from: number) => ({
      Items: Array.from({ length: 1000 }, (_, i) => entry(`s${String(from + i).padStart(5, '0')}`)),
      LastEvaluatedKey: { pk: 'more' },
    });
    let behaviour = documentsMock.on(QueryCommand);
    for (let i = 0; i < 6; i++) behaviour = behaviour.resolvesOnce(page(i * 1000));
    documentsMock.on(BatchGetCommand).resolves({ Responses: { state: [] } });
    const result = await store().findSeries({ pattern: 'nothing-matches', limit: 10 });
    expect(queries()).toHaveLength(maxExaminedPerPage / 1000);
    expect(queries()[1]?.ExclusiveStartKey).toEqual({ pk: 'more' });
    expect(result.series).toEqual([]);
    expect(result.next?.name).toBe('s04999');
  });

  it('asks again for keys DynamoDB left unprocessed', async () => {
    const item = entry('a');
    documentsMock.on(QueryCommand).resolves({ Items: [item] });
    documentsMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { state: [] },
        UnprocessedKeys: { state: { Keys: [{ pk: item.pk, sk: 'SERIES' }] } },
      })
      .resolvesOnce({ Responses: { state: [full(item)] } });
    const page = await store().findSeries({ limit: 10 });
    expect(page.series.map((s) => s.name)).toEqual(['a']);
    expect(documentsMock.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('saves what the engine learned beside the band job progress', async () => {
    documentsMock.on(UpdateCommand).resolves({});
    await store().saveProgress(
      'abc',
      {
        stepMs: 60_000,
        processedUntil: 0,
        engineState: { engine: 'x' },
        anomalous: false,
        learned: { kind: 'count', seasonality: 'weekly' },
      },
      3,
      false,
    );
    const update = documentsMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toContain('kind = :kind, seasonality = :seasonality');
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':kind': 'count', ':seasonality': 'weekly' });
  });
});
