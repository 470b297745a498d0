import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { dayMs, gaussian, hourMs, minuteMs, seededRandom } from '../helpers/series.ts';

/**
 * End to end through the real HTTP API, SQLite store and band job: two weeks of a 5-minute series with a
 * daily pattern and one injected spike give exactly one anomaly notification and one recovery.
 */
describe('two weeks of a daily pattern with one spike', () => {
  let server: TestServer;
  const step = 5 * minuteMs;
  // A fixed stretch of the past, so that the series (and the verdict) is the same on every run.
  const end = Date.parse('2026-01-05T00:00:00Z');
  const start = end - 14 * dayMs;
  const spikeAt = start + 11 * dayMs + 14 * hourMs;
  const noise = gaussian(seededRandom(42));

  beforeAll(async () => {
    server = await startTestServer();
    const metrics = [];
    for (let t = start; t < end; t += step) {
      const daily = 100 + 50 * Math.sin((2 * Math.PI * (t % dayMs)) / dayMs);
      const value = daily + 3 * noise() + (t === spikeAt ? 300 : 0);
      metrics.push({
        name: 'shop.requests',
        type: 'gauge',
        value,
        timestamp: t,
        dimensions: { host: 'web-1' },
      });
    }
    for (let offset = 0; offset < metrics.length; offset += 1000) {
      const response = await server.postMetrics(metrics.slice(offset, offset + 1000));
      expect(response.status).toBe(200);
    }
    await server.runBandJob();
  });

  afterAll(() => server.close());

  it('notifies once when the spike leaves the band and once when the series recovers', () => {
    expect(server.notifications.map((n) => [n.state, new Date(n.band.timestamp).toISOString()])).toEqual([
      ['ANOMALOUS', new Date(spikeAt).toISOString()],
      ['RECOVERED', new Date(spikeAt + step).toISOString()],
    ]);
    expect(server.notifications[0]?.name).toBe('shop.requests');
    expect(server.notifications[0]?.dimensions).toEqual({ host: 'web-1' });
  });

  it('learned the 5-minute step and serves every bucket with its band through the query API', async () => {
    const { series } = await server.getJson<{ series: { id: string; stepMs: number }[] }>('/v1/series');
    expect(series).toHaveLength(1);
    expect(series[0]?.stepMs).toBe(step);
    const id = series[0]?.id ?? '';
    const from = spikeAt - hourMs;
    const body = await server.getJson<{
      points: { timestamp: number; value: number; lower: number; upper: number; anomaly: boolean }[];
    }>(`/v1/series/${id}/points?from=${from}&to=${new Date(spikeAt + hourMs).toISOString()}`);
    expect(body.points).toHaveLength(24);
    const spike = body.points.find((point) => point.timestamp === spikeAt);
    expect(spike?.anomaly).toBe(true);
    expect(spike?.value).toBeGreaterThan(spike?.upper ?? Number.POSITIVE_INFINITY);
    expect(body.points.filter((point) => point.anomaly)).toHaveLength(1);
  });

  it('lists the spike in /v1/anomalies', async () => {
    const body = await server.getJson<{ anomalies: { seriesId: string; timestamp: number; name: string }[] }>(
      `/v1/anomalies?from=${start}&to=${end}`,
    );
    expect(body.anomalies.map((a) => [a.name, a.timestamp])).toEqual([['shop.requests', spikeAt]]);
  });

  it('does nothing more when the job runs again without new data', async () => {
    const summary = await server.runBandJob();
    expect(summary.bucketsProcessed).toBe(0);
    expect(server.notifications).toHaveLength(2);
  });
});
