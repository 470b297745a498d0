import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConsoleNotifier, FanOutNotifier } from '../../lib/adapters/console-notifier.ts';
import { incidentDocument, incidentSubject, incidentText } from '../../lib/adapters/incident-text.ts';
import { publishIncidentInput } from '../../lib/adapters/sns-notifier.ts';
import { WebhookNotifier } from '../../lib/adapters/webhook-notifier.ts';
import {
  dueTransitions,
  type IncidentMember,
  type IncidentNotification,
  joinIncident,
  startIncident,
  updateMember,
} from '../../lib/alerts/incidents.ts';
import { verifyWebhook } from '../../lib/alerts/webhook-signature.ts';

const minute = 60_000;
const t0 = Date.UTC(2025, 10, 25, 13, 20);

function member(index: number, name: string, dimensions: Record<string, string>): IncidentMember {
  const alertId = `al_${String(index).padStart(20, '0')}`;
  return {
    alertId,
    ruleId: 'default',
    seriesId: String(index).padStart(16, '0'),
    name,
    dimensions,
    severity: index === 0 ? 'warning' : 'critical',
    startedAt: t0 + index * minute,
    openedAt: t0 + 5 * minute,
    deviation: 3,
    resolvedAt: null,
    joinedAt: t0 + 6 * minute,
    runAt: t0 + 6 * minute,
    reason: index === 0 ? 'above its band for 10 min' : 'below its band for 5 min',
    link: `http://dash/#/series/${String(index).padStart(16, '0')}?alert=${alertId}`,
  };
}

/** The OPEN of an incident of `members` (the first one the origin: it started first). */
function openOf(members: readonly IncidentMember[]): IncidentNotification {
  const [first, ...rest] = members;
  if (!first) throw new Error('no member');
  let incident = startIncident(first, t0 + 6 * minute);
  for (const other of rest)
    incident = joinIncident(incident, other, { strength: 0, label: 'host=web-1' }, t0);
  const [open] = dueTransitions(incident, {
    now: t0 + 6 * minute,
    link: `http://dash/#/incidents/${incident.id}`,
  }).transitions;
  if (!open) throw new Error('no OPEN');
  return open.notification;
}

const outage = openOf([
  member(0, 'shop.idp.time', { provider: 'identity' }),
  member(1, 'shop.idp.calls', { provider: 'identity' }),
  member(2, 'shop.login.time', { service: 'web' }),
]);

