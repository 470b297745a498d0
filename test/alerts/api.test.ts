import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSeries } from '../../lib/alerts/evaluate.ts';
import { emptyMonitor } from '../../lib/alerts/model.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { judgedBucket } from '../helpers/judged-bucket.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/** The alerting API over the real local server: what it accepts, what it refuses and how it says so. */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const send = (method: string, path: string, body?: unknown, key?: string) =>
  server.request(path, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(key !== undefined && { authorization: `Bearer ${key}` }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

interface ErrorBody {
  error: { code: string; message: string; problems?: { field: string; message: string }[] };
}

const problemsOf = async (response: Response) => {
  const body = (await response.json()) as ErrorBody;
  return (body.error.problems ?? []).map((problem) => problem.field).sort();
};

describe('Rules API', () => {
  it('lists the built-in default rule before any rule is written', async () => {
    const { rules } = await server.getJson<{ rules: unknown[] }>('/v1/rules');
    expect(rules).toEqual([builtInDefaultRule]);
  });

  it('creates a rule with defaults for what it leaves out, and refuses the same id twice', async () => {
    const response = await send('POST', '/v1/rules', {
      id: 'checkout-latency',
      kind: 'band',
      selector: { metric: 'shop.checkout.*', dimensions: { region: 'eu-*' } },
      direction: 'above',
      debounce: { breaches: 3, outOf: 5 },
    });
    expect(response.status).toBe(201);
    const { rule } = (await response.json()) as { rule: Record<string, unknown> };
    expect(rule).toEqual({
      ...builtInDefaultRule,
      id: 'checkout-latency',
      name: 'checkout-latency',
      selector: { metric: 'shop.checkout.*', dimensions: { region: 'eu-*' } },
      direction: 'above',
      debounce: { breaches: 3, outOf: 5 },
    });
    expect((await server.getJson<{ rule: unknown }>('/v1/rules/checkout-latency')).rule).toEqual(rule);
    const again = await send('POST', '/v1/rules', {
      id: 'checkout-latency',
      kind: 'nodata',
      afterMs: 600_000,
    });
    expect(again.status).toBe(409);
  });

  it('makes up an id when none is given', async () => {
    const response = await send('POST', '/v1/rules', {
      kind: 'nodata',
      afterMs: 600_000,
      name: 'Anything silent',
    });
    expect(response.status).toBe(201);
    const { rule } = (await response.json()) as { rule: { id: string; name: string } };
    expect(rule.id).toMatch(/^rule_[0-9a-f]{16}$/);
    expect(rule.name).toBe('Anything silent');
  });

  it('names every field that is wrong, including fields it does not know', async () => {
    const response = await send('POST', '/v1/rules', {
      kind: 'band',
      sensitivity: 2,
      debounce: { breaches: 5, outOf: 3 },
      minDurationMs: -1,
      selector: { metrik: 'typo' },
      colour: 'red',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.problems?.map((problem) => problem.field).sort()).toEqual([
      'colour',
      'debounce.breaches',
      'minDurationMs',
      'selector.metrik',
      'sensitivity',
    ]);
    expect(body.error.problems).toContainEqual({
      field: 'debounce.breaches',
      message: '"breaches" must not be more than "outOf"',
    });
    expect(body.error.problems).toContainEqual({ field: 'colour', message: 'is not a known field' });
    expect(body.error.problems).toContainEqual({ field: 'selector.metrik', message: 'is not a known field' });
  });

  it('names each unknown field by its path, in rules, mutes, exclusions and replay drafts, at most 100', async () => {
    const rule = await send('PUT', '/v1/rules/typos', {
      kind: 'band',
      severty: 'critical',
      debounce: { breaches: 1, outOf: 2, within: 3 },
    });
    expect(rule.status).toBe(400);
    const ruleError = ((await rule.json()) as ErrorBody).error;
    expect(ruleError.problems).toEqual([
      { field: 'debounce.within', message: 'is not a known field' },
      { field: 'severty', message: 'is not a known field' },
    ]);
    expect(ruleError.message).toBe('invalid rule: debounce.within is not a known field');
    const mute = await send('POST', '/v1/mutes', {
      schedule: { kind: 'once', start: '2025-11-25T00:00:00Z', end: '2025-11-25T01:00:00Z', zone: 'UTC' },
      selector: { metric: 'shop.*', dimension: { host: 'web-1' } },
    });
    expect(mute.status).toBe(400);
    expect(await problemsOf(mute)).toEqual(['schedule.zone', 'selector.dimension']);
    const exclusion = await send('POST', '/v1/exclusions', {
      start: '2025-11-25T00:00:00Z',
      end: '2025-11-25T01:00:00Z',
      why: 'deploy',
      notes: '',
    });
    expect(await problemsOf(exclusion)).toEqual(['notes', 'why']);
    const replay = await send('POST', '/v1/series/0000000000000001/replay', {
      rule: { kind: 'band', colour: 'red' },
    });
    expect(replay.status).toBe(400);
    expect(await problemsOf(replay)).toEqual(['rule.colour']);
    const many = await send('POST', '/v1/rules', {
      kind: 'band',
      ...Object.fromEntries(Array.from({ length: 150 }, (_, index) => [`extra${index}`, index])),
    });
    expect(many.status).toBe(400);
    const manyError = ((await many.json()) as ErrorBody & { error: { problemCount: number } }).error;
    expect(manyError.problems).toHaveLength(100);
    expect(manyError.problems?.[99]).toEqual({ field: 'extra99', message: 'is not a known field' });
    expect(manyError.problemCount).toBe(150);
  });

  it('says which kinds exist, and what a threshold rule needs', async () => {
    const noKind = await send('POST', '/v1/rules', { threshold: 5 });
    expect(noKind.status).toBe(400);
    expect(((await noKind.json()) as ErrorBody).error.problems).toEqual([
      { field: 'kind', message: 'must be one of band, threshold, nodata, got nothing' },
    ]);
    const threshold = await send('POST', '/v1/rules', { kind: 'threshold', threshold: 'high' });
    expect(((await threshold.json()) as ErrorBody).error.problems).toEqual([
      { field: 'direction', message: 'is required' },
      { field: 'threshold', message: 'Invalid input: expected number, received string' },
    ]);
  });

  it('refuses a body that is not a JSON object, and a path id the body contradicts', async () => {
    const broken = await send('POST', '/v1/rules', '{"kind": "band",');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as ErrorBody).error.message).toMatch(/^the body is not valid JSON/);
    expect((await send('POST', '/v1/rules', [1, 2])).status).toBe(400);
    const mismatch = await send('PUT', '/v1/rules/one', { id: 'two', kind: 'nodata', afterMs: 600_000 });
    expect(mismatch.status).toBe(400);
    expect(await problemsOf(mismatch)).toEqual(['id']);
  });

  it('changes the default rule with PUT (band only), and DELETE brings the built-in one back', async () => {
    const wrongKind = await send('PUT', '/v1/rules/default', { kind: 'nodata', afterMs: 600_000 });
    expect(wrongKind.status).toBe(400);
    expect(await problemsOf(wrongKind)).toEqual(['kind']);
    const off = await send('PUT', '/v1/rules/default', { kind: 'band', enabled: false });
    expect(off.status).toBe(200);
    expect((await server.getJson<{ rule: { enabled: boolean } }>('/v1/rules/default')).rule.enabled).toBe(
      false,
    );
    const reset = await send('DELETE', '/v1/rules/default');
    expect(reset.status).toBe(200);
    expect((await server.getJson<{ rule: unknown }>('/v1/rules/default')).rule).toEqual(builtInDefaultRule);
  });

  it('deletes a rule, and answers 404 for one that does not exist', async () => {
    expect((await send('PUT', '/v1/rules/short-lived', { kind: 'nodata', afterMs: 600_000 })).status).toBe(
      200,
    );
    expect((await send('DELETE', '/v1/rules/short-lived')).status).toBe(204);
    expect((await send('DELETE', '/v1/rules/short-lived')).status).toBe(404);
    expect((await send('GET', '/v1/rules/short-lived')).status).toBe(404);
    expect((await send('GET', '/v1/rules/a%20b%E0%A4')).status).toBe(404);
    const odd = await send('PUT', '/v1/rules/a%20b', { kind: 'nodata', afterMs: 600_000 });
    expect(odd.status).toBe(400);
    expect(await problemsOf(odd)).toEqual(['id']);
  });

  it('needs an admin key to change rules, mutes and exclusions; a read key may look', async () => {
    const readKey = await server.addKey(['read']);
    const ingestKey = await server.addKey(['ingest']);
    for (const [method, path] of [
      ['POST', '/v1/rules'],
      ['PUT', '/v1/rules/x'],
      ['DELETE', '/v1/rules/x'],
      ['POST', '/v1/mutes'],
      ['DELETE', '/v1/mutes/x'],
      ['POST', '/v1/exclusions'],
      ['DELETE', '/v1/exclusions/x'],
    ] as const) {
      const response = await send(method, path, { kind: 'nodata', afterMs: 600_000 }, readKey);
      expect([method, path, response.status]).toEqual([method, path, 403]);
    }
    expect((await send('GET', '/v1/rules', undefined, readKey)).status).toBe(200);
    expect((await send('GET', '/v1/alerts', undefined, ingestKey)).status).toBe(403);
    expect((await fetch(`${server.url}/v1/rules`)).status).toBe(401);
  });
});

describe('Mutes and exclusions API', () => {
  it('creates a weekly mute and an ISO-dated one-off mute for a rule', async () => {
    const weekly = await send('POST', '/v1/mutes', {
      id: 'thursday-deploys',
      schedule: { kind: 'weekly', days: ['thu'], start: '03:30', end: '05:00', timeZone: 'Europe/Paris' },
      selector: { metric: 'shop.*' },
      reason: 'weekly deploy',
    });
    expect(weekly.status).toBe(201);
    const once = await send('POST', '/v1/mutes', {
      ruleId: 'default',
      schedule: { kind: 'once', start: '2025-12-01T22:00:00Z', end: 1764633600000 },
    });
    expect(once.status).toBe(201);
    expect(((await once.json()) as { mute: unknown }).mute).toMatchObject({
      ruleId: 'default',
      selector: null,
      schedule: { kind: 'once', start: Date.UTC(2025, 11, 1, 22), end: 1764633600000 },
    });
    const { mutes } = await server.getJson<{ mutes: { id: string }[] }>('/v1/mutes');
    expect(mutes.map((mute) => mute.id)).toContain('thursday-deploys');
    expect((await send('DELETE', '/v1/mutes/thursday-deploys')).status).toBe(204);
  });

  it('refuses bad schedules field by field', async () => {
    const weekly = await send('POST', '/v1/mutes', {
      schedule: { kind: 'weekly', days: ['thursday'], start: '3:30', end: '25:00', timeZone: 'Mars/Olympus' },
    });
    expect(await problemsOf(weekly)).toEqual([
      'schedule.days.0',
      'schedule.end',
      'schedule.start',
      'schedule.timeZone',
    ]);
    const once = await send('POST', '/v1/mutes', {
      schedule: { kind: 'once', start: '2025-12-02T00:00:00Z', end: '2025-12-01' },
    });
    expect(await problemsOf(once)).toEqual(['schedule.end']);
    const backwards = await send('POST', '/v1/mutes', {
      schedule: { kind: 'once', start: '2025-12-02T00:00:00Z', end: '2025-12-01T00:00:00Z' },
    });
    expect(((await backwards.json()) as ErrorBody).error.problems).toEqual([
      { field: 'schedule.end', message: 'must be after "start"' },
    ]);
    const unknownRule = await send('POST', '/v1/mutes', {
      ruleId: 'no-such-rule',
      schedule: { kind: 'once', start: 0 + 1764633600000, end: 1764637200000 },
    });
    expect(unknownRule.status).toBe(400);
    expect(await problemsOf(unknownRule)).toEqual(['ruleId']);
  });

  it('creates, lists and deletes an exclusion; refuses one that ends before it starts', async () => {
    const created = await send('POST', '/v1/exclusions', {
      id: 'incident-42',
      start: '2025-11-20T10:00:00Z',
      end: '2025-11-20T12:30:00Z',
      selector: { metric: 'shop.*' },
      reason: 'incident 42',
    });
    expect(created.status).toBe(201);
    const { exclusions } = await server.getJson<{ exclusions: { id: string; start: number; end: number }[] }>(
      '/v1/exclusions',
    );
    expect(exclusions).toEqual([
      expect.objectContaining({
        id: 'incident-42',
        start: Date.UTC(2025, 10, 20, 10),
        end: Date.UTC(2025, 10, 20, 12, 30),
      }),
    ]);
    const backwards = await send('POST', '/v1/exclusions', {
      start: '2025-11-20T12:00:00Z',
      end: '2025-11-20T10:00:00Z',
    });
    expect(await problemsOf(backwards)).toEqual(['end']);
    const seconds = await send('POST', '/v1/exclusions', { start: 1763632800, end: '2025-11-20T10:00:00Z' });
    expect(((await seconds.json()) as ErrorBody).error.problems?.[0]?.message).toMatch(
      /looks like epoch seconds/,
    );
    expect((await send('DELETE', '/v1/exclusions/incident-42')).status).toBe(204);
    expect((await send('DELETE', '/v1/exclusions/incident-42')).status).toBe(404);
  });
});

describe('Alerts API', () => {
  it('checks its query parameters by name', async () => {
    const state = await send('GET', '/v1/alerts?state=firing');
    expect(state.status).toBe(400);
    expect(((await state.json()) as ErrorBody).error.problems).toEqual([
      { field: 'state', message: 'must be one of open, resolved, got the string "firing"' },
    ]);
    expect(await problemsOf(await send('GET', '/v1/alerts?limit=0'))).toEqual(['limit']);
    expect(
      await problemsOf(await send('GET', '/v1/alerts?from=2025-11-20T00:00:00Z&to=2025-11-19T00:00:00Z')),
    ).toEqual(['from']);
    expect(await problemsOf(await send('GET', '/v1/alerts?from=yesterday'))).toEqual(['from']);
    const fine = await server.getJson<{ alerts: unknown[]; limit: number }>('/v1/alerts?state=open');
    expect(fine).toEqual({ state: 'open', limit: 100, alerts: [], nextCursor: null });
    expect(await problemsOf(await send('GET', '/v1/alerts?cursor=not-a-cursor'))).toEqual(['cursor']);
  });

  it('answers 404 for an alert it does not know, to read or to acknowledge', async () => {
    expect((await send('GET', '/v1/alerts/al_nope')).status).toBe(404);
    expect((await send('POST', '/v1/alerts/al_nope/acknowledge')).status).toBe(404);
  });
});

describe('Alerts API: more alerts than one page holds', () => {
  it('lists 1,005 alerts in pages of at most 1,000, following nextCursor, each alert once', async () => {
    const step = 300_000;
    const t0 = Date.UTC(2025, 10, 24, 14, 0);
    for (let index = 0; index < 1_005; index += 1) {
      const id = index.toString(16).padStart(16, '0');
      // Spikes in five buckets: alerts start at five instants, many at each (ties across page edges).
      const values = [100, 100, ...Array.from({ length: index % 5 }, () => 100), 400];
      await server.stores.alerts.recordEvaluation(
        evaluateSeries({
          series: { id, name: 'shop.requests', dimensions: {} },
          stepMs: step,
          monitor: emptyMonitor(id),
          rules: [builtInDefaultRule],
          buckets: values.map((value, bucket) => judgedBucket(t0 + bucket * step, value)),
          now: t0 + values.length * step,
          link: () => 'http://dash/',
        }),
      );
    }
    type Page = { alerts: { id: string; startedAt: number }[]; nextCursor: string | null };
    const first = await server.getJson<Page>('/v1/alerts?limit=1000');
    expect(first.alerts).toHaveLength(1_000);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await server.getJson<Page>(`/v1/alerts?limit=1000&cursor=${first.nextCursor}`);
    expect(second.alerts).toHaveLength(5);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.alerts, ...second.alerts].map((alert) => alert.id);
    expect(new Set(ids).size).toBe(1_005);
    const small: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: Page = await server.getJson<Page>(
        `/v1/alerts?limit=333${cursor ? `&cursor=${cursor}` : ''}`,
      );
      small.push(...page.alerts.map((alert) => alert.id));
      cursor = page.nextCursor;
    }
    expect(small).toEqual(ids);
  }, 60_000);
});
