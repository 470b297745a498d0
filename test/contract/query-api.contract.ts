import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertsHandler } from '../../functions/alerts.ts';
import { fromHttpApiResult, lambdaContext, toHttpApiEvent } from '../../functions/local/lambda-events.ts';
import { createQueryHandler } from '../../functions/query.ts';
import type { QueryDependencies } from '../../functions/shared/dependencies.ts';
import { SqliteAlertStore } from '../../lib/adapters/sqlite-alert-store.ts';
import { SqliteFeedbackStore } from '../../lib/adapters/sqlite-feedback-store.ts';
import { apiRoutes } from '../../lib/http/routes.ts';
import { generateKey, registerKey } from '../../lib/keys.ts';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import type { StoredBand } from '../../lib/ports/band-store.ts';
import type { KeyScope } from '../../lib/ports/key-store.ts';
import { minuteMs } from '../../lib/time.ts';
import { OpenApiResponseValidator } from './openapi-validator.ts';

/** The instant the fixture's clock stands at, and the fixture's first minute (two hours earlier). */
export const now = Date.UTC(2026, 10, 2);
const start = now - 2 * 3_600_000;

/** The three series of the fixture. */
export const fixtureSeries = {
  requests: { name: 'shop.requests', type: 'counter', dimensions: { host: 'web-1' } },
  login: { name: 'shop.login.time', type: 'timer', dimensions: { host: 'web-2' } },
  queries: { name: 'db.queries', type: 'gauge', dimensions: {} },
} as const;
const ids = {
  requests: seriesId(fixtureSeries.requests.name, fixtureSeries.requests.dimensions),
  login: seriesId(fixtureSeries.login.name, fixtureSeries.login.dimensions),
  queries: seriesId(fixtureSeries.queries.name, fixtureSeries.queries.dimensions),
};

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked against the OpenAPI document
  readonly body: any;
}

/** The adapters under test, composed as a query function sees them. */
export interface QueryHarness {
  readonly dependencies: QueryDependencies;
  close(): Promise<void>;
}

/**
 * Seeds the fixture through the adapters' own write paths: points (two per minute for `shop.requests`, one
 * per 5 minutes for `shop.login.time`, one for `db.queries`), the catalog with the band job's progress, and
 * bands with anomalies at minutes 30, 31 and 90 of `shop.requests` and at minute 30 of `shop.login.time`.
 */
async function seed({ metrics, series, bands }: QueryDependencies): Promise<void> {
  const points: SeriesPoint[] = [];
  const requestBands: StoredBand[] = [];
  for (let i = 0; i < 120; i++) {
    const t = start + i * minuteMs;
    for (const offset of [0, 30_000]) {
      points.push({
        ...fixtureSeries.requests,
        seriesId: ids.requests,
        timestamp: t + offset,
        value: i % 10,
      });
    }
    requestBands.push({
      timestamp: t,
      value: 2 * (i % 10),
      expected: 10,
      lower: i % 3,
      upper: 20 - (i % 2),
      score: i / 1000,
      anomaly: i === 30 || i === 31 || i === 90,
    });
  }
  const loginBands: StoredBand[] = [];
  for (let i = 0; i < 24; i++) {
    const t = start + i * 5 * minuteMs;
    points.push({ ...fixtureSeries.login, seriesId: ids.login, timestamp: t, value: 100 + i });
    loginBands.push({
      timestamp: t,
      value: 100 + i,
      expected: 110,
      lower: 90,
      upper: 130,
      score: 0.1,
      anomaly: i === 6,
    });
  }
  points.push({
    ...fixtureSeries.queries,
    seriesId: ids.queries,
    timestamp: start + 10 * minuteMs,
    value: 7,
  });
  await metrics.writePoints(points);
  const touch = (key: keyof typeof ids) => {
    const own = points.filter((point) => point.seriesId === ids[key]).map((point) => point.timestamp);
    return {
      id: ids[key],
      ...fixtureSeries[key],
      minTimestamp: Math.min(...own),
      maxTimestamp: Math.max(...own),
    };
  };
  await series.recordSeries([touch('requests'), touch('login'), touch('queries')]);
  const engineState = { engine: 'contract' };
  await series.saveProgress(
    ids.requests,
    { stepMs: minuteMs, processedUntil: now, engineState, anomalous: true },
    1,
    true,
  );
  await series.saveProgress(
    ids.login,
    {
      stepMs: 5 * minuteMs,
      processedUntil: now,
      engineState,
      anomalous: false,
      learned: { kind: 'latency', seasonality: 'daily' },
    },
    1,
    true,
  );
  await bands.writeBands(ids.requests, requestBands);
  await bands.writeBands(ids.login, loginBands);
}

