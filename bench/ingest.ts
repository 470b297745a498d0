/**
 * `npm run bench:ingest`: how fast each ingest format turns a body into Timestream records, as a ratio to
 * bare `JSON.parse` of the native body measured in the same run; then the local server end to end with
 * autocannon on 5,000-point batches; then the ingest function's bundle size. Figures go in BENCHMARKS.md.
 *
 * Then the local server again while the band job runs: live series (one point a minute over the job's live
 * window), ingest measured idle and with the band job re-running on its timer, as a ratio.
 *
 * Environment: BENCH_SECONDS (end-to-end duration, default 10; each phase of the band-job part too),
 * BENCH_CONNECTIONS (default 1: the local server is one process, so more connections only queue),
 * BENCH_LIVE_SERIES (the band-job part's series counts, default "2000,4000"), BENCH_BAND_INTERVAL_MS (the band
 * job's timer in that part, default 1000: a run starts at most this long after the previous one ended).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { buildSync } from 'esbuild';
import protobuf from 'protobufjs/minimal.js';
import { startLocalServer } from '../functions/local/server.ts';
import { pointRecords } from '../lib/adapters/timestream-store.ts';
import { prepareBatch } from '../lib/ingest/accept.ts';
import { parseCollectdJson } from '../lib/ingest/collectd.ts';
import { parseLineProtocol } from '../lib/ingest/influx-line.ts';
import { parseNativeJson } from '../lib/ingest/native-json.ts';
import { parseNetuitive } from '../lib/ingest/netuitive.ts';
import { convertOtlp, parseOtlpJson } from '../lib/ingest/otlp/metrics.ts';
import { decodeMetricsRequest } from '../lib/ingest/otlp/wire.ts';
import { convertWriteRequest, decodeWriteRequest } from '../lib/ingest/remote-write.ts';
import { decompressSnappy } from '../lib/ingest/snappy.ts';
import { type ParsedBatch, timeWindow } from '../lib/ingest/validate.ts';
import { generateKey, hashKey } from '../lib/keys.ts';
import { ingestLimits } from '../lib/metrics/limits.ts';
import { minuteMs } from '../lib/time.ts';
import { remoteWriteBody } from '../scripts/dev/remote-write.ts';

const pointsPerBatch = 5000;
const seriesCount = 50;
const now = Date.now();
const window = timeWindow(now);
const at = (index: number) => now - 60_000 * (Math.floor(index / seriesCount) + 1);
const hostOf = (index: number) => `web-${index % 5}`;
const nameOf = (index: number) => `app.metric.${index % seriesCount}`;

// One realistic batch, in every format: 50 series (name + host + region) × 100 instants.
const nativeBody = (offsetMs = 0) =>
  JSON.stringify({
    metrics: Array.from({ length: pointsPerBatch }, (_, i) => ({
      name: nameOf(i),
      type: 'gauge',
      value: i * 1.5,
      timestamp: at(i) - offsetMs,
      dimensions: { host: hostOf(i), region: 'eu-west-1' },
    })),
  });

const bulkBody = JSON.stringify({
  metrics: Array.from({ length: seriesCount }, (_, series) => ({
    name: nameOf(series),
    type: 'gauge',
    dimensions: { host: hostOf(series), region: 'eu-west-1' },
    points: Array.from({ length: pointsPerBatch / seriesCount }, (_, k) => [at(k * seriesCount), k * 1.5]),
  })),
});

const otlpDocument = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
      scopeMetrics: [
        {
          metrics: Array.from({ length: seriesCount }, (_, series) => ({
            name: nameOf(series),
            gauge: {
              dataPoints: Array.from({ length: pointsPerBatch / seriesCount }, (_, k) => ({
                timeUnixNano: `${at(k * seriesCount)}000000`,
                asDouble: k * 1.5,
                attributes: [
                  { key: 'host', value: { stringValue: hostOf(series) } },
                  { key: 'region', value: { stringValue: 'eu-west-1' } },
                ],
              })),
            },
          })),
        },
      ],
    },
  ],
};
const otlpJsonBody = JSON.stringify(otlpDocument);

/** The same request as protobuf, written field by field (metrics.proto numbers). */
function otlpProtobufBody(): Uint8Array {
  const attribute = (key: string, value: string) =>
    protobuf.Writer.create()
      .uint32(10)
      .string(key)
      .uint32(18)
      .fork()
      .uint32(10)
      .string(value)
      .ldelim()
      .finish();
  const metrics = otlpDocument.resourceMetrics[0]?.scopeMetrics[0]?.metrics ?? [];
  const scope = protobuf.Writer.create();
  for (const [series, metric] of metrics.entries()) {
    const gauge = protobuf.Writer.create();
    for (const [k] of metric.gauge.dataPoints.entries()) {
      gauge
        .uint32(10)
        .fork()
        .uint32(25)
        .fixed64(at(k * seriesCount) * 1e6)
        .uint32(33)
        .double(k * 1.5)
        .uint32(58)
        .bytes(attribute('host', hostOf(series)))
        .uint32(58)
        .bytes(attribute('region', 'eu-west-1'))
        .ldelim();
    }
    const encodedMetric = protobuf.Writer.create()
      .uint32(10)
      .string(metric.name)
      .uint32(42)
      .bytes(gauge.finish())
      .finish();
    scope.uint32(18).bytes(encodedMetric);
  }
  const resource = protobuf.Writer.create().uint32(10).bytes(attribute('service.name', 'bench')).finish();
  const resourceMetrics = protobuf.Writer.create()
    .uint32(10)
    .bytes(resource)
    .uint32(18)
    .bytes(scope.finish())
    .finish();
  return protobuf.Writer.create().uint32(10).bytes(resourceMetrics).finish();
}
const otlpProtobuf = otlpProtobufBody();

