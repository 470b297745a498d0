import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { eventually, freeTcpPort, type RunningProcess, startProcess } from '../helpers/processes.ts';

interface SeriesEntry {
  id: string;
  name: string;
  type: string;
  dimensions: Record<string, string>;
  lastValue: number | null;
}
interface PointEntry {
  timestamp: number;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

/** How far the server's clock runs ahead once the scrapes are in, so the band job finds their buckets closed. */
const clockAheadMs = 2 * 60_000;

/**
 * Issue 15, item 1, end to end: Debian's real `prometheus` scrapes its own /metrics every second and
 * remote-writes them to the local server (real HTTP, SQLite) with the README's `remote_write` block;
 * its series appear in /v1/series with their labels as dimensions, a `_total` counter as a rate per second,
 * and the band job gives them bands.
 */
describe('Prometheus remote_write → Normalcy', () => {
  const storage = mkdtempSync(join(tmpdir(), 'normalcy-prometheus-'));
  let server: TestServer;
  let prometheus: RunningProcess;
  let aheadMs = 0;
  let prometheusAddress: string;

  beforeAll(async () => {
    server = await startTestServer({ clock: { now: () => Date.now() + aheadMs } });
    prometheusAddress = `127.0.0.1:${await freeTcpPort()}`;
    // The remote_write block of the README, as written (only the address and key are this test's).
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const block = /```yaml\n(remote_write:[\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'the README shows a remote_write block').toBeDefined();
    const { remote_write: remoteWrite } = parse(
      (block ?? '').replace('http://127.0.0.1:8080', server.url).replace('KEY', server.key),
    ) as { remote_write: Record<string, unknown>[] };
    const config = join(storage, 'prometheus.yml');
    writeFileSync(
      config,
      stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [{ job_name: 'prometheus', static_configs: [{ targets: [prometheusAddress] }] }],
        remote_write: remoteWrite.map((target) => ({
          ...target,
          queue_config: { batch_send_deadline: '1s', min_backoff: '100ms', max_backoff: '1s' },
        })),
      }),
    );
    prometheus = startProcess(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(storage, 'data')}`,
        `--web.listen-address=${prometheusAddress}`,
      ],
      {},
    );
    await prometheus.waitFor('Server is ready to receive web requests');
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
    rmSync(storage, { recursive: true, force: true });
  });

  it('stores its series with their labels, counters as rates, and the band job gives them bands', async () => {
    const job = { job: 'prometheus', instance: prometheusAddress };
    const find = async (name: string, query: string) =>
      (await server.getJson<{ series: SeriesEntry[] }>(`/v1/series?prefix=${name}&${query}`)).series.find(
        (entry) => entry.name === name,
      );
    const { up, requests } = await eventually(async () => {
      const up = await find('up', 'dimension[job]=prometheus');
      const requests = await find(
        'prometheus_http_requests_total.rate',
        `dimension[handler]=${encodeURIComponent('/metrics')}&dimension[code]=200`,
      );
      return up && requests ? { up, requests } : undefined;
    }, 30_000);
    expect(up).toMatchObject({ type: 'gauge', dimensions: job, lastValue: 1 });
    expect(requests).toMatchObject({
      type: 'gauge',
      dimensions: { ...job, handler: '/metrics', code: '200' },
    });
    // One scrape of /metrics a second: its request counter grows by about one a second.
    expect(requests.lastValue).toBeGreaterThan(0.3);
    expect(requests.lastValue).toBeLessThan(3);
    // Prometheus was told nothing is wrong: no failed sends in its log.
    expect(prometheus.output()).not.toMatch(/non-recoverable error|Failed to send batch/);

    aheadMs = clockAheadMs;
    // A run takes at most so many series (Prometheus exposes hundreds, one per histogram bucket): the job is
    // run until both series have their bands, as its schedule would run it.
    const pointsOf = async (series: SeriesEntry) =>
      (
        await server.getJson<{ points: PointEntry[] }>(
          `/v1/series/${series.id}/points?from=${new Date(Date.now() - 5 * 60_000).toISOString()}`,
        )
      ).points;
    const runs: unknown[] = [];
    let seen: unknown;
    const banded = await eventually(async () => {
      const { seriesProcessed, bucketsProcessed, quarantined } = await server.runBandJob();
      runs.push({ seriesProcessed, bucketsProcessed, quarantined });
      const [upPoints, requestPoints] = [await pointsOf(up), await pointsOf(requests)];
      seen = { upPoints, requestPoints };
      const banded = [...upPoints, ...requestPoints].filter((point) => point.expected !== null);
      const bothBanded = [upPoints, requestPoints].every((points) =>
        points.some((point) => point.expected !== null),
      );
      return bothBanded ? banded : undefined;
    }, 30_000).catch((error: Error) => {
      throw new Error(
        `${error.message}; band job runs: ${JSON.stringify(runs)}; bands: ${JSON.stringify(seen)}`,
      );
    });
    for (const point of banded) {
      expect(point.lower).toBeLessThanOrEqual(point.expected as number);
      expect(point.upper).toBeGreaterThanOrEqual(point.expected as number);
    }
  });
});
