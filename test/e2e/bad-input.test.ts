import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';

interface ErrorBody {
  error: { code: string; message: string; problems?: { index?: number; field: string; message: string }[] };
}

describe('bad input to POST /v1/metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    server.request('/v1/metrics', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body as BodyInit,
    });

  const expectError = async (response: Response, status: number): Promise<ErrorBody> => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/json');
    return (await response.json()) as ErrorBody;
  };

  it('answers 400 to a body that is not JSON, saying so', async () => {
    const body = await expectError(await post('{"metrics": [ {"name": '), 400);
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it('answers 400 naming the item, field and problem for wrong types, a missing name and NaN', async () => {
    const items = [
      { name: 'a', type: 'gauge', value: 'fast' },
      { type: 'gauge', value: 1 },
      { name: 'b', type: 'gauge', value: 'NaN' },
      { name: 'c', type: 'gauge', value: 1, dimensions: ['host'] },
    ];
    const literalNaN = await expectError(
      await post(JSON.stringify({ metrics: items }).replace('"NaN"', 'NaN')),
      400,
    );
    expect(literalNaN.error.message).toMatch(/not valid JSON/);
    const typed = await expectError(await post(JSON.stringify({ metrics: items })), 400);
    expect(typed.error.problems).toEqual([
      { index: 0, field: 'value', message: 'must be a number, got the string "fast"' },
      { index: 1, field: 'name', message: 'is required' },
      { index: 2, field: 'value', message: 'must be a number, got the string "NaN"' },
      { index: 3, field: 'dimensions', message: 'must be an object of strings, got an array' },
    ]);
    expect(typed.error.message).toContain('item 0, field "value"');
  });

  it('answers 413 to a 10 MB body and to a gzip body that inflates past the limit', async () => {
    const big = JSON.stringify({
      metrics: [{ name: 'x', value: 1, dimensions: { pad: 'y'.repeat(10 * 1024 * 1024) } }],
    });
    const body = await expectError(await post(big), 413);
    expect(body.error.message).toMatch(/larger than/);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(200_000);
    await expectError(await post(bomb, { 'content-encoding': 'gzip' }), 413);
  });

  it('answers 401 without a key and with an unknown key, 403 with a read-only key', async () => {
    const payload = JSON.stringify({ metrics: [{ name: 'x', value: 1 }] });
    const anonymous = await fetch(`${server.url}/v1/metrics`, { method: 'POST', body: payload });
    expect((await expectError(anonymous, 401)).error.message).toMatch(/Authorization: Bearer KEY/);
    await expectError(await post(payload, { authorization: 'Bearer nrm_wrong' }), 401);
    const readOnly = await server.addKey(['read']);
    await expectError(await post(payload, { authorization: `Bearer ${readOnly}` }), 403);
  });

  it('wrote nothing from any rejected item', async () => {
    const { series } = await server.getJson<{ series: unknown[] }>('/v1/series');
    expect(series).toEqual([]);
  });

  it('writes the valid items of a mixed batch and reports the others', async () => {
    const response = await server.postMetrics([
      { name: 'good', value: 1 },
      { name: 'bad', value: null },
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      accepted: 1,
      rejected: 1,
      problems: [{ index: 1, field: 'value', message: 'must be a number, got null' }],
    });
    const { series } = await server.getJson<{ series: { name: string }[] }>('/v1/series');
    expect(series.map((s) => s.name)).toEqual(['good']);
  });
});

