import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import type { BandEngine, BandEngineFactory } from '../../lib/bands/engine.ts';
import { defaultEngine, normalcyEngine } from '../../lib/bands/index.ts';
import { runBandJob } from '../../lib/jobs/band-job.ts';
import { shardOf } from '../../lib/jobs/state-shards.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import type { Notification } from '../../lib/ports/notifier.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { hourMs, minuteMs } from '../helpers/series.ts';

/**
 * One series must never silence the others: values that break arithmetic get a finite band, and a series
 * whose engine fails anyway is kept aside (reported) while every other series is judged and paged.
 */
describe('Band job: one bad series never silences the others', () => {
  const now = Date.UTC(2026, 2, 10, 12, 0);
  let time = now;
  const clock = { now: () => time };
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
    time = now;
  });

  /** Two hours of a calm series that passes 100 in its last ten minutes, and a threshold rule on it. */
  async function calmSeriesWithThresholdRule(target: TestServer) {
    const metrics = [];
    for (let t = now - 2 * hourMs; t < now - 2 * minuteMs; t += minuteMs) {
      metrics.push({
        name: 'shop.orders',
        type: 'gauge',
        value: t >= now - 12 * minuteMs ? 150 : 50,
        timestamp: t,
      });
    }
    expect((await target.postMetrics(metrics)).status).toBe(200);
    const rule = await target.request('/v1/rules', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'orders-high',
        kind: 'threshold',
        selector: { metric: 'shop.orders' },
        direction: 'above',
        threshold: 100,
      }),
    });
    expect(rule.status).toBe(201);
  }

  it('five points of ±1e308 in one series: the run completes, that series gets finite bands, the other is paged', async () => {
    server = await startTestServer({ clock });
    await calmSeriesWithThresholdRule(server);
    const attack = [1e308, -1e308, 1e308, -1e308, 1e308].map((value, index) => ({
      name: 'attack',
      type: 'gauge',
      value,
      timestamp: now - 30 * minuteMs + index * minuteMs,
    }));
    expect((await server.postMetrics(attack)).status).toBe(200);

    const summary = await server.runBandJob();
    expect(summary.shards.failed).toEqual([]);
    expect(summary.quarantined).toEqual([]);
    expect(server.notifications.map((n) => [n.state, n.name, n.rule.id])).toContainEqual([
      'OPEN',
      'shop.orders',
      'orders-high',
    ]);

    const { series } = await server.getJson<{ series: { id: string; name: string }[] }>('/v1/series');
    const id = series.find((entry) => entry.name === 'attack')?.id ?? '';
    const { points } = await server.getJson<{
      points: { value: number; lower: number | null; upper: number | null }[];
    }>(`/v1/series/${id}/points?from=${now - hourMs}&to=${now}`);
    expect(points.length).toBeGreaterThanOrEqual(5);
    for (const point of points) {
      expect(Number.isFinite(point.lower)).toBe(true);
      expect(Number.isFinite(point.upper)).toBe(true);
    }
  });

  it('a series whose engine fails is kept aside, reported, tried again later, and the others go on', async () => {
    let poisoned = true;
    /** Normalcy, but failing on the value 666 while `poisoned` (a stand-in for a bug no test foresaw). */
    const fragile: BandEngineFactory = {
      name: normalcyEngine.name,
      create: (settings) => fragileEngine(normalcyEngine.create(settings)),
      restore: (state, settings) => fragileEngine(normalcyEngine.restore(state, settings)),
    };
    const fragileEngine = (engine: BandEngine): BandEngine => ({
      update(timestamp, value) {
        if (poisoned && value === 666) throw new RangeError('the engine cannot take 666');
        return engine.update(timestamp, value);
      },
      toState: () => engine.toState(),
    });
    server = await startTestServer({ clock, engine: fragile });
    await calmSeriesWithThresholdRule(server);
    const bad = [];
    for (let t = now - hourMs; t < now - 2 * minuteMs; t += minuteMs) {
      bad.push({ name: 'cursed', type: 'gauge', value: t === now - 20 * minuteMs ? 666 : 10, timestamp: t });
    }
    expect((await server.postMetrics(bad)).status).toBe(200);

    const first = await server.runBandJob();
    expect(first.quarantined).toEqual([
      expect.objectContaining({
        name: 'cursed',
        reason: 'the engine cannot take 666',
        retryAt: now + hourMs,
      }),
    ]);
    expect(first.seriesQuarantined).toBe(1);
    expect(first.shards.failed).toEqual([]);
    expect(server.notifications.map((n) => [n.state, n.name])).toEqual([['OPEN', 'shop.orders']]);
    const cursedId = first.quarantined[0]?.seriesId ?? '';
    const view = await server.getJson<{ series: { fault: { reason: string; failures: number } | null } }>(
      `/v1/series/${cursedId}`,
    );
    expect(view.series.fault).toMatchObject({ reason: 'the engine cannot take 666', failures: 1 });

    // Before its retry the series is left alone; after it, tried again: it fails again, and waits longer.
    time = now + 30 * minuteMs;
    expect((await server.runBandJob()).quarantined).toEqual([]);
    time = now + hourMs + minuteMs;
    const again = await server.runBandJob();
    expect(again.quarantined).toEqual([expect.objectContaining({ retryAt: time + 2 * hourMs })]);

    // Once the engine can judge it (a fix deployed), the next retry clears the fault and bands it.
    poisoned = false;
    time += 2 * hourMs + minuteMs;
    const healed = await server.runBandJob();
    expect(healed.quarantined).toEqual([]);
    expect(healed.seriesQuarantined).toBe(0);
    const healedView = await server.getJson<{ series: { fault: unknown } }>(`/v1/series/${cursedId}`);
    expect(healedView.series.fault).toBeNull();
    const { points } = await server.getJson<{ points: { value: number; expected: number | null }[] }>(
      `/v1/series/${cursedId}/points?from=${now - hourMs}&to=${now}`,
    );
    expect(points.find((point) => point.value === 666)?.expected).toEqual(expect.any(Number));
  });
});

