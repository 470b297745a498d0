import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleNotifier } from '../../lib/adapters/console-notifier.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { defaultEngine } from '../../lib/bands/index.ts';
import { type BandJobDependencies, runBandJob } from '../../lib/jobs/band-job.ts';
import { liveWindowMs } from '../../lib/metrics/live-window.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { minuteMs } from '../../lib/time.ts';

const start = Date.UTC(2026, 10, 2);

/** Counts the calls made to each method of an object (the requests a cloud adapter would make). */
function counting<T extends object>(target: T): { proxy: T; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls[property] = (calls[property] ?? 0) + 1;
        return value.apply(object, args);
      };
    },
  });
  return { proxy, calls };
}

const opened: SqliteStores[] = [];
afterEach(() => {
  for (const stores of opened.splice(0)) stores.close();
});

function setup(seriesCount: number) {
  const stores = openSqliteStores(':memory:');
  opened.push(stores);
  const ids = Array.from({ length: seriesCount }, (_, i) => seriesId('shop.requests', { host: `web-${i}` }));
  const pointsAt = (timestamp: number, value: (i: number) => number = (i) => 100 + i): SeriesPoint[] =>
    ids.map((id, i) => ({
      seriesId: id,
      name: 'shop.requests',
      type: 'gauge',
      dimensions: { host: `web-${i}` },
      timestamp,
      value: value(i),
    }));
  const ingest = async (timestamp: number, now: number, value?: (i: number) => number) => {
    const points = pointsAt(timestamp, value);
    await stores.metrics.writePoints(points);
    await stores.series.recordSeries(
      points.map((point) => ({
        id: point.seriesId,
        name: point.name,
        type: point.type,
        dimensions: point.dimensions,
        minTimestamp: timestamp,
        maxTimestamp: timestamp,
        backfill: timestamp < now - liveWindowMs,
      })),
    );
  };
  const metrics = counting(stores.metrics);
  const series = counting(stores.series);
  const bands = counting(stores.bands);
  const states = counting(stores.states);
  const job = (now: number) => {
    const dependencies: BandJobDependencies = {
      metrics: metrics.proxy,
      series: series.proxy,
      bands: bands.proxy,
      states: states.proxy,
      alerts: stores.alerts,
      notifier: new ConsoleNotifier(() => undefined),
      engine: defaultEngine,
      clock: { now: () => now },
    };
    return runBandJob(dependencies, { stateShards: 4 });
  };
  const reset = () => {
    for (const counter of [metrics, series, bands, states]) {
      for (const key of Object.keys(counter.calls)) delete counter.calls[key];
    }
  };
  return { stores, ids, ingest, job, metrics, series, bands, states, reset };
}

describe('the band job at scale', () => {
  it('reads live series in one bulk read and saves each shard once, however many series', async () => {
    const { ingest, job, metrics, series, bands, states, reset } = setup(40);
    // An hour of history, backfilled: every series is new and read on its own once.
    for (let t = start; t < start + 60 * minuteMs; t += minuteMs) await ingest(t, start);
    const first = await job(start + 60 * minuteMs + 20_000);
    expect(first.seriesReadAlone).toBe(40);
    expect(first.bucketsProcessed).toBe(40 * 60);

    for (let t = start + 60 * minuteMs; t < start + 63 * minuteMs; t += minuteMs) {
      reset();
      await ingest(t, t);
      const run = await job(t + minuteMs + 20_000);
      expect(run).toMatchObject({ seriesProcessed: 40, bucketsProcessed: 40, seriesReadAlone: 0 });
      expect(metrics.calls).toEqual({ readRecentPoints: 1 });
      expect(bands.calls).toEqual({ writeManyBands: 4 });
      expect(series.calls).toEqual({ pendingSeries: 1 });
      // Every shard read once and saved once, whatever the number of series in it.
      expect(states.calls).toEqual({ loadShard: 4, saveShard: 4, saveSummaries: 1 });
      expect(run.shards).toEqual({ loaded: 4, saved: 4, conflicts: [], failed: [] });
    }
  });

  it('reads a series on its own again when a request backfills history older than the live window', async () => {
    const { ingest, job, series } = setup(3);
    for (let t = start; t < start + 60 * minuteMs; t += minuteMs) await ingest(t, start);
    await job(start + 60 * minuteMs + 20_000);
    const now = start + 61 * minuteMs + 20_000;
    await ingest(start + 60 * minuteMs, now);
    // History from before the series' first point arrives late: marked, read on its own, then settled.
    await ingest(start - 30 * minuteMs, now, () => 5);
    expect((await series.proxy.pendingSeries(10, Number.MAX_SAFE_INTEGER)).length).toBe(3);
    const run = await job(now);
    expect(run.seriesReadAlone).toBe(3);
    // Its engine had judged those buckets without that point: it is judged again from there on, as if the
    // point had been there all along (the old point's bucket, then the hour after it).
    expect(run.seriesRewound).toBe(3);
    expect(run.bucketsProcessed).toBe(3 * 62);
    expect(await series.proxy.pendingSeries(10, Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('lets two overlapping runs save each shard once: the later one gives way on it', async () => {
    const { stores, ingest } = setup(10);
    for (let t = start; t < start + 30 * minuteMs; t += minuteMs) await ingest(t, start);
    const make = () => ({
      metrics: stores.metrics,
      series: stores.series,
      bands: stores.bands,
      states: stores.states,
      alerts: stores.alerts,
      notifier: new ConsoleNotifier(() => undefined),
      engine: defaultEngine,
      clock: { now: () => start + 30 * minuteMs + 20_000 },
    });
    const [a, b] = await Promise.all([
      runBandJob(make(), { stateShards: 2 }),
      runBandJob(make(), { stateShards: 2 }),
    ]);
    // Each shard is saved by one run only; the work on it is reported once, by that run.
    expect(a.bucketsProcessed + b.bucketsProcessed).toBe(300);
    expect(a.shards.saved + b.shards.saved).toBe(2);
    expect([...a.shards.conflicts, ...b.shards.conflicts].sort()).toEqual(['2-000', '2-001']);
  });
});
