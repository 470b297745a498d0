import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { type BandJobSummary, runBandJob } from '../../lib/jobs/band-job.ts';
import { shardNames } from '../../lib/jobs/state-shards.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import type { SeriesBand } from '../../lib/ports/band-store.ts';
import type { Notification } from '../../lib/ports/notifier.ts';
import type { SeriesStateStore } from '../../lib/ports/series-state-store.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { hourMs, minuteMs } from '../helpers/series.ts';

const start = Date.UTC(2026, 2, 10);
const live = start + 2 * hourMs;
const seriesCount = 120;
const names = Array.from({ length: seriesCount }, (_, index) => ({ host: `web-${index}` }));

/** A series' value at a time: steady with some noise, every tenth series far above it for a few minutes. */
const valueAt = (index: number, timestamp: number) => {
  const minute = Math.round((timestamp - live) / minuteMs);
  const spiking = index % 10 === 0 && minute >= 2 && minute < 7;
  return spiking ? 400 : 100 + ((index * 7 + Math.round(timestamp / minuteMs) * 13) % 11);
};

const opened: SqliteStores[] = [];
afterEach(() => {
  for (const stores of opened.splice(0)) stores.close();
});

/** A deployment on its own database, with two hours of history and a threshold rule. */
async function deployment() {
  const stores = openSqliteStores(':memory:');
  opened.push(stores);
  const notifications: Notification[] = [];
  const bandsWritten: SeriesBand[] = [];
  const ingest = async (from: number, to: number, now: number) => {
    const points: SeriesPoint[] = [];
    for (const [index, dimensions] of names.entries()) {
      for (let t = from; t < to; t += minuteMs) {
        const id = seriesId('shop.latency', dimensions);
        points.push({
          seriesId: id,
          name: 'shop.latency',
          type: 'gauge',
          dimensions,
          timestamp: t,
          value: valueAt(index, t),
        });
      }
    }
    await stores.metrics.writePoints(points);
    await stores.series.recordSeries(
      names.map((dimensions) => ({
        id: seriesId('shop.latency', dimensions),
        name: 'shop.latency',
        type: 'gauge',
        dimensions,
        minTimestamp: from,
        maxTimestamp: to - minuteMs,
        backfill: from < now - hourMs,
      })),
    );
  };
  await ingest(start, live, live);
  await stores.alerts.putRule({
    id: 'slow',
    name: 'slow',
    kind: 'threshold',
    enabled: true,
    selector: {},
    severity: null,
    reminderIntervalMs: null,
    direction: 'above',
    threshold: 300,
    debounce: { breaches: 2, outOf: 3 },
    minDurationMs: 0,
    recoveryBuckets: 3,
  });
  const bands = Object.assign(Object.create(stores.bands) as typeof stores.bands, {
    writeManyBands: async (written: readonly SeriesBand[]) => {
      bandsWritten.push(...written);
      await stores.bands.writeManyBands(written);
    },
  });
  /** Ingests the minute before `now` and runs the band job with its state in `stateShards` shards. */
  const run = async (now: number, stateShards: number): Promise<BandJobSummary> => {
    const minute = now - (now % minuteMs) - minuteMs;
    await ingest(minute, minute + minuteMs, now);
    return runBandJob(
      {
        metrics: stores.metrics,
        series: stores.series,
        bands,
        states: stores.states,
        alerts: stores.alerts,
        notifier: { notify: async (notification) => void notifications.push(notification) },
        engine: defaultEngine,
        clock: { now: () => now },
      },
      { stateShards },
    );
  };
  return { stores, notifications, bandsWritten, run };
}

/** Every series' state, as stored (JSON), from the shards of the layout the store records. */
async function statesOf(store: SeriesStateStore): Promise<Map<string, string>> {
  const layout = await store.loadLayout();
  const states = new Map<string, string>();
  for (const name of shardNames(layout?.layout.shardCount ?? 0)) {
    const loaded = await store.loadShard(name);
    if (loaded === 'unchanged') throw new Error('no version was given: a shard cannot be unchanged');
    for (const state of loaded?.states ?? []) {
      expect(states.has(state.id), `${state.id} is held twice`).toBe(false);
      states.set(state.id, JSON.stringify(state));
    }
  }
  return states;
}

