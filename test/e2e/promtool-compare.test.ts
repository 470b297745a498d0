import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bandSeriesNames } from '../../lib/query/prometheus-series.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { freeTcpPort, type RunningProcess, startProcess } from '../helpers/processes.ts';

/**
 * Issue 15, item 2: `promtool query instant|range|labels|series` against Normalcy's Prometheus API answers
 * what it answers against Debian's real Prometheus 2.42 holding the same samples, within float tolerance,
 * Grafana's health check (`1+1`) included.
 *
 * The same samples go to both: Prometheus gets them as TSDB blocks made by `promtool tsdb create-blocks-from
 * openmetrics` before it starts, Normalcy through `POST /v1/metrics` as gauges. Normalcy keeps one sample per
 * series step (one minute here) stamped with the bucket's start, so the samples lie on whole minutes, one a
 * minute, over the three hours before the last whole minute ten minutes ago (both accept that range: it is
 * older than Prometheus's empty head and well inside Normalcy's 400 days).
 */

const run = promisify(execFile);
const minuteMs = 60_000;
const end = Math.floor(Date.now() / minuteMs) * minuteMs - 10 * minuteMs;
const start = end - 3 * 60 * minuteMs;
const times = Array.from({ length: (end - start) / minuteMs + 1 }, (_, index) => start + index * minuteMs);

interface Fixture {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: (index: number) => number;
}

/** Gauges that swing (negative values too) and counters that grow with a reset, values to many digits. */
const fixtures: readonly Fixture[] = [
  { name: 'shop_requests', labels: { host: 'a' }, value: (i) => 100 + 40 * Math.sin(i / 9) + (i % 7) * 0.37 },
  { name: 'shop_requests', labels: { host: 'b' }, value: (i) => 80 + 25 * Math.cos(i / 13) - (i % 5) * 1.1 },
  { name: 'shop_requests', labels: { host: 'c', region: 'eu' }, value: (i) => -5 + (i % 11) * 1.25 },
  { name: 'shop_errors', labels: { host: 'a' }, value: (i) => (i % 13) * 0.5 },
  { name: 'shop_errors', labels: { host: 'b' }, value: (i) => 3 + Math.sin(i / 4) },
  // Reset at sample 100: back to a small value, as after a restart.
  {
    name: 'http_requests_total',
    labels: { host: 'a' },
    value: (i) => (i < 100 ? 1000 + i * 17.5 : (i - 100) * 9 + 4),
  },
  { name: 'http_requests_total', labels: { host: 'b' }, value: (i) => 50 + i * i * 0.25 },
];

const seconds = (ms: number) => String(ms / 1000);

/** OpenMetrics text of the fixtures: families together, each series' samples in time order. */
function openMetrics(): string {
  const lines: string[] = [];
  for (const name of [...new Set(fixtures.map((fixture) => fixture.name))]) {
    lines.push(`# TYPE ${name} gauge`);
    for (const fixture of fixtures.filter((candidate) => candidate.name === name)) {
      const labels = Object.entries(fixture.labels)
        .map(([key, value]) => `${key}="${value}"`)
        .join(',');
      times.forEach((time, index) => {
        lines.push(`${name}{${labels}} ${fixture.value(index)} ${seconds(time)}`);
      });
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

type Json = unknown;

interface Endpoints {
  prometheus: string;
  normalcy: string;
}

/** Sorts a promtool JSON answer so that series order does not matter. */
function normalise(answer: Json): Json {
  if (!Array.isArray(answer)) return answer;
  if (answer.every((entry) => typeof entry === 'string')) return [...answer].sort();
  const key = (entry: Json) =>
    JSON.stringify(Object.entries((entry as { metric?: object }).metric ?? entry ?? {}).sort());
  if (answer.every((entry) => typeof entry === 'object' && entry !== null)) {
    return [...answer].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
  return answer;
}

/** Compares two answers: the same shape and labels, numbers (values are strings) within 1e-9 relative. */
function expectClose(actual: Json, expected: Json, path = ''): void {
  if (typeof expected === 'string' && typeof actual === 'string') {
    const a = Number(actual);
    const e = Number(expected);
    if (actual !== expected && Number.isFinite(a) && Number.isFinite(e)) {
      expect(Math.abs(a - e), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(e)),
      );
      return;
    }
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as Json[]).length, `${path} length`).toBe(expected.length);
    expected.forEach((entry, index) => {
      expectClose((actual as Json[])[index], entry, `${path}[${index}]`);
    });
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) {
      if (key === 'metric') expect((actual as Record<string, Json>)[key], `${path}.metric`).toEqual(value);
      else expectClose((actual as Record<string, Json>)[key], value, `${path}.${key}`);
    }
    return;
  }
  expect(actual, path).toEqual(expected);
}

