import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { evaluateSeries } from '../../lib/alerts/evaluate.ts';
import { emptyMonitor } from '../../lib/alerts/model.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { deliverTransitions } from '../../lib/jobs/alert-delivery.ts';
import { runBandJob } from '../../lib/jobs/band-job.ts';
import { defaultStateShards, shardOf } from '../../lib/jobs/state-shards.ts';
import { judgedBucket } from '../helpers/judged-bucket.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const snsMock = mockClient(SNSClient);
const table = 'normalcy-alerts';
const step = 300_000;
const t0 = Date.UTC(2025, 10, 24, 14, 0);
const series = { id: '0123456789abcdef', name: 'shop.requests', dimensions: { host: 'web-1' } };

const store = () => new DynamoDbAlertStore({ table, client: new DynamoDBClient({ region: 'eu-west-1' }) });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** An evaluation that opens one alert at t0 + step (a strong spike) and resolves it three buckets later. */
const spikeOutcome = () =>
  evaluateSeries({
    series,
    stepMs: step,
    monitor: emptyMonitor(series.id),
    rules: [builtInDefaultRule],
    buckets: [100, 400, 100, 100, 100].map((value, index) => judgedBucket(t0 + index * step, value)),
    now: t0 + 5 * step,
    link: (seriesId, id) => `https://dash/#/series/${seriesId}?alert=${id}`,
  });

beforeEach(() => {
  ddbMock.reset();
  snsMock.reset();
});

describe('DynamoDbAlertStore: recording an evaluation', () => {
  it('puts each transition only if absent, updates the alert, then the monitor only at its version', async () => {
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    const outcome = spikeOutcome();
    const alertId = outcome.alerts[0]?.id ?? '';
    expect(await store().commitEvaluation(series.id, 0, outcome)).toBe('committed');

    const puts = ddbMock.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts.map((input) => [input.Item?.pk, input.Item?.sk, input.ConditionExpression])).toEqual([
      [`ALERT#${alertId}`, `TRANSITION#${alertId}.open`, 'attribute_not_exists(pk)'],
      [`ALERT#${alertId}`, `TRANSITION#${alertId}.resolved`, 'attribute_not_exists(pk)'],
      [`MONITOR#${series.id}`, 'MONITOR', 'attribute_not_exists(pk)'],
    ]);
    expect(puts[0]).toEqual({
      TableName: table,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `ALERT#${alertId}`,
        sk: `TRANSITION#${alertId}.open`,
        body: expect.any(String),
        status: 'pending',
        reason: null,
        attempts: 0,
        lastError: null,
        deliverAfter: 0,
        decidedAt: null,
        deliverOrder: `000${t0 + step}#0#${alertId}.open`,
        pendingShard: 'P',
      },
    });
    expect(puts[2]?.Item?.version).toBe(1);

    const updates = ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates).toEqual([
      {
        TableName: table,
        Key: { pk: `ALERT#${alertId}`, sk: 'ALERT' },
        UpdateExpression:
          'SET alertState = :state, seriesId = :series, startedAt = :started, asOf = :asOf, body = :body, resolvedAt = :resolved',
        ConditionExpression: 'attribute_not_exists(asOf) OR asOf <= :asOf',
        ExpressionAttributeValues: {
          ':state': 'resolved',
          ':series': '0123456789abcdef',
          ':started': t0 + step,
          ':asOf': t0 + 5 * step,
          ':body': expect.any(String),
          ':resolved': t0 + 2 * step,
        },
      },
    ]);
  });

  it('saves the monitor only if no other run saved it since it was read', async () => {
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    await store().commitEvaluation(series.id, 7, spikeOutcome());
    const monitorPut = ddbMock.commandCalls(PutCommand).at(-1)?.args[0].input;
    expect(monitorPut).toMatchObject({
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': 7 },
      Item: { pk: `MONITOR#${series.id}`, sk: 'MONITOR', version: 8 },
    });
  });

  it('two overlapping runs: the second records no transition twice and reports the conflict', async () => {
    // What DynamoDB holds: the keys written so far; a conditional put on an existing key fails.
    const written = new Set<string>();
    ddbMock.on(PutCommand).callsFake((input: PutCommandInput) => {
      const key = `${input.Item?.pk}|${input.Item?.sk}`;
      if (input.ConditionExpression === 'attribute_not_exists(pk)' && written.has(key))
        throw conditionFailed();
      written.add(key);
      return {};
    });
    ddbMock.on(UpdateCommand).resolves({});
    const first = store();
    const second = store();
    // Both runs read the monitor before either saved it, and evaluated the same buckets.
    const [a, b] = [spikeOutcome(), spikeOutcome()];
    expect(await first.commitEvaluation(series.id, 0, a)).toBe('committed');
    expect(await second.commitEvaluation(series.id, 0, b)).toBe('conflict');

    const puts = ddbMock.commandCalls(PutCommand);
    const transitionPuts = puts.filter((call) =>
      String(call.args[0].input.Item?.sk).startsWith('TRANSITION#'),
    );
    expect(transitionPuts).toHaveLength(4);
    expect(
      transitionPuts.every((call) => call.args[0].input.ConditionExpression === 'attribute_not_exists(pk)'),
    ).toBe(true);
    expect([...written].filter((key) => key.includes('TRANSITION#'))).toHaveLength(2);
  });

  it('a transition recorded by another run is left as it is, and the rest of the commit goes on', async () => {
    ddbMock.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    expect(await store().commitEvaluation(series.id, 0, spikeOutcome())).toBe('committed');
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(3);
  });

  it('an error other than a failed condition is not swallowed', async () => {
    ddbMock.on(PutCommand).rejects(
      Object.assign(new Error('Throughput exceeds the current capacity'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );
    await expect(store().commitEvaluation(series.id, 0, spikeOutcome())).rejects.toThrow(
      'Throughput exceeds',
    );
  });
});