describe('Band job: a shard the store fails on', () => {
  it('is left for the next run while every other shard is processed and its alerts delivered', async () => {
    const stores = openSqliteStores(':memory:');
    const { states, alerts } = stores;
    const notifications: Notification[] = [];
    const start = Date.UTC(2026, 2, 10);
    // Series in two different shards (of four).
    const names = Array.from({ length: 20 }, (_, index) => `svc-${index}`);
    const byShard = new Map(names.map((name) => [shardOf(seriesId(name, {}), 4), name]));
    const [brokenShard, brokenName] = [...byShard.entries()][0] ?? ['', ''];
    const [, healthyName] = [...byShard.entries()][1] ?? ['', ''];
    let failing = true;
    const flakyStates: typeof states = Object.assign(Object.create(states) as typeof states, {
      loadShard: (shard: string, version?: string) =>
        failing && shard === brokenShard
          ? Promise.reject(new Error('service unavailable'))
          : states.loadShard(shard, version),
    });
    for (const name of [brokenName, healthyName]) {
      const points: SeriesPoint[] = [];
      for (let t = start; t < start + 2 * hourMs; t += minuteMs) {
        const value = t >= start + 2 * hourMs - 10 * minuteMs ? 500 : 50;
        points.push({
          seriesId: seriesId(name, {}),
          name,
          type: 'gauge',
          dimensions: {},
          timestamp: t,
          value,
        });
      }
      await stores.metrics.writePoints(points);
      await stores.series.recordSeries([
        {
          id: seriesId(name, {}),
          name,
          type: 'gauge',
          dimensions: {},
          minTimestamp: start,
          maxTimestamp: start + 2 * hourMs,
          backfill: true,
        },
      ]);
    }
    await alerts.putRule({
      id: 'high',
      name: 'high',
      kind: 'threshold',
      enabled: true,
      selector: {},
      severity: null,
      reminderIntervalMs: null,
      direction: 'above',
      threshold: 100,
      debounce: { breaches: 1, outOf: 1 },
      minDurationMs: 0,
      recoveryBuckets: 3,
    });
    const job = () =>
      runBandJob(
        {
          metrics: stores.metrics,
          series: stores.series,
          bands: stores.bands,
          states: flakyStates,
          alerts,
          notifier: { notify: async (notification) => void notifications.push(notification) },
          engine: defaultEngine,
          clock: { now: () => start + 2 * hourMs + minuteMs },
        },
        { stateShards: 4 },
      );

    const first = await job();
    expect(first.shards.failed).toEqual([{ shard: brokenShard, reason: 'service unavailable' }]);
    expect(notifications.filter((n) => n.rule.id === 'high').map((n) => [n.state, n.name])).toEqual([
      ['OPEN', healthyName],
    ]);

    failing = false;
    const second = await job();
    expect(second.shards.failed).toEqual([]);
    expect(notifications.filter((n) => n.rule.id === 'high').map((n) => [n.state, n.name])).toEqual([
      ['OPEN', healthyName],
      ['OPEN', brokenName],
    ]);
    stores.close();
  });
});
