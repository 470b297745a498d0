import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { DynamoDbIncidentStore } from '../../lib/adapters/dynamodb-incident-store.ts';
import { publishIncidentInput, SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { runBandJob } from '../../lib/jobs/band-job.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import type { IncidentStore } from '../../lib/ports/incident-store.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';

/**
 * Incidents delivered from DynamoDB (dynalite) to SNS (mocked at the SDK boundary, every Publish request
 * checked): the real band job over three series of one host that spike together, in SQLite for points.
 */
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:normalcy-alerts';
const step = 300_000;
const start = Date.UTC(2025, 10, 24);
const end = start + 2 * 86_400_000;
const spikeAt = end - 6 * step;
const host = { host: 'web-1' };
const names = ['shop.requests', 'shop.errors', 'db.queries'];

let dynamo: LocalDynamoDb;
let directory: string;
let sqlite: SqliteStores;
const sns = mockClient(SNSClient);

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});

afterAll(() => dynamo.close());

beforeEach(async () => {
  sns.reset();
  directory = mkdtempSync(join(tmpdir(), 'normalcy-incidents-'));
  sqlite = openSqliteStores(join(directory, 'normalcy.db'));
  const points = [];
  for (const [index, name] of names.entries()) {
    const id = seriesId(name, host);
    for (let t = start; t < end; t += step) {
      const usual = 100 * (index + 1) + ((t / step) % 5);
      points.push({
        seriesId: id,
        name,
        type: 'gauge' as const,
        dimensions: host,
        timestamp: t,
        value: usual,
      });
      if (t === spikeAt)
        points[points.length - 1] = { ...points[points.length - 1], value: 50 * usual } as never;
    }
    await sqlite.series.recordSeries([
      { id, name, type: 'gauge', dimensions: host, minTimestamp: start, maxTimestamp: end - step },
    ]);
  }
  await sqlite.metrics.writePoints(points);
});

afterEach(() => {
  sqlite.close();
  rmSync(directory, { recursive: true, force: true });
});

async function cloudStores() {
  const table = await dynamo.createAlertTable();
  return {
    alerts: new DynamoDbAlertStore({ table, client: dynamo.client }),
    incidents: new DynamoDbIncidentStore({ table, client: dynamo.client }),
  };
}

/**
 * Two runs' incident stores that meet after their first read of the board: each waits (up to 5 s) until the
 * other read it too, so both read the same version and work on it, and their saves collide.
 */