describe('DynamoDbAlertStore: delivery', () => {
  /** The items the first commit wrote, as DynamoDB would return them. */
  const recorded = async () => {
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    const outcome = spikeOutcome();
    await store().commitEvaluation(series.id, 0, outcome);
    const items = ddbMock.commandCalls(PutCommand).map((call) => call.args[0].input.Item ?? {});
    const alert = outcome.alerts[0];
    ddbMock.reset();
    return {
      transitions: items.filter((item) => String(item.sk).startsWith('TRANSITION#')),
      alertItem: {
        pk: `ALERT#${alert?.id}`,
        sk: 'ALERT',
        alertState: 'resolved',
        startedAt: alert?.startedAt,
        resolvedAt: alert?.resolvedAt,
        body: JSON.stringify(alert),
      },
      alertId: alert?.id ?? '',
    };
  };

  it('claims a transition with a condition, publishes it, then marks it sent and the alert paged', async () => {
    const { transitions, alertItem, alertId } = await recorded();
    ddbMock.on(QueryCommand).resolves({ Items: transitions });
    ddbMock.on(GetCommand).resolves({ Item: alertItem });
    ddbMock.on(UpdateCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: '1' });
    const now = t0 + 10 * step;
    const summary = await deliverTransitions(
      {
        alerts: store(),
        notifier: new SnsNotifier({
          topicArn: 'arn:aws:sns:eu-west-1:1:alerts',
          client: new SNSClient({ region: 'eu-west-1' }),
        }),
        clock: { now: () => now },
      },
      { mutes: [], pageWindowMs: 3_600_000 },
    );
    expect(summary).toEqual({ sent: 2, suppressed: 0, held: 0, failed: 0 });
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      IndexName: 'pendingTransitions',
      KeyConditionExpression: 'pendingShard = :pending',
      ExpressionAttributeValues: { ':pending': 'P' },
      Limit: 500,
      ExclusiveStartKey: undefined,
    });
    const updates = ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates[0]).toEqual({
      TableName: table,
      Key: { pk: `ALERT#${alertId}`, sk: `TRANSITION#${alertId}.open` },
      UpdateExpression: 'SET claimedUntil = :until ADD attempts :one',
      ConditionExpression:
        '#status = :pending AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':until': now + 120_000, ':one': 1, ':pending': 'pending', ':now': now },
    });
    expect(updates[1]).toEqual({
      TableName: table,
      Key: { pk: `ALERT#${alertId}`, sk: `TRANSITION#${alertId}.open` },
      UpdateExpression:
        'SET #status = :status, reason = :reason, decidedAt = :at REMOVE pendingShard, claimedUntil',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': 'sent', ':reason': null, ':at': now, ':pending': 'pending' },
    });
    expect(updates[2]).toEqual({
      TableName: table,
      Key: { pk: `ALERT#${alertId}`, sk: 'ALERT' },
      UpdateExpression: 'SET paged = :paged',
      ExpressionAttributeValues: { ':paged': true },
    });
    expect(
      snsMock
        .commandCalls(PublishCommand)
        .map((call) => call.args[0].input.MessageAttributes?.state?.StringValue),
    ).toEqual(['OPEN', 'RESOLVED']);
  });

  it('two runs delivering at once: the claim lets only one publish', async () => {
    const { transitions, alertItem } = await recorded();
    ddbMock.on(QueryCommand).resolves({ Items: transitions });
    ddbMock.on(GetCommand).resolves({ Item: alertItem });
    // What DynamoDB holds: claims taken; a second claim on the same transition fails its condition.
    const claimed = new Set<string>();
    ddbMock.on(UpdateCommand).callsFake((input: { Key: { sk: string }; UpdateExpression: string }) => {
      if (input.UpdateExpression.startsWith('SET claimedUntil')) {
        if (claimed.has(input.Key.sk)) throw conditionFailed();
        claimed.add(input.Key.sk);
      }
      return {};
    });
    snsMock.on(PublishCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { MessageId: '1' };
    });
    const notifier = new SnsNotifier({
      topicArn: 'arn:aws:sns:eu-west-1:1:alerts',
      client: new SNSClient({ region: 'eu-west-1' }),
    });
    const deliver = () =>
      deliverTransitions(
        { alerts: store(), notifier, clock: { now: () => t0 + 10 * step } },
        { mutes: [], pageWindowMs: 3_600_000 },
      );
    const [first, second] = await Promise.all([deliver(), deliver()]);
    expect(first.sent + second.sent).toBe(2);
    const published = snsMock
      .commandCalls(PublishCommand)
      .map((call) => call.args[0].input.MessageAttributes?.transitionId?.StringValue);
    expect(published).toHaveLength(2);
    expect(new Set(published).size).toBe(2);
  });

  it('a failed publish leaves the transition pending with the error and a later time to retry', async () => {
    const { transitions, alertItem, alertId } = await recorded();
    ddbMock.on(QueryCommand).resolves({ Items: transitions });
    ddbMock.on(GetCommand).resolves({ Item: alertItem });
    ddbMock.on(UpdateCommand).resolves({});
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const now = t0 + 10 * step;
    const summary = await deliverTransitions(
      {
        alerts: store(),
        notifier: new SnsNotifier({
          topicArn: 'arn:aws:sns:eu-west-1:1:alerts',
          client: new SNSClient({ region: 'eu-west-1' }),
        }),
        clock: { now: () => now },
      },
      { mutes: [], pageWindowMs: 3_600_000 },
    );
    expect(summary).toEqual({ sent: 0, suppressed: 0, held: 0, failed: 1 });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(UpdateCommand).at(-1)?.args[0].input).toEqual({
      TableName: table,
      Key: { pk: `ALERT#${alertId}`, sk: `TRANSITION#${alertId}.open` },
      UpdateExpression: 'SET deliverAfter = :after, lastError = :error REMOVE claimedUntil',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':after': now + 30_000,
        ':pending': 'pending',
        ':error': 'Throttling: Rate exceeded',
      },
    });
  });
});