const influxBody = Array.from(
  { length: pointsPerBatch },
  (_, i) =>
    `app.metric,host=${hostOf(i)},region=eu-west-1,series=${i % seriesCount} value=${i * 1.5} ${at(i)}000000`,
).join('\n');

const collectdBody = JSON.stringify(
  Array.from({ length: pointsPerBatch }, (_, i) => ({
    values: [i * 1.5],
    dstypes: ['gauge'],
    dsnames: ['value'],
    time: at(i) / 1000,
    interval: 60,
    host: hostOf(i),
    plugin: 'app',
    plugin_instance: String(i % seriesCount),
    type: 'gauge',
    type_instance: '',
  })),
);

const netuitiveBody = JSON.stringify([
  {
    id: 'web-1',
    type: 'SERVER',
    tags: [{ name: 'region', value: 'eu-west-1' }],
    metrics: Array.from({ length: seriesCount }, (_, series) => ({
      id: nameOf(series),
      type: 'GAUGE',
      tags: [{ name: 'statsdType', value: 'g' }],
    })),
    samples: Array.from({ length: pointsPerBatch }, (_, i) => ({
      metricId: nameOf(i),
      timestamp: at(i),
      val: i * 1.5,
    })),
  },
]);

// The same series as Prometheus remote-writes them: gauges (no counter, whose first samples only set a
// baseline), `__name__` and two labels, 100 samples each, in a snappy block.
const remoteWriteSnappy = remoteWriteBody(
  Array.from({ length: seriesCount }, (_, series) => ({
    labels: { __name__: nameOf(series).replaceAll('.', '_'), host: hostOf(series), region: 'eu-west-1' },
    samples: Array.from({ length: pointsPerBatch / seriesCount }, (_, k) => ({
      value: k * 1.5,
      timestamp: at(k * seriesCount),
    })),
  })),
);

/** Parse + validate + prepare (series ids, merging) + encode to Timestream records. */
const toRecords = (batch: ParsedBatch) => pointRecords(prepareBatch(batch).points);

