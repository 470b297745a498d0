import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerNotifier } from '../../lib/adapters/alertmanager-notifier.ts';
import { gaussian, seededRandom } from '../../scripts/dev/random.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { eventually, freeTcpPort, type RunningProcess, startProcess } from '../helpers/processes.ts';
import { dayMs, minuteMs } from '../helpers/series.ts';

const run = promisify(execFile);

interface AmtoolAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly status: { readonly state: string };
}

interface WebhookMessage {
  readonly status: 'firing' | 'resolved';
  readonly groupLabels: Record<string, string>;
  readonly alerts: readonly { readonly status: string; readonly labels: Record<string, string> }[];
}

/**
 * Debian's Alertmanager receiving Normalcy's alerts through the real local server and band job: two series of
 * one service drop to 0 for 30 minutes (one incident, two member alerts), then recover. Alertmanager routes them with the
 * route docs/alerts.md gives (grouped by `normalcy_incident_id`) to a webhook. Times are real (Alertmanager
 * judges `endsAt` on its own clock): the outage ended half an hour ago; the band job's clock is set to just
 * after it for the first run, then to now.
 */
describe('alerts to Alertmanager', () => {
  const step = 5 * minuteMs;
  const now = Math.floor(Date.now() / step) * step;
  const outageEnd = now - 30 * minuteMs;
  const outageStart = outageEnd - 30 * minuteMs;
  const start = outageEnd - 3 * dayMs;
  const series = [
    { name: 'shop.checkout.requests', dimensions: { region: 'eu', 'k8s.pod': 'checkout-1' } },
    { name: 'shop.checkout.orders', dimensions: { region: 'eu' } },
  ];
  let clockNow = outageEnd + minuteMs;
  let server: TestServer;
  let alertmanager: RunningProcess;
  let alertmanagerUrl: string;
  let webhook: Server;
  const pages: WebhookMessage[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-alertmanager-'));

  const amtool = async (...args: string[]): Promise<AmtoolAlert[]> => {
    const { stdout } = await run('amtool', [
      'alert',
      'query',
      `--alertmanager.url=${alertmanagerUrl}`,
      '-o',
      'json',
      ...args,
    ]);
    return JSON.parse(stdout) as AmtoolAlert[];
  };

  const post = async (from: number, to: number) => {
    const noise = gaussian(seededRandom(from));
    const metrics = series.map(({ name, dimensions }) => {
      const points: [number, number][] = [];
      for (let t = from; t < to; t += step) {
        points.push([t, t >= outageStart && t < outageEnd ? 0 : 100 + noise()]);
      }
      return { name, type: 'gauge', dimensions, points };
    });
    const response = await server.postMetrics(metrics);
    expect(response.status).toBe(200);
  };

  beforeAll(async () => {
    webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        pages.push(JSON.parse(body) as WebhookMessage);
        response.end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const webhookPort = (webhook.address() as AddressInfo).port;
    writeFileSync(
      join(dataDir, 'alertmanager.yml'),
      // The route docs/alerts.md gives, waiting a second rather than Alertmanager's default 30 s.
      `route:
  receiver: pager
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="NormalcyAlert"', 'normalcy_incident_id!=""']
      group_by: [normalcy_incident_id]
    - matchers: ['alertname="NormalcyAlert"']
      group_by: [normalcy_alert_id]
receivers:
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:${webhookPort}/
        send_resolved: true
`,
    );
    const port = await freeTcpPort();
    alertmanagerUrl = `http://127.0.0.1:${port}`;
    alertmanager = startProcess(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dataDir, 'alertmanager.yml')}`,
        `--storage.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      {},
    );
    await alertmanager.waitFor('Listening', 20_000);

    const clock = { now: () => clockNow };
    // Open alerts fire for two hours unless posted again: the first run's clock is half an hour behind.
    const notifier = new AlertmanagerNotifier({
      url: alertmanagerUrl,
      firingWindowMs: 2 * 60 * minuteMs,
      clock,
    });
    server = await startTestServer({ clock, notifier });
    await post(start, outageEnd);
    const summary = await server.runBandJob();
    expect(summary.alertsOpened).toBe(2);
    expect(summary.incidents.sent).toBe(1);
    expect(summary.stillOpen).toEqual({ alerts: 2, failed: null });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await alertmanager?.stop();
    await new Promise((resolve) => webhook?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists both alerts of the outage as active, with the series labels, severity, ids and incident', async () => {
    const active = await eventually(async () => {
      const alerts = await amtool();
      return alerts.length === 2 && alerts.every((alert) => alert.status.state === 'active')
        ? alerts
        : undefined;
    });
    const byMetric = new Map(active.map((alert) => [alert.labels.metric, alert]));
    const requests = byMetric.get('shop.checkout.requests');
    const orders = byMetric.get('shop.checkout.orders');
    const { alerts } = await server.getJson<{ alerts: { id: string; name: string; seriesId: string }[] }>(
      `/v1/alerts?from=${start}`,
    );
    const alertOf = (name: string) => alerts.find((alert) => alert.name === name);
    const { incidents } = await server.getJson<{ incidents: { id: string }[] }>('/v1/incidents');
    expect(incidents).toHaveLength(1);
    expect(requests?.labels).toEqual({
      alertname: 'NormalcyAlert',
      severity: 'critical',
      metric: 'shop.checkout.requests',
      region: 'eu',
      k8s_pod: 'checkout-1',
      normalcy_alert_id: alertOf('shop.checkout.requests')?.id,
      normalcy_series_id: alertOf('shop.checkout.requests')?.seriesId,
      normalcy_incident_id: incidents[0]?.id,
    });
    expect(orders?.labels).toMatchObject({
      metric: 'shop.checkout.orders',
      region: 'eu',
      normalcy_incident_id: incidents[0]?.id,
    });
    expect(requests?.startsAt).toBe(new Date(outageStart).toISOString());
    expect(requests?.generatorURL).toBe(
      `${server.url}/#/series/${alertOf('shop.checkout.requests')?.seriesId}?alert=${alertOf('shop.checkout.requests')?.id}`,
    );
    expect(requests?.annotations.description).toMatch(/usually (99|100)[.0-9]*, (now|was) 0, 100% below/);
    // amtool's own matchers select by Normalcy's labels.
    expect(
      await amtool(`normalcy_incident_id=${incidents[0]?.id}`, 'metric=shop.checkout.orders'),
    ).toHaveLength(1);
  });

  it('pages the incident once, both members in one notification', async () => {
    const firing = await eventually(async () => pages.find((page) => page.status === 'firing'));
    expect(firing.groupLabels).toEqual({
      normalcy_incident_id: firing.alerts[0]?.labels.normalcy_incident_id,
    });
    expect(firing.alerts.map((alert) => alert.labels.metric).sort()).toEqual([
      'shop.checkout.orders',
      'shop.checkout.requests',
    ]);
  });

  it('keeps them firing when the band job re-sends them, without paging again', async () => {
    // Five minutes on, no new data: the run only re-sends, which pushes each alert's end five minutes on.
    clockNow += 5 * minuteMs;
    const summary = await server.runBandJob();
    expect(summary.stillOpen).toEqual({ alerts: 2, failed: null });
    const active = await amtool();
    expect(active.map((alert) => alert.endsAt)).toEqual([
      new Date(clockNow + 2 * 60 * minuteMs).toISOString(),
      new Date(clockNow + 2 * 60 * minuteMs).toISOString(),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(pages.filter((page) => page.status === 'firing')).toHaveLength(1);
  });

  it('resolves both once the series are back inside their bands', async () => {
    clockNow = Date.now();
    await post(outageEnd, now);
    const summary = await server.runBandJob();
    expect(summary.alertsResolved).toBe(2);
    expect(summary.stillOpen).toEqual({ alerts: 0, failed: null });
    await eventually(async () => ((await amtool()).length === 0 ? true : undefined));
    const resolved = await eventually(async () => pages.find((page) => page.status === 'resolved'));
    expect(resolved.alerts.map((alert) => alert.status)).toEqual(['resolved', 'resolved']);
  });
});
