import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookNotifier } from '../../lib/adapters/webhook-notifier.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { verifyWebhook } from '../../lib/alerts/webhook-signature.ts';
import { alertViewUrl } from '../../lib/dashboard-links.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { outageStory } from '../helpers/outage.ts';
import { documentedCalls } from './documented-calls.ts';
import { OpenApiResponseValidator } from './openapi-validator.ts';

/**
 * The alerting routes of a real local server (SQLite) against docs/openapi.yaml: rules, mutes, exclusions,
 * and alerts raised by the real band job over a series with an outage, delivered to a webhook. Every answer
 * is validated against the document; bodies the server takes must be ones the document accepts, and bodies
 * it refuses for reasons a schema can express must be refused by the document too.
 */
const validator = new OpenApiResponseValidator();
const secret = 'contract-test-secret';
let server: TestServer;
let now = outageStory.outageEnd + 60_000;
let receiver: Server;
const deliveries: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
const call = documentedCalls(() => server, validator);

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  server = await startTestServer({
    clock: { now: () => now },
    notifier: new WebhookNotifier({ url: `http://127.0.0.1:${port}/hook`, secret }),
  });
  // The outage, seen while it happens (the alert opens), then the recovery (it resolves).
  const during = await call('POST', '/v1/metrics', {
    body: { metrics: outageStory.bulkItems(outageStory.start, outageStory.outageEnd) },
    request: 'valid',
  });
  expect(during.status).toBe(200);
  await server.runBandJob();
  now = outageStory.recoveredAt + 60_000;
  const after = await call('POST', '/v1/metrics', {
    body: { metrics: outageStory.bulkItems(outageStory.outageEnd, outageStory.recoveredAt) },
    request: 'valid',
  });
  expect(after.status).toBe(200);
  await server.runBandJob();
}, 60_000);

