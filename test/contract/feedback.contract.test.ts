import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../lib/metrics/series.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { outageStory, playOutage } from '../helpers/outage.ts';
import { documentedCalls } from './documented-calls.ts';
import { OpenApiResponseValidator } from './openapi-validator.ts';

/**
 * The feedback routes of a real local server (SQLite) against docs/openapi.yaml, over the alert the real band
 * job raised for an outage: what they take, what they refuse (each with a clear 4xx naming the field), and what
 * they answer. Every answer is validated against the document, and every body against its schema.
 */
const validator = new OpenApiResponseValidator();
let server: TestServer;
let now = outageStory.start;
const call = documentedCalls(() => server, validator);
const series = seriesId(outageStory.name, outageStory.dimensions);
let alertId = '';

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => now } });
  await playOutage(server, (time) => {
    now = time;
  });
  const { body } = await call('GET', `/v1/alerts?series=${series}`, { route: '/v1/alerts' });
  expect(body.alerts).toHaveLength(1);
  alertId = body.alerts[0].id;
  expect(body.alerts[0].feedback).toBeNull();
}, 60_000);

afterAll(() => server.close());

const fields = (body: { error: { problems?: { field: string }[] } }) =>
  (body.error.problems ?? []).map((problem) => problem.field);

describe('"This was normal" on an alert', () => {
  it('refuses what is not a normal verdict on a known alert, naming the field', async () => {
    const path = `/v1/alerts/${alertId}/feedback`;
    const route = '/v1/alerts/{id}/feedback';
    const incident = await call('POST', path, { route, body: { verdict: 'incident' }, request: 'invalid' });
    expect([incident.status, fields(incident.body)]).toEqual([400, ['verdict']]);
    expect(incident.body.error.message).toContain('/v1/series/{id}/feedback');
    const missing = await call('POST', path, { route, body: {}, request: 'invalid' });
    expect([missing.status, fields(missing.body)]).toEqual([400, ['verdict']]);
    const unknown = await call('POST', path, {
      route,
      body: { verdict: 'normal', reason: 'typo' },
      request: 'invalid',
    });
    expect([unknown.status, fields(unknown.body)]).toEqual([400, ['reason']]);
    const long = await call('POST', path, {
      route,
      body: { verdict: 'normal', note: 'x'.repeat(501) },
      request: 'invalid',
    });
    expect([long.status, fields(long.body)]).toEqual([400, ['note']]);
    const notJson = await call('POST', path, { route, body: '{"verdict":', contentType: 'application/json' });
    expect(notJson.status).toBe(400);
    const nowhere = await call('POST', '/v1/alerts/al_00000000000000000000/feedback', {
      route,
      body: { verdict: 'normal' },
      request: 'valid',
    });
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error.message).toContain('al_00000000000000000000');
    // Nothing refused was recorded.
    expect(
      (await call('GET', `/v1/series/${series}/feedback`, { route: '/v1/series/{id}/feedback' })).body,
    ).toEqual({
      feedback: [],
    });
  });

  it('records it with who and when, marks the alert, refuses it twice, and withdraws it', async () => {
    const path = `/v1/alerts/${alertId}/feedback`;
    const route = '/v1/alerts/{id}/feedback';
    const given = await call('POST', path, {
      route,
      body: { verdict: 'normal', note: 'a planned failover' },
      request: 'valid',
    });
    expect(given.status).toBe(201);
    const { feedback, alert } = given.body;
    expect(feedback).toEqual({
      id: expect.stringMatching(/^fb_[0-9a-f]{16}$/),
      seriesId: series,
      alertId,
      verdict: 'normal',
      start: outageStory.outageStart,
      end: outageStory.outageEnd,
      by: 'test',
      at: now,
      note: 'a planned failover',
      withdrawnAt: null,
    });
    const mark = { id: feedback.id, verdict: 'normal', by: 'test', at: now, note: 'a planned failover' };
    expect(alert.feedback).toEqual(mark);
    expect(
      (await call('GET', `/v1/alerts/${alertId}`, { route: '/v1/alerts/{id}' })).body.alert.feedback,
    ).toEqual(mark);
    expect((await call('GET', '/v1/alerts')).body.alerts[0].feedback).toEqual(mark);
    const acknowledged = await call('POST', `/v1/alerts/${alertId}/acknowledge`, {
      route: '/v1/alerts/{id}/acknowledge',
    });
    expect(acknowledged.body.alert.feedback).toEqual(mark);

    const again = await call('POST', path, { route, body: { verdict: 'normal' }, request: 'valid' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(`DELETE /v1/feedback/${feedback.id}`);

    now += 60_000;
    const withdrawn = await call('DELETE', `/v1/feedback/${feedback.id}`, { route: '/v1/feedback/{id}' });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.feedback).toEqual({ ...feedback, withdrawnAt: now });
    // Withdrawing again changes nothing.
    const twice = await call('DELETE', `/v1/feedback/${feedback.id}`, { route: '/v1/feedback/{id}' });
    expect(twice.body.feedback.withdrawnAt).toBe(now);
    expect(
      (await call('GET', `/v1/alerts/${alertId}`, { route: '/v1/alerts/{id}' })).body.alert.feedback,
    ).toBeNull();
    const listed = await call('GET', `/v1/series/${series}/feedback`, { route: '/v1/series/{id}/feedback' });
    expect(listed.body.feedback).toEqual([{ ...feedback, withdrawnAt: now }]);
    // Once withdrawn, it may be said again.
    const anew = await call('POST', path, { route, body: { verdict: 'normal' }, request: 'valid' });
    expect(anew.status).toBe(201);
    expect((await call('DELETE', '/v1/feedback/fb_nothing', { route: '/v1/feedback/{id}' })).status).toBe(
      404,
    );
  });
});