const cases: [string, () => unknown][] = [
  ['JSON.parse (baseline)', () => JSON.parse(nativeBody())],
  ['native JSON', () => toRecords(parseNativeJson(nativeBodyFixed, window))],
  ['native JSON, bulk form', () => toRecords(parseNativeJson(bulkBody, window))],
  ['OTLP JSON', () => toRecords(parseOtlpJson(otlpJsonBody, window))],
  ['OTLP protobuf', () => toRecords(convertOtlp(decodeMetricsRequest(otlpProtobuf), window))],
  ['Influx line protocol', () => toRecords(parseLineProtocol(influxBody, 1, window))],
  ['collectd JSON', () => toRecords(parseCollectdJson(collectdBody, window, { storeRates: true }))],
  ['Netuitive', () => toRecords(parseNetuitive(netuitiveBody, window))],
  [
    'Prometheus remote write (snappy + protobuf)',
    () =>
      toRecords(
        convertWriteRequest(
          decodeWriteRequest(decompressSnappy(remoteWriteSnappy, ingestLimits.maxBodyBytes)),
          window,
        ),
      ),
  ],
];
const nativeBodyFixed = nativeBody();
// The baseline parses the same text as the native case (a fresh string each time would add its building).
cases[0] = ['JSON.parse (baseline)', () => JSON.parse(nativeBodyFixed)];

function benchParsers(): void {
  for (const [name, run] of cases) {
    const result = run() as unknown[];
    if (name !== 'JSON.parse (baseline)' && result.length !== pointsPerBatch) {
      throw new Error(`${name} made ${result.length} records, not ${pointsPerBatch}`);
    }
  }
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  // Rounds alternate the cases so that drift (CPU frequency, GC) hits all of them alike.
  for (let round = 0; round < 30; round++) {
    for (const [name, run] of cases) {
      const start = process.hrtime.bigint();
      for (let repeat = 0; repeat < 5; repeat++) run();
      samples.get(name)?.push(Number(process.hrtime.bigint() - start) / 5 / 1e9);
    }
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const baseline = pointsPerBatch / median(samples.get('JSON.parse (baseline)') ?? []);
  console.log(
    `\nParse + validate + encode to Timestream records, ${pointsPerBatch}-point batches (median of 30 rounds)\n`,
  );
  console.log('| format | points/s | ratio to JSON.parse of the native body |');
  console.log('| --- | ---: | ---: |');
  for (const [name] of cases) {
    const rate = pointsPerBatch / median(samples.get(name) ?? []);
    console.log(`| ${name} | ${Math.round(rate).toLocaleString('en')} | ${(rate / baseline).toFixed(2)} |`);
  }
  const native = median(samples.get('native JSON') ?? []);
  const remoteWrite = median(samples.get('Prometheus remote write (snappy + protobuf)') ?? []);
  console.log(
    `\nPrometheus remote write: ${(native / remoteWrite).toFixed(2)} × the native JSON path's points/s ` +
      `(body ${remoteWriteSnappy.length.toLocaleString('en')} bytes snappy vs ${nativeBodyFixed.length.toLocaleString('en')} bytes JSON)`,
  );
}

/** What the server process reports when the load is over. */
interface ServerReport {
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly stored: number;
}

/**
 * The local server alone in this process (forked by benchServer, so that autocannon's own work does not share
 * its event loop): sends its URL and key, samples its memory, and reports when told to stop.
 */
async function serve(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-bench-'));
  const server = await startLocalServer({ dataDir, port: 0 });
  const key = generateKey();
  await server.stores.keys.putKey({
    hash: hashKey(key),
    name: 'bench',
    scopes: ['ingest'],
    createdAt: now,
    revokedAt: null,
  });
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 50);
  process.on('message', async () => {
    clearInterval(sampler);
    const { n } = server.stores.database.prepare('SELECT count(*) AS n FROM points').get() as { n: number };
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.send?.({ rssBefore, rssPeak, stored: n } satisfies ServerReport, () => process.exit(0));
  });
  process.send?.({ url: server.url, key });
}

async function benchServer(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 1);
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: 'inherit' });
  const nextMessage = <T>() =>
    new Promise<T>((resolve) => child.once('message', (message) => resolve(message as T)));
  const { url, key } = await nextMessage<{ url: string; key: string }>();
  // 40 distinct batches (new instants), cycled: most requests insert, later ones upsert.
  const bodies = Array.from({ length: 40 }, (_, index) => nativeBody(index * 100 * 60_000 + 1));
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/metrics`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
  });
  const report = nextMessage<ServerReport>();
  child.send('stop');
  const { rssBefore, rssPeak, stored } = await report;
  const ok = result['2xx'];
  const pointsPerSecond = (ok * pointsPerBatch) / (result.duration || seconds);
  const megabytes = (bytes: number) => Math.round(bytes / 2 ** 20);
  console.log(
    `\nLocal server end to end (its own process): POST /v1/metrics, ${pointsPerBatch}-point batches, ${connections} connection(s), ${seconds} s\n`,
  );
  console.log(
    '| requests (2xx / other) | points/s | latency p50 | p99 | server RSS before → peak | points stored |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${ok} / ${result.non2xx + result.errors} | ${Math.round(pointsPerSecond).toLocaleString('en')} | ${result.latency.p50} ms | ` +
      `${result.latency.p99} ms | ${megabytes(rssBefore)} → ${megabytes(rssPeak)} MB | ${stored.toLocaleString('en')} |`,
  );
}

