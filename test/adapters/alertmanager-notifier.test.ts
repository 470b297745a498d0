import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AlertmanagerNotifier,
  alertmanagerEndpoint,
  dimensionLabels,
  firingWindowFor,
  incidentAlerts,
  notificationAlerts,
  type PostableAlert,
  stillOpenAlerts,
} from '../../lib/adapters/alertmanager-notifier.ts';
import { secretsManagerString } from '../../lib/adapters/secrets-manager-string.ts';
import type { IncidentNotification } from '../../lib/alerts/incidents.ts';
import type { Alert, Notification } from '../../lib/alerts/model.ts';

const minute = 60_000;
const startedAt = Date.UTC(2025, 10, 27, 4, 0);
const now = startedAt + 20 * minute;
const link = 'http://127.0.0.1:8080/#/series/0123456789abcdef?alert=al_3f9c';

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  transitionId: 'al_3f9c.open',
  alertId: 'al_3f9c',
  state: 'OPEN',
  severity: 'warning',
  rule: { id: 'default', name: 'Default', kind: 'band' },
  seriesId: '0123456789abcdef',
  name: 'shop.login.time',
  dimensions: { host: 'web-1', 'k8s.pod': 'api-7' },
  startedAt,
  at: startedAt + 10 * minute,
  value: 950,
  expected: 70,
  lower: 50,
  upper: 90,
  score: 0.99,
  threshold: null,
  reason: 'above its band for 10 min',
  explanation:
    'Thursday 04:00 usually 70 ms, now 950 ms, 1257% above, for 10 min (44 band half-widths out; band 50 to 90 ms)',
  link,
  ...overrides,
});

