/**
 * `npm run bench:fanout [-- --series 1000000 --shards 256 --per-worker 4 --sample 8 --parallel 2
 * --store timestream|dynamodb --record]`:
 * the band job fanned out (lib/jobs/band-fanout.ts) at a million series, one worker per batch of shards, each
 * a Node.js process of its own running the real worker handler (functions/band-worker.ts) bundled by esbuild
 * as the Lambda is, with the worker's V8 heap flags (cdk/band-fanout.ts), cold (a new container: every shard
 * downloaded), against the counting fakes of `npm run bench:bands` (bench/fanout-worker.ts). `--store` is the
 * store the bulk read of recent points asks (bands are written to Timestream either way): Timestream (one
 * query, filtered as it arrives) or DynamoDB's recent-points log (its items made here as ingest requests of 500
 * series would write them, on disk, a file per log bucket; a worker queries only its shards' buckets).
 *
 * Every batch does the same work (the same 64 engine templates cloned over the series, one new bucket each), so
 * the benchmark runs `--sample` batches spread over the run (their shards set up in full) and not all of them;
 * each makes its own bulk read (of its shards' series), as a worker does. The run's time with the Distributed Map's
 * parallelism is extrapolated from the workers' times (each Lambda has its own CPU; this machine has two,
 * shared, so `--parallel` workers run at once here). Writes `bench/out/fanout.json`, or with `--record`
 * `bench/results/fanout.json` (`fanout-dynamodb.json` with `--store dynamodb`), which BENCHMARKS.md quotes and
 * `npm run cost` reads.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { buildSync } from 'esbuild';
import { bandWorkerHeapFlags } from '../cdk/band-fanout.ts';
import { logBucket, logSortKey, pointEntry } from '../lib/adapters/dynamodb-packing.ts';
import { S3StateStore } from '../lib/adapters/s3-state-store.ts';
import { openSqliteStores } from '../lib/adapters/sqlite-stores.ts';
import { evaluateSeries } from '../lib/alerts/evaluate.ts';
import { emptyMonitor, type SeriesMonitor } from '../lib/alerts/model.ts';
import { builtInDefaultRule } from '../lib/alerts/rules.ts';
import { defaultEngine, type EngineState } from '../lib/bands/index.ts';
import { shardBatches } from '../lib/jobs/band-fanout.ts';
import { alertLink } from '../lib/jobs/band-job.ts';
import { fanoutShardOrder, shardOf } from '../lib/jobs/state-shards.ts';
import type { SeriesState } from '../lib/ports/series-state-store.ts';
import { FakeS3 } from '../scripts/dev/fake-s3.ts';
import { benchSeries, benchStart, benchValue, minuteMs, templateCount } from './bands-common.ts';
import { repositoryRoot, resultsFile } from './results-file.ts';

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const seriesCount = argument('series', 1_000_000);
const shards = argument('shards', 256);
const perWorker = argument('per-worker', 4);
const sample = argument('sample', 8);
const parallel = argument('parallel', 2);
const storeIndex = process.argv.indexOf('--store');
const store = storeIndex >= 0 ? process.argv[storeIndex + 1] : 'timestream';
if (store !== 'timestream' && store !== 'dynamodb')
  throw new Error(`--store timestream or dynamodb, not ${store}`);
/** The Distributed Map's default MaxConcurrency (context normalcy:bandWorkerConcurrency). */
const defaultConcurrency = 16;
const directory = mkdtempSync(join(tmpdir(), 'normalcy-bench-fanout-'));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Series an ingest request carries (what the log's items are sized for: lib/adapters/dynamodb-packing.ts). */
const seriesPerRequest = 500;

/**
 * The DynamoDB store's recent-points log of the benchmark's minute, as requests of 500 series in index order
 * write it (an item per request and bucket; one point a series, as bench/fanout-worker.ts's Timestream fake
 * answers): a file per bucket (`log-<bucket>.txt`), an item a line (`sort key<TAB>entries`), in key order.
 */
function writeRecentPointsLog(): void {
  const lines = new Map<number, string[]>();
  for (let first = 0; first < seriesCount; first += seriesPerRequest) {
    const byBucket = new Map<number, string[]>();
    for (let index = first; index < Math.min(seriesCount, first + seriesPerRequest); index++) {
      const id = ids[index] as string;
      const point = {
        timestamp: benchStart + (index % 50) * 1000,
        value: benchValue(index % templateCount, benchStart),
      };
      const bucket = logBucket(id);
      const entries = byBucket.get(bucket);
      if (entries) entries.push(pointEntry(id, point));
      else byBucket.set(bucket, [pointEntry(id, point)]);
    }
    for (const [bucket, entries] of byBucket) {
      const line = `${logSortKey(bucket, benchStart + 50_000 + first / seriesPerRequest, 0)}\t${entries.join(';')}`;
      const items = lines.get(bucket);
      if (items) items.push(line);
      else lines.set(bucket, [line]);
    }
  }
  for (const [bucket, items] of lines)
    appendFileSync(join(directory, `log-${bucket}.txt`), `${items.join('\n')}\n`);
}

/** Two weeks of one-minute buckets for each template (as bench/bands.ts trains them). */
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
log(`trained ${templateCount} engines in ${Math.round(performance.now() - started)} ms`);

// Every series' id (the bulk read answers with all of them) and the shard it lives in.
started = performance.now();
const ids: string[] = new Array(seriesCount);
const byShard = new Map<string, number[]>();
for (let index = 0; index < seriesCount; index++) {
  const { id } = benchSeries(index);
  ids[index] = id;
  const shard = shardOf(id, shards);
  const list = byShard.get(shard);
  if (list) list.push(index);
  else byShard.set(shard, [index]);
}
writeFileSync(join(directory, 'ids.txt'), ids.join(''));
if (store === 'dynamodb') writeRecentPointsLog();
const batches = shardBatches(fanoutShardOrder(shards), perWorker);
const every = Math.max(1, Math.floor(batches.length / sample));
const sampled = batches.filter((_, index) => index % every === 0).slice(0, sample);
log(
  `${seriesCount.toLocaleString('en-US')} series in ${shards} shards, ${batches.length} batches of ${perWorker}; running ${sampled.length} (${Math.round(performance.now() - started)} ms)`,
);

// The sampled batches' shards in the fake S3 (on disk), as the band job left them; the catalog in SQLite (no
// series pending: the steady state), the alert store beside it.
started = performance.now();
openSqliteStores(join(directory, 'normalcy.db')).close();
const s3Directory = join(directory, 's3');
mkdirSync(s3Directory);
const s3 = new FakeS3({ directory: s3Directory });
const stateStore = new S3StateStore({
  bucket: 'bench',
  client: new S3Client({ region: 'us-east-1' }),
  keptBytes: 0,
});
let sampledSeries = 0;
for (const shard of sampled.flat()) {
  const states: SeriesState[] = (byShard.get(shard) ?? []).map((index) => {
    const template = templates[index % templateCount] ?? templates[0];
    const entry = benchSeries(index);
    return {
      ...entry,
      type: 'gauge',
      stepMs: minuteMs,
      processedUntil: benchStart,
      engineState: template?.engineState as EngineState,
      anomalous: false,
      monitor: template ? { ...template.monitor, seriesId: entry.id } : undefined,
      lastTimestamp: benchStart - minuteMs,
      lastValue: benchValue(index % templateCount, benchStart - minuteMs),
      kind: 'gauge',
      seasonality: 'daily',
    };
  });
  sampledSeries += states.length;
  await stateStore.saveShard(shard, states, undefined);
}
const objects: { key: string; etag: string; file: string }[] = [];
for (const [key, object] of s3.objects) {
  if ('file' in object) objects.push({ key, etag: object.etag, file: object.file });
}
writeFileSync(join(directory, 's3.json'), JSON.stringify(objects));
const stateBytes = s3.putBytes;
s3.restore();
log(
  `${sampled.flat().length} shards of ${sampledSeries.toLocaleString('en-US')} series saved (${(stateBytes / 1e6).toFixed(1)} MB gzip'd) in ${Math.round(performance.now() - started)} ms`,
);

const bundleDir = resolve('bench', 'out', 'fanout');
mkdirSync(bundleDir, { recursive: true });
const runner = join(bundleDir, 'fanout-worker.mjs');
buildSync({
  entryPoints: [resolve('bench/fanout-worker.ts')],
  outfile: runner,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

interface WorkerFigures {
  readonly shards: string[];
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMB: number;
  readonly seriesProcessed: number;
  readonly recentSeries: number;
  readonly cloudRequests: Record<string, number | Record<string, number>>;
}

/** One worker process over one batch; resolves to its figures. */
function runWorker(batch: readonly string[]): Promise<WorkerFigures> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [...bandWorkerHeapFlags, runner, directory, String(seriesCount), String(shards), 'bench-run', ...batch],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', BENCH_STORE: store },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the worker over ${batch.join(' ')} failed (exit ${code})`));
      else resolvePromise(JSON.parse(output) as WorkerFigures);
    });
  });
}

