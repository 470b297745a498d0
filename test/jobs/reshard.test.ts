import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { emptyMonitor } from '../../lib/alerts/model.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { ReshardConflictError, reshardState } from '../../lib/jobs/reshard.ts';
import { shardNames, shardOf } from '../../lib/jobs/state-shards.ts';
import type { SeriesState, SeriesStateStore } from '../../lib/ports/series-state-store.ts';
import { FakeS3 } from '../../scripts/dev/fake-s3.ts';

const start = Date.UTC(2026, 2, 10);
const minuteMs = 60_000;

/**
 * Series states as the band job keeps them: engine states of the real engine, each fed values of its own, and
 * alert monitors with a rule's memory (a breach building, one series with a fault).
 */
function seriesStates(count: number): SeriesState[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `series-${String(index).padStart(5, '0')}`;
    const engine = defaultEngine.create({ kind: 'auto' });
    for (let bucket = 0; bucket < 30; bucket++) {
      engine.update(start + bucket * minuteMs, 100 + ((index * 7 + bucket * 13) % 31));
    }
    const processedUntil = start + 30 * minuteMs;
    return {
      id,
      name: `shop.requests.${index % 17}`,
      type: 'gauge',
      dimensions: { host: `web-${index}` },
      stepMs: minuteMs,
      processedUntil,
      engineState: engine.toState(),
      anomalous: index % 5 === 0,
      monitor: {
        ...emptyMonitor(id),
        evaluatedUntil: processedUntil,
        firstBucketAt: start,
        rules: {
          'latency-high': {
            window: [false, index % 2 === 0, true],
            episodeStart: processedUntil - 2 * minuteMs,
            pendingSince: null,
            peakDeviation: index / 3,
            peakChange: 0.25,
            cleanBuckets: 0,
            cleanSince: null,
            open: null,
          },
        },
      },
      lastTimestamp: processedUntil - 1_000,
      lastValue: index + 0.5,
      kind: 'gauge',
      seasonality: null,
      exclusionsAsOf: processedUntil,
      recentFed: { from: processedUntil - 2 * minuteMs, times: [processedUntil - minuteMs] },
      ...(index === 3 && {
        fault: { reason: 'engine failed', since: start, failures: 1, retryAt: start + 1 },
      }),
    };
  });
}

/** Writes states as the band job would at `shardCount` shards, with the layout recorded. */
async function seed(store: SeriesStateStore, states: readonly SeriesState[], shardCount: number) {
  for (const name of shardNames(shardCount)) {
    const inShard = states.filter((state) => shardOf(state.id, shardCount) === name);
    if (inShard.length > 0) expect(await store.saveShard(name, inShard, undefined)).not.toBe('conflict');
  }
  expect(await store.saveLayout({ shardCount }, undefined)).not.toBe('conflict');
}

/** Every state held in the shards of a count, by series, with the shard each is in (doubles fail). */
async function heldStates(store: SeriesStateStore, shardCount: number) {
  const held = new Map<string, { shard: string; text: string }>();
  for (const name of shardNames(shardCount)) {
    const loaded = await store.loadShard(name);
    if (loaded === 'unchanged') throw new Error('no version was given: a shard cannot be unchanged');
    for (const state of loaded?.states ?? []) {
      expect(held.has(state.id), `${state.id} is held twice`).toBe(false);
      held.set(state.id, { shard: name, text: JSON.stringify(state) });
    }
  }
  return held;
}

/** That the shards of `shardCount` hold every state of `states` exactly, each in its own shard. */
async function expectHeld(store: SeriesStateStore, states: readonly SeriesState[], shardCount: number) {
  const held = await heldStates(store, shardCount);
  expect(held.size).toBe(states.length);
  for (const state of states) {
    // Bit-identical: the state as the job saved it, engine state, monitor and all.
    expect(held.get(state.id)).toEqual({ shard: shardOf(state.id, shardCount), text: JSON.stringify(state) });
  }
}

/** A store whose `failAt`-th save (of shards or the layout) fails as a store error would. */
function failingAtSave(store: SeriesStateStore, failAt: number): SeriesStateStore & { saves: number } {
  const wrapper = {
    saves: 0,
    loadShard: store.loadShard.bind(store),
    loadLayout: store.loadLayout.bind(store),
    saveShard: (...args: Parameters<SeriesStateStore['saveShard']>) =>
      ++wrapper.saves === failAt
        ? Promise.reject(new Error('service unavailable'))
        : store.saveShard(...args),
    saveLayout: (...args: Parameters<SeriesStateStore['saveLayout']>) =>
      ++wrapper.saves === failAt
        ? Promise.reject(new Error('service unavailable'))
        : store.saveLayout(...args),
  };
  return wrapper;
}

const opened: SqliteStores[] = [];
const s3 = new FakeS3();
afterEach(() => {
  for (const stores of opened.splice(0)) stores.close();
});
afterAll(() => s3.restore());