describe('bad input at scale, and input that looks like something else', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  /** Just under the 5 MB limit: 2.6 million bad items of two bytes each. */
  const badItems = 2_600_000;
  const replyLimitBytes = 64 * 1024;

  const post = (path: string, body: string, contentType = 'application/json') =>
    server.request(path, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('answers a 5 MB body of millions of bad items with the first 100 problems and their count, under 64 KB', async () => {
    const body = `{"metrics":[${new Array(badItems).fill('1').join(',')}]}`;
    expect(body.length).toBeLessThan(5 * 1024 * 1024);
    const response = await post('/v1/metrics', body);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(Buffer.byteLength(text)).toBeLessThan(replyLimitBytes);
    const { error } = JSON.parse(text) as ErrorBody & { error: { problemCount: number } };
    expect(error.problemCount).toBe(badItems);
    expect(error.problems).toHaveLength(100);
    expect(error.problems?.[0]).toEqual({
      index: 0,
      field: '',
      message: 'each metric must be an object, got number 1',
    });
    expect(error.message).toContain(`${badItems} problems in all`);
  });

  it('answers a 5 MB body of millions of bad lines on the Influx route the same way', async () => {
    const response = await post('/v1/influx/write', 'x\n'.repeat(badItems), 'text/plain');
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(Buffer.byteLength(text)).toBeLessThan(replyLimitBytes);
    const body = JSON.parse(text) as { problems: { index: number }[]; problemCount: number; message: string };
    expect(body.problemCount).toBe(badItems);
    expect(body.problems).toHaveLength(100);
    expect(body.problems[0]?.index).toBe(1);
    expect(body.message).toContain(`(and ${badItems - 5} more)`);
  });

  it('caps the validation errors of the admin routes too: thousands of bad fields, a huge bad string', async () => {
    const dimensions = Object.fromEntries(Array.from({ length: 5000 }, (_, index) => [`k${index}`, '']));
    const rule = await post(
      '/v1/rules',
      JSON.stringify({ kind: 'band', selector: { dimensions }, [`x${'y'.repeat(2_000_000)}`]: 1 }),
    );
    expect(rule.status).toBe(400);
    const text = await rule.text();
    expect(Buffer.byteLength(text)).toBeLessThan(replyLimitBytes);
    const { error } = JSON.parse(text) as ErrorBody & { error: { problemCount: number } };
    expect(error.problemCount).toBeGreaterThan(5000);
    expect(error.problems).toHaveLength(100);
    expect(error.problems?.[0]?.field).toBe('selector.dimensions.k0');
    expect(error.message.length).toBeLessThanOrEqual(1000);
  });

  it('names an unknown field of an item or of the body, leaving the item out, rather than ignoring it', async () => {
    const now = Date.now();
    const mixed = await post(
      '/v1/metrics',
      JSON.stringify({
        metrics: [
          { name: 'typo.value', valu: 1 },
          { name: 'typo.time', value: 1, timestmp: now - 60_000 },
          { name: 'typo.fine', value: 1 },
          { name: 'typo.bulk', points: [[now, 1]], dimension: { host: 'web-1' }, unit: 'ms', tags: [] },
        ],
      }),
    );
    expect(mixed.status).toBe(200);
    const outcome = (await mixed.json()) as { accepted: number; rejected: number; problems: unknown[] };
    const fields = 'the fields are name, type, value, timestamp, dimensions, or points for the bulk form';
    expect(outcome).toEqual({
      accepted: 1,
      rejected: 3,
      problems: [
        { index: 0, field: 'valu', message: `is not a field of a metric: ${fields}` },
        { index: 1, field: 'timestmp', message: `is not a field of a metric: ${fields}` },
        {
          index: 3,
          field: 'dimension',
          message: `is not a field of a metric (nor are "unit", "tags"): ${fields}`,
        },
      ],
    });
    const { series } = await server.getJson<{ series: { name: string }[] }>('/v1/series');
    expect(series.map((one) => one.name).filter((name) => name.startsWith('typo.'))).toEqual(['typo.fine']);

    const misnamed = await post('/v1/metrics', JSON.stringify({ metric: [{ name: 'typo.body', value: 1 }] }));
    expect(misnamed.status).toBe(400);
    const { error } = (await misnamed.json()) as ErrorBody;
    expect(error.problems).toEqual([
      { field: 'metric', message: 'is not a field of the body: send {"metrics":[...]}' },
      { field: 'metrics', message: 'must be an array, got nothing' },
    ]);
    expect(error.message).toContain('metric is not a field of the body');
    const extra = await post(
      '/v1/metrics',
      JSON.stringify({ metrics: [{ name: 'typo.body', value: 1 }], host: 'a' }),
    );
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as ErrorBody).error.problems).toEqual([
      { field: 'host', message: 'is not a field of the body: send {"metrics":[...]}' },
    ]);
  });

  it('answers 415 to /v1/metrics with a content type that is not JSON, and takes every JSON one', async () => {
    const metrics = JSON.stringify({ metrics: [{ name: 'typed', value: 1 }] });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await post('/v1/metrics', metrics, type);
      expect(response.status).toBe(415);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.code).toBe('unsupported_media_type');
      expect(error.message).toContain('Content-Type: application/json');
    }
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.acme+json']) {
      expect((await post('/v1/metrics', metrics, type)).status).toBe(200);
    }
    // fetch sends a byte body without a Content-Type: read as JSON.
    const untyped = await server.request('/v1/metrics', { method: 'POST', body: Buffer.from(metrics) });
    expect(untyped.status).toBe(200);
  });
});