describe('Alertmanager payload', () => {
  it('turns dimension keys into valid, distinct label names, never over Normalcy’s own', () => {
    expect(
      dimensionLabels({
        'k8s.pod': 'a',
        'k8s-pod': 'b',
        '2xx': 'c',
        __name__: 'd',
        metric: 'e',
        severity: 'f',
        'zone é': 'g',
        empty: '',
        host: 'web-1',
      }),
    ).toEqual({
      dimension___name__: 'd',
      dimension_2xx: 'c',
      host: 'web-1',
      k8s_pod: 'b',
      k8s_pod_2: 'a',
      dimension_metric: 'e',
      dimension_severity: 'f',
      zone__: 'g',
    });
  });

  it('posts an OPEN firing until now plus the window, with labels, annotations and the dashboard link', () => {
    expect(notificationAlerts(notification(), now + 4 * minute)).toEqual([
      {
        labels: {
          host: 'web-1',
          k8s_pod: 'api-7',
          alertname: 'NormalcyAlert',
          severity: 'warning',
          metric: 'shop.login.time',
          normalcy_alert_id: 'al_3f9c',
          normalcy_series_id: '0123456789abcdef',
        },
        annotations: {
          summary:
            'shop.login.time{host=web-1,k8s.pod=api-7} Thursday 04:00 usually 70 ms, now 950 ms, 1257% above, for 10 min',
          description: notification().explanation,
          rule: 'Default',
          dashboard: link,
        },
        startsAt: '2025-11-27T04:00:00.000Z',
        endsAt: '2025-11-27T04:24:00.000Z',
        generatorURL: link,
      },
    ]);
  });

  it('posts a RESOLVED with its end, and an ESCALATED as critical with the warning alert ended', () => {
    const resolvedAt = startedAt + 45 * minute;
    const [resolved] = notificationAlerts(
      notification({ state: 'RESOLVED', at: resolvedAt, transitionId: 'al_3f9c.resolved' }),
      now + 4 * minute,
    );
    expect(resolved?.endsAt).toBe(new Date(resolvedAt).toISOString());
    const escalated = notificationAlerts(
      notification({ state: 'ESCALATED', severity: 'critical', at: startedAt + 30 * minute }),
      now + 4 * minute,
    );
    expect(escalated.map((alert) => [alert.labels.severity, alert.endsAt])).toEqual([
      ['warning', new Date(startedAt + 30 * minute).toISOString()],
      ['critical', new Date(now + 4 * minute).toISOString()],
    ]);
  });

  it('posts every member of an incident with its incident id, resolved members with their end', () => {
    const member = {
      alertId: 'al_1',
      seriesId: 's1',
      name: 'idp.latency',
      dimensions: { service: 'idp' },
      severity: 'critical' as const,
      state: 'open' as const,
      startedAt,
      resolvedAt: null,
      reason: 'above its band for 10 min',
      link: 'http://x/#/series/s1?alert=al_1',
    };
    const incident: IncidentNotification = {
      transitionId: 'in_1.update.1',
      incidentId: 'in_1',
      state: 'UPDATE',
      severity: 'critical',
      startedAt,
      resolvedAt: null,
      at: now,
      origin: member,
      members: [
        member,
        {
          ...member,
          alertId: 'al_2',
          seriesId: 's2',
          name: 'idp.calls',
          state: 'resolved',
          resolvedAt: now - minute,
        },
      ],
      joined: ['al_2'],
      escalated: false,
      tiedBy: ['service=idp'],
      link: 'http://x/#/incidents/in_1',
    };
    const alerts = incidentAlerts(incident, now + 4 * minute);
    expect(
      alerts.map((alert) => [
        alert.labels.normalcy_alert_id,
        alert.labels.normalcy_incident_id,
        alert.endsAt,
      ]),
    ).toEqual([
      ['al_1', 'in_1', new Date(now + 4 * minute).toISOString()],
      ['al_2', 'in_1', new Date(now - minute).toISOString()],
    ]);
    const ended = incidentAlerts({ ...incident, state: 'RESOLVED', resolvedAt: now }, now + 4 * minute);
    expect(ended.map((alert) => alert.endsAt)).toEqual([
      new Date(now).toISOString(),
      new Date(now - minute).toISOString(),
    ]);
    // An UPDATE that escalated ends the warning alert each open critical member replaces.
    const escalated = incidentAlerts({ ...incident, escalated: true }, now + 4 * minute);
    expect(escalated.map((alert) => [alert.labels.normalcy_alert_id, alert.labels.severity])).toEqual([
      ['al_1', 'warning'],
      ['al_1', 'critical'],
      ['al_2', 'critical'],
    ]);
  });

  it('re-posts still-open alerts as they are now, with the same labels as their notifications', () => {
    const alert = {
      id: 'al_3f9c',
      ruleId: 'default',
      ruleName: 'Default',
      ruleKind: 'band',
      seriesId: '0123456789abcdef',
      name: 'shop.login.time',
      dimensions: { host: 'web-1', 'k8s.pod': 'api-7' },
      state: 'open',
      severity: 'warning',
      startedAt,
      resolvedAt: null,
      reason: 'above its band for 10 min',
      explanation: notification().explanation,
    } as unknown as Alert;
    const [again] = stillOpenAlerts(
      { at: now, alerts: [{ alert, link, incidentId: null }] },
      now + 4 * minute,
    );
    const [opened] = notificationAlerts(notification(), now + 4 * minute);
    expect(again).toEqual(opened);
  });

  it('keeps an alert firing four band job intervals, at least four minutes', () => {
    expect(firingWindowFor(60_000)).toBe(240_000);
    expect(firingWindowFor(5_000)).toBe(240_000);
    expect(firingWindowFor(300_000)).toBe(1_200_000);
  });

  it('takes credentials out of the URL as Basic auth, and refuses what is not http(s)', () => {
    expect(alertmanagerEndpoint('https://ops:s%3Acret@am.example.com/prefix/')).toEqual({
      endpoint: 'https://am.example.com/prefix/api/v2/alerts',
      authorization: `Basic ${Buffer.from('ops:s:cret').toString('base64')}`,
    });
    expect(alertmanagerEndpoint('http://127.0.0.1:9093')).toEqual({
      endpoint: 'http://127.0.0.1:9093/api/v2/alerts',
      authorization: undefined,
    });
    expect(() => alertmanagerEndpoint('ftp://am.example.com')).toThrow('must be an http or https URL');
  });
});

