import type { QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { logBucket, logBucketRange } from '../../lib/adapters/dynamodb-packing.ts';
import { shardBatches } from '../../lib/jobs/band-fanout.ts';
import { fanoutShardOrder, shardOf, shardSelection } from '../../lib/jobs/state-shards.ts';
import { type SeriesSelection, seriesHash } from '../../lib/metrics/series-hash.ts';
import type { TimedValue } from '../../lib/ports/metric-store.ts';
import { minuteMs } from '../../lib/time.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';
import { gaugePoint } from '../helpers/series.ts';

/**
 * The DynamoDB store's bulk read of recent points for a fan-out worker (dynalite): with a selection it queries
 * only the log buckets that can hold the selected series, one Query per run of adjacent buckets a minute, and
 * answers exactly the selected series' points of the whole read.
 */
let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(() => dynamo.close());

const start = Date.parse('2026-03-02T10:00:00Z');
const ids = Array.from({ length: 400 }, (_, index) => `series-${index}`);
const point = gaugePoint;

/** A store with three minutes of log (a rewritten point in each series), and the Query inputs it sends. */
async function loggedStore() {
  const table = await dynamo.createDataTable();
  // A clock that moves on: a later write sorts later in the log.
  let now = start + 4 * minuteMs;
  const queries: QueryCommandInput[] = [];
  const store = new DynamoDbMetricStore({
    table,
    retentionDays: 30,
    now: () => now++,
    client: {
      send: async (command: { input: unknown; constructor: { name: string } }) => {
        if (command.constructor.name === 'QueryCommand') queries.push(command.input as QueryCommandInput);
        return dynamo.client.send(command as never);
      },
    } as never,
  });
  for (let minute = 0; minute < 3; minute++) {
    await store.writePoints(
      ids.map((id, index) =>
        point(id, start + minute * minuteMs + (index % 50) * 1000, minute * 1000 + index),
      ),
    );
  }
  // Later writes win a timestamp: the rewrite must survive a partial read too.
  await store.writePoints(ids.map((id, index) => point(id, start + (index % 50) * 1000, -index)));
  queries.length = 0;
  return { store, queries };
}

const subset = (all: Map<string, TimedValue[]>, wanted: (id: string) => boolean) =>
  new Map([...all].filter(([id]) => wanted(id)));

const bucketKeys = (first: number, last: number) => {
  const [low] = logBucketRange(first);
  const [, high] = logBucketRange(last);
  return { ':low': { N: low }, ':high': { N: high } };
};

describe('DynamoDbMetricStore.readRecentPoints with a selection (dynalite)', () => {
  it("reads a worker's 3 buckets of the 24 a minute and answers exactly its shards' series", async () => {
    const { store, queries } = await loggedStore();
    const whole = await store.readRecentPoints(start, start + 3 * minuteMs);
    expect(whole.size).toBe(ids.length);
    expect(whole.get('series-7')?.[0]).toEqual({ timestamp: start + 7000, value: -7 });
    expect(queries).toHaveLength(3);
    queries.length = 0;

    const batch = shardBatches(fanoutShardOrder(256), 4)[16] ?? [];
    expect(batch).toEqual(['256-002', '256-010', '256-018', '256-026']);
    const selection = shardSelection(batch, 256);
    const read = await store.readRecentPoints(start, start + 3 * minuteMs, selection);
    const expected = subset(whole, (id) => batch.includes(shardOf(id, 256)));
    expect(expected.size).toBeGreaterThan(0);
    expect(read).toEqual(expected);
    // Hash 2 modulo 8: buckets 3, 11 and 19, a Query each per minute.
    const asked = queries.map((query) => [
      query.ExpressionAttributeValues?.[':pk']?.S,
      query.KeyConditionExpression,
    ]);
    expect(queries).toHaveLength(9);
    expect(new Set(asked.map(([, condition]) => condition))).toEqual(
      new Set(['pk = :pk AND sk BETWEEN :low AND :high']),
    );
    expect(
      queries.slice(0, 3).map(({ ExpressionAttributeValues: values }) => ({
        ':low': values?.[':low'],
        ':high': values?.[':high'],
      })),
    ).toEqual([bucketKeys(3, 3), bucketKeys(11, 11), bucketKeys(19, 19)]);
  });

  it('joins adjacent buckets into one range, and reads the whole partition when every bucket may hold a series', async () => {
    const { store, queries } = await loggedStore();
    const whole = await store.readRecentPoints(start, start + 2 * minuteMs);
    queries.length = 0;
    // Hash 0, 1 or 2 modulo 24: buckets 1 to 3, one range.
    const adjacent: SeriesSelection = { modulus: 24, residues: [2, 0, 1] };
    expect(await store.readRecentPoints(start, start + 2 * minuteMs, adjacent)).toEqual(
      subset(whole, (id) => logBucket(id) <= 3),
    );
    expect(queries.map((query) => query.ExpressionAttributeValues)).toEqual(
      [0, 1].map((minute) => ({ ':pk': { S: `R#${start / minuteMs + minute}` }, ...bucketKeys(1, 3) })),
    );
    queries.length = 0;
    // Modulo 5: any bucket may hold a selected series, so each minute's partition is read whole (filtered).
    const spread: SeriesSelection = { modulus: 5, residues: [4] };
    const read = await store.readRecentPoints(start, start + 2 * minuteMs, spread);
    expect(queries.map((query) => query.KeyConditionExpression)).toEqual(['pk = :pk', 'pk = :pk']);
    expect(read).toEqual(subset(whole, (id) => seriesHash(id) % 5 === 4));
    expect(read.size).toBeGreaterThan(40);
    expect(read.size).toBeLessThan(120);
    // Nothing selected: nothing read.
    queries.length = 0;
    expect(await store.readRecentPoints(start, start + 2 * minuteMs, { modulus: 8, residues: [] })).toEqual(
      new Map(),
    );
    expect(queries).toEqual([]);
  });
});
