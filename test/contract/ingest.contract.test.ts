import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs/minimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyKeyDigest } from '../../lib/keys.ts';
import { minuteMs } from '../../lib/time.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { documentedCalls } from './documented-calls.ts';
import { OpenApiResponseValidator } from './openapi-validator.ts';

/**
 * The ingest routes (every format), the key admin routes and the clock of a real local server (SQLite)
 * against docs/openapi.yaml: every answer is validated against the document, and bodies the server takes
 * must be bodies the document accepts.
 */
const validator = new OpenApiResponseValidator();
const now = Date.UTC(2025, 10, 25, 12);
let server: TestServer;
const call = documentedCalls(() => server, validator);

beforeAll(async () => {
  server = await startTestServer({ clock: { now: () => now } });
});
afterAll(() => server.close());

const nanos = (ms: number) => `${ms}000000`;

describe('native JSON: POST /v1/metrics', () => {
  it('stores single and bulk items, reporting the bad points of a bulk item by field', async () => {
    const { status, body } = await call('POST', '/v1/metrics', {
      request: 'valid',
      body: {
        metrics: [
          {
            name: 'shop.login.time',
            type: 'timer',
            value: 68,
            timestamp: now,
            dimensions: { host: 'web-1' },
          },
          {
            name: 'shop.requests',
            type: 'counter',
            dimensions: { host: 'web-1' },
            points: [
              [now - 2 * minuteMs, 12],
              ['2025-11-25T11:59:00Z', 9],
              [now + 3_600_000, 4],
            ],
          },
        ],
      },
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      accepted: 3,
      rejected: 1,
      problems: [{ index: 1, field: 'points[2][0]', message: expect.stringContaining('in the future') }],
    });
  });

  it('takes a bare array of items and gzip, and answers 400 when no item is valid', async () => {
    const items = [{ name: 'shop.memory.share', value: 0.42, timestamp: now }];
    expect(validator.requestBodyProblems('POST', '/v1/metrics', 'application/json', items)).toEqual([]);
    const gzipped = await call('POST', '/v1/metrics', {
      body: gzipSync(JSON.stringify(items)),
      contentType: 'application/json',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(gzipped.body).toEqual({ accepted: 1, rejected: 0, problems: [] });
    const bad = await call('POST', '/v1/metrics', {
      body: { metrics: [{ name: 'x', value: 'high' }] },
      request: 'invalid',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems).toEqual([{ index: 0, field: 'value', message: expect.any(String) }]);
    const brotli = await call('POST', '/v1/metrics', {
      body: '{}',
      contentType: 'application/json',
      headers: { 'content-encoding': 'br' },
    });
    expect(brotli.status).toBe(415);
  });

  it('refuses a field the document does not know, naming it, in an item and in the body', async () => {
    const typo = await call('POST', '/v1/metrics', {
      body: { metrics: [{ name: 'shop.typo', value: 1, timestmp: now }] },
      request: 'invalid',
    });
    expect(typo.status).toBe(400);
    expect(typo.body.error.problems).toEqual([
      { index: 0, field: 'timestmp', message: expect.stringContaining('is not a field of a metric') },
    ]);
    const bulkTypo = await call('POST', '/v1/metrics', {
      body: [{ name: 'shop.typo', points: [[now, 1]], dimension: { host: 'web-1' } }],
      request: 'invalid',
    });
    expect(bulkTypo.body.error.problems).toEqual([
      { index: 0, field: 'dimension', message: expect.stringContaining('is not a field of a metric') },
    ]);
    const body = await call('POST', '/v1/metrics', {
      body: { metrics: [{ name: 'shop.typo', value: 1 }], source: 'cron' },
      request: 'invalid',
    });
    expect(body.status).toBe(400);
    expect(body.body.error.problems).toEqual([{ field: 'source', message: expect.any(String) }]);
  });
});

describe('OTLP/HTTP: POST /otlp/v1/metrics', () => {
  const route = '/otlp/v1/metrics';
  const request = (metrics: unknown[]) => ({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeMetrics: [{ scope: { name: 'contract' }, metrics }],
      },
    ],
  });

  it('answers {} in JSON when every data point of gauges, sums and histograms was stored', async () => {
    const { status, body } = await call('POST', route, {
      request: 'valid',
      body: request([
        { name: 'queue.depth', gauge: { dataPoints: [{ timeUnixNano: nanos(now), asInt: '42' }] } },
        {
          name: 'orders',
          sum: {
            aggregationTemporality: 1,
            isMonotonic: true,
            dataPoints: [{ startTimeUnixNano: nanos(now - minuteMs), timeUnixNano: nanos(now), asDouble: 7 }],
          },
        },
        {
          name: 'payment.time',
          histogram: {
            aggregationTemporality: 1,
            dataPoints: [
              {
                startTimeUnixNano: nanos(now - minuteMs),
                timeUnixNano: nanos(now),
                count: '4',
                sum: 900,
                bucketCounts: ['1', '2', '1'],
                explicitBounds: [100, 250],
                min: 80,
                max: 400,
              },
            ],
          },
        },
      ]),
    });
    expect(status).toBe(200);
    expect(body).toEqual({});
  });

  it('reports rejected data points in partialSuccess, storing the rest', async () => {
    const { status, body } = await call('POST', route, {
      request: 'valid',
      body: request([
        {
          name: 'queue.depth',
          gauge: {
            dataPoints: [
              { timeUnixNano: nanos(now), asDouble: 3 },
              { timeUnixNano: nanos(now - minuteMs), asDouble: 'NaN' },
            ],
          },
        },
      ]),
    });
    expect(status).toBe(200);
    expect(body.partialSuccess.rejectedDataPoints).toBe('1');
    expect(body.partialSuccess.errorMessage).toContain('dataPoints[1]');
  });

  it('answers errors as a google.rpc.Status: bad JSON, no key, a key without the scope, a text body', async () => {
    const bad = await call('POST', route, { body: '{"resourceMetrics": [', contentType: 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(3);
    const noKey = await call('POST', route, { key: null, body: request([]), request: 'valid' });
    expect(noKey.status).toBe(401);
    expect(noKey.body.code).toBe(16);
    const readOnly = await call('POST', route, {
      key: await server.addKey(['read']),
      body: request([]),
      request: 'valid',
    });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.code).toBe(7);
    const text = await call('POST', route, { body: 'queue.depth 3', contentType: 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('answers protobuf with protobuf', async () => {
    // ExportMetricsServiceRequest { resource_metrics { scope_metrics { metrics { name, gauge { data_points } } } } }
    const point = protobuf.Writer.create()
      .uint32(0x19)
      .fixed64(now * 1e6)
      .uint32(0x21)
      .double(5)
      .finish();
    const gauge = protobuf.Writer.create().uint32(0x0a).bytes(point).finish();
    const metric = protobuf.Writer.create()
      .uint32(0x0a)
      .string('queue.depth')
      .uint32(0x2a)
      .bytes(gauge)
      .finish();
    const scope = protobuf.Writer.create().uint32(0x12).bytes(metric).finish();
    const resource = protobuf.Writer.create().uint32(0x12).bytes(scope).finish();
    const body = protobuf.Writer.create().uint32(0x0a).bytes(resource).finish();
    const { status, headers } = await call('POST', route, { body, contentType: 'application/x-protobuf' });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/x-protobuf');
  });
});

describe('Influx line protocol: POST /v1/influx/write and /api/v2/write', () => {
  const lines = (timestamp: number) =>
    `cpu,host=web-1 usage_idle=97.5,usage_user=1.2 ${timestamp}\nmem,host=web-1 used_percent=41.3 ${timestamp}\n`;

  it('answers 204 when everything was stored (v1 with the key as the password, v2 with a token)', async () => {
    const basic = Buffer.from(`telegraf:${server.key}`).toString('base64');
    const v1 = await call('POST', '/v1/influx/write?db=telegraf&precision=ms', {
      key: null,
      headers: { authorization: `Basic ${basic}` },
      body: lines(now),
      contentType: 'text/plain',
    });
    expect(v1.status).toBe(204);
    const v2 = await call('POST', '/api/v2/write?org=any&bucket=any&precision=s', {
      key: null,
      headers: { authorization: `Token ${server.key}` },
      body: lines(now / 1000),
      contentType: 'text/plain; charset=utf-8',
    });
    expect(v2.status).toBe(204);
  });

  it('answers a partial write with 400, what was stored, and the problems by line', async () => {
    const { status, body } = await call('POST', '/v1/influx/write?precision=ms', {
      body: `${lines(now)}app,host=web-1 version="1.2.3" ${now}\n`,
      contentType: 'text/plain',
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'invalid', accepted: 3, rejected: 1 });
    expect(body.error).toBe(body.message);
    expect(body.problems[0].index).toBe(3);
  });

  it("answers key and precision problems in InfluxDB's format", async () => {
    const noKey = await call('POST', '/api/v2/write', {
      key: null,
      body: lines(now),
      contentType: 'text/plain',
    });
    expect(noKey.status).toBe(401);
    expect(noKey.body.code).toBe('unauthorized');
    const wrongScope = await call('POST', '/v1/influx/write?precision=ms', {
      key: await server.addKey(['read']),
      body: lines(now),
      contentType: 'text/plain',
    });
    expect(wrongScope.status).toBe(403);
    const precision = await call('POST', '/api/v2/write?precision=fortnight', {
      body: lines(now),
      contentType: 'text/plain',
    });
    expect(precision.status).toBe(400);
    expect(precision.body.problems[0].field).toBe('precision');
  });
});

describe('collectd: POST /v1/collectd', () => {
  const valueList = (time: number) => ({
    values: [0.21, 0.18, 0.12],
    dstypes: ['gauge', 'gauge', 'gauge'],
    dsnames: ['shortterm', 'midterm', 'longterm'],
    time: time / 1000,
    interval: 10,
    host: 'web-1',
    plugin: 'load',
    plugin_instance: '',
    type: 'load',
    type_instance: '',
  });

  it('stores value lists, and answers 400 for a body that is not an array', async () => {
    const stored = await call('POST', '/v1/collectd', { body: [valueList(now)], request: 'valid' });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual({ accepted: 3, rejected: 0, problems: [] });
    const bad = await call('POST', '/v1/collectd', { body: valueList(now), request: 'invalid' });
    expect(bad.status).toBe(400);
  });
});

describe('Netuitive: POST /ingest/{apiKey} and its variants', () => {
  const element = {
    id: 'web-1',
    name: 'web-1',
    type: 'SERVER',
    tags: [{ name: 'env', value: 'prod' }],
    metrics: [{ id: 'shop.requests', type: 'COUNTER', tags: [{ name: 'statsdType', value: 'c' }] }],
    samples: [{ metricId: 'shop.requests', timestamp: now, val: 12 }],
  };

  it.each(['/ingest/{apiKey}', '/ingest/infrastructure/{apiKey}', '/ingest/statsd/{apiKey}'])(
    '%s stores elements with the key in the path (202) and refuses an unknown key (401)',
    async (route) => {
      const path = (key: string) => route.replace('{apiKey}', key);
      const stored = await call('POST', path(server.key), {
        route,
        key: null,
        body: [element],
        request: 'valid',
      });
      expect(stored.status).toBe(202);
      expect(stored.body).toEqual({ accepted: 1, rejected: 0, problems: [] });
      const refused = await call('POST', path('nrm_unknown'), { route, key: null, body: [element] });
      expect(refused.status).toBe(401);
    },
  );

  it('acknowledges events without storing them', async () => {
    const { status, body } = await call('POST', `/ingest/events/${server.key}`, {
      route: '/ingest/events/{apiKey}',
      key: null,
      body: [{ type: 'INFO', title: 'deploy' }],
      request: 'valid',
    });
    expect(status).toBe(202);
    expect(body.accepted).toBe(0);
  });
});

describe('keys: /v1/keys', () => {
  it('makes a key (shown once), lists it by hash, revokes it by a prefix of the hash', async () => {
    const created = await call('POST', '/v1/keys', {
      body: { name: 'web-agents', scopes: ['ingest'] },
      request: 'valid',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      name: 'web-agents',
      scopes: ['ingest'],
      createdAt: now,
      revokedAt: null,
    });
    // The id is the key's HMAC under the data dir's secret, not its plain SHA-256.
    expect(created.body.id).toBe(await server.stores.keys.digestKey(created.body.key));
    expect(created.body.id).not.toBe(legacyKeyDigest(created.body.key));
    const listed = await call('GET', '/v1/keys');
    expect(listed.body.keys).toContainEqual({ ...created.body, key: undefined });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    const revoked = await call('DELETE', `/v1/keys/${created.body.id.slice(0, 12)}`, {
      route: '/v1/keys/{id}',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.key).toMatchObject({ id: created.body.id, revokedAt: now });
  });

  it('refuses bad bodies and ids, and keys without the admin scope', async () => {
    const badScopes = await call('POST', '/v1/keys', {
      body: { name: 'x', scopes: ['write'] },
      request: 'invalid',
    });
    expect(badScopes.status).toBe(400);
    expect(badScopes.body.error.problems[0].field).toBe('scopes');
    const unknownField = await call('POST', '/v1/keys', {
      body: { name: 'x', scopes: ['read'], owner: 'ops' },
      request: 'invalid',
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.problems).toEqual([{ field: 'owner', message: expect.any(String) }]);
    expect((await call('DELETE', '/v1/keys/not-hex', { route: '/v1/keys/{id}' })).status).toBe(400);
    expect((await call('DELETE', `/v1/keys/${'0'.repeat(64)}`, { route: '/v1/keys/{id}' })).status).toBe(404);
    const readOnly = await server.addKey(['read']);
    expect((await call('GET', '/v1/keys', { key: readOnly })).status).toBe(403);
    expect((await call('GET', '/v1/keys', { key: null })).status).toBe(401);
  });
});

describe('the clock: /time', () => {
  it('answers HEAD with the clock in the Date header and GET with it in the body too', async () => {
    const head = await call('HEAD', '/time', { key: null });
    expect(head.status).toBe(200);
    expect(head.headers.get('date')).toBe(new Date(now).toUTCString());
    const get = await call('GET', '/time', { key: null });
    expect(get.body).toEqual({ time: now });
    expect(get.headers.get('date')).toBe(new Date(now).toUTCString());
  });
});