let buckets = 0;
/** A store factory: each call a new store object (a new process) on the same stored state. */
type Backend = () => () => SeriesStateStore;
const backends: [string, Backend][] = [
  [
    'SQLite',
    () => {
      const stores = openSqliteStores(':memory:');
      opened.push(stores);
      return () => Object.create(stores.states) as SeriesStateStore;
    },
  ],
  [
    'S3 (fake S3)',
    () => {
      const bucket = `reshard-${++buckets}`;
      return () => new S3StateStore({ bucket, client: new S3Client({ region: 'eu-west-1' }) });
    },
  ],
];

describe.each(backends)('Re-sharding the band job state on %s', (_, backend) => {
  const states = seriesStates(1_000);

  it('moves every series from 64 shards to 128 and back, bit-identical, none lost or doubled', async () => {
    const process = backend();
    await seed(process(), states, 64);

    const split = process();
    expect(await reshardState(split, 128)).toEqual({
      from: 64,
      to: 128,
      series: 1_000,
      shardsWritten: 128,
      shardsEmptied: 64,
    });
    await expectHeld(split, states, 128);
    expect((await heldStates(split, 64)).size).toBe(0);
    expect((await split.loadLayout())?.layout).toEqual({ shardCount: 128 });

    const merged = process();
    expect(await reshardState(merged, 64)).toMatchObject({ from: 128, to: 64, series: 1_000 });
    await expectHeld(merged, states, 64);
    expect((await heldStates(merged, 128)).size).toBe(0);
    expect((await merged.loadLayout())?.layout).toEqual({ shardCount: 64 });
  });

  it('moves counts without a common divisor too (16 to 24 to 7)', async () => {
    const process = backend();
    await seed(process(), states, 16);
    for (const count of [24, 7]) {
      const store = process();
      expect(await reshardState(store, count)).toMatchObject({ to: count, series: 1_000 });
      await expectHeld(store, states, count);
    }
  });

  it('records the layout of a store that has none, moving nothing, then asks no more in that process', async () => {
    const process = backend();
    const store = process();
    for (const name of shardNames(16)) {
      const inShard = states.filter((state) => shardOf(state.id, 16) === name);
      await store.saveShard(name, inShard, undefined);
    }
    let layoutReads = 0;
    const counted = Object.assign(Object.create(store) as SeriesStateStore, {
      loadLayout: () => {
        layoutReads += 1;
        return store.loadLayout();
      },
    });
    expect(await reshardState(counted, 16)).toBeUndefined();
    expect(await reshardState(counted, 16)).toBeUndefined();
    expect(layoutReads).toBe(1);
    expect((await store.loadLayout())?.layout).toEqual({ shardCount: 16 });
    await expectHeld(store, states, 16);
  });

  it('leaves, when a save fails at any point, the state whole in the layout recorded, and the next run completes', async () => {
    const few = states.slice(0, 60);
    for (const [from, to] of [
      [4, 8],
      [8, 4],
      [6, 4],
    ] as const) {
      let completedWithout = false;
      for (let failAt = 1; !completedWithout; failAt++) {
        const process = backend();
        await seed(process(), few, from);
        const failing = failingAtSave(process(), failAt);
        const attempt = reshardState(failing, to);
        await attempt.catch(() => undefined);
        // Past the last save: the run completed with no failure, every point was tried.
        completedWithout = failing.saves < failAt;
        if (completedWithout) {
          expect((await attempt)?.to).toBe(to);
          continue;
        }
        await expect(attempt).rejects.toThrow('service unavailable');
        // Whatever the run managed, the layout recorded holds every state, once.
        const reader = process();
        const layout = (await reader.loadLayout())?.layout;
        await expectHeld(reader, few, layout?.shardCount ?? 0);
        const next = process();
        await reshardState(next, to);
        await expectHeld(next, few, to);
        expect((await heldStates(next, from)).size).toBe(0);
        expect((await next.loadLayout())?.layout).toEqual({ shardCount: to });
      }
    }
  });

  it('gives way when another run saves an old shard meanwhile, and the next run carries that save over', async () => {
    const process = backend();
    await seed(process(), states, 64);
    const store = process();
    const changed = { ...states[0], lastValue: 7 } as SeriesState;
    const oldShard = shardOf(changed.id, 64);
    let interfered = false;
    const overlapping = Object.assign(Object.create(store) as SeriesStateStore, {
      saveShard: async (...args: Parameters<SeriesStateStore['saveShard']>) => {
        if (!interfered && args[0] === shardOf(changed.id, 128)) {
          // Another run, still on 64 shards, saves the old shard this one just read.
          interfered = true;
          const other = process();
          const loaded = await other.loadShard(oldShard);
          if (!loaded || loaded === 'unchanged') throw new Error('the shard was seeded');
          const kept = loaded.states.map((state) => (state.id === changed.id ? changed : state));
          expect(await other.saveShard(oldShard, kept, loaded.version)).not.toBe('conflict');
        }
        return store.saveShard(...args);
      },
    });
    await expect(reshardState(overlapping, 128)).rejects.toThrow(ReshardConflictError);
    expect((await process().loadLayout())?.layout).toEqual({ shardCount: 64 });
    const expected = states.map((state) => (state.id === changed.id ? changed : state));
    await expectHeld(process(), expected, 64);
    await reshardState(process(), 128);
    await expectHeld(process(), expected, 128);
  });
});
