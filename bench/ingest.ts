/**
 * `npm run bench:ingest`: how fast each ingest format turns a body into Timestream records, as a ratio to
 * bare `JSON.parse` of the native body measured in the same run; then the local server end to end with
 * autocannon on 5,000-point batches; then the ingest function's bundle size. Figures go in BENCHMARKS.md.
 *
 * Environment: BENCH_SECONDS (end-to-end duration, default 10), BENCH_CONNECTIONS (default 1: the local
 * server is one process, so more connections only queue).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { buildSync } from 'esbuild';
import protobuf from 'protobufjs/minimal.js';
import { pointRecords } from '../lib/adapters/timestream-store.ts';
import { prepareBatch } from '../lib/ingest/accept.ts';
import { parseCollectdJson } from '../lib/ingest/collectd.ts';
import { parseLineProtocol } from '../lib/ingest/influx-line.ts';
import { parseNativeJson } from '../lib/ingest/native-json.ts';
import { parseNetuitive } from '../lib/ingest/netuitive.ts';
import { convertOtlp, parseOtlpJson } from '../lib/ingest/otlp/metrics.ts';
import { decodeMetricsRequest } from '../lib/ingest/otlp/wire.ts';
import { type ParsedBatch, timeWindow } from '../lib/ingest/validate.ts';
import { generateKey, hashKey } from '../lib/keys.ts';
import { startLocalServer } from '../lib/local/server.ts';

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
  await server.store.putKey({
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
    const { n } = server.store.database.prepare('SELECT count(*) AS n FROM points').get() as { n: number };
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
} else {
  console.log(`Node ${process.version}, ${process.arch}`);
  benchParsers();
  await benchServer();
  bundleSize();
}
