import StatsD from 'hot-shots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import {
  eventually,
  freeTcpPort,
  freeUdpPort,
  type RunningProcess,
  startProcess,
} from '../helpers/processes.ts';

interface SeriesView {
  id: string;
  name: string;
  type: string;
  dimensions: Record<string, string>;
}

/**
 * The npm hot-shots client sends DogStatsD tags (`|#k:v`) to the real statsd daemon (`npm run agent`), which
 * folds them into keys (`name;k=v`); the Normalcy backend turns them into dimensions.
 */
describe('hot-shots (DogStatsD tags) → statsd daemon → Normalcy', () => {
  let server: TestServer;
  let agent: RunningProcess;
  let client: InstanceType<typeof StatsD>;

  beforeAll(async () => {
    server = await startTestServer();
    const statsdPort = await freeUdpPort();
    agent = startProcess('npm', ['run', 'agent'], {
      NORMALCY_URL: server.url,
      NORMALCY_API_KEY: server.key,
      STATSD_PORT: String(statsdPort),
      STATSD_MGMT_PORT: String(await freeTcpPort()),
      FLUSH_INTERVAL_MS: '1000',
      STATSD_PERCENTILES: '90,99',
    });
    await agent.waitFor('server is up');
    client = new StatsD({ host: '127.0.0.1', port: statsdPort, globalTags: { service: 'checkout' } });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (client ? client.close(() => resolve()) : resolve()));
    await agent?.stop();
    await server?.close();
  });

  it('stores counters, gauges and timers with their tags as dimensions, timers with count, sum, mean, bounds and percentiles', async () => {
    client.increment('orders.placed', 2, { region: 'eu', canary: 'true' });
    client.increment('orders.placed', 3, { region: 'eu', canary: 'true' });
    client.gauge('queue.depth', 12, { region: 'eu' });
    for (const duration of [100, 200, 300]) client.timing('payment.time', duration, { provider: 'acme' });
    const wanted = [
      'orders.placed',
      'queue.depth',
      'payment.time.count',
      'payment.time.sum',
      'payment.time.mean',
      'payment.time.lower',
      'payment.time.upper',
      'payment.time.p90',
      'payment.time.p99',
    ];
    const { series } = await eventually(async () => {
      const list = await server.getJson<{ series: SeriesView[] }>('/v1/series');
      return wanted.every((name) => list.series.some((entry) => entry.name === name)) ? list : undefined;
    });
    const find = (name: string) => series.find((entry) => entry.name === name);
    expect(find('orders.placed')).toMatchObject({
      type: 'counter',
      dimensions: { service: 'checkout', region: 'eu', canary: 'true' },
    });
    expect(find('payment.time.mean')?.dimensions).toEqual({ service: 'checkout', provider: 'acme' });
    const total = async (name: string) =>
      (
        await server.getJson<{ points: { value: number }[] }>(`/v1/series/${find(name)?.id}/points`)
      ).points.reduce((sum, point) => sum + point.value, 0);
    expect(await total('orders.placed')).toBe(5);
    expect(await total('payment.time.count')).toBe(3);
    expect(await total('payment.time.sum')).toBe(600);
    expect(await total('payment.time.lower')).toBe(100);
    expect(await total('payment.time.upper')).toBe(300);
    expect(await total('queue.depth')).toBe(12);
  });
});
