/**
 * `npm run bench:bands [-- --series 100000 --shards 64 --record]`: the band job over many series for one step.
 *
 * Setup (not timed): 64 engines trained on two weeks of 1-minute data (a daily cycle, each its own level and
 * noise) give realistic states and alert monitors, cloned to every series (each series takes one of the 64);
 * the catalog in SQLite (temp dir) and the state shards in a fake S3 keeping its objects on disk (the real S3
 * adapter against aws-sdk-client-mock) hold the steady state; one new bucket is written for every series through the stores.
 *
 * Then, for each points store (timestream, dynamodb), a fresh Node.js process runs the bundled band job
 * (`bench/bands-run.ts`, built by esbuild as the Lambda is, with the function's V8 heap flags): a cold run
 * (every shard read from S3, as in a new container) and a warm run (the next bucket, shards unchanged since
 * the last run). Both runs use the real
 * cloud adapters against counting fakes at the AWS boundary (Timestream query and write clients, DynamoDB,
 * S3), so the requests reported are the ones the code makes. The baseline, in the same process: the engine
 * alone (restore, one update, save) over the same series.
 *
 * Writes `bench/out/bands.json` (git-ignored); with `--record`, the tracked `bench/results/bands.json` instead,
 * which BENCHMARKS.md quotes and `npm run cost` reads.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { buildSync } from 'esbuild';
import { bandJobHeapFlags } from '../cdk/band-job-node-options.ts';
import { S3StateStore } from '../lib/adapters/s3-state-store.ts';
import { openSqliteStores } from '../lib/adapters/sqlite-stores.ts';
import { evaluateSeries } from '../lib/alerts/evaluate.ts';
import { emptyMonitor, type SeriesMonitor } from '../lib/alerts/model.ts';
import { builtInDefaultRule } from '../lib/alerts/rules.ts';
import { defaultEngine, type EngineState } from '../lib/bands/index.ts';
import { alertLink } from '../lib/jobs/band-job.ts';
import { shardOf } from '../lib/jobs/state-shards.ts';
import type { SeriesPoint } from '../lib/metrics/point.ts';
import type { SeriesState } from '../lib/ports/series-state-store.ts';
import { FakeS3 } from '../scripts/dev/fake-s3.ts';
import { benchSeries, benchStart, benchValue, minuteMs, templateCount } from './bands-common.ts';
import { repositoryRoot, resultsFile } from './results-file.ts';

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const seriesCount = Number(argument('series') ?? 100_000);
// About 1,500 series a shard at 100,000 series: one shard's states stay small in memory.
const shards = Number(argument('shards') ?? 64);
const directory = mkdtempSync(join(tmpdir(), 'normalcy-bench-bands-'));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Two weeks of one-minute buckets before the benchmark's bucket, for each of the templates. */
function trainTemplates(): { engineState: EngineState; monitor: SeriesMonitor }[] {
  const templates = [];
  const historyStart = benchStart - 14 * 1440 * minuteMs;
  for (let template = 0; template < templateCount; template++) {
    const engine = defaultEngine.create();
    const recent = [];
    for (let t = historyStart; t < benchStart; t += minuteMs) {
      const value = benchValue(template, t);
      const band = engine.update(t, value);
      if (t >= benchStart - 5 * minuteMs) recent.push({ timestamp: t, value, band });
    }
    const outcome = evaluateSeries({
      series: { id: `template-${template}`, name: 'bench.metric', dimensions: {} },
      stepMs: minuteMs,
      monitor: { ...emptyMonitor(`template-${template}`), firstBucketAt: historyStart },
      rules: [builtInDefaultRule],
      buckets: recent,
      now: benchStart,
      link: alertLink('http://127.0.0.1:8080'),
    });
    templates.push({ engineState: engine.toState(), monitor: outcome.monitor });
  }
  return templates;
}

let started = performance.now();
const templates = trainTemplates();
log(
  `trained ${templateCount} engines on two weeks of minutes in ${Math.round(performance.now() - started)} ms`,
);

started = performance.now();
const stores = openSqliteStores(join(directory, 'normalcy.db'));
const series = Array.from({ length: seriesCount }, (_, index) => benchSeries(index));
for (let offset = 0; offset < seriesCount; offset += 10_000) {
  await stores.series.recordSeries(
    series.slice(offset, offset + 10_000).map((entry) => ({
      ...entry,
      type: 'gauge' as const,
      minTimestamp: benchStart - minuteMs,
      maxTimestamp: benchStart - minuteMs,
      backfill: false,
    })),
  );
}
// Steady state: the band job has set every series up already (none pending).
stores.database.exec('UPDATE series SET handled_version = version');

