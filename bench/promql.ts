/**
 * `npm run bench:promql`: how fast `/api/v1/query_range` answers over a month of 1-minute data for 100 series
 * (4.32 million points) in local mode's SQLite, over real HTTP, as Grafana asks for a month (a 30-minute step,
 * 1,441 points a series). The baseline, measured in the same run, is the same month of the same 100 series
 * read through `GET /v1/series/{id}/points?step=30m` (what the dashboard asks), one request per series;
 * absolute times are for this machine only. Median of 3 runs after a warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer } from '../functions/local/server.ts';
import { generateKey, hashKey } from '../lib/keys.ts';
import type { SeriesPoint } from '../lib/metrics/point.ts';
import { seriesId } from '../lib/metrics/series.ts';
import { dayMs, minuteMs } from '../lib/time.ts';

const seriesCount = 100;
const repetitions = 3;
const stepMs = 30 * minuteMs;

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

const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-bench-promql-'));
const server = await startLocalServer({ dataDir, port: 0, notifier: { notify: async () => {} } });
const key = generateKey();
await server.stores.keys.putKey({
  hash: hashKey(key),
  name: 'bench',
  scopes: ['read'],
  createdAt: 0,
  revokedAt: null,
});
const headers = { authorization: `Bearer ${key}` };

const end = Math.floor(Date.now() / stepMs) * stepMs;
const start = end - 30 * dayMs;
const ids: string[] = [];
const loadStarted = performance.now();
for (let index = 0; index < seriesCount; index++) {
  const identity = { name: 'bench.requests', type: 'gauge' as const, dimensions: { host: `web-${index}` } };
  const id = seriesId(identity.name, identity.dimensions);
  ids.push(id);
  const points: SeriesPoint[] = [];
  for (let t = start; t < end; t += minuteMs) {
    const value = 100 + 50 * Math.sin((2 * Math.PI * (t % dayMs)) / dayMs + index) + ((t / minuteMs) % 7);
    points.push({ ...identity, seriesId: id, timestamp: t, value });
  }
  await server.stores.metrics.writePoints(points);
  await server.stores.series.recordSeries([
    { id, ...identity, minTimestamp: start, maxTimestamp: end - minuteMs },
  ]);
}
const loadSeconds = (performance.now() - loadStarted) / 1000;

const get = async (path: string) => {
  const response = await fetch(`${server.url}${path}`, { headers });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<unknown>;
};

const baselineMs = await time(() =>
  Promise.all(ids.map((id) => get(`/v1/series/${id}/points?from=${start}&to=${end}&step=30m`))),
);

const rangeQuery = (query: string) =>
  `/api/v1/query_range?${new URLSearchParams({
    query,
    start: String(start / 1000),
    end: String(end / 1000),
    step: String(stepMs / 1000),
  })}`;
const queries = [
  '{__name__="bench.requests"}',
  'avg_over_time({__name__="bench.requests"}[30m])',
  'sum(rate({__name__="bench.requests"}[5m]))',
];
const results: { query: string; ms: number; series: number; points: number }[] = [];
for (const query of queries) {
  let series = 0;
  let points = 0;
  const ms = await time(async () => {
    const body = (await get(rangeQuery(query))) as { data: { result: { values: unknown[] }[] } };
    series = body.data.result.length;
    points = body.data.result.reduce((total, entry) => total + entry.values.length, 0);
  });
  results.push({ query, ms, series, points });
}

await server.close();
rmSync(dataDir, { recursive: true, force: true });

console.log(`${seriesCount} series x ${30 * 1440} one-minute points loaded in ${loadSeconds.toFixed(0)} s`);
console.log(
  `baseline: ${seriesCount} x GET /v1/series/{id}/points?step=30m over the month: ${baselineMs.toFixed(0)} ms`,
);
console.log('| query_range over 30 days, step 30m | series | points | median | vs baseline |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const { query, ms, series, points } of results) {
  console.log(
    `| \`${query}\` | ${series} | ${points.toLocaleString('en-US')} | ${ms.toFixed(0)} ms | ${(ms / baselineMs).toFixed(2)}x |`,
  );
}