const inOrder = (bands: readonly SeriesBand[]) =>
  [...bands].sort((a, b) => a.seriesId.localeCompare(b.seriesId) || a.timestamp - b.timestamp);

describe('Band job: a changed state shard count', () => {
  it('goes on from every series state after 64 to 128 to 64 shards: the same bands, alerts and states as without', async () => {
    const kept = await deployment();
    const resharded = await deployment();
    // Shard counts of the re-sharded deployment, run by run; the other stays at 64.
    const counts = [64, 64, 64, 64, 128, 128, 128, 64, 64, 64, 64, 64];
    for (const [index, count] of counts.entries()) {
      const now = live + (index + 1) * minuteMs + 20_000;
      const { shards: keptShards, ...expected } = await kept.run(now, 64);
      // Only the shards read and saved differ (there are more of them).
      const { resharded: moved, shards, ...summary } = await resharded.run(now, count);
      expect(summary, `run ${index}`).toEqual(expected);
      expect([keptShards.failed, keptShards.conflicts, shards.failed, shards.conflicts]).toEqual([
        [],
        [],
        [],
        [],
      ]);
      if (count !== counts[index - 1] && index > 0) {
        expect(moved).toMatchObject({ from: counts[index - 1], to: count, series: seriesCount });
      } else {
        expect(moved).toBeUndefined();
      }
      // Written shard by shard: the same bands, in another order.
      expect(inOrder(resharded.bandsWritten)).toEqual(inOrder(kept.bandsWritten));
      expect(resharded.notifications).toEqual(kept.notifications);
      expect(await statesOf(resharded.stores.states)).toEqual(await statesOf(kept.stores.states));
    }
    // The runs did what the comparison relies on: every series judged each run, alerts opened and resolved
    // across the re-shardings (their monitors moved with the states).
    expect(kept.bandsWritten.length).toBeGreaterThan(seriesCount * 120);
    const transitions = kept.notifications.map((notification) => notification.state);
    expect(transitions.filter((state) => state === 'OPEN')).toHaveLength(seriesCount / 10);
    expect(transitions.filter((state) => state === 'RESOLVED')).toHaveLength(seriesCount / 10);
  });
});

describe('Local mode: NORMALCY_STATE_SHARDS changed between two starts', () => {
  let server: TestServer | undefined;
  let dataDir = '';
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('re-shards on the next run and goes on from every series where it stopped', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'normalcy-reshard-'));
    let time = live + 20_000;
    const clock = { now: () => time };
    const metrics = (from: number, to: number) =>
      names.slice(0, 12).map((dimensions, index) => ({
        name: 'shop.latency',
        type: 'gauge',
        dimensions,
        points: Array.from({ length: (to - from) / minuteMs }, (_, minute) => {
          const t = from + minute * minuteMs;
          return [t, valueAt(index + 1, t)];
        }),
      }));
    server = await startTestServer({ clock, dataDir, stateShards: 16 });
    expect((await server.postMetrics(metrics(start, live))).status).toBe(200);
    const first = await server.runBandJob();
    expect(first.seriesReadAlone).toBe(12);
    await server.close();

    time += minuteMs;
    server = await startTestServer({ clock, dataDir, stateShards: 32 });
    expect((await server.postMetrics(metrics(live, live + minuteMs))).status).toBe(200);
    const next = await server.runBandJob();
    expect(next.resharded).toMatchObject({ from: 16, to: 32, series: 12 });
    // Each series goes on from its state: one new bucket each, none read again from its history.
    expect(next).toMatchObject({ seriesProcessed: 12, bucketsProcessed: 12, seriesReadAlone: 0 });
  });
});
