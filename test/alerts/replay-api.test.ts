import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../lib/alerts/model.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { documentedCalls } from '../contract/documented-calls.ts';
import { OpenApiResponseValidator } from '../contract/openapi-validator.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { outageStory, playOutage } from '../helpers/outage.ts';

/**
 * `POST /v1/series/{id}/replay` on a real local server (SQLite, the real band job): a steady series with a
 * 30-minute outage, which the band job alerted on. Replaying the default rule over the same history gives the
 * same alert; drafts are checked like rules; and nothing a replay does reaches the stores or the notifier.
 * Every answer is checked against docs/openapi.yaml.
 */
const series = seriesId(outageStory.name, outageStory.dimensions);
const route = '/v1/series/{id}/replay';
const path = `/v1/series/${series}/replay`;
let now = outageStory.outageEnd + 60_000;
const validator = new OpenApiResponseValidator();
let server: TestServer;
let readKey: string;
const call = documentedCalls(() => server, validator);
const replay = (body: unknown, key?: string | null) =>
  call('POST', path, { route, body, key: key === undefined ? readKey : key });

/** Every row of every table of the server's SQLite database: what the stores hold, all of it. */
const everythingStored = () => {
  const database = server.stores.database;
  const tables = database
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all();
  return Object.fromEntries(
    tables.map(({ name }) => [name, database.prepare(`SELECT * FROM "${name}"`).all()]),
  );
};

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => now } });
  // The outage while it happens (the band job opens an alert and pages it), then the recovery (resolved).
  await playOutage(server, (at) => {
    now = at;
  });
  readKey = await server.addKey(['read']);
}, 60_000);
afterAll(() => server.close());

