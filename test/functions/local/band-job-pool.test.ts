import { afterAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../../lib/metrics/series.ts';
import { startTestServer, type TestServer } from '../../helpers/local.ts';

/**
 * NORMALCY_BAND_WORKERS: the band job's shards on several threads (each running the cloud worker's per-shard
 * work, runShardBatch), then the last step once on one of them. Two servers fed the same points, one with one
 * thread, one with three, end with the same bands, alerts, notifications and listings.
 */
const step = 300_000;
const now = Date.UTC(2026, 10, 5, 12, 0, 20);
const end = now - 20_000;
const start = end - 2 * 86_400_000;
const hosts = Array.from({ length: 10 }, (_, index) => `web-${index}`);
const spiking = new Set([1, 4, 8]);

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

function metrics() {
  return hosts.flatMap((host, index) => {
    const points = [];
    for (let t = start; t < end; t += step) {
      const usual = 200 + 15 * index + 30 * Math.sin((2 * Math.PI * t) / 86_400_000) + ((t / step) % 4);
      const value = spiking.has(index) && t >= end - 4 * step ? 30 * usual : usual;
      points.push({ name: 'shop.requests', type: 'gauge', value, timestamp: t, dimensions: { host } });
    }
    return points;
  });
}

async function observed(server: TestServer) {
  const bands: Record<string, unknown> = {};
  for (const host of hosts) {
    const id = seriesId('shop.requests', { host });
    bands[host] = await server.stores.bands.readBands(id, start, end);
  }
  const alerts = (await server.stores.alerts.listAlerts({ limit: 100 }))
    .map(({ id, ...alert }) => alert)
    .sort((a, b) => a.seriesId.localeCompare(b.seriesId));
  const notifications = server.notifications
    .map(
      (notification) => `${notification.state} ${notification.dimensions.host} ${notification.explanation}`,
    )
    .sort();
  const listed = await server.getJson<{ series: unknown[] }>('/v1/series');
  return { bands, alerts, notifications, listed };
}

describe('the band job on a pool of threads (NORMALCY_BAND_WORKERS)', () => {
  it('gives the same bands, alerts, notifications and listings as one thread', async () => {
    const clock = { now: () => now };
    for (const bandWorkers of [1, 3]) {
      const server = await startTestServer({ clock, bandWorkers });
      servers.push(server);
      const all = metrics();
      for (let offset = 0; offset < all.length; offset += 1000) {
        expect((await server.postMetrics(all.slice(offset, offset + 1000))).status).toBe(200);
      }
      await server.runBandJob();
      await server.runBandJob();
    }
    const [single, pooled] = await Promise.all(servers.map(observed));
    expect(single?.alerts).toHaveLength(spiking.size);
    expect(Object.values(single?.bands ?? {}).every((bands) => (bands as unknown[]).length > 500)).toBe(true);
    expect(single?.notifications.length).toBeGreaterThan(0);
    expect(pooled).toEqual(single);
  }, 240_000);
});