describe('DynamoDbAlertStore: reading and configuration', () => {
  it('lists alerts active in a range from the by-state index, newest first', async () => {
    const item = (id: string, state: string, startedAt: number) => ({
      pk: `ALERT#${id}`,
      sk: 'ALERT',
      alertState: state,
      startedAt,
      body: JSON.stringify({ id, state, startedAt }),
    });
    ddbMock
      .on(QueryCommand, { ExpressionAttributeValues: { ':state': 'open', ':to': 2000, ':from': 1000 } })
      .resolves({ Items: [item('al_b', 'open', 1500)] })
      .on(QueryCommand, { ExpressionAttributeValues: { ':state': 'resolved', ':to': 2000, ':from': 1000 } })
      .resolves({ Items: [item('al_c', 'resolved', 1900), item('al_a', 'resolved', 900)] });
    const alerts = await store().listAlerts({ from: 1000, to: 2000, limit: 10 });
    expect(alerts.map((alert) => [alert.id, alert.acknowledgedAt, alert.paged])).toEqual([
      ['al_c', null, null],
      ['al_b', null, null],
      ['al_a', null, null],
    ]);
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      IndexName: 'alertsByState',
      KeyConditionExpression: 'alertState = :state AND startedAt < :to',
      FilterExpression: '(attribute_not_exists(resolvedAt) OR resolvedAt >= :from)',
      ExpressionAttributeValues: { ':state': 'open', ':to': 2000, ':from': 1000 },
      ScanIndexForward: false,
      Limit: 10,
      ExclusiveStartKey: undefined,
    });
  });

  it('starts a page after a cursor: the alerts of its instant read whole and cut by id, then older ones', async () => {
    const item = (id: string, startedAt: number) => ({
      pk: `ALERT#${id}`,
      sk: 'ALERT',
      alertState: 'open',
      startedAt,
      body: JSON.stringify({ id, state: 'open', startedAt }),
    });
    ddbMock
      .on(QueryCommand, { KeyConditionExpression: 'alertState = :state AND startedAt = :at' })
      .resolves({ Items: [item('al_a', 1500), item('al_c', 1500), item('al_b', 1500)] })
      .on(QueryCommand, { KeyConditionExpression: 'alertState = :state AND startedAt < :to' })
      .resolves({ Items: [item('al_d', 1200)] });
    const alerts = await store().listAlerts({
      state: 'open',
      limit: 10,
      after: { startedAt: 1500, id: 'al_a' },
    });
    expect(alerts.map((alert) => alert.id)).toEqual(['al_b', 'al_c', 'al_d']);
    expect(ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({
        KeyConditionExpression: 'alertState = :state AND startedAt = :at',
        ExpressionAttributeValues: { ':state': 'open', ':at': 1500 },
      }),
      expect.objectContaining({
        KeyConditionExpression: 'alertState = :state AND startedAt < :to',
        ExpressionAttributeValues: { ':state': 'open', ':to': 1500 },
        Limit: 10,
      }),
    ]);
  });

  it("filters one series' alerts on the item's seriesId, paging until the limit is met", async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'ALERT#al_z' } })
      .resolves({ Items: [] });
    await store().listAlerts({ state: 'open', from: 1000, seriesId: '0123456789abcdef', limit: 5 });
    const inputs = ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({
      IndexName: 'alertsByState',
      FilterExpression: '(attribute_not_exists(resolvedAt) OR resolvedAt >= :from) AND seriesId = :series',
      ExpressionAttributeValues: { ':state': 'open', ':from': 1000, ':series': '0123456789abcdef' },
      Limit: 5,
    });
    expect(inputs[1]).toMatchObject({ ExclusiveStartKey: { pk: 'ALERT#al_z' } });
  });

  it('acknowledges once (the first acknowledgement stays) and says when the alert does not exist', async () => {
    ddbMock
      .on(UpdateCommand)
      .resolvesOnce({
        Attributes: {
          pk: 'ALERT#al_1',
          sk: 'ALERT',
          body: JSON.stringify({ id: 'al_1', state: 'open' }),
          acknowledgedAt: 5,
          acknowledgedBy: 'oncall',
        },
      })
      .rejects(conditionFailed());
    expect(await store().acknowledgeAlert('al_1', 'oncall', 5)).toMatchObject({
      id: 'al_1',
      acknowledgedAt: 5,
      acknowledgedBy: 'oncall',
    });
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Key: { pk: 'ALERT#al_1', sk: 'ALERT' },
      UpdateExpression:
        'SET acknowledgedAt = if_not_exists(acknowledgedAt, :at), acknowledgedBy = if_not_exists(acknowledgedBy, :by)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':at': 5, ':by': 'oncall' },
      ReturnValues: 'ALL_NEW',
    });
    expect(await store().acknowledgeAlert('al_missing', 'oncall', 5)).toBeUndefined();
  });

  it('keeps rules, mutes and exclusions in one partition, read with one query', async () => {
    ddbMock.on(PutCommand).resolves({});
    ddbMock
      .on(DeleteCommand)
      .resolvesOnce({ Attributes: { pk: 'CONFIG' } })
      .resolves({});
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { pk: 'CONFIG', sk: 'EXCLUSION#x', record: { id: 'x' } },
        { pk: 'CONFIG', sk: 'MUTE#m', record: { id: 'm' } },
        { pk: 'CONFIG', sk: 'RULE#r', record: { id: 'r' } },
      ],
    });
    const alerts = store();
    await alerts.putRule({ ...builtInDefaultRule, id: 'r' });
    expect(ddbMock.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Item: { pk: 'CONFIG', sk: 'RULE#r', record: { ...builtInDefaultRule, id: 'r' } },
    });
    expect(await alerts.loadConfig()).toEqual({
      rules: [{ id: 'r' }],
      mutes: [{ id: 'm' }],
      exclusions: [{ id: 'x' }],
      withdrawnExclusions: [],
    });
    expect(await alerts.deleteMute('m')).toBe(true);
    expect(await alerts.deleteMute('m')).toBe(false);
    expect(ddbMock.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Key: { pk: 'CONFIG', sk: 'MUTE#m' },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('withdraws an exclusion by marking its record, only once, and forgets those withdrawn over 30 days ago', async () => {
    const now = 100 * 86_400_000;
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { pk: 'CONFIG', sk: 'EXCLUSION#x', record: { id: 'x' } },
        { pk: 'CONFIG', sk: 'EXCLUSION#old', record: { id: 'old', deletedAt: now - 31 * 86_400_000 } },
        { pk: 'CONFIG', sk: 'EXCLUSION#recent', record: { id: 'recent', deletedAt: now - 29 * 86_400_000 } },
      ],
    });
    ddbMock.on(DeleteCommand).resolves({ Attributes: { pk: 'CONFIG' } });
    ddbMock
      .on(UpdateCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'withdrawn already', $metadata: {} }));
    expect(await store().deleteExclusion('x', now)).toBe(true);
    expect(await store().deleteExclusion('x', now)).toBe(false);
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: table,
      Key: { pk: 'CONFIG', sk: 'EXCLUSION#x' },
      UpdateExpression: 'SET #record.deletedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#record.deletedAt)',
      ExpressionAttributeNames: { '#record': 'record' },
      ExpressionAttributeValues: { ':at': now },
    });
    expect(ddbMock.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key)).toEqual([
      { pk: 'CONFIG', sk: 'EXCLUSION#old' },
      { pk: 'CONFIG', sk: 'EXCLUSION#old' },
    ]);
  });
});