describe('POST /v1/series/{id}/replay', () => {
  it('replays a saved rule with a read key: the default rule finds the alert the band job raised', async () => {
    const { alerts: real } = await server.getJson<{ alerts: Alert[] }>(`/v1/alerts?series=${series}`);
    expect(real).toEqual([expect.objectContaining({ paged: true, state: 'resolved' })]);
    const { status, body } = await replay({ ruleId: 'default', from: outageStory.start, to: now });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      series: { id: series, name: outageStory.name, stepMs: outageStory.step },
      rule: { id: 'default' },
      draft: false,
      applies: true,
      note: null,
      from: outageStory.start,
      alertCount: 1,
      pagedCount: 1,
    });
    // Every bucket up to now is closed and banded (the engine bands from the first bucket on).
    expect(body.buckets).toBe((outageStory.recoveredAt - outageStory.start) / outageStory.step);
    expect(body.bandedBuckets).toBe(body.buckets);
    const [replayed] = body.alerts;
    const { acknowledgedAt, acknowledgedBy, ...sameFields } = real[0] as Alert;
    expect(replayed.alert).toEqual({ ...sameFields, acknowledgedAt: null, acknowledgedBy: null });
    expect(replayed.transitions.map((transition: { kind: string }) => transition.kind)).toEqual([
      'OPEN',
      'RESOLVED',
    ]);
  });

  it('explains the alerts it finds in the time zone set, as the band job does (NORMALCY_TIME_ZONE)', async () => {
    try {
      vi.stubEnv('NORMALCY_TIME_ZONE', 'Asia/Tokyo');
      const { status, body } = await replay({ ruleId: 'default', from: outageStory.start, to: now });
      expect(status).toBe(200);
      // Tuesday 12:00 UTC is 21:00 in Tokyo.
      expect(body.alerts[0].alert.explanation).toMatch(
        /^Tuesday 21:00 usually 10\d, was 0, 100% below, for 30 min until 21:30 \(/,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('replays the last 7 days by default', async () => {
    const { body } = await replay({ ruleId: 'default' });
    const weekAgo = now - 7 * 86_400_000;
    expect(body.from).toBe(weekAgo - (weekAgo % outageStory.step));
    expect(body.to).toBe(now - (now % outageStory.step) + outageStory.step);
    expect(body.alertCount).toBe(1);
  });

  it('replays a draft in the body, validated as a rule is: a threshold the outage crosses', async () => {
    const { status, body } = await replay({
      rule: { kind: 'threshold', direction: 'below', threshold: 50 },
      from: new Date(outageStory.start).toISOString(),
      to: new Date(now).toISOString(),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ draft: true, applies: true, rule: { id: 'draft', kind: 'threshold' } });
    expect(body.alerts.map(({ alert }: { alert: Alert }) => [alert.startedAt, alert.resolvedAt])).toEqual([
      [outageStory.outageStart, outageStory.outageEnd],
    ]);
    expect(body.alerts[0].alert).toMatchObject({
      ruleId: 'draft',
      threshold: 50,
      reason: 'below 50 for 5 min',
    });
  });

  it('records nothing and notifies nobody', async () => {
    const before = everythingStored();
    const sent = server.notifications.length;
    expect(sent).toBe(2);
    expect((await replay({ ruleId: 'default', from: outageStory.start, to: now })).status).toBe(200);
    expect(
      (await replay({ rule: { kind: 'band', sensitivity: 0.9, reminderIntervalMs: 60_000 } })).status,
    ).toBe(200);
    expect((await replay({ rule: { kind: 'nodata', afterMs: 60_000 } })).status).toBe(200);
    expect(everythingStored()).toEqual(before);
    expect(server.notifications).toHaveLength(sent);
    // Nothing was left pending for a later run to send either.
    await server.runBandJob();
    expect(server.notifications).toHaveLength(sent);
  });

  it('says which alerts mutes would have kept quiet', async () => {
    const mute = await call('POST', '/v1/mutes', {
      body: {
        id: 'outage-window',
        schedule: { kind: 'once', start: outageStory.outageStart - 3_600_000, end: outageStory.recoveredAt },
      },
      request: 'valid',
    });
    expect(mute.status).toBe(201);
    const { body } = await replay({ ruleId: 'default', from: outageStory.start, to: now });
    expect(body).toMatchObject({ alertCount: 1, pagedCount: 0 });
    expect(body.alerts[0].alert.paged).toBe(false);
    expect(body.alerts[0].transitions.map((t: { notPagedBecause: string }) => t.notPagedBecause)).toEqual([
      'muted',
      'not paged when it opened',
    ]);
    expect((await call('DELETE', '/v1/mutes/outage-window', { route: '/v1/mutes/{id}' })).status).toBe(204);
  });

  it('says when the rule would not judge this series as configured', async () => {
    const rule = await call('PUT', '/v1/rules/shop', {
      route: '/v1/rules/{id}',
      body: { kind: 'band', selector: { metric: 'shop.*' }, direction: 'above' },
      request: 'valid',
    });
    expect(rule.status).toBe(200);
    const { body } = await replay({ ruleId: 'default', from: outageStory.start, to: now });
    expect(body).toMatchObject({
      applies: false,
      note: 'the band rule "shop" selects this series and replaces the default rule on it',
      alertCount: 1,
    });
    const elsewhere = await replay({ rule: { kind: 'band', selector: { metric: 'db.*' } } });
    expect(elsewhere.body.note).toMatch(/selector does not match this series/);
    expect((await call('DELETE', '/v1/rules/shop', { route: '/v1/rules/{id}' })).status).toBe(204);
  });

  it('answers 400 naming each wrong field, and for a range too long, saying what would do', async () => {
    const draft = await call('POST', path, {
      route,
      body: { rule: { kind: 'band', sensitivity: 2, debounce: { breaches: 1, outOf: 0 } }, from: 'soon' },
      request: 'invalid',
    });
    expect(draft.status).toBe(400);
    expect(draft.body.error.problems.map((p: { field: string }) => p.field).sort()).toEqual(
      ['from', 'rule.debounce.breaches', 'rule.debounce.outOf', 'rule.sensitivity'].sort(),
    );
    const neither = await call('POST', path, { route, body: { from: now - 1000 }, request: 'invalid' });
    expect(neither.body.error.problems).toEqual([expect.objectContaining({ field: 'rule' })]);
    const unknown = await replay({ ruleId: 'nowhere' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.problems[0].field).toBe('ruleId');
    const long = await replay({ ruleId: 'default', from: now - 399 * 86_400_000, to: now });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/more than 50000: ask for 173 days or less/);
    const backwards = await replay({ ruleId: 'default', from: now, to: outageStory.start });
    expect(backwards.status).toBe(400);
    expect((await call('POST', path, { route, body: 'not json' })).status).toBe(400);
  });

  it('answers 404 for an unknown series, 413 for a huge body, 401 without a key and 403 for an ingest key', async () => {
    const missing = await call('POST', '/v1/series/00000000000000ff/replay', {
      route,
      body: { ruleId: 'default' },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('00000000000000ff');
    const huge = await replay({ rule: { kind: 'band', name: 'x'.repeat(70_000) } });
    expect(huge.status).toBe(413);
    expect((await replay({ ruleId: 'default' }, null)).status).toBe(401);
    expect((await replay({ ruleId: 'default' }, await server.addKey(['ingest']))).status).toBe(403);
  });
});
