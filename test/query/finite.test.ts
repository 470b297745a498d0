import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';

interface PointsBody {
  points: {
    timestamp: number;
    value: number | null;
    min: number | null;
    max: number | null;
    count: number;
  }[];
}

/**
 * Values near the largest double are finite one by one, but two of them add up to Infinity, which JSON
 * writes as null: every sum the API reports is clamped to ±Number.MAX_VALUE instead.
 */
describe('values near the largest double, through the API', () => {
  let server: TestServer;
  const minute = Date.parse('2026-03-15T00:00:00Z');
  beforeAll(async () => {
    server = await startTestServer({ clock: { now: () => minute + 3_600_000 } });
  });
  afterAll(() => server.close());

  const idOf = async (name: string) => {
    const { series } = await server.getJson<{
      series: { id: string; name: string; lastValue: number | null }[];
    }>(`/v1/series?prefix=${name}`);
    const found = series.find((entry) => entry.name === name);
    if (!found) throw new Error(`no series ${name}`);
    return found;
  };

  const bucketsOf = async (name: string) => {
    const { id } = await idOf(name);
    const { points } = await server.getJson<PointsBody>(
      `/v1/series/${id}/points?from=${minute}&to=${minute + 60_000}&step=1m`,
    );
    return points;
  };

  it('stores two counters of 1e308 at one instant as the largest double, not Infinity', async () => {
    const response = await server.postMetrics([
      { name: 'huge.same.instant', type: 'counter', value: 1e308, timestamp: minute },
      { name: 'huge.same.instant', type: 'counter', value: 1e308, timestamp: minute },
    ]);
    expect(response.status).toBe(200);
    const [bucket] = await bucketsOf('huge.same.instant');
    expect(bucket?.value).toBe(Number.MAX_VALUE);
    expect((await idOf('huge.same.instant')).lastValue).toBe(Number.MAX_VALUE);
  });

  it('reads back a bucket of counters, gauges and negative counters whose sums overflow as finite', async () => {
    const response = await server.postMetrics([
      { name: 'huge.counter', type: 'counter', value: 1e308, timestamp: minute },
      { name: 'huge.counter', type: 'counter', value: 1e308, timestamp: minute + 10_000 },
      { name: 'huge.negative', type: 'counter', value: -1e308, timestamp: minute },
      { name: 'huge.negative', type: 'counter', value: -1e308, timestamp: minute + 10_000 },
      { name: 'huge.gauge', type: 'gauge', value: 1e308, timestamp: minute },
      { name: 'huge.gauge', type: 'gauge', value: 1e308, timestamp: minute + 10_000 },
    ]);
    expect(response.status).toBe(200);
    const [counter] = await bucketsOf('huge.counter');
    expect(counter).toMatchObject({ value: Number.MAX_VALUE, min: Number.MAX_VALUE, max: Number.MAX_VALUE });
    const [negative] = await bucketsOf('huge.negative');
    expect(negative?.value).toBe(-Number.MAX_VALUE);
    const [gauge] = await bucketsOf('huge.gauge');
    expect(gauge?.value).toBeGreaterThanOrEqual(1e308);
    expect(Number.isFinite(gauge?.value)).toBe(true);
    expect(gauge?.count).toBe(2);
  });
});