describe('The band job over DynamoDbAlertStore', () => {
  it('reads a monitor kept before state shards once, then keeps it in its state: no monitor is written', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalcy-ddb-'));
    const sqlite = openSqliteStores(join(directory, 'normalcy.db'));
    try {
      const points = Array.from({ length: 12 }, (_, index) => ({
        seriesId: series.id,
        name: series.name,
        type: 'gauge' as const,
        value: index === 10 ? 400 : 100,
        timestamp: t0 + index * step,
        dimensions: series.dimensions,
      }));
      await sqlite.metrics.writePoints(points);
      await sqlite.series.recordSeries([
        { ...series, type: 'gauge', minTimestamp: t0, maxTimestamp: t0 + 11 * step },
      ]);
      const firstBucketAt = t0 - 86_400_000;
      ddbMock.on(QueryCommand).resolves({ Items: [] });
      ddbMock.on(GetCommand).resolves({
        Item: {
          pk: `MONITOR#${series.id}`,
          sk: 'MONITOR',
          version: 3,
          monitor: JSON.stringify({ ...emptyMonitor(series.id), firstBucketAt }),
        },
      });
      ddbMock.on(PutCommand).resolves({});
      ddbMock.on(UpdateCommand).resolves({});
      const run = (now: number) =>
        runBandJob({
          metrics: sqlite.metrics,
          series: sqlite.series,
          bands: sqlite.bands,
          states: sqlite.states,
          alerts: store(),
          notifier: new SnsNotifier({
            topicArn: 'arn:aws:sns:eu-west-1:1:alerts',
            client: new SNSClient({ region: 'eu-west-1' }),
          }),
          engine: defaultEngine,
          clock: { now: () => now },
        });
      expect((await run(t0 + 13 * step)).bucketsProcessed).toBe(12);
      await run(t0 + 14 * step);
      expect(ddbMock.commandCalls(GetCommand).map((call) => call.args[0].input.Key)).toEqual([
        { pk: `MONITOR#${series.id}`, sk: 'MONITOR' },
      ]);
      const monitorWrites = ddbMock
        .commandCalls(PutCommand)
        .filter((call) => String(call.args[0].input.Item?.pk).startsWith('MONITOR#'));
      expect(monitorWrites).toEqual([]);
      const shard = await sqlite.states.loadShard(shardOf(series.id, defaultStateShards));
      const kept = shard === 'unchanged' ? undefined : shard?.states.find((state) => state.id === series.id);
      expect(kept?.monitor?.firstBucketAt).toBe(firstBucketAt);
      expect(kept?.processedUntil).toBe(t0 + 12 * step);
      expect(await sqlite.series.pendingSeries(10, Date.now())).toEqual([]);
    } finally {
      sqlite.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