const s3Directory = join(directory, 's3');
mkdirSync(s3Directory);
const s3 = new FakeS3({ directory: s3Directory });
const stateStore = new S3StateStore({ bucket: 'bench', client: new S3Client({ region: 'us-east-1' }) });
const byShard = new Map<string, SeriesState[]>();
series.forEach((entry, index) => {
  const template = templates[index % templateCount];
  if (!template) return;
  const state: SeriesState = {
    ...entry,
    type: 'gauge',
    stepMs: minuteMs,
    processedUntil: benchStart,
    engineState: template.engineState,
    anomalous: false,
    monitor: { ...template.monitor, seriesId: entry.id },
    lastTimestamp: benchStart - minuteMs,
    lastValue: benchValue(index % templateCount, benchStart - minuteMs),
    kind: 'gauge',
    seasonality: 'daily',
  };
  const shard = shardOf(entry.id, shards);
  const list = byShard.get(shard);
  if (list) list.push(state);
  else byShard.set(shard, [state]);
});
for (const [shard, states] of byShard) await stateStore.saveShard(shard, states, undefined);
const objects: { key: string; etag: string; file: string }[] = [];
for (const [key, object] of s3.objects) {
  if ('file' in object) objects.push({ key, etag: object.etag, file: object.file });
}
const stateBytes = s3.putBytes;
writeFileSync(join(directory, 's3.json'), JSON.stringify(objects));
s3.restore();
log(
  `catalog and ${byShard.size} state shards of ${seriesCount.toLocaleString('en-US')} series ` +
    `(${(stateBytes / 1e6).toFixed(1)} MB gzip'd) in ${Math.round(performance.now() - started)} ms`,
);

// The new bucket, through the store ports as ingest writes it.
const points: SeriesPoint[] = series.map((entry, index) => ({
  ...entry,
  seriesId: entry.id,
  type: 'gauge',
  timestamp: benchStart + (index % 50) * 1000,
  value: benchValue(index % templateCount, benchStart),
}));
started = performance.now();
for (let offset = 0; offset < seriesCount; offset += 5_000) {
  const batch = points.slice(offset, offset + 5_000);
  await stores.metrics.writePoints(batch);
  await stores.series.recordSeries(
    batch.map((point) => ({
      id: point.seriesId,
      name: point.name,
      type: point.type,
      dimensions: point.dimensions,
      minTimestamp: point.timestamp,
      maxTimestamp: point.timestamp,
      backfill: false,
    })),
  );
}
const ingestMs = performance.now() - started;
stores.close();
log(`one bucket for every series written to SQLite in ${Math.round(ingestMs)} ms`);

// The job runs bundled, in a process of its own, so its peak memory is the job's. The bundle goes under the
// checkout's bench/out (ignored), not node_modules, which checkouts of the repository may share.
const bundleDir = resolve('bench', 'out', 'bands');
mkdirSync(bundleDir, { recursive: true });
const runner = join(bundleDir, 'bands-run.mjs');
buildSync({
  entryPoints: [resolve('bench/bands-run.ts')],
  outfile: runner,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

const results: Record<string, unknown> = {};
for (const points of ['timestream', 'dynamodb'] as const) {
  const child = spawnSync(
    process.execPath,
    // With the heap flags the band function has (cdk/band-job-node-options.ts): its memory is the function's.
    [...bandJobHeapFlags, runner, directory, points, String(seriesCount), String(shards)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`the ${points} run failed (exit ${child.status})`);
  results[points] = JSON.parse(child.stdout);
}
if (!process.env.BENCH_KEEP) rmSync(directory, { recursive: true, force: true });

// The engine's state as the stores keep it (JSON), per series: the templates' mean, as every series is one.
const engineStateBytes = templates.map(({ engineState }) => JSON.stringify(engineState).length);
const report = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  seriesCount,
  shards,
  engine: defaultEngine.name,
  engineStateBytesPerSeries: Math.round(
    engineStateBytes.reduce((sum, bytes) => sum + bytes, 0) / templateCount,
  ),
  engineStateBytesLargest: Math.max(...engineStateBytes),
  stateBytesGzip: stateBytes,
  stateBytesGzipPerSeries: Math.round(stateBytes / seriesCount),
  sqliteIngestMsForOneBucket: Math.round(ingestMs),
  stores: results,
};
const output = resultsFile('bands');
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
log(`results written to ${relative(repositoryRoot, output)}`);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
