import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAlertStore } from '../../lib/adapters/dynamodb-alert-store.ts';
import { SnsNotifier } from '../../lib/adapters/sns-notifier.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { runBandJob } from '../../lib/jobs/band-job.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { describeAlertStoreContract } from './alert-store.contract.ts';

/**
 * The AlertStore contract against a DynamoDB that evaluates the adapter's condition, update and key
 * expressions for real (dynalite, in memory), with the table shaped as the stack creates it.
 */
let dynamo: LocalDynamoDb;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});

afterAll(() => dynamo.close());

/** A fresh alert table, shaped as the stack creates it, and the store over it. */
async function tableStore(): Promise<DynamoDbAlertStore> {
  return new DynamoDbAlertStore({ table: await dynamo.createAlertTable(), client: dynamo.client });
}

describeAlertStoreContract('DynamoDB (dynalite)', async () => ({
  store: await tableStore(),
  close: async () => {},
}));

describe('Two band jobs overlapping on DynamoDB', () => {
  it('record one alert and publish each of its transitions once', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalcy-overlap-'));
    const sqlite = openSqliteStores(join(directory, 'normalcy.db'));
    const sns = mockClient(SNSClient);
    try {
      const step = 300_000;
      const start = Date.UTC(2025, 10, 24);
      const end = start + 2 * 86_400_000;
      const spikeAt = end - 6 * step;
      const id = seriesId('shop.requests', {});
      const points = [];
      for (let t = start; t < end; t += step) {
        points.push({
          seriesId: id,
          name: 'shop.requests',
          type: 'gauge' as const,
          dimensions: {},
          timestamp: t,
          value: t === spikeAt ? 500 : 100 + ((t / step) % 5),
        });
      }
      await sqlite.metrics.writePoints(points);
      await sqlite.series.recordSeries([
        {
          id,
          name: 'shop.requests',
          type: 'gauge',
          dimensions: {},
          minTimestamp: start,
          maxTimestamp: end - step,
        },
      ]);
      const alerts = await tableStore();
      const published: string[] = [];
      sns.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        published.push(input.MessageAttributes?.transitionId?.StringValue ?? '');
        return { MessageId: String(published.length) };
      });
      const run = () =>
        runBandJob({
          metrics: sqlite.metrics,
          series: sqlite.series,
          bands: sqlite.bands,
          states: sqlite.states,
          alerts,
          notifier: new SnsNotifier({
            topicArn: 'arn:aws:sns:eu-west-1:1:alerts',
            client: new SNSClient({ region: 'eu-west-1' }),
          }),
          engine: defaultEngine,
          clock: { now: () => end + 60_000 },
        });
      const [a, b] = await Promise.all([run(), run()]);
      // Both took the series; the one that saved its state shard second gave way (its work was the same).
      expect([a.bucketsProcessed, b.bucketsProcessed].sort((x, y) => x - y)).toEqual([0, 576]);
      expect(a.alertsOpened + b.alertsOpened).toBe(1);
      const recorded = await alerts.listAlerts({ limit: 10 });
      expect(recorded.map((alert) => [alert.startedAt, alert.state])).toEqual([[spikeAt, 'resolved']]);
      const alertId = recorded[0]?.id;
      expect(published).toEqual([`${alertId}.open`, `${alertId}.resolved`]);
      await run();
      expect(published).toHaveLength(2);
    } finally {
      sns.restore();
      sqlite.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