describe('AlertmanagerNotifier', () => {
  let server: Server;
  let url: string;
  let answers: number[];
  const received: { path: string; headers: IncomingHttpHeaders; alerts: PostableAlert[] }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, alerts: JSON.parse(body) });
        const status = answers.shift() ?? 200;
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(status === 400 ? '"start time must be before end time"' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://ops:secret@127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  beforeEach(() => {
    received.length = 0;
    answers = [];
  });

  const notifier = (options: { batchSize?: number } = {}) =>
    new AlertmanagerNotifier({ url, clock: { now: () => now }, sleep: async () => {}, ...options });

  it('posts to /api/v2/alerts with Basic auth, retrying a 503', async () => {
    answers = [503];
    await notifier().notify(notification());
    expect(received).toHaveLength(2);
    expect(received[1]?.path).toBe('/api/v2/alerts');
    expect(received[1]?.headers.authorization).toBe(`Basic ${Buffer.from('ops:secret').toString('base64')}`);
    expect(received[1]?.alerts[0]?.endsAt).toBe(new Date(now + 4 * minute).toISOString());
  });

  it('throws on a 400 without retrying, with what Alertmanager said and without the credentials', async () => {
    answers = [400];
    const post = notifier().notify(notification());
    await expect(post).rejects.toThrow('Alertmanager answered 400: "start time must be before end time"');
    await expect(post).rejects.not.toThrow(/secret/);
    expect(received).toHaveLength(1);
  });

  it('throws once every try failed, naming no URL', async () => {
    const port = (server.address() as AddressInfo).port;
    const unreachable = new AlertmanagerNotifier({
      url: `http://ops:secret@127.0.0.1:${port === 1 ? 2 : 1}`,
      attempts: 2,
      sleep: async () => {},
    });
    const post = unreachable.notify(notification());
    await expect(post).rejects.toThrow(/^Alertmanager could not be reached/);
    await expect(post).rejects.not.toThrow(/secret|127\.0\.0\.1/);
  });

  it('takes its URL from a secret read when the first alert is posted, and again after a failed read', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets
      .on(GetSecretValueCommand, { SecretId: 'normalcy/alertmanager' })
      .rejectsOnce(new Error('ThrottlingException'))
      .resolves({ SecretString: `${url}\n` });
    const fromSecret = new AlertmanagerNotifier({
      url: secretsManagerString('normalcy/alertmanager', new SecretsManagerClient({})),
      sleep: async () => {},
    });
    expect(secrets.calls()).toHaveLength(0);
    // A failed read fails the post (the transition stays pending), naming the secret, not its value.
    const first = fromSecret.notify(notification());
    await expect(first).rejects.toThrow(
      "Alertmanager's URL is not available: could not read the secret normalcy/alertmanager",
    );
    expect(received).toHaveLength(0);
    await fromSecret.notify(notification());
    await fromSecret.notify(notification());
    expect(received).toHaveLength(2);
    expect(received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('ops:secret').toString('base64')}`);
    // Read twice in all: the failure, then once for every later post.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(secrets.commandCalls(GetSecretValueCommand)[1]?.args[0].input).toEqual({
      SecretId: 'normalcy/alertmanager',
    });
    secrets.restore();
  });

  it('re-posts what is open in batches, and posts nothing when nothing is open', async () => {
    const alert = (id: string) =>
      ({
        id,
        seriesId: 's',
        name: 'm',
        dimensions: {},
        severity: 'warning',
        state: 'open',
        startedAt,
        resolvedAt: null,
        reason: 'r',
        ruleName: 'Default',
      }) as unknown as Alert;
    await notifier({ batchSize: 2 }).notifyStillOpen({
      at: now,
      alerts: ['a', 'b', 'c'].map((id) => ({ alert: alert(id), link, incidentId: null })),
    });
    expect(
      received.map((request) => request.alerts.map((posted) => posted.labels.normalcy_alert_id)),
    ).toEqual([['a', 'b'], ['c']]);
    await notifier().notifyStillOpen({ at: now, alerts: [] });
    expect(received).toHaveLength(2);
  });
});