started = performance.now();
const workers: WorkerFigures[] = [];
const queue = [...sampled];
await Promise.all(
  Array.from({ length: Math.min(parallel, queue.length) }, async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      const figures = await runWorker(batch);
      log(
        `worker ${batch[0]}..${batch.at(-1)}: ${figures.seriesProcessed} series, ${figures.seconds} s, ${figures.cpuSeconds} CPU s, ${figures.maxRssMB} MB`,
      );
      workers.push(figures);
    }
  }),
);
const sampleWallSeconds = (performance.now() - started) / 1000;
if (!process.env.BENCH_KEEP) rmSync(directory, { recursive: true, force: true });

const range = (values: number[]) => ({
  min: Math.min(...values),
  max: Math.max(...values),
  mean: Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2)),
});
const seconds = range(workers.map((worker) => worker.seconds));
const cpuSeconds = range(workers.map((worker) => worker.cpuSeconds));
/** Rounds of the map at the default parallelism, each as long as its slowest worker (the slowest measured). */
const rounds = Math.ceil(batches.length / defaultConcurrency);
const first = workers[0]?.cloudRequests ?? {};
const report = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  store,
  seriesCount,
  shards,
  shardsPerWorker: perWorker,
  batches: batches.length,
  batchesMeasured: workers.length,
  workersAtOnceHere: parallel,
  stateBytesGzipPerSeries: Math.round(stateBytes / sampledSeries),
  worker: {
    seconds,
    cpuSeconds,
    maxRssMB: range(workers.map((worker) => worker.maxRssMB)),
    seriesProcessed: range(workers.map((worker) => worker.seriesProcessed)),
    bulkReadRows: first.timestreamQueryRows,
    bulkReadSeries: range(workers.map((worker) => worker.recentSeries)),
  },
  sampleWallSeconds: Number(sampleWallSeconds.toFixed(1)),
  /**
   * The run at the Distributed Map's default parallelism: ceil(batches / 16) rounds, each taken as the slowest
   * worker measured (wall time on this shared machine, so an upper bound for a Lambda's own CPU).
   */
  extrapolatedRunSeconds: Math.round(rounds * seconds.max),
  /**
   * The same from the slowest worker's CPU time, as a 1,024 MB Lambda gives it (Lambda allots a vCPU per
   * 1,769 MB): the wall time here is mostly waiting for the shared machine's cores.
   */
  extrapolatedRunSecondsFromCpu: Math.round(rounds * (cpuSeconds.max / (1024 / 1769))),
  defaultConcurrency,
  requestsPerWorker: first,
  requestsPerRun: {
    timestreamQueries: batches.length * Number(first.timestreamQueries ?? 0),
    timestreamQueryPages: batches.length * Number(first.timestreamQueryPages ?? 0),
    timestreamQueryRows: batches.length * Number(first.timestreamQueryRows ?? 0),
    dynamoQueries: batches.length * Number(first.dynamoQueries ?? 0),
    dynamoQueryPages: batches.length * Number(first.dynamoQueryPages ?? 0),
    dynamoLogEntriesRead: batches.length * Number(first.dynamoLogEntriesRead ?? 0),
    dynamoReadUnits: batches.length * Number(first.dynamoReadUnits ?? 0),
    timestreamWriteRecords: Math.round(
      (seriesCount / workers.reduce((sum, worker) => sum + worker.seriesProcessed, 0)) *
        workers.reduce((sum, worker) => sum + Number(worker.cloudRequests.timestreamWriteRecords ?? 0), 0),
    ),
    timestreamWriteUnits: Math.round(
      (seriesCount / workers.reduce((sum, worker) => sum + worker.seriesProcessed, 0)) *
        workers.reduce((sum, worker) => sum + Number(worker.cloudRequests.timestreamWriteUnits ?? 0), 0),
    ),
    s3Gets: shards + batches.length,
    s3Puts: shards + batches.length + 1,
    lambdaInvocations: batches.length + 1,
  },
};
// Each store's figures apart: `npm run cost` reads the DynamoDB run's for the DynamoDB store.
const output = resultsFile(store === 'dynamodb' ? 'fanout-dynamodb' : 'fanout');
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
log(`results written to ${relative(repositoryRoot, output)}`);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
