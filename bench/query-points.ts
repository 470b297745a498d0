/**
 * `npm run bench:query`: how fast the query API answers a month of 1-minute points for one series, locally,
 * and how many bytes it sends; then how fast the dashboard's chart draws 50,000 points in headless Chromium.
 * Each figure is a ratio to a baseline measured in the same run (the first version's full-resolution read;
 * a 1,441-point chart), so the ratios travel between machines; absolute times are for this machine only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { startLocalServer } from '../functions/local/server.ts';
import { generateKey, hashKey } from '../lib/keys.ts';
import { aggregate } from '../lib/metrics/aggregate.ts';
import type { SeriesPoint } from '../lib/metrics/point.ts';
import { seriesId } from '../lib/metrics/series.ts';
import type { StoredBand } from '../lib/ports/band-store.ts';
import { dayMs, minuteMs } from '../lib/time.ts';
import { launchChromium } from '../scripts/dev/chromium.ts';

const repetitions = 15;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function time(run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

async function queryBenchmark() {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-bench-'));
  const server = await startLocalServer({ dataDir, port: 0, notifier: { notify: async () => {} } });
  const key = generateKey();
  await server.stores.keys.putKey({
    hash: hashKey(key),
    name: 'bench',
    scopes: ['read'],
    createdAt: 0,
    revokedAt: null,
  });

  const end = Math.floor(Date.now() / minuteMs) * minuteMs;
  const start = end - 30 * dayMs;
  const identity = { name: 'bench.requests', type: 'gauge' as const, dimensions: { host: 'web-1' } };
  const id = seriesId(identity.name, identity.dimensions);
  const points: SeriesPoint[] = [];
  const bands: StoredBand[] = [];
  for (let t = start; t < end; t += minuteMs) {
    const value = 100 + 50 * Math.sin((2 * Math.PI * (t % dayMs)) / dayMs) + ((t / minuteMs) % 7);
    points.push({ ...identity, seriesId: id, timestamp: t, value });
    bands.push({
      timestamp: t,
      value,
      expected: value,
      lower: value - 20,
      upper: value + 20,
      score: 0.1,
      anomaly: false,
    });
  }
  await server.stores.metrics.writePoints(points);
  await server.stores.series.recordSeries([
    { id, ...identity, minTimestamp: start, maxTimestamp: end - minuteMs },
  ]);
  await server.stores.series.saveProgress(
    id,
    { stepMs: minuteMs, processedUntil: end, engineState: { engine: 'bench' }, anomalous: false },
    1,
    true,
  );
  await server.stores.bands.writeBands(id, bands);

  // Baseline: the first version's read, every point of the month at its own step, joined in TypeScript.
  let baselineBytes = 0;
  const baselineMs = await time(async () => {
    const [raw, stored] = await Promise.all([
      server.stores.metrics.readPoints(id, start, end),
      server.stores.bands.readBands(id, start, end),
    ]);
    const bandAt = new Map(stored.map((band) => [band.timestamp, band]));
    const views = aggregate('gauge', raw, minuteMs).map((bucket) => {
      const band = bandAt.get(bucket.start);
      return {
        timestamp: bucket.start,
        value: bucket.value,
        count: bucket.count,
        min: bucket.min,
        max: bucket.max,
        expected: band?.expected ?? null,
        lower: band?.lower ?? null,
        upper: band?.upper ?? null,
        score: band?.score ?? null,
        anomaly: band?.anomaly ?? false,
      };
    });
    baselineBytes = Buffer.byteLength(JSON.stringify({ points: views }));
  });

  const url = (query: string) => `${server.url}/v1/series/${id}/points?from=${start}&to=${end}${query}`;
  const measure = async (query: string, gzip: boolean) => {
    let bytes = 0;
    let buckets = 0;
    let step = '';
    const ms = await time(async () => {
      const response = await fetch(url(query), {
        headers: { authorization: `Bearer ${key}`, 'accept-encoding': gzip ? 'gzip' : 'identity' },
      });
      const body = Buffer.from(await response.arrayBuffer());
      bytes = Number(response.headers.get('content-length') ?? body.length);
      // fetch decodes gzip itself; the wire size is the compressed body's.
      if (gzip) bytes = gzipSync(body).length;
      const parsed = JSON.parse(body.toString('utf8')) as { points: unknown[]; step: string };
      buckets = parsed.points.length;
      step = parsed.step;
    });
    return { ms, bytes, buckets, step };
  };
  const automatic = await measure('', false);
  const automaticGzip = await measure('', true);
  const hourly = await measure('&step=1h', false);
  const cap = await fetch(url('&step=1m'), { headers: { authorization: `Bearer ${key}` } });
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  return {
    baselineMs,
    baselineBytes,
    automatic,
    automaticGzip,
    hourly,
    capStatus: cap.status,
    points: points.length,
  };
}

async function chartBenchmark() {
  const bundle = await build({
    stdin: {
      contents: `
        import { bandChart } from './dashboard/src/charts.ts';
        import { chartColumns } from './dashboard/src/chart-data.ts';
        window.drawChart = async (count) => {
          const step = 60000; const start = Date.UTC(2026, 0, 1);
          const points = Array.from({ length: count }, (_, i) => {
            const value = 100 + 50 * Math.sin(i / 200) + (i % 7);
            return { timestamp: start + i * step, value, min: value, max: value, count: 1, expected: value, lower: value - 20, upper: value + 20, score: 0.1, anomaly: i % 997 === 0 };
          });
          const target = document.createElement('div');
          document.body.replaceChildren(target);
          const started = performance.now();
          const chart = bandChart(target, chartColumns({ points, stepMs: step }), { width: 1200, height: 360, envelope: false, onZoom: () => {} });
          // uPlot draws in a microtask after construction: a macrotask later, the canvas is painted.
          await new Promise((resolve) => setTimeout(resolve, 0));
          const elapsed = performance.now() - started;
          chart.destroy();
          return elapsed;
        };`,
      resolveDir: join(import.meta.dirname, '..'),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    write: false,
  });
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.setContent(`<html><body></body><script>${bundle.outputFiles[0]?.text ?? ''}</script></html>`);
  const draw = async (count: number) => {
    await page.evaluate(
      (n) => (window as unknown as { drawChart(n: number): Promise<number> }).drawChart(n),
      count,
    );
    const samples: number[] = [];
    for (let i = 0; i < 7; i++) {
      samples.push(
        await page.evaluate(
          (n) => (window as unknown as { drawChart(n: number): Promise<number> }).drawChart(n),
          count,
        ),
      );
    }
    return median(samples);
  };
  const baselineMs = await draw(1_441);
  const largeMs = await draw(50_000);
  await browser.close();
  return { baselineMs, largeMs };
}

const query = await queryBenchmark();
const chart = await chartBenchmark();
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ratio = (value: number, baseline: number) => `${(value / baseline).toFixed(3)}`;
console.log(`A month of 1-minute points for one series (${query.points} points and bands), local mode, median of ${repetitions}:

| request | buckets | time | × baseline time | bytes sent | × baseline bytes |
| --- | ---: | ---: | ---: | ---: | ---: |
| baseline: the first version's full-resolution read (in process, no HTTP) | ${query.points} | ${query.baselineMs.toFixed(1)} ms | 1 | ${kb(query.baselineBytes)} | 1 |
| GET points, automatic step (${query.automatic.step}) | ${query.automatic.buckets} | ${query.automatic.ms.toFixed(1)} ms | ${ratio(query.automatic.ms, query.baselineMs)} | ${kb(query.automatic.bytes)} | ${ratio(query.automatic.bytes, query.baselineBytes)} |
| same, Accept-Encoding: gzip | ${query.automaticGzip.buckets} | ${query.automaticGzip.ms.toFixed(1)} ms | ${ratio(query.automaticGzip.ms, query.baselineMs)} | ${kb(query.automaticGzip.bytes)} | ${ratio(query.automaticGzip.bytes, query.baselineBytes)} |
| GET points, step=1h | ${query.hourly.buckets} | ${query.hourly.ms.toFixed(1)} ms | ${ratio(query.hourly.ms, query.baselineMs)} | ${kb(query.hourly.bytes)} | ${ratio(query.hourly.bytes, query.baselineBytes)} |

GET points with step=1m over the month: HTTP ${query.capStatus} (past the cap of 10,000 points).

The dashboard's band chart (uPlot) in headless Chromium, median of 7 draws:

| chart | draw time | × baseline |
| --- | ---: | ---: |
| baseline: 1,441 points (a month at the automatic step) | ${chart.baselineMs.toFixed(1)} ms | 1 |
| 50,000 points | ${chart.largeMs.toFixed(1)} ms | ${ratio(chart.largeMs, chart.baselineMs)} |`);