afterAll(async () => {
  await server.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('rules', () => {
  it('lists the built-in default rule', async () => {
    const { status, body } = await call('GET', '/v1/rules');
    expect(status).toBe(200);
    expect(body.rules).toEqual([builtInDefaultRule]);
  });

  it('creates band, threshold and no-data rules, every default filled in', async () => {
    const band = await call('POST', '/v1/rules', {
      body: { id: 'checkout', kind: 'band', selector: { metric: 'shop.checkout.*' }, direction: 'below' },
      request: 'valid',
    });
    expect(band.status).toBe(201);
    expect(band.body.rule).toMatchObject({ id: 'checkout', name: 'checkout', recoveryBuckets: 3 });
    const threshold = await call('POST', '/v1/rules', {
      body: { kind: 'threshold', direction: 'above', threshold: 500, severity: 'critical' },
      request: 'valid',
    });
    expect(threshold.status).toBe(201);
    expect(threshold.body.rule.id).toMatch(/^rule_[0-9a-f]{16}$/);
    const noData = await call('POST', '/v1/rules', {
      body: { id: 'silent', kind: 'nodata', afterMs: 600_000, reminderIntervalMs: 3_600_000 },
      request: 'valid',
    });
    expect(noData.status).toBe(201);
    const perAlert = await call('POST', '/v1/rules', {
      body: { id: 'per-alert', kind: 'threshold', direction: 'below', threshold: 1, notify: 'alert' },
      request: 'valid',
    });
    expect(perAlert.status).toBe(201);
    expect(perAlert.body.rule.notify).toBe('alert');
    // A rule saved without the setting reads as the default ("incident"): it is not written into it.
    expect(noData.body.rule).not.toHaveProperty('notify');
    const { body } = await call('GET', '/v1/rules/silent', { route: '/v1/rules/{id}' });
    expect(body.rule).toEqual(noData.body.rule);
    const listed = await call('GET', '/v1/rules');
    expect(listed.body.rules).toHaveLength(5);
    expect((await call('DELETE', '/v1/rules/per-alert', { route: '/v1/rules/{id}' })).status).toBe(204);
  });

  it.each([
    ['an unknown field', { kind: 'band', colour: 'red' }],
    ['a sensitivity out of range', { kind: 'band', sensitivity: 2 }],
    ['a threshold rule without its threshold', { kind: 'threshold', direction: 'above' }],
    ['a no-data rule checking too often', { kind: 'nodata', afterMs: 1_000 }],
    ['an unknown kind', { kind: 'sometimes' }],
    ['a bad id', { kind: 'band', id: '-nope' }],
    ['an unknown way of paging', { kind: 'band', notify: 'pager' }],
  ])('refuses %s, as the document does', async (_what, rule) => {
    const { status, body } = await call('POST', '/v1/rules', { body: rule, request: 'invalid' });
    expect(status).toBe(400);
    expect(body.error.problems.length).toBeGreaterThan(0);
  });

  it('answers 409 for an id in use, 404 for an unknown one', async () => {
    const again = await call('POST', '/v1/rules', {
      body: { id: 'checkout', kind: 'nodata', afterMs: 600_000 },
      request: 'valid',
    });
    expect(again.status).toBe(409);
    expect((await call('GET', '/v1/rules/nowhere', { route: '/v1/rules/{id}' })).status).toBe(404);
  });

  it('replaces a rule with PUT, refusing a body that contradicts the path', async () => {
    const put = await call('PUT', '/v1/rules/default', {
      route: '/v1/rules/{id}',
      body: { kind: 'band', enabled: false },
      request: 'valid',
    });
    expect(put.status).toBe(200);
    expect(put.body.rule).toMatchObject({ id: 'default', enabled: false });
    const contradicting = await call('PUT', '/v1/rules/checkout', {
      route: '/v1/rules/{id}',
      body: { id: 'other', kind: 'band' },
      request: 'valid',
    });
    expect(contradicting.status).toBe(400);
  });

  it('deletes a rule (204), restores the default rule (200), and says 404 for an unknown one', async () => {
    const restored = await call('DELETE', '/v1/rules/default', { route: '/v1/rules/{id}' });
    expect(restored.status).toBe(200);
    expect(restored.body.rule).toEqual(builtInDefaultRule);
    const deleted = await call('DELETE', '/v1/rules/silent', { route: '/v1/rules/{id}' });
    expect(deleted.status).toBe(204);
    expect((await call('DELETE', '/v1/rules/silent', { route: '/v1/rules/{id}' })).status).toBe(404);
  });

  it('needs a key (401), an admin key to change rules and a read key to read them (403)', async () => {
    expect((await call('GET', '/v1/rules', { key: null })).status).toBe(401);
    const readOnly = await server.addKey(['read']);
    const refused = await call('POST', '/v1/rules', {
      key: readOnly,
      body: { kind: 'nodata', afterMs: 600_000 },
      request: 'valid',
    });
    expect(refused.status).toBe(403);
    const ingestOnly = await server.addKey(['ingest']);
    expect((await call('GET', '/v1/rules', { key: ingestOnly })).status).toBe(403);
  });
});

describe('mutes', () => {
  it('creates weekly and one-off mutes, lists and deletes them', async () => {
    const weekly = await call('POST', '/v1/mutes', {
      body: {
        id: 'deploys',
        ruleId: 'default',
        selector: { metric: 'shop.*' },
        schedule: { kind: 'weekly', days: ['thu'], start: '03:30', end: '05:00', timeZone: 'Europe/Paris' },
        reason: 'Thursday deploys',
      },
      request: 'valid',
    });
    expect(weekly.status).toBe(201);
    const once = await call('POST', '/v1/mutes', {
      body: { schedule: { kind: 'once', start: '2025-11-25T22:00:00Z', end: Date.UTC(2025, 10, 26, 2) } },
      request: 'valid',
    });
    expect(once.status).toBe(201);
    expect(once.body.mute).toMatchObject({
      ruleId: null,
      selector: null,
      schedule: { kind: 'once', start: Date.UTC(2025, 10, 25, 22), end: Date.UTC(2025, 10, 26, 2) },
      reason: '',
      createdAt: now,
    });
    const listed = await call('GET', '/v1/mutes');
    expect(listed.body.mutes.map((mute: { id: string }) => mute.id).sort()).toEqual(
      ['deploys', once.body.mute.id].sort(),
    );
    expect((await call('DELETE', '/v1/mutes/deploys', { route: '/v1/mutes/{id}' })).status).toBe(204);
    expect((await call('DELETE', '/v1/mutes/deploys', { route: '/v1/mutes/{id}' })).status).toBe(404);
  });

  it('refuses what the document refuses, a rule that does not exist, and an id in use', async () => {
    const badDay = await call('POST', '/v1/mutes', {
      body: { schedule: { kind: 'weekly', days: ['thursday'], start: '03:30', end: '05:00' } },
      request: 'invalid',
    });
    expect(badDay.status).toBe(400);
    const noSchedule = await call('POST', '/v1/mutes', { body: { reason: 'x' }, request: 'invalid' });
    expect(noSchedule.status).toBe(400);
    const unknownRule = await call('POST', '/v1/mutes', {
      body: { ruleId: 'nowhere', schedule: { kind: 'weekly', days: ['mon'], start: '01:00', end: '02:00' } },
      request: 'valid',
    });
    expect(unknownRule.status).toBe(400);
    expect(unknownRule.body.error.problems[0].field).toBe('ruleId');
    const mute = { id: 'twice', schedule: { kind: 'weekly', days: ['sun'], start: '23:00', end: '01:00' } };
    expect((await call('POST', '/v1/mutes', { body: mute, request: 'valid' })).status).toBe(201);
    expect((await call('POST', '/v1/mutes', { body: mute, request: 'valid' })).status).toBe(409);
  });
});

describe('exclusions', () => {
  it('creates, lists and deletes an exclusion', async () => {
    const created = await call('POST', '/v1/exclusions', {
      body: {
        id: 'disk-swap',
        selector: { dimensions: { host: 'db-1' } },
        start: '2025-11-25T22:00:00Z',
        end: '2025-11-26T01:00:00Z',
        reason: 'disk replacement',
      },
      request: 'valid',
    });
    expect(created.status).toBe(201);
    expect(created.body.exclusion).toMatchObject({ start: Date.UTC(2025, 10, 25, 22), createdAt: now });
    expect((await call('GET', '/v1/exclusions')).body.exclusions).toEqual([created.body.exclusion]);
    expect(
      (await call('POST', '/v1/exclusions', { body: created.body.exclusion, request: 'invalid' })).status,
    ).toBe(400);
    expect((await call('DELETE', '/v1/exclusions/disk-swap', { route: '/v1/exclusions/{id}' })).status).toBe(
      204,
    );
    expect((await call('DELETE', '/v1/exclusions/disk-swap', { route: '/v1/exclusions/{id}' })).status).toBe(
      404,
    );
  });

  it('refuses an unknown field (as the document does) and an end before the start', async () => {
    const unknown = await call('POST', '/v1/exclusions', {
      body: { start: Date.UTC(2025, 10, 25), end: Date.UTC(2025, 10, 26), why: 'x' },
      request: 'invalid',
    });
    expect(unknown.status).toBe(400);
    const backwards = await call('POST', '/v1/exclusions', {
      body: { start: Date.UTC(2025, 10, 26), end: Date.UTC(2025, 10, 25) },
      request: 'valid',
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.problems[0].field).toBe('end');
  });
});

const series = seriesId(outageStory.name, outageStory.dimensions);

describe('alerts raised by the band job', () => {
  it('lists the outage as one resolved critical alert, and applies the filters it repeats', async () => {
    const { status, body } = await call('GET', '/v1/alerts');
    expect(status).toBe(200);
    expect(body.alerts).toHaveLength(1);
    expect(body.alerts[0]).toMatchObject({
      seriesId: series,
      ruleId: 'default',
      state: 'resolved',
      severity: 'critical',
      startedAt: outageStory.outageStart,
      value: 0,
      paged: true,
    });
    const filtered = await call(
      'GET',
      `/v1/alerts?state=resolved&from=2025-11-25T00:00:00Z&to=${outageStory.recoveredAt}&limit=5`,
    );
    expect(filtered.body).toMatchObject({
      state: 'resolved',
      from: Date.UTC(2025, 10, 25),
      to: outageStory.recoveredAt,
      limit: 5,
    });
    expect(filtered.body.alerts).toHaveLength(1);
    expect((await call('GET', '/v1/alerts?state=open')).body.alerts).toEqual([]);
    const ofSeries = await call('GET', `/v1/alerts?series=${series}`);
    expect(ofSeries.body).toMatchObject({ seriesId: series, alerts: [{ seriesId: series }] });
    expect((await call('GET', '/v1/alerts?series=00000000000000ff')).body.alerts).toEqual([]);
  });

  it('pages with limit and cursor: a full page gives nextCursor, the last page null', async () => {
    const first = await call('GET', '/v1/alerts?limit=1');
    expect(first.body.alerts).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await call('GET', `/v1/alerts?limit=1&cursor=${first.body.nextCursor}`);
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ alerts: [], nextCursor: null });
    expect((await call('GET', '/v1/alerts?limit=2')).body.nextCursor).toBeNull();
  });

  it.each([
    ['state=closed', 'state'],
    ['limit=0', 'limit'],
    [`from=${outageStory.recoveredAt}&to=${outageStory.outageStart}`, 'from'],
    ['to=yesterday', 'to'],
    ['series=web-1', 'series'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
  ])('refuses ?%s naming %s', async (query, field) => {
    const { status, body } = await call('GET', `/v1/alerts?${query}`);
    expect(status).toBe(400);
    expect(body.error.problems[0].field).toBe(field);
  });

  it('gives an alert with its OPEN and RESOLVED transitions, linking to the dashboard', async () => {
    const [alert] = (await call('GET', '/v1/alerts')).body.alerts;
    const { status, body } = await call('GET', `/v1/alerts/${alert.id}`, { route: '/v1/alerts/{id}' });
    expect(status).toBe(200);
    expect(body.transitions.map((transition: { kind: string; status: string }) => transition.kind)).toEqual([
      'OPEN',
      'RESOLVED',
    ]);
    for (const transition of body.transitions) {
      expect(transition.notification.link).toBe(alertViewUrl(server.url, series, alert.id));
    }
    const missing = await call('GET', '/v1/alerts/al_00000000000000000000', { route: '/v1/alerts/{id}' });
    expect(missing.status).toBe(404);
  });

  it('acknowledges with a read key, recording its name once', async () => {
    const [alert] = (await call('GET', '/v1/alerts')).body.alerts;
    const route = '/v1/alerts/{id}/acknowledge';
    const readOnly = await server.addKey(['read']);
    const first = await call('POST', `/v1/alerts/${alert.id}/acknowledge`, { route, key: readOnly });
    expect(first.status).toBe(200);
    expect(first.body.alert).toMatchObject({ id: alert.id, acknowledgedBy: 'test', acknowledgedAt: now });
    now += 60_000;
    const again = await call('POST', `/v1/alerts/${alert.id}/acknowledge`, { route });
    expect(again.body.alert.acknowledgedAt).toBe(first.body.alert.acknowledgedAt);
    expect((await call('POST', '/v1/alerts/al_00000000000000000000/acknowledge', { route })).status).toBe(
      404,
    );
    const ingestOnly = await server.addKey(['ingest']);
    expect(
      (await call('POST', `/v1/alerts/${alert.id}/acknowledge`, { route, key: ingestOnly })).status,
    ).toBe(403);
    expect((await call('GET', '/v1/alerts', { key: null })).status).toBe(401);
  });

  it('delivered the incident OPEN and RESOLVED to the webhook as the document describes them, signed', async () => {
    expect(deliveries).toHaveLength(2);
    const hook = validator.document as unknown as {
      webhooks: Record<string, { post: { parameters: { name: string; schema: { pattern?: string } }[] } }>;
    };
    const headers = hook.webhooks.incidentNotification?.post.parameters ?? [];
    expect(headers.map((header) => header.name)).toEqual([
      'x-normalcy-timestamp',
      'x-normalcy-signature',
      'x-normalcy-delivery',
    ]);
    for (const delivery of deliveries) {
      const message = JSON.parse(delivery.body);
      // The default rule pages through incidents: one incident of one member here.
      validator.assertSchema('#/components/schemas/IncidentMessage', message);
      expect(message.members.map((member: { seriesId: string }) => member.seriesId)).toEqual([series]);
      for (const header of headers) {
        const value = String(delivery.headers[header.name]);
        if (header.schema.pattern) expect(value).toMatch(new RegExp(header.schema.pattern));
      }
      expect(delivery.headers['x-normalcy-delivery']).toBe(message.transitionId);
      expect(
        verifyWebhook({
          secret,
          body: delivery.body,
          timestamp: String(delivery.headers['x-normalcy-timestamp']),
          signature: String(delivery.headers['x-normalcy-signature']),
          now: Date.now(),
        }),
      ).toBe(true);
    }
    expect(deliveries.map((delivery) => JSON.parse(delivery.body).state)).toEqual(['OPEN', 'RESOLVED']);
  });
});

describe('incidents the band job grouped the alerts into', () => {
  it('lists the outage as one resolved incident, its alert the origin, and applies the filters it repeats', async () => {
    const { status, body } = await call('GET', '/v1/incidents');
    expect(status).toBe(200);
    expect(body.incidents).toHaveLength(1);
    const [alert] = (await call('GET', '/v1/alerts')).body.alerts;
    expect(body.incidents[0]).toMatchObject({
      state: 'resolved',
      severity: 'critical',
      startedAt: outageStory.outageStart,
      originAlertId: alert.id,
      memberCount: 1,
      members: [{ alertId: alert.id, seriesId: series, state: 'resolved' }],
    });
    const filtered = await call('GET', `/v1/incidents?state=resolved&from=2025-11-25T00:00:00Z&limit=5`);
    expect(filtered.body).toMatchObject({ state: 'resolved', from: Date.UTC(2025, 10, 25), limit: 5 });
    expect(filtered.body.incidents).toHaveLength(1);
    expect((await call('GET', '/v1/incidents?state=open')).body.incidents).toEqual([]);
    const first = await call('GET', '/v1/incidents?limit=1');
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await call('GET', `/v1/incidents?limit=1&cursor=${first.body.nextCursor}`);
    expect(rest.body).toMatchObject({ incidents: [], nextCursor: null });
  });

  it.each([
    ['state=closed', 'state'],
    ['limit=0', 'limit'],
    [`from=${outageStory.recoveredAt}&to=${outageStory.outageStart}`, 'from'],
    ['to=yesterday', 'to'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
  ])('refuses ?%s naming %s', async (query, field) => {
    const { status, body } = await call('GET', `/v1/incidents?${query}`);
    expect(status).toBe(400);
    expect(body.error.problems[0].field).toBe(field);
  });

  it('gives an incident with its timeline and its OPEN and RESOLVED, sent; 404 for an unknown one', async () => {
    const [incident] = (await call('GET', '/v1/incidents')).body.incidents;
    const route = '/v1/incidents/{id}';
    const { status, body } = await call('GET', `/v1/incidents/${incident.id}`, { route });
    expect(status).toBe(200);
    expect(body.transitions.map((t: { kind: string; status: string }) => [t.kind, t.status])).toEqual([
      ['OPEN', 'sent'],
      ['RESOLVED', 'sent'],
    ]);
    expect(body.incident.timeline.map((event: { kind: string }) => event.kind)).toEqual([
      'opened',
      'member-resolved',
      'resolved',
    ]);
    expect((await call('GET', '/v1/incidents/in_00000000000000000000', { route })).status).toBe(404);
  });

  it('acknowledges an incident and its members with a read key; 404 for an unknown one, 403 without read', async () => {
    const [incident] = (await call('GET', '/v1/incidents')).body.incidents;
    const route = '/v1/incidents/{id}/acknowledge';
    const readOnly = await server.addKey(['read']);
    const acknowledged = await call('POST', `/v1/incidents/${incident.id}/acknowledge`, {
      route,
      key: readOnly,
    });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body.incident).toMatchObject({ acknowledgedBy: 'test', acknowledgedAt: now });
    expect(acknowledged.body.incident.timeline.at(-1)).toMatchObject({
      kind: 'acknowledged',
      detail: 'by test',
    });
    const member = incident.members[0].alertId;
    const { body } = await call('GET', `/v1/alerts/${member}`, { route: '/v1/alerts/{id}' });
    expect(body.alert.acknowledgedBy).toBe('test');
    expect((await call('POST', '/v1/incidents/in_00000000000000000000/acknowledge', { route })).status).toBe(
      404,
    );
    const ingestOnly = await server.addKey(['ingest']);
    expect(
      (await call('POST', `/v1/incidents/${incident.id}/acknowledge`, { route, key: ingestOnly })).status,
    ).toBe(403);
  });
});

describe('replaying a rule over a series', () => {
  const route = '/v1/series/{id}/replay';
  const path = `/v1/series/${series}/replay`;
  const range = { from: outageStory.start, to: outageStory.recoveredAt };

  it('finds the alert the band job raised, as the document describes the answer, sending nothing', async () => {
    const [real] = (await call('GET', `/v1/alerts?series=${series}`)).body.alerts;
    const readOnly = await server.addKey(['read']);
    const saved = await call('POST', path, {
      route,
      key: readOnly,
      body: { ruleId: 'default', ...range },
      request: 'valid',
    });
    expect(saved.status).toBe(200);
    // The band rule "checkout" (made above) selects this series: the default rule no longer judges it.
    expect(saved.body).toMatchObject({ applies: false, alertCount: 1 });
    expect(saved.body.alerts[0].alert).toMatchObject({
      id: real.id,
      startedAt: real.startedAt,
      resolvedAt: real.resolvedAt,
      severity: real.severity,
    });
    const draft = await call('POST', path, {
      route,
      body: { rule: { kind: 'band', direction: 'below', reminderIntervalMs: 600_000 }, ...range },
      request: 'valid',
    });
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({ draft: true, applies: true, alertCount: 1, pagedCount: 1 });
    expect(deliveries).toHaveLength(2);
  });

  it('refuses what the document refuses: both a rule id and a draft, an unknown field, a bad draft', async () => {
    for (const body of [
      { ruleId: 'default', rule: { kind: 'band' } },
      { ruleId: 'default', seriesId: series },
      { rule: { kind: 'band', debounce: { breaches: 0, outOf: 3 } } },
      { ruleId: 'default', from: 'last week' },
    ]) {
      const { status, body: answer } = await call('POST', path, { route, body, request: 'invalid' });
      expect(status).toBe(400);
      expect(answer.error.problems.length).toBeGreaterThan(0);
    }
    const missing = await call('POST', '/v1/series/00000000000000ff/replay', {
      route,
      body: { ruleId: 'default' },
      request: 'valid',
    });
    expect(missing.status).toBe(404);
  });
});