function meetingAfterFirstRead(store: IncidentStore): [IncidentStore, IncidentStore] {
  let arrived = 0;
  let release = () => {};
  const meeting = new Promise<void>((resolve) => {
    release = resolve;
    setTimeout(resolve, 5_000);
  });
  const wrapped = (): IncidentStore => {
    let first = true;
    return new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'loadBoard') {
          return async () => {
            const board = await target.loadBoard();
            if (first) {
              first = false;
              arrived += 1;
              if (arrived === 2) release();
              await meeting;
            }
            return board;
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return [wrapped(), wrapped()];
}

function bandJob(stores: { alerts: DynamoDbAlertStore; incidents: IncidentStore }, clock: { now(): number }) {
  return () =>
    runBandJob({
      metrics: sqlite.metrics,
      series: sqlite.series,
      bands: sqlite.bands,
      states: sqlite.states,
      ...stores,
      notifier: new SnsNotifier({ topicArn, client: new SNSClient({ region: 'eu-west-1' }) }),
      engine: defaultEngine,
      clock,
    });
}

const published = () => sns.commandCalls(PublishCommand).map((call) => call.args[0].input);

describe('Incidents delivered from DynamoDB to SNS', () => {
  it('two band jobs overlapping: one incident, its OPEN and its RESOLVED published once each', async () => {
    const stores = await cloudStores();
    sns.on(PublishCommand).callsFake(async () => {
      // Slow enough that the two runs' deliveries overlap.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { MessageId: 'm' };
    });
    const clock = { now: () => end + 15 * 60_000 };
    const [first, second] = meetingAfterFirstRead(stores.incidents);
    const [a, b] = await Promise.all([
      bandJob({ ...stores, incidents: first }, clock)(),
      bandJob({ ...stores, incidents: second }, clock)(),
    ]);
    const run = bandJob(stores, clock);
    expect(a.alertsOpened + b.alertsOpened).toBe(3);
    expect(a.incidents.routed + b.incidents.routed).toBe(6);

    const incidents = await stores.incidents.listIncidents({ limit: 10 });
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    if (!incident) throw new Error('no incident');
    expect(incident).toMatchObject({ state: 'resolved', severity: 'critical', startedAt: spikeAt });
    expect(incident.members.map((member) => member.name).sort()).toEqual([...names].sort());
    const transitions = await stores.incidents.incidentTransitionsOf(incident.id);
    expect(transitions.map((t) => [t.id, t.status])).toEqual([
      [`${incident.id}.open`, 'sent'],
      [`${incident.id}.resolved`, 'sent'],
    ]);
    // The exact requests: each transition's, once, OPEN first.
    expect(published()).toEqual(transitions.map((t) => publishIncidentInput(topicArn, t.notification)));
    const [open] = published();
    expect(open?.MessageAttributes?.incidentId).toEqual({ DataType: 'String', StringValue: incident.id });
    expect(open?.MessageAttributes?.state).toEqual({ DataType: 'String', StringValue: 'OPEN' });
    expect(open?.Subject).toMatch(/^\[Normalcy\] INCIDENT critical \S+\{host=web-1\} \+ 2 more$/);
    // Every alert transition was paged through the incident, none on its own.
    for (const member of incident.members) {
      const alertTransitions = await stores.alerts.transitionsOf(member.alertId);
      expect(alertTransitions.map((t) => [t.kind, t.status, t.reason])).toEqual([
        ['OPEN', 'sent', `incident ${incident.id}`],
        ['RESOLVED', 'sent', `incident ${incident.id}`],
      ]);
    }

    await run();
    expect(published()).toHaveLength(2);
  });

  it('SNS throttled, then recovered: the incident waits, then its OPEN and RESOLVED go once each, in order', async () => {
    const stores = await cloudStores();
    let failing = true;
    sns.on(PublishCommand).callsFake(async () => {
      if (failing) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client' });
      return { MessageId: 'm' };
    });
    let now = end + 15 * 60_000;
    const run = bandJob(stores, { now: () => now });
    const first = await run();
    expect(first.incidents).toMatchObject({ recorded: 2, sent: 0, failed: 1 });
    now += 10 * 60_000;
    expect((await run()).incidents).toMatchObject({ sent: 0, failed: 1 });
    const attempts = published().length;
    expect(attempts).toBe(2);
    const [incident] = await stores.incidents.listIncidents({ limit: 10 });
    if (!incident) throw new Error('no incident');
    const waiting = await stores.incidents.incidentTransitionsOf(incident.id);
    expect(waiting.map((t) => [t.kind, t.status, t.attempts, t.lastError])).toEqual([
      ['OPEN', 'pending', 2, 'Throttling: Rate exceeded'],
      // Never tried before its OPEN went out.
      ['RESOLVED', 'pending', 0, null],
    ]);

    failing = false;
    now += 10 * 60_000;
    expect((await run()).incidents).toMatchObject({ sent: 2, failed: 0 });
    const accepted = published().slice(attempts);
    expect(accepted).toEqual(waiting.map((t) => publishIncidentInput(topicArn, t.notification)));
    expect(accepted.map((input) => input.MessageAttributes?.transitionId?.StringValue)).toEqual([
      `${incident.id}.open`,
      `${incident.id}.resolved`,
    ]);
    now += 10 * 60_000;
    await run();
    expect(published()).toHaveLength(attempts + 2);
  });
});