describe('"This was an incident" on a stretch', () => {
  const path = `/v1/series/${series}/feedback`;
  const route = '/v1/series/{id}/feedback';

  it('refuses a wrong stretch or verdict, naming the field, and an unknown series', async () => {
    const stretch = { verdict: 'incident', start: outageStory.start, end: outageStory.start + 3_600_000 };
    const backwards = await call('POST', path, {
      route,
      body: { ...stretch, end: stretch.start - 1 },
    });
    expect([backwards.status, fields(backwards.body)]).toEqual([400, ['end']]);
    expect(backwards.body.error.problems[0].message).toBe('must be after "start"');
    const ahead = await call('POST', path, {
      route,
      body: { ...stretch, end: now + 3_600_000 },
      request: 'valid',
    });
    expect([ahead.status, fields(ahead.body)]).toEqual([400, ['end']]);
    const normal = await call('POST', path, {
      route,
      body: { ...stretch, verdict: 'normal' },
      request: 'invalid',
    });
    expect([normal.status, fields(normal.body)]).toEqual([400, ['verdict']]);
    expect(normal.body.error.message).toContain('/v1/alerts/{id}/feedback');
    const noZone = await call('POST', path, {
      route,
      body: { ...stretch, start: '2025-11-22T12:00:00' },
    });
    expect([noZone.status, fields(noZone.body)]).toEqual([400, ['start']]);
    const missing = await call('POST', path, { route, body: { verdict: 'incident' }, request: 'invalid' });
    expect([missing.status, fields(missing.body).sort()]).toEqual([400, ['end', 'start']]);
    const tooLong = await call('POST', path, {
      route,
      body: { ...stretch, start: stretch.end - 401 * 86_400_000 },
    });
    expect([tooLong.status, fields(tooLong.body)]).toEqual([400, ['end']]);
    const unknown = await call('POST', '/v1/series/0000000000000000/feedback', {
      route,
      body: stretch,
      request: 'valid',
    });
    expect(unknown.status).toBe(404);
    expect(
      (await call('GET', '/v1/series/0000000000000000/feedback', { route: '/v1/series/{id}/feedback' }))
        .status,
    ).toBe(404);
  });

  it('records it with who and when, lists it with the others, oldest first', async () => {
    const start = outageStory.start + 3_600_000;
    const given = await call('POST', path, {
      route,
      body: {
        verdict: 'incident',
        start: new Date(start).toISOString(),
        end: start + 1_800_000,
        note: 'slow',
      },
      request: 'valid',
    });
    expect(given.status).toBe(201);
    expect(given.body.feedback).toMatchObject({
      seriesId: series,
      alertId: null,
      verdict: 'incident',
      start,
      end: start + 1_800_000,
      by: 'test',
      at: now,
      note: 'slow',
      withdrawnAt: null,
    });
    const listed = await call('GET', path, { route });
    // Records given at the same instant are in id order: find this one by its id.
    expect(
      listed.body.feedback.find((record: { id: string }) => record.id === given.body.feedback.id),
    ).toEqual(given.body.feedback);
    expect(listed.body.feedback.map((record: { at: number }) => record.at)).toEqual(
      [...listed.body.feedback.map((record: { at: number }) => record.at)].sort((a, b) => a - b),
    );
  });

  it('needs a key: a read key gives and withdraws feedback, an ingest key may not', async () => {
    const ingest = await server.addKey(['ingest']);
    const refused = await call('POST', path, {
      route,
      key: ingest,
      body: { verdict: 'incident', start: outageStory.start, end: outageStory.start + 60_000 },
    });
    expect(refused.status).toBe(403);
    const read = await server.addKey(['read']);
    const given = await call('POST', path, {
      route,
      key: read,
      body: { verdict: 'incident', start: outageStory.start, end: outageStory.start + 60_000 },
    });
    expect(given.status).toBe(201);
    const withdrawn = await call('DELETE', `/v1/feedback/${given.body.feedback.id}`, {
      route: '/v1/feedback/{id}',
      key: read,
    });
    expect(withdrawn.status).toBe(200);
    expect((await call('GET', path, { route, key: null })).status).toBe(401);
  });
});