const routeOf = (path: string) =>
  apiRoutes.find((route) =>
    new RegExp(`^${route.path.replace(/\{[^/]+\}/g, '[^/]+')}$`).test(path.split('?')[0] ?? ''),
  );

/**
 * The query API's contract, run against every store composition: the same requests must give the same
 * answers, and every answer must match docs/openapi.yaml.
 */
export function queryContract(storeName: string, createHarness: () => Promise<QueryHarness>): void {
  describe(`query API contract: ${storeName}`, () => {
    let harness: QueryHarness;
    let handler: (
      event: APIGatewayProxyEventV2,
      context: Context,
    ) => Promise<APIGatewayProxyStructuredResultV2>;
    const keys: Record<'read' | 'ingest', string> = { read: '', ingest: '' };
    const validator = new OpenApiResponseValidator();

    const request = async (
      path: string,
      options: { key?: 'read' | 'ingest' | 'none'; headers?: Record<string, string> } = {},
    ): Promise<ApiResponse> => {
      const key = options.key ?? 'read';
      const headers: Record<string, string> = { ...options.headers };
      if (key !== 'none') headers.authorization = `Bearer ${keys[key]}`;
      const event = toHttpApiEvent({
        method: 'GET',
        url: new URL(path, 'http://localhost'),
        headers,
        body: Buffer.alloc(0),
        sourceIp: '127.0.0.1',
      });
      const result = fromHttpApiResult(await handler(event, lambdaContext('normalcy-query')));
      const bytes = result.headers['content-encoding'] === 'gzip' ? gunzipSync(result.body) : result.body;
      const contentType = result.headers['content-type'] ?? '';
      const body = contentType.startsWith('application/json')
        ? JSON.parse(bytes.toString('utf8'))
        : bytes.toString();
      const route = routeOf(path);
      if (route) validator.assertResponse('GET', route.path, result.statusCode, contentType, body);
      return { status: result.statusCode, headers: result.headers, body };
    };
    const names = (response: ApiResponse): string[] =>
      response.body.series.map((s: { name: string }) => s.name);

    beforeAll(async () => {
      harness = await createHarness();
      const addKey = async (scopes: KeyScope[]) => {
        const key = generateKey();
        await registerKey(harness.dependencies.keys, key, { name: 'contract', scopes, createdAt: now });
        return key;
      };
      keys.read = await addKey(['read']);
      keys.ingest = await addKey(['ingest']);
      await seed(harness.dependencies);
      handler = createQueryHandler(() => harness.dependencies) as unknown as typeof handler;
    });
    afterAll(() => harness?.close());

    describe('GET /v1/series', () => {
      it('lists every series in name order with its step, newest value, state and learned traits', async () => {
        const response = await request('/v1/series');
        expect(response.status).toBe(200);
        expect(names(response)).toEqual(['db.queries', 'shop.login.time', 'shop.requests']);
        expect(response.body.nextCursor).toBeNull();
        const [queries, login, requests] = response.body.series;
        expect(requests).toEqual({
          id: ids.requests,
          name: 'shop.requests',
          type: 'counter',
          dimensions: { host: 'web-1' },
          lastTimestamp: start + 119 * minuteMs + 30_000,
          lastValue: 9,
          stepMs: minuteMs,
          anomalous: true,
          kind: null,
          seasonality: null,
          fault: null,
        });
        expect(login).toMatchObject({
          stepMs: 5 * minuteMs,
          lastValue: 123,
          kind: 'latency',
          seasonality: 'daily',
          fault: null,
        });
        expect(queries).toMatchObject({ stepMs: null, lastValue: 7, anomalous: false });
      });

      it.each([
        ['prefix=shop.', ['shop.login.time', 'shop.requests']],
        ['pattern=*.time', ['shop.login.time']],
        ['pattern=shop.?equests', ['shop.requests']],
        ['dimension[host]=web-*', ['shop.login.time', 'shop.requests']],
        ['dimension[host]=web-1', ['shop.requests']],
        ['dimension[region]=eu', []],
        ['anomalous=true', ['shop.requests']],
        ['anomalous=false', ['db.queries', 'shop.login.time']],
        ['prefix=shop.&pattern=*s', ['shop.requests']],
        ['prefix=zzz', []],
      ])('filters with %s', async (query, expected) => {
        const response = await request(`/v1/series?${encodeURI(query)}`);
        expect(response.status).toBe(200);
        expect(names(response)).toEqual(expected);
      });

      it.each(['', 'prefix=shop.&'])(
        'walks the catalog a page at a time with cursors (%s)',
        async (filter) => {
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let pages = 0; pages < 10; pages++) {
            const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
            const response = await request(`/v1/series?${filter}limit=1${suffix}`);
            expect(response.status).toBe(200);
            seen.push(...names(response));
            cursor = response.body.nextCursor;
            if (cursor === null) break;
          }
          expect(cursor).toBeNull();
          expect(seen).toEqual(
            filter
              ? ['shop.login.time', 'shop.requests']
              : ['db.queries', 'shop.login.time', 'shop.requests'],
          );
        },
      );

      it.each([
        ['cursor=not-a-cursor', 'cursor'],
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['anomalous=yes', 'anomalous'],
        ['prefx=shop', 'prefx'],
        ['dimension[]=x', 'dimension[]'],
      ])('answers 400 to %s, naming the parameter', async (query, field) => {
        const response = await request(`/v1/series?${encodeURI(query)}`);
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('invalid_request');
        expect(response.body.error.problems.map((p: { field: string }) => p.field)).toContain(field);
      });
    });

    describe('GET /v1/series/{id}', () => {
      it('shows one series, and 404 for an unknown id', async () => {
        const found = await request(`/v1/series/${ids.login}`);
        expect(found.status).toBe(200);
        expect(found.body.series).toMatchObject({ name: 'shop.login.time', lastValue: 123 });
        const missing = await request('/v1/series/0000000000000000');
        expect(missing.status).toBe(404);
        expect(missing.body.error.message).toContain('0000000000000000');
      });
    });

    describe('GET /v1/series/{id}/points', () => {
      const points = (id: string, query: string) => request(`/v1/series/${id}/points?${query}`);
      const window = `from=${start}&to=${now}`;

      it('answers at the series step by default for a short range: a counter sums its points per step', async () => {
        const response = await points(ids.requests, window);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          stepMs: minuteMs,
          step: '1m',
          automaticStep: true,
          seriesStepMs: minuteMs,
        });
        expect(response.body.points).toHaveLength(120);
        expect(response.body.points[5]).toEqual({
          timestamp: start + 5 * minuteMs,
          value: 10,
          min: 10,
          max: 10,
          count: 2,
          expected: 10,
          lower: 2,
          upper: 19,
          score: 0.005,
          anomaly: false,
        });
        expect(
          response.body.points
            .filter((p: { anomaly: boolean }) => p.anomaly)
            .map((p: { timestamp: number }) => p.timestamp),
        ).toEqual([start + 30 * minuteMs, start + 31 * minuteMs, start + 90 * minuteMs]);
      });

      it('downsamples to a coarser step with the mean, min and max of the step values and the band envelope', async () => {
        const response = await points(ids.requests, `${window}&step=10m`);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ stepMs: 10 * minuteMs, step: '10m', automaticStep: false });
        expect(response.body.points).toHaveLength(12);
        for (const point of response.body.points) {
          expect(point).toMatchObject({
            value: 9,
            min: 0,
            max: 18,
            count: 20,
            expected: 10,
            lower: 0,
            upper: 20,
          });
        }
        expect(response.body.points[0].score).toBeCloseTo(0.009, 9);
        expect(response.body.points.map((p: { anomaly: boolean }) => p.anomaly)).toEqual(
          Array.from({ length: 12 }, (_, i) => i === 3 || i === 9),
        );
      });

      it('averages a timer per step and accepts ISO-8601 times', async () => {
        const response = await points(
          ids.login,
          `from=${new Date(start).toISOString()}&to=${new Date(now).toISOString()}&step=1h`,
        );
        expect(response.status).toBe(200);
        expect(response.body.points).toEqual([
          {
            timestamp: start,
            value: 105.5,
            min: 100,
            max: 111,
            count: 12,
            expected: 110,
            lower: 90,
            upper: 130,
            score: 0.1,
            anomaly: true,
          },
          {
            timestamp: start + 3_600_000,
            value: 117.5,
            min: 112,
            max: 123,
            count: 12,
            expected: 110,
            lower: 90,
            upper: 130,
            score: 0.1,
            anomaly: false,
          },
        ]);
      });

      it('picks the smallest nice step that fits maxPoints', async () => {
        const response = await points(ids.requests, `${window}&maxPoints=10`);
        expect(response.status).toBe(200);
        expect(response.body.step).toBe('15m');
        expect(response.body.points).toHaveLength(8);
      });

      it('serves a series the band job has not stepped yet at one minute, without a band', async () => {
        const response = await points(ids.queries, window);
        expect(response.status).toBe(200);
        expect(response.body.points).toEqual([
          {
            timestamp: start + 10 * minuteMs,
            value: 7,
            min: 7,
            max: 7,
            count: 1,
            expected: null,
            lower: null,
            upper: null,
            score: null,
            anomaly: false,
          },
        ]);
      });

      it.each([
        ['login', 'step=1m', /finer than the series' step of 5m/],
        ['login', 'step=7m', /multiple of the series' step of 5m/],
        [
          'requests',
          `step=1m&from=${now - 400 * 86_400_000}`,
          /576000 points, more than the limit of 10000 per response: use a step of at least 1h/,
        ],
        ['requests', 'step=fast', /must be a duration/],
        ['requests', 'step=5m&maxPoints=10', /applies only when no step is given/],
        ['requests', 'maxPoints=0', /from 1 to 10000/],
        ['requests', `from=${now}&to=${start}`, /"from" must be before "to"/],
        ['requests', 'from=1700000000', /looks like epoch seconds/],
        ['requests', 'from=yesterday', /ISO-8601/],
        ['requests', 'range=1d', /unknown query parameter "range"/],
      ] as const)('answers 400 for %s with %s', async (key, query, message) => {
        const response = await points(ids[key], query);
        expect(response.status).toBe(400);
        expect(response.body.error.message).toMatch(message);
        expect(response.body.error.problems.length).toBeGreaterThan(0);
      });

      it('answers 404 for an unknown series', async () => {
        expect((await points('0000000000000000', window)).status).toBe(404);
      });
    });

    describe('GET /v1/anomalies', () => {
      const window = `from=${start}&to=${now}`;
      const tie = [ids.requests, ids.login].sort();

      it('lists anomalous buckets newest first, ties by series id, each with its series and a dashboard link', async () => {
        const response = await request(`/v1/anomalies?${window}`);
        expect(response.status).toBe(200);
        expect(
          response.body.anomalies.map((a: { seriesId: string; timestamp: number }) => [
            a.seriesId,
            a.timestamp,
          ]),
        ).toEqual([
          [ids.requests, start + 90 * minuteMs],
          [ids.requests, start + 31 * minuteMs],
          [tie[0], start + 30 * minuteMs],
          [tie[1], start + 30 * minuteMs],
        ]);
        const login = response.body.anomalies.find((a: { seriesId: string }) => a.seriesId === ids.login);
        expect(login).toMatchObject({
          name: 'shop.login.time',
          dimensions: { host: 'web-2' },
          stepMs: 5 * minuteMs,
          value: 106,
          expected: 110,
          lower: 90,
          upper: 130,
          link: `/#/series/${ids.login}?from=${start + 30 * minuteMs - 6 * 3_600_000}&to=${start + 30 * minuteMs + 6 * 3_600_000}&at=${start + 30 * minuteMs}`,
        });
        expect(response.body.nextCursor).toBeNull();
      });

      it('pages with cursors without losing or repeating a tie', async () => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
          const response = await request(`/v1/anomalies?${window}&limit=3${suffix}`);
          expect(response.status).toBe(200);
          seen.push(
            ...response.body.anomalies.map(
              (a: { seriesId: string; timestamp: number }) => `${a.seriesId}@${a.timestamp}`,
            ),
          );
          cursor = response.body.nextCursor;
          pages += 1;
        } while (cursor && pages < 10);
        expect(pages).toBe(2);
        expect(seen).toEqual([
          `${ids.requests}@${start + 90 * minuteMs}`,
          `${ids.requests}@${start + 31 * minuteMs}`,
          `${tie[0]}@${start + 30 * minuteMs}`,
          `${tie[1]}@${start + 30 * minuteMs}`,
        ]);
      });

      it('filters by series', async () => {
        const response = await request(`/v1/anomalies?${window}&series=${ids.login}`);
        expect(response.body.anomalies.map((a: { timestamp: number }) => a.timestamp)).toEqual([
          start + 30 * minuteMs,
        ]);
      });

      it.each([
        ['series=shop.requests', 'series'],
        ['limit=1001', 'limit'],
        ['cursor=eyJ4IjoxfQ', 'cursor'],
      ])('answers 400 to %s', async (query, field) => {
        const response = await request(`/v1/anomalies?${window}&${query}`);
        expect(response.status).toBe(400);
        expect(response.body.error.problems.map((p: { field: string }) => p.field)).toContain(field);
      });
    });

    describe('POST /v1/series/{id}/replay (the alerts function, reading this store)', () => {
      let alerts: SqliteAlertStore;
      let replayHandler: typeof handler;
      beforeAll(() => {
        alerts = new SqliteAlertStore(new Database(':memory:'));
        const { series, queries, metrics, keys, clock } = harness.dependencies;
        const feedback = new SqliteFeedbackStore(new Database(':memory:'));
        replayHandler = createAlertsHandler(() => ({
          alerts,
          series,
          queries,
          metrics,
          keys,
          clock,
          feedback,
        }));
      });
      const replay = async (id: string, body: unknown, key: 'read' | 'ingest' = 'read') => {
        const event = toHttpApiEvent({
          method: 'POST',
          url: new URL(`/v1/series/${id}/replay`, 'http://localhost'),
          headers: { authorization: `Bearer ${keys[key]}`, 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify(body)),
          sourceIp: '127.0.0.1',
        });
        const result = fromHttpApiResult(await replayHandler(event, lambdaContext('normalcy-alerts')));
        const answer = JSON.parse(result.body.toString('utf8'));
        const contentType = result.headers['content-type'] ?? '';
        validator.assertResponse('POST', '/v1/series/{id}/replay', result.statusCode, contentType, answer);
        return { status: result.statusCode, body: answer };
      };
      const window = { from: start, to: now };

      it('replays the default rule over the stored buckets and bands: one alert over minutes 30 to 32', async () => {
        const { status, body } = await replay(ids.requests, { ruleId: 'default', ...window });
        expect(status).toBe(200);
        expect(body).toMatchObject({
          series: { id: ids.requests, stepMs: minuteMs },
          from: start,
          to: now,
          buckets: 120,
          bandedBuckets: 120,
          alertCount: 1,
          pagedCount: 1,
        });
        expect(body.alerts[0].alert).toMatchObject({
          ruleId: 'default',
          state: 'resolved',
          startedAt: start + 30 * minuteMs,
          resolvedAt: start + 32 * minuteMs,
          value: expect.any(Number),
          expected: 10,
        });
      });

      it('replays a draft threshold rule on the sums per step, and a series without a step at one minute', async () => {
        const { body } = await replay(ids.requests, {
          rule: { kind: 'threshold', direction: 'above', threshold: 15 },
          ...window,
        });
        // 16 and 18 (the sums of minutes 8 and 9 of every ten) cross it: twelve episodes, the last still open.
        expect(body.alertCount).toBe(12);
        expect(body.alerts[0].alert).toMatchObject({ startedAt: start + 118 * minuteMs, state: 'open' });
        expect(body.alerts.at(-1).alert).toMatchObject({
          startedAt: start + 8 * minuteMs,
          resolvedAt: start + 10 * minuteMs,
        });
        const unstepped = await replay(ids.queries, { ruleId: 'default', ...window });
        expect(unstepped.body).toMatchObject({
          series: { stepMs: minuteMs },
          buckets: 1,
          bandedBuckets: 0,
          alertCount: 0,
        });
      });

      it('records nothing, and answers 404, 400 and 403 as the document says', async () => {
        expect(await alerts.listAlerts({ limit: 10 })).toEqual([]);
        expect(await alerts.pendingTransitions(10)).toEqual([]);
        expect((await replay('0000000000000000', { ruleId: 'default' })).status).toBe(404);
        const invalid = await replay(ids.login, { rule: { kind: 'threshold' }, ...window });
        expect(invalid.status).toBe(400);
        expect(invalid.body.error.problems.map((p: { field: string }) => p.field).sort()).toEqual([
          'rule.direction',
          'rule.threshold',
        ]);
        expect((await replay(ids.login, { ruleId: 'default' }, 'ingest')).status).toBe(403);
      });
    });

    describe('keys and documents', () => {
      it('needs a key with the read scope on every query route', async () => {
        for (const path of [
          '/v1/series',
          `/v1/series/${ids.requests}`,
          `/v1/series/${ids.requests}/points`,
          '/v1/anomalies',
        ]) {
          const anonymous = await request(path, { key: 'none' });
          expect(anonymous.status).toBe(401);
          expect(anonymous.headers['www-authenticate']).toContain('Bearer');
          const ingestOnly = await request(path, { key: 'ingest' });
          expect(ingestOnly.status).toBe(403);
          expect(ingestOnly.body.error.message).toContain('"read" scope');
        }
      });

      it('serves the dashboard page and the OpenAPI document without a key', async () => {
        const page = await request('/', { key: 'none' });
        expect(page.status).toBe(200);
        expect(page.headers['content-type']).toContain('text/html');
        expect(page.body).toContain('<title>Normalcy</title>');
        const document = await request('/v1/openapi.json', { key: 'none' });
        expect(document.status).toBe(200);
        expect(document.body.openapi).toBe('3.1.0');
      });

      it('gzips a large answer for a client that accepts it', async () => {
        const response = await request(`/v1/series/${ids.requests}/points?from=${start}&to=${now}`, {
          headers: { 'accept-encoding': 'br, gzip;q=0.8' },
        });
        expect(response.headers['content-encoding']).toBe('gzip');
        expect(response.body.points).toHaveLength(120);
      });
    });

    describe('Prometheus query API (/api/v1/*)', () => {
      const seconds = (minute: number) => String((start + minute * minuteMs) / 1000);
      const range = (query: string, from: number, to: number, step: string) =>
        request(
          `/api/v1/query_range?${new URLSearchParams({ query, start: seconds(from), end: seconds(to), step })}`,
        );

      it('reads a series at its step: a counter as its sum per step, a timer at its learned 5 minutes', async () => {
        const requests = await range('{__name__="shop.requests"}', 60, 62, '60');
        expect(requests.status).toBe(200);
        expect(requests.body.data.result).toEqual([
          {
            metric: { __name__: 'shop.requests', host: 'web-1' },
            values: [
              [Number(seconds(60)), '0'],
              [Number(seconds(61)), '2'],
              [Number(seconds(62)), '4'],
            ],
          },
        ]);
        const login = await request(
          `/api/v1/query?${new URLSearchParams({ query: '{__name__="shop.login.time"}', time: seconds(62) })}`,
        );
        expect(login.body.data.result).toEqual([
          { metric: { __name__: 'shop.login.time', host: 'web-2' }, value: [Number(seconds(62)), '112'] },
        ]);
      });

      it('reads bands as normalcy_* series with metric="<name>"', async () => {
        const upper = await range('normalcy_upper{metric="shop.requests"}', 60, 62, '60');
        expect(upper.body.data.result).toEqual([
          {
            metric: { __name__: 'normalcy_upper', metric: 'shop.requests', host: 'web-1' },
            values: [
              [Number(seconds(60)), '20'],
              [Number(seconds(61)), '19'],
              [Number(seconds(62)), '20'],
            ],
          },
        ]);
        const anomalous = (minute: number) =>
          request(
            `/api/v1/query?${new URLSearchParams({ query: 'normalcy_anomaly == 1', time: seconds(minute) })}`,
          );
        expect((await anomalous(90)).body.data.result).toEqual([
          {
            metric: { __name__: 'normalcy_anomaly', metric: 'shop.requests', host: 'web-1' },
            value: [Number(seconds(90)), '1'],
          },
        ]);
        expect((await anomalous(91)).body.data.result).toEqual([]);
      });

      it('lists metric names with the band series, and answers errors in Prometheus shape', async () => {
        const names = await request('/api/v1/label/__name__/values');
        expect(names.body.data).toEqual(
          expect.arrayContaining(['db.queries', 'normalcy_anomaly', 'shop.login.time', 'shop.requests']),
        );
        const bad = await request('/api/v1/query?query=rate(');
        expect(bad.status).toBe(400);
        expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
      });
    });
  });
}