describe('promtool against Normalcy and against Prometheus 2.42, the same samples', () => {
  let server: TestServer;
  let prometheus: RunningProcess;
  let directory: string;
  const endpoints: Endpoints = { prometheus: '', normalcy: '' };

  const promtool = async (target: keyof Endpoints, args: string[]): Promise<Json> => {
    const [command = '', ...rest] = args;
    const { stdout } = await run(
      'promtool',
      ['query', command, ...withServer(command, rest, endpoints[target])],
      {
        timeout: 15_000,
      },
    );
    if (command === 'instant' || command === 'range') return JSON.parse(stdout);
    const lines = stdout.split('\n').filter((line) => line !== '');
    // `series` prints a label set a line, `{a="1", b="2"}`; `labels` a value a line.
    if (command === 'labels') return lines;
    return lines.map((line) =>
      Object.fromEntries(
        [...line.matchAll(/([\w:]+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value]),
      ),
    );
  };

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'normalcy-promtool-'));
    const storage = join(directory, 'data');
    const file = join(directory, 'samples.om');
    writeFileSync(file, openMetrics());
    await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, storage], {
      timeout: 30_000,
    });
    writeFileSync(join(directory, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
    const port = await freeTcpPort();
    prometheus = startProcess(
      'prometheus',
      [
        `--config.file=${join(directory, 'prometheus.yml')}`,
        `--storage.tsdb.path=${storage}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=30d',
      ],
      {},
    );
    server = await startTestServer();
    const stored = await server.postMetrics(
      fixtures.map((fixture) => ({
        name: fixture.name,
        type: 'gauge',
        dimensions: fixture.labels,
        points: times.map((time, index) => [time, fixture.value(index)]),
      })),
    );
    expect(stored.status).toBe(200);
    expect((await stored.json()).rejected).toBe(0);
    await prometheus.waitFor('Server is ready to receive web requests', 30_000);
    endpoints.prometheus = `http://127.0.0.1:${port}`;
    // promtool sends the URL's user information as Basic auth: the key is the password.
    endpoints.normalcy = server.url.replace('http://', `http://promtool:${encodeURIComponent(server.key)}@`);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const both = async (args: string[]) => {
    const [fromPrometheus, fromNormalcy] = await Promise.all([
      promtool('prometheus', args),
      promtool('normalcy', args),
    ]);
    return { fromPrometheus: normalise(fromPrometheus), fromNormalcy: normalise(fromNormalcy) };
  };

  const instantQueries = [
    '1+1',
    '2 * 3 - 4 / 8 + 2 ^ 3 % 5',
    '-2^2',
    'shop_requests',
    '{__name__="shop_requests"}',
    'shop_requests{host="a"}',
    'shop_requests{host!="a"}',
    'shop_requests{host=~"a|c"}',
    'shop_requests{host!~"a.*"}',
    '{__name__=~"shop_.*", host="b"}',
    'shop_requests offset 17m',
    'rate(http_requests_total[5m])',
    'rate(http_requests_total[13m])',
    'increase(http_requests_total[1h])',
    'rate(shop_requests[10m])',
    'avg_over_time(shop_requests[10m])',
    'min_over_time(shop_requests[7m])',
    'max_over_time(shop_requests[7m] offset 3m)',
    'sum_over_time(shop_errors[30m])',
    'count_over_time(shop_requests[9m])',
    'last_over_time(shop_requests[5m])',
    'sum(shop_requests)',
    'sum by (host) (shop_requests)',
    'avg without (host) (shop_requests)',
    'max by (region) (shop_requests)',
    'min(shop_requests) by (host, region)',
    'count(shop_requests)',
    'sum(rate(http_requests_total[5m]))',
    'shop_requests * 2 + 1',
    '10 - shop_requests',
    '-shop_requests',
    'shop_requests > 90',
    '90 < shop_requests',
    'shop_requests >= bool 90',
    'shop_errors / shop_requests',
    'shop_errors != bool on(host) shop_requests',
    'shop_errors * ignoring(region) shop_requests',
    'sum by (host) (shop_errors) / on(host) sum by (host) (shop_requests) * 100',
    'shop_requests % 7',
    '(shop_requests - 80) ^ 2',
    'topk(2, shop_requests)',
    'bottomk by (host) (1, shop_requests or shop_errors)',
    'topk(1.5, rate(http_requests_total[5m]))',
    'quantile(0.9, shop_requests)',
    'quantile by (host) (0.5, {__name__=~"shop_.*"})',
    'stddev(shop_requests)',
    'stdvar without (host) (shop_errors)',
    'group by (host) ({__name__=~"shop_.*"})',
    'shop_requests and shop_errors',
    'shop_requests and on(host) shop_errors > 2',
    'shop_requests unless shop_errors',
    'shop_errors or shop_requests',
    'shop_requests > 100 or shop_requests < 70',
    'shop_requests / on() group_left sum(shop_requests)',
    'sum(shop_errors) - on() group_right shop_errors',
    'shop_errors + on() group_left(region) shop_requests{host="c"}',
    'shop_errors > on(host) group_left shop_requests / 20',
  ];
  const instantTimes = [end - 30 * minuteMs, end - 47 * minuteMs + 17_000, end + 4 * minuteMs];

  // promtool runs one query a process: it runs a sample of the queries, and the whole list goes through the
  // same HTTP API (what promtool and Grafana call) at three times, aligned with the samples and not.
  const promtoolQueries = [
    '1+1',
    '-2^2',
    'shop_requests',
    'rate(http_requests_total[5m])',
    'increase(http_requests_total[1h])',
    'sum by (host) (shop_requests)',
    'shop_errors / on(host) shop_requests',
    'shop_requests > 90',
  ];

  it.each(promtoolQueries)('promtool query instant %s', async (query) => {
    const time = instantTimes[1] ?? 0;
    const { fromPrometheus, fromNormalcy } = await both(['instant', `--time=${seconds(time)}`, query]);
    expectClose(fromNormalcy, fromPrometheus, query);
  });

  const apiQuery = async (target: keyof Endpoints, query: string, time: number): Promise<Json> => {
    const base = target === 'prometheus' ? endpoints.prometheus : server.url;
    const response = await fetch(
      `${base}/api/v1/query?${new URLSearchParams({ query, time: seconds(time) })}`,
      {
        headers: target === 'normalcy' ? { authorization: `Bearer ${server.key}` } : {},
      },
    );
    const body = (await response.json()) as { status: string; data: { resultType: string; result: Json } };
    expect(body.status, `${target}: ${query}`).toBe('success');
    return { resultType: body.data.resultType, result: normalise(body.data.result) };
  };

  it.each(instantQueries)('GET /api/v1/query %s', async (query) => {
    for (const time of instantTimes) {
      const [fromPrometheus, fromNormalcy] = await Promise.all([
        apiQuery('prometheus', query, time),
        apiQuery('normalcy', query, time),
      ]);
      expectClose(fromNormalcy, fromPrometheus, `${query} @ ${seconds(time)}`);
    }
  });

  const rangeQueries: [string, string][] = [
    ['1+1', '1m'],
    ['shop_requests', '1m'],
    ['shop_requests{host="b"}', '137s'],
    ['rate(http_requests_total[5m])', '1m'],
    ['increase(http_requests_total[10m])', '5m'],
    ['sum by (host) (rate(http_requests_total[5m]))', '2m'],
    ['avg_over_time(shop_requests[15m])', '3m'],
    ['shop_errors / on(host) shop_requests', '1m'],
    ['shop_requests > bool 100', '90s'],
    ['shop_requests offset 30m', '10m'],
    ['topk(1, shop_requests)', '1m'],
    ['shop_requests > 100 or shop_errors', '2m'],
    ['shop_requests / on() group_left sum(shop_requests)', '1m'],
  ];

  it.each(rangeQueries)('promtool query range %s (step %s)', async (query, step) => {
    const { fromPrometheus, fromNormalcy } = await both([
      'range',
      `--start=${seconds(start + 20 * minuteMs + 13_000)}`,
      `--end=${seconds(end + 6 * minuteMs)}`,
      `--step=${step}`,
      query,
    ]);
    expect((fromPrometheus as Json[]).length).toBeGreaterThan(0);
    expectClose(fromNormalcy, fromPrometheus, query);
  });

  it('promtool query series: the same label sets', async () => {
    for (const match of ['shop_requests', '{host="a"}', '{__name__=~"http.*"}']) {
      const { fromPrometheus, fromNormalcy } = await both(['series', `--match=${match}`]);
      expect(fromNormalcy, match).toEqual(fromPrometheus);
    }
  });

  it('promtool query labels: the same values; Normalcy adds its band series to the names', async () => {
    for (const label of ['host', 'region']) {
      const { fromPrometheus, fromNormalcy } = await both(['labels', label]);
      expect(fromNormalcy, label).toEqual(fromPrometheus);
    }
    const { fromPrometheus, fromNormalcy } = await both(['labels', '__name__']);
    expect(fromNormalcy).toEqual([...(fromPrometheus as string[]), ...bandSeriesNames].sort());
  });
});

/** `promtool query <command> [flags] <server> [expr|name]`: the server goes before the positional arguments. */
function withServer(command: string, args: string[], server: string): string[] {
  const flags = args.filter((arg) => arg.startsWith('--'));
  const positional = args.filter((arg) => !arg.startsWith('--'));
  const format = command === 'instant' || command === 'range' ? ['-o', 'json'] : [];
  // `--` ends the flags, so that an expression starting with `-` is not read as one.
  return [...format, ...flags, server, '--', ...positional];
}