describe('Incident notifications', () => {
  it('subjects name the origin and how many others, under 100 printable characters, however many and long the members', () => {
    expect(incidentSubject(outage)).toBe(
      '[Normalcy] INCIDENT critical shop.idp.time{provider=identity} + 2 more',
    );
    const long = (index: number) =>
      member(index, `shop.${'checkout-service-latency-é-'.repeat(9)}${index}`, {
        host: `web-${'x'.repeat(200)}`,
        region: 'eu-west-1',
      });
    const many = openOf(Array.from({ length: 40 }, (_, index) => long(index)));
    for (const notification of [
      many,
      { ...many, state: 'UPDATE' as const },
      { ...many, state: 'RESOLVED' as const },
    ]) {
      const subject = incidentSubject(notification);
      expect(subject.length).toBeLessThan(100);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
      expect(subject).toMatch(/^\[Normalcy\] INCIDENT .*shop\.checkout-service-latency-\?-.*~ \+ 39 more$/);
    }
    expect(publishIncidentInput('arn:aws:sns:eu-west-1:1:alerts', many).Subject?.length).toBeLessThan(100);
  });

  it('the SNS request carries the incident id as an attribute and in the document; FIFO groups by incident', () => {
    const input = publishIncidentInput('arn:aws:sns:eu-west-1:123456789012:alerts.fifo', outage);
    expect(input.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'critical' },
      state: { DataType: 'String', StringValue: 'OPEN' },
      metric: { DataType: 'String', StringValue: 'shop.idp.time' },
      seriesId: { DataType: 'String', StringValue: '0000000000000000' },
      alertId: { DataType: 'String', StringValue: 'al_00000000000000000000' },
      incidentId: { DataType: 'String', StringValue: outage.incidentId },
      transitionId: { DataType: 'String', StringValue: `${outage.incidentId}.open` },
    });
    expect(input).toMatchObject({
      MessageStructure: 'json',
      MessageGroupId: outage.incidentId,
      MessageDeduplicationId: `${outage.incidentId}.open`,
    });
    const message = JSON.parse(input.Message ?? '{}');
    expect(JSON.parse(message.default)).toEqual(incidentDocument(outage));
    expect(JSON.parse(message.default)).toMatchObject({
      kind: 'incident',
      incidentId: outage.incidentId,
      origin: { name: 'shop.idp.time' },
      severity: 'critical',
    });
    expect(message.email).toBe(incidentText(outage));
  });

  it('the text names every member, the origin first and marked, and the worst severity', () => {
    const text = incidentText(outage);
    expect(text).toContain('Incident: 3 alerts, first shop.idp.time{provider=identity}.');
    expect(text).toContain('Severity:  critical (worst of its members)');
    expect(text).toContain('Origin:    shop.idp.time{provider=identity} (left its band first)');
    expect(
      text.indexOf('shop.idp.time{provider=identity}: warning, open, above its band for 10 min [origin]'),
    ).toBeGreaterThan(0);
    expect(text).toContain('  - shop.login.time{service=web}: critical, open, below its band for 5 min');
    let incident = startIncident(member(0, 'shop.idp.time', {}), t0);
    incident = dueTransitions(incident, { now: t0, link: 'http://dash/#/incidents/x' }).incident;
    incident = updateMember(
      incident,
      'al_00000000000000000000',
      { resolvedAt: t0 + 30 * minute },
      t0 + 31 * minute,
    );
    const [resolved] = dueTransitions(incident, {
      now: t0 + 31 * minute,
      link: 'http://dash/#/incidents/x',
    }).transitions;
    expect(resolved && incidentText(resolved.notification)).toContain(
      'Incident resolved: all 1 alert back to normal',
    );
  });

  it('the webhook POSTs the incident document, signed, its delivery header the transition id', async () => {
    const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const secret = 'incident-test-secret';
      await new WebhookNotifier({ url: `http://127.0.0.1:${port}/hook`, secret }).notifyIncident(outage);
      expect(requests).toHaveLength(1);
      const [request] = requests;
      expect(JSON.parse(request?.body ?? '')).toEqual(incidentDocument(outage));
      expect(request?.headers['x-normalcy-delivery']).toBe(`${outage.incidentId}.open`);
      expect(
        verifyWebhook({
          secret,
          body: request?.body ?? '',
          timestamp: String(request?.headers['x-normalcy-timestamp']),
          signature: String(request?.headers['x-normalcy-signature']),
          now: Date.now(),
        }),
      ).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the console prints one line: the subject, the members and the link', async () => {
    const lines: string[] = [];
    await new ConsoleNotifier((line) => lines.push(line)).notifyIncident(outage);
    expect(lines).toEqual([
      `[Normalcy] INCIDENT critical shop.idp.time{provider=identity} + 2 more at ${new Date(t0 + 6 * minute).toISOString()}, ` +
        `members shop.idp.time, shop.idp.calls, shop.login.time -> http://dash/#/incidents/${outage.incidentId}`,
    ]);
  });

  it('a fan-out pages incidents only when each of its notifiers can (else the band job pages alerts)', async () => {
    const lines: string[] = [];
    const both = new FanOutNotifier([
      new ConsoleNotifier((line) => lines.push(line)),
      new ConsoleNotifier((line) => lines.push(line)),
    ]);
    await both.notifyIncident?.(outage);
    expect(lines).toHaveLength(2);
    const plain = { notify: async () => {} };
    expect(new FanOutNotifier([new ConsoleNotifier(() => {}), plain]).notifyIncident).toBeUndefined();
  });
});
