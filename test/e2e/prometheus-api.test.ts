import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../lib/metrics/series.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/**
 * The Prometheus query API through the real local server (HTTP, SQLite): Normalcy names with dots, bands as
 * `normalcy_*` series, the key as Grafana and promtool send it, form bodies, Prometheus's error shapes, and
 * fuzzed PromQL that must always get a 400 or 422 with a message, never a 5xx or a hang.
 */

const minuteMs = 60_000;
const end = Math.floor(Date.now() / minuteMs) * minuteMs - 5 * minuteMs;
const start = end - 60 * minuteMs;
const times = Array.from({ length: 61 }, (_, index) => start + index * minuteMs);
const seconds = (ms: number) => String(ms / 1000);

interface PrometheusAnswer {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown } & unknown;
  errorType?: string;
  error?: string;
}

describe('Prometheus query API on the local server', () => {
  let server: TestServer;

  const get = async (
    path: string,
    parameters: Record<string, string> = {},
    headers?: Record<string, string>,
  ) => {
    const response = await server.request(
      `${path}?${new URLSearchParams(parameters)}`,
      headers ? { headers } : {},
    );
    return { status: response.status, body: (await response.json()) as PrometheusAnswer };
  };

  beforeAll(async () => {
    server = await startTestServer();
    const stored = await server.postMetrics([
      {
        name: 'shop.requests',
        type: 'gauge',
        dimensions: { host: 'web-1' },
        points: times.map((time, index) => [time, 100 + index]),
      },
      {
        name: 'shop.requests',
        type: 'gauge',
        dimensions: { host: 'web-2' },
        points: times.map((time) => [time, 50]),
      },
    ]);
    expect(stored.status).toBe(200);
    // The band job's verdicts for web-1, as it stores them: a band around 100, the last ten minutes anomalous.
    await server.stores.bands.writeBands(
      seriesId('shop.requests', { host: 'web-1' }),
      times.map((time, index) => ({
        timestamp: time,
        value: 100 + index,
        expected: 100,
        lower: 90,
        upper: 110,
        score: index / 10,
        anomaly: index > 50,
      })),
    );
  });
  afterAll(() => server.close());

  it('answers Grafana health check, 1+1, by GET and by a POSTed form', async () => {
    const byGet = await get('/api/v1/query', { query: '1+1', time: seconds(end) });
    expect(byGet).toEqual({
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [end / 1000, '2'] } },
    });
    const byPost = await server.request('/api/v1/query', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: '1+1', time: seconds(end) }).toString(),
    });
    expect(byPost.status).toBe(200);
    expect(await byPost.json()).toEqual(byGet.body);
  });

  it('takes the key as a Bearer token or as the Basic-auth password, and answers 401 in its own shape', async () => {
    const basic = `Basic ${Buffer.from(`grafana:${server.key}`).toString('base64')}`;
    const url = `${server.url}/api/v1/query?query=1`;
    expect((await fetch(url, { headers: { authorization: basic } })).status).toBe(200);
    const wrong = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from('grafana:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ status: 'error', errorType: 'unauthorized' });
    const ingestOnly = await server.addKey(['ingest']);
    const forbidden = await fetch(url, { headers: { authorization: `Bearer ${ingestOnly}` } });
    expect(forbidden.status).toBe(403);
  });

  it('selects a dotted Normalcy name with a __name__ matcher, samples as sent', async () => {
    const { body } = await get('/api/v1/query_range', {
      query: '{__name__="shop.requests", host="web-1"}',
      start: seconds(end - 2 * minuteMs),
      end: seconds(end),
      step: '60',
    });
    expect(body).toEqual({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { __name__: 'shop.requests', host: 'web-1' },
            values: [
              [(end - 2 * minuteMs) / 1000, '158'],
              [(end - minuteMs) / 1000, '159'],
              [end / 1000, '160'],
            ],
          },
        ],
      },
    });
  });

  it('serves the band as normalcy_* series with metric="<name>", so an alert can fire on normalcy_anomaly == 1', async () => {
    const band = async (query: string) =>
      (await get('/api/v1/query', { query, time: seconds(end) })).body.data;
    expect(await band('normalcy_lower{metric="shop.requests"}')).toEqual({
      resultType: 'vector',
      result: [
        {
          metric: { __name__: 'normalcy_lower', metric: 'shop.requests', host: 'web-1' },
          value: [end / 1000, '90'],
        },
      ],
    });
    expect(
      await band(
        'normalcy_upper{metric="shop.requests", host="web-1"} - normalcy_lower{metric="shop.requests"}',
      ),
    ).toMatchObject({
      result: [{ value: [end / 1000, '20'] }],
    });
    expect(await band('normalcy_anomaly == 1')).toMatchObject({
      result: [
        {
          metric: { __name__: 'normalcy_anomaly', metric: 'shop.requests', host: 'web-1' },
          value: [end / 1000, '1'],
        },
      ],
    });
    const earlier = await get('/api/v1/query', {
      query: 'normalcy_anomaly == 1',
      time: seconds(start + 10 * minuteMs),
    });
    expect(earlier.body.data).toEqual({ resultType: 'vector', result: [] });
    expect(await band('normalcy_score{host="web-1"}')).toMatchObject({
      result: [{ value: [end / 1000, '6'] }],
    });
    // A selector without a name matcher selects the series, not their bands.
    expect(((await band('{host="web-1"}')) as { result: unknown[] }).result).toHaveLength(1);
  });

  it('lists labels, label values and series as Prometheus does, band series included where named', async () => {
    expect((await get('/api/v1/labels')).body).toEqual({
      status: 'success',
      data: ['__name__', 'host', 'metric'],
    });
    expect((await get('/api/v1/label/host/values')).body.data).toEqual(['web-1', 'web-2']);
    expect((await get('/api/v1/label/__name__/values')).body.data).toEqual([
      'normalcy_anomaly',
      'normalcy_expected',
      'normalcy_lower',
      'normalcy_score',
      'normalcy_upper',
      'shop.requests',
    ]);
    const series = await server.request(
      `/api/v1/series?${new URLSearchParams([
        ['match[]', '{__name__="shop.requests", host="web-2"}'],
        ['match[]', 'normalcy_expected{host="web-2"}'],
      ])}`,
    );
    expect(await series.json()).toEqual({
      status: 'success',
      data: [
        { __name__: 'shop.requests', host: 'web-2' },
        { __name__: 'normalcy_expected', metric: 'shop.requests', host: 'web-2' },
      ],
    });
    expect((await get('/api/v1/series')).body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'no match[] parameter provided',
    });
    expect((await get('/api/v1/status/buildinfo')).body.data).toMatchObject({ version: '2.42.0' });
    expect((await get('/api/v1/metadata', { metric: 'shop.requests' })).body.data).toEqual({
      'shop.requests': [expect.objectContaining({ type: 'gauge' })],
    });
  });

  it.each([
    [
      { query: 'foo{' },
      400,
      'bad_data',
      'invalid parameter "query": 1:5: parse error: unexpected end of input',
    ],
    [
      { query: 'histogram_quantile(0.9, foo)' },
      422,
      'execution',
      'function "histogram_quantile" is not supported',
    ],
    [
      { query: 'foo', time: 'yesterday' },
      400,
      'bad_data',
      'invalid parameter "time": cannot parse "yesterday"',
    ],
  ])('answers %j with %d %s', async (parameters, status, errorType, message) => {
    const answer = await get('/api/v1/query', parameters);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ status: 'error', errorType });
    expect(answer.body.error).toContain(message);
  });

  it('refuses a range query of more than 11,000 points per series with Prometheus message', async () => {
    const answer = await get('/api/v1/query_range', { query: '1', start: '0', end: '11001', step: '1' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  });

  describe('fuzzed PromQL: a 400 or 422 with a message, or a 200, never a 5xx or a hang', () => {
    const valid = [
      'rate({__name__="shop.requests"}[5m])',
      'sum by (host) ({__name__="shop.requests"}) / on(host) normalcy_expected{metric="shop.requests"}',
      'avg_over_time(normalcy_upper[10m] offset 5m) > bool 100',
      '-(1 + 2) * 3 ^ 2 % 4',
      'count without (host) ({__name__=~"shop\\\\..*", host!~"web-[0-9]"})',
      'max(increase({__name__="shop.requests"}[1h])) >= 0',
    ];
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        text: fc.string({ maxLength: 4, unit: 'grapheme-ascii' }),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 6 }),
      }),
      fc.record({
        kind: fc.constant('repeat' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 8 }),
        times: fc.integer({ min: 2, max: 60 }),
      }),
    );
    type Mutation = { kind: string; at: number; text?: string; length?: number; times?: number };
    const mutate = (query: string, steps: readonly Mutation[]) =>
      steps.reduce((text, step) => {
        const at = step.at % (text.length + 1);
        if (step.kind === 'insert') return text.slice(0, at) + (step.text ?? '') + text.slice(at);
        if (step.kind === 'delete') return text.slice(0, at) + text.slice(at + (step.length ?? 1));
        const piece = text.slice(at, at + (step.length ?? 1));
        return text.slice(0, at) + piece.repeat(step.times ?? 2) + text.slice(at);
      }, query);

    const check = async (query: string) => {
      const began = Date.now();
      const response = await server.request('/api/v1/query', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query, time: seconds(end) }).toString(),
      });
      const body = (await response.json()) as PrometheusAnswer;
      expect(Date.now() - began, query).toBeLessThan(5_000);
      expect([200, 400, 422], `${response.status} for ${JSON.stringify(query)}: ${body.error}`).toContain(
        response.status,
      );
      if (response.status === 200) expect(body.status).toBe('success');
      else {
        expect(body.status).toBe('error');
        expect(body.error?.length ?? 0, query).toBeGreaterThan(0);
      }
    };

    it('random strings', async () => {
      await fc.assert(fc.asyncProperty(fc.string({ maxLength: 80, unit: 'binary' }), check), {
        numRuns: 150,
      });
      await fc.assert(
        fc.asyncProperty(
          fc
            .array(
              fc.constantFrom(
                ...'(){}[]"\'`=~!,:+-*/%^<>@ 0123456789.e5m abc sum by rate offset bool on'.split(' '),
                'x{',
                '[5m]',
                '=~',
                '!=',
              ),
              { maxLength: 20 },
            )
            .map((parts) => parts.join('')),
          check,
        ),
        { numRuns: 150 },
      );
    });

    it('mutated valid queries', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...valid),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          async (query, steps) => check(mutate(query, steps)),
        ),
        { numRuns: 250 },
      );
    });
  });
});
