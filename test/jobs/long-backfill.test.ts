import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { dayMs, hourMs, minuteMs } from '../helpers/series.ts';

describe('Band job: a backfill longer than one run reads', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('goes on from where the last run stopped instead of starting over, and bands every bucket', async () => {
    const now = Date.UTC(2026, 2, 10, 12, 0);
    let time = now;
    server = await startTestServer({ clock: { now: () => time } });
    // A series the job knows (a quarter of an hour of it, judged), then six weeks of its history posted in the
    // bulk form: 60,480 one-minute buckets, more than the 50,000 one run reads for a series.
    const name = 'shop.requests';
    const recent: [number, number][] = [];
    for (let t = now - 15 * minuteMs; t < now; t += minuteMs) recent.push([t, 100]);
    expect((await server.postMetrics([{ name, type: 'gauge', points: recent }])).status).toBe(200);
    expect((await server.runBandJob()).bucketsProcessed).toBeGreaterThan(10);
    const from = now - 42 * dayMs - hourMs;
    const to = now - 15 * minuteMs;
    const points: [number, number][] = [];
    for (let t = from; t < to; t += minuteMs) points.push([t, 100 + ((t / minuteMs) % 7)]);
    for (let offset = 0; offset < points.length; offset += 5_000) {
      const response = await server.postMetrics([
        { name, type: 'gauge', points: points.slice(offset, offset + 5_000) },
      ]);
      expect(response.status).toBe(200);
    }

    const runs = [];
    for (let run = 0; run < 5; run++) {
      time += minuteMs;
      const summary = await server.runBandJob();
      runs.push({ buckets: summary.bucketsProcessed, rewound: summary.seriesRewound });
      if (summary.bucketsProcessed === 0) break;
    }
    // Judged again from the backfill's first point once, then on from there: three runs, the last with nothing.
    expect(
      runs.map((run) => run.rewound),
      JSON.stringify(runs),
    ).toEqual([1, 0, 0]);
    expect(runs.at(-1)?.buckets).toBe(0);
    const buckets = runs.reduce((sum, run) => sum + run.buckets, 0);
    expect(buckets).toBeGreaterThanOrEqual(points.length);
    expect(buckets).toBeLessThan(points.length + 200);

    const { series } = await server.getJson<{ series: { id: string }[] }>(`/v1/series?prefix=${name}`);
    const id = series[0]?.id ?? '';
    let banded = 0;
    for (let start = from; start < to; start += dayMs) {
      const body = await server.getJson<{ points: { expected: number | null }[] }>(
        `/v1/series/${id}/points?from=${start}&to=${Math.min(to, start + dayMs)}`,
      );
      banded += body.points.filter((point) => point.expected !== null).length;
    }
    expect(banded).toBe(points.length);
  }, 120_000);
});
