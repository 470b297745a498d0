import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { hourMs, minuteMs } from '../helpers/series.ts';

describe('Band job: a flood of new sparse series', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('cannot starve a series with data: those that cannot progress are put off, not retried every run', async () => {
    const now = Date.UTC(2026, 2, 10, 12, 0);
    let time = now;
    server = await startTestServer({ clock: { now: () => time } });
    // 1,200 new series of one point each, older than the real series' newest point: first in line.
    const sparse = Array.from({ length: 1_200 }, (_, index) => ({
      name: `sparse.${index}`,
      value: 1,
      timestamp: now - 30 * minuteMs,
    }));
    expect((await server.postMetrics(sparse)).status).toBe(200);
    // Then three hours of a real series, backfilled (ending twenty minutes ago: nothing in the live window).
    const points: [number, number][] = [];
    for (let t = now - 3 * hourMs; t < now - 20 * minuteMs; t += minuteMs) points.push([t, 100 + (t % 7)]);
    expect((await server.postMetrics([{ name: 'shop.requests', type: 'gauge', points }])).status).toBe(200);
    const { series } = await server.getJson<{ series: { id: string }[] }>('/v1/series?prefix=shop.');
    const id = series[0]?.id ?? '';

    const banded = async () => {
      const body = await server?.getJson<{ points: { expected: number | null }[] }>(
        `/v1/series/${id}/points?from=${now - 3 * hourMs}&to=${now}`,
      );
      return (body?.points ?? []).filter((point) => point.expected !== null).length;
    };
    const first = await server.runBandJob();
    expect(first.seriesReadAlone).toBe(1_000);
    expect(first.bucketsProcessed).toBe(0);
    time += minuteMs;
    const second = await server.runBandJob();
    // The first run's budget went to the first 1,000 sparse series; the second does not try them again, but
    // the 200 left and the real series, which it bands whole.
    expect(second.seriesReadAlone).toBe(201);
    expect(await banded()).toBe(points.length);
    // The sparse series wait for the default step (an hour after their point): no run reads them meanwhile.
    time += minuteMs;
    expect((await server.runBandJob()).seriesReadAlone).toBe(0);
    time = now + 31 * minuteMs;
    expect((await server.runBandJob()).seriesReadAlone).toBe(1_000);
  }, 60_000);
});