/** What the band-job part's server reports of a phase: the job's runs and its own event loop's delays. */
interface PhaseReport {
  readonly runs: number;
  readonly meanRunMs: number;
  readonly maxRunMs: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

/** Commands the band-job part sends its server process. */
type LiveCommand = 'learn' | 'idle' | 'job' | 'end' | 'stop';

/**
 * The band-job part's server (forked by benchBandJob): sends its URL and key; on `learn` runs the band job
 * until every series is learned; on `idle` or `job` starts a phase, the second with the band job on a timer
 * as `npm start` runs it (a run starts BENCH_BAND_INTERVAL_MS after the previous one ended, or at once when
 * that one ran longer); on `end` stops the timer, waits for the run going on, and reports the phase.
 */
async function serveLive(): Promise<void> {
  const intervalMs = Number(process.env.BENCH_BAND_INTERVAL_MS ?? 1000);
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-bench-'));
  const server = await startLocalServer({ dataDir, port: 0, notifier: { notify: async () => {} } });
  const key = generateKey();
  await server.stores.keys.putKey({
    hash: hashKey(key),
    name: 'bench',
    scopes: ['ingest'],
    createdAt: Date.now(),
    revokedAt: null,
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let durations: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  const runOnce = async () => {
    const began = performance.now();
    await server.runBandJob();
    durations.push(performance.now() - began);
  };
  const tick = () => {
    running = runOnce().finally(() => {
      running = undefined;
      if (timer) timer = setTimeout(tick, intervalMs);
    });
  };
  process.on('message', async (command: LiveCommand) => {
    if (command === 'learn') {
      // New series are read one by one, a bounded number per run: run until a run reads none alone.
      let runs = 0;
      for (;;) {
        const summary = await server.runBandJob();
        runs += 1;
        if (summary.seriesReadAlone === 0 || runs >= 20) break;
      }
      process.send?.({ runs });
    } else if (command === 'idle' || command === 'job') {
      durations = [];
      loopDelay.reset();
      loopDelay.enable();
      if (command === 'job') timer = setTimeout(tick, 0);
      process.send?.('started');
    } else if (command === 'end') {
      clearTimeout(timer);
      timer = undefined;
      loopDelay.disable();
      await running;
      const runs = durations.length;
      process.send?.({
        runs,
        meanRunMs: runs ? durations.reduce((sum, value) => sum + value, 0) / runs : 0,
        maxRunMs: Math.max(0, ...durations),
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
      } satisfies PhaseReport);
    } else {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send?.({ url: server.url, key });
}

/** One point for each live series at one minute: `live.metric.<k>` on 50 hosts (2,000 series: 40 names). */
function liveBody(seriesCount: number, timestamp: number): string {
  return JSON.stringify({
    metrics: Array.from({ length: seriesCount }, (_, index) => ({
      name: `live.metric.${Math.floor(index / 50)}`,
      type: 'gauge',
      value: 100 + 10 * Math.sin(index + timestamp / 60_000) + (index % 7),
      timestamp,
      dimensions: { host: `host-${index % 50}` },
    })),
  });
}

/**
 * Ingest while the band job runs, for each count of live series: every series gets one point a minute over
 * the job's live window (through the ingest API), the job learns them all (not timed), then autocannon POSTs
 * for BENCH_SECONDS with the job idle, then again with it re-running on its timer. Each request is one point
 * for every series at one of the window's minutes (cycled: upserts, as an agent's repeated flush would be).
 */
async function benchBandJob(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 1);
  const counts = (process.env.BENCH_LIVE_SERIES ?? '2000,4000').split(',').map(Number);
  const rows: string[] = [];
  for (const seriesCount of counts) {
    const child = fork(fileURLToPath(import.meta.url), ['serve-live'], { stdio: 'inherit' });
    const nextMessage = <T>() =>
      new Promise<T>((resolve) => child.once('message', (message) => resolve(message as T)));
    const { url, key } = await nextMessage<{ url: string; key: string }>();
    const lastMinute = Math.floor(Date.now() / minuteMs) * minuteMs;
    const bodies = Array.from({ length: 10 }, (_, index) =>
      liveBody(seriesCount, lastMinute - index * minuteMs),
    );
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    for (const body of bodies) {
      const response = await fetch(`${url}/v1/metrics`, { method: 'POST', headers, body });
      if (!response.ok) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
    }
    child.send('learn' satisfies LiveCommand);
    await nextMessage<{ runs: number }>();
    const load = () => {
      let next = 0;
      return autocannon({
        url: `${url}/v1/metrics`,
        method: 'POST',
        connections,
        duration: seconds,
        headers,
        requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
      });
    };
    const phase = async (command: 'idle' | 'job') => {
      child.send(command satisfies LiveCommand);
      await nextMessage<string>();
      const result = await load();
      child.send('end' satisfies LiveCommand);
      return { result, report: await nextMessage<PhaseReport>() };
    };
    const idle = await phase('idle');
    const busy = await phase('job');
    child.send('stop' satisfies LiveCommand);
    await new Promise((resolve) => child.once('exit', resolve));
    const rate = ({ result }: typeof idle) => result['2xx'] / (result.duration || seconds);
    const failed = ({ result }: typeof idle) => result.non2xx + result.errors;
    const delay = ({ report }: typeof idle) =>
      `${Math.round(report.loopDelayP99Ms)} / ${Math.round(report.loopDelayMaxMs)} ms`;
    const { runs, meanRunMs, maxRunMs } = busy.report;
    rows.push(
      `| ${seriesCount.toLocaleString('en')} | ${rate(idle).toFixed(1)} | ${idle.result.latency.p99} ms | ` +
        `${rate(busy).toFixed(1)} | ${busy.result.latency.p99} ms | **${(rate(busy) / rate(idle)).toFixed(2)}** | ` +
        `${failed(idle)} / ${failed(busy)} | ${delay(idle)} | ${delay(busy)} | ` +
        `${runs} × ${(meanRunMs / 1000).toFixed(1)} s (max ${(maxRunMs / 1000).toFixed(1)} s) |`,
    );
  }
  console.log(
    `\nLocal server while the band job runs: POST /v1/metrics, one point per live series per request, ${connections} connection(s), ${seconds} s idle then ${seconds} s with the job on its timer\n`,
  );
  console.log(
    '| live series | idle requests/s | idle p99 | band job running: requests/s | p99 | ratio to idle | non-2xx (idle / running) | server event-loop delay p99 / max, idle | running | job runs × mean (max) |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
}

function bundleSize(): void {
  const output = buildSync({
    entryPoints: [join(import.meta.dirname, '..', 'functions', 'ingest.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['@aws-sdk/*'],
    write: false,
  });
  const bytes = output.outputFiles[0]?.contents.length ?? 0;
  console.log(
    `\nIngest function bundle (esbuild --bundle --minify, AWS SDK external): ${(bytes / 1024).toFixed(1)} KB`,
  );
}

if (process.argv[2] === 'serve') {
  await serve();
} else if (process.argv[2] === 'serve-live') {
  await serveLive();
} else if (process.argv[2] === 'parsers') {
  // The parsers alone (`npm run bench:ingest -- parsers`).
  console.log(`Node ${process.version}, ${process.arch}`);
  benchParsers();
} else if (process.argv[2] === 'band-job') {
  // The band-job part alone (`npm run bench:ingest -- band-job`).
  console.log(`Node ${process.version}, ${process.arch}`);
  await benchBandJob();
} else {
  console.log(`Node ${process.version}, ${process.arch}`);
  benchParsers();
  await benchServer();
  await benchBandJob();
  bundleSize();
}