describe('timestamps that are not real instants, and names that hide characters', () => {
  let server: TestServer;
  const now = Date.parse('2026-03-15T00:00:00Z');
  beforeAll(async () => {
    server = await startTestServer({ clock: { now: () => now } });
  });
  afterAll(() => server.close());

  const post = (path: string, body: string, contentType = 'application/json') =>
    server.request(path, { method: 'POST', headers: { 'content-type': contentType }, body });

  const problemsOf = async (response: Response, status = 400) => {
    expect(response.status).toBe(status);
    const text = await response.text();
    // The reply names hidden characters; it never carries them.
    expect(text).not.toMatch(/[\u202E\u200B]/);
    const body = JSON.parse(text) as { problems?: Problem[]; error?: { problems?: Problem[] } };
    return body.problems ?? body.error?.problems ?? [];
  };
  type Problem = { index?: number; field: string; message: string };

  it('refuses an impossible date and a date-time without a zone, per item, naming the field', async () => {
    const problems = await problemsOf(
      await post(
        '/v1/metrics',
        JSON.stringify({
          metrics: [
            { name: 'a', value: 1, timestamp: '2026-02-30T00:00:00Z' },
            { name: 'b', value: 1, timestamp: '2026-03-01T00:00:00' },
            { name: 'c', points: [['2026-03-01T24:61:00Z', 1]] },
          ],
        }),
      ),
    );
    expect(problems).toEqual([
      { index: 0, field: 'timestamp', message: expect.stringContaining('February 2026 has 28 days') },
      { index: 1, field: 'timestamp', message: expect.stringContaining('needs a time zone: Z or ±hh:mm') },
      { index: 2, field: 'points[0][0]', message: expect.stringContaining('hours go from 00 to 23') },
    ]);
  });

  it('refuses them in query parameters and in exclusions and one-off mutes too', async () => {
    const anomalies = await server.request('/v1/anomalies?from=2026-03-01T00:00:00');
    expect(await problemsOf(anomalies)).toEqual([
      { field: 'from', message: expect.stringContaining('needs a time zone') },
    ]);
    const alerts = await server.request('/v1/alerts?to=2026-02-30T00:00:00Z');
    expect((await problemsOf(alerts))[0]).toMatchObject({ field: 'to' });
    const exclusion = await post(
      '/v1/exclusions',
      JSON.stringify({ start: '2026-03-01T00:00:00', end: '2026-03-01T01:00:00Z' }),
    );
    expect(await problemsOf(exclusion)).toEqual([
      { field: 'start', message: expect.stringContaining('needs a time zone') },
    ]);
    const mute = await post(
      '/v1/mutes',
      JSON.stringify({
        schedule: { kind: 'once', start: '2026-02-29T00:00:00Z', end: '2026-03-02T00:00:00Z' },
      }),
    );
    expect(await problemsOf(mute)).toEqual([
      { field: 'schedule.start', message: expect.stringContaining('February 2026 has 28 days') },
    ]);
  });

  it('refuses invisible and reordering characters in every format, naming the field and the code point', async () => {
    const nowNanos = `${now}000000`;
    const native = await problemsOf(
      await post(
        '/v1/metrics',
        JSON.stringify({
          metrics: [
            { name: 'shop.\u202Elogin', value: 1 },
            { name: 'shop.login', value: 1, dimensions: { host: 'web\u200B1' } },
            { name: 'shop.login', value: 1, dimensions: { 'ho\u202Est': 'web-1' } },
          ],
        }),
      ),
    );
    expect(native).toEqual([
      { index: 0, field: 'name', message: expect.stringContaining('must not contain U+202E') },
      { index: 1, field: 'dimensions.host', message: expect.stringContaining('must not contain U+200B') },
      {
        index: 2,
        field: 'dimensions.ho<U+202E>st',
        message: expect.stringContaining('the dimension name must not contain U+202E'),
      },
    ]);
    const influx = await problemsOf(
      await post('/v1/influx/write', `cpu,host=web\u202E1 value=1 ${nowNanos}`, 'text/plain'),
    );
    expect(influx[0]).toMatchObject({
      index: 1,
      field: 'tags.host',
      message: expect.stringContaining('U+202E'),
    });
    const collectd = await problemsOf(
      await post(
        '/v1/collectd',
        JSON.stringify([
          {
            values: [1],
            dstypes: ['gauge'],
            dsnames: ['value'],
            time: now / 1000,
            interval: 10,
            host: 'web\u202E1',
            plugin: 'load',
            type: 'load',
          },
        ]),
      ),
    );
    expect(collectd[0]).toMatchObject({
      index: 0,
      field: 'host',
      message: expect.stringContaining('U+202E'),
    });
    const netuitive = await problemsOf(
      await server.request(`/ingest/${server.key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { id: 'web-1', samples: [{ metricId: 'cpu\u202Eidle', timestamp: now, val: 1 }] },
        ]),
      }),
    );
    expect(netuitive[0]).toMatchObject({
      field: 'samples[0].metricId',
      message: expect.stringContaining('U+202E'),
    });
    const otlp = await post(
      '/otlp/v1/metrics',
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  { name: 'cpu\u202Eidle', gauge: { dataPoints: [{ timeUnixNano: nowNanos, asDouble: 1 }] } },
                  {
                    name: 'cpu',
                    gauge: {
                      dataPoints: [
                        {
                          timeUnixNano: nowNanos,
                          asDouble: 1,
                          attributes: [{ key: 'host', value: { stringValue: 'web\u200B1' } }],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(otlp.status).toBe(400);
    const { message } = (await otlp.json()) as { message: string };
    expect(message).toContain('metrics[0].name: must not contain U+202E');
    expect(message).toContain('attributes[0]: host: must not contain U+200B');
    const { series } = await server.getJson<{ series: unknown[] }>('/v1/series');
    expect(series).toEqual([]);
  });
});
