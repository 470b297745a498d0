import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest.ts';
import { lambdaContext } from '../../functions/local/lambda-events.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { PayloadTooLargeError, ValidationError } from '../../lib/errors.ts';
import { CumulativeTracker } from '../../lib/ingest/cumulative.ts';
import { convertWriteRequest, decodeWriteRequest } from '../../lib/ingest/remote-write.ts';
import { decompressSnappy, SnappyError } from '../../lib/ingest/snappy.ts';
import { timeWindow } from '../../lib/ingest/validate.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import { ingestLimits } from '../../lib/metrics/limits.ts';
import type { MetricStore } from '../../lib/ports/metric-store.ts';
import { WriteIncompleteError } from '../../lib/ports/store-errors.ts';
import {
  encodeWriteRequest,
  remoteWriteBody,
  remoteWriteHeaders,
  type SeriesToWrite,
  staleMarker,
} from '../../scripts/dev/remote-write.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { bodyOf, type IngestLambda, ingestLambda } from './lambda.ts';

const now = Date.parse('2025-11-25T12:00:00Z');
const window = timeWindow(now);
const convert = (series: Parameters<typeof encodeWriteRequest>[0], tracker = new CumulativeTracker()) =>
  convertWriteRequest(decodeWriteRequest(encodeWriteRequest(series)), window, tracker);

describe('decodeWriteRequest and convertWriteRequest', () => {
  it('makes __name__ the metric name and the other labels dimensions (empty ones are no label)', () => {
    const batch = convert([
      {
        labels: { __name__: 'node_load1', instance: 'web-1:9100', job: 'node', empty: '' },
        samples: [
          { value: 0.5, timestamp: now - 2000 },
          { value: 0.75, timestamp: now - 1000 },
        ],
      },
    ]);
    expect(batch.problems).toEqual([]);
    expect(batch.points).toEqual([
      {
        name: 'node_load1',
        type: 'gauge',
        value: 0.5,
        timestamp: now - 2000,
        dimensions: { instance: 'web-1:9100', job: 'node' },
      },
      {
        name: 'node_load1',
        type: 'gauge',
        value: 0.75,
        timestamp: now - 1000,
        dimensions: { instance: 'web-1:9100', job: 'node' },
      },
    ]);
    expect(batch.itemCount).toBe(1);
  });

  it('stores a _total counter as its rate per second, counting a reset from zero as PromQL does', () => {
    const tracker = new CumulativeTracker();
    const labels = { __name__: 'http_requests_total', code: '200' };
    const first = convert(
      [
        {
          labels,
          samples: [
            { value: 100, timestamp: now - 30_000 },
            { value: 110, timestamp: now - 20_000 },
            // A restart: the counter went back to zero and counted 4 since.
            { value: 4, timestamp: now - 10_000 },
          ],
        },
      ],
      tracker,
    );
    expect(first.points.map((point) => [point.name, point.type, point.value, point.timestamp])).toEqual([
      ['http_requests_total.rate', 'gauge', 1, now - 20_000],
      ['http_requests_total.rate', 'gauge', 0.4, now - 10_000],
    ]);
    first.commit();
    // The next request goes on from the last sample of the one before.
    const next = convert([{ labels, samples: [{ value: 24, timestamp: now }] }], tracker);
    expect(next.points.map((point) => point.value)).toEqual([2]);
  });

  it('gives the same rates when a request is resent before it was committed (after a 503)', () => {
    const tracker = new CumulativeTracker();
    const labels = { __name__: 'jobs_total' };
    convert([{ labels, samples: [{ value: 10, timestamp: now - 20_000 }] }], tracker).commit();
    const request = [{ labels, samples: [{ value: 30, timestamp: now - 10_000 }] }];
    const attempt = convert(request, tracker);
    const retry = convert(request, tracker);
    expect(retry.points).toEqual(attempt.points);
    expect(retry.points.map((point) => point.value)).toEqual([2]);
    retry.commit();
    // Once committed, the same request again is a resend: nothing new.
    expect(convert(request, tracker).points).toEqual([]);
  });

  it('takes histogram buckets, counts and sums as cumulative series, le as a dimension', () => {
    const batch = convert([
      {
        labels: { __name__: 'latency_seconds_bucket', le: '0.5' },
        samples: [
          { value: 3, timestamp: now - 1000 },
          { value: 5, timestamp: now },
        ],
      },
      {
        labels: { __name__: 'latency_seconds_count' },
        samples: [
          { value: 7, timestamp: now - 1000 },
          { value: 9, timestamp: now },
        ],
      },
      {
        labels: { __name__: 'latency_seconds_sum' },
        samples: [
          { value: 1, timestamp: now - 2000 },
          { value: 2, timestamp: now },
        ],
      },
    ]);
    expect(batch.points.map((point) => [point.name, point.value, point.dimensions])).toEqual([
      ['latency_seconds_bucket.rate', 2, { le: '0.5' }],
      ['latency_seconds_count.rate', 2, {}],
      ['latency_seconds_sum.rate', 0.5, {}],
    ]);
  });

  it('drops stale markers and NaNs silently, and refuses ±Inf and times out of range one sample at a time', () => {
    const batch = convert([
      {
        labels: { __name__: 'g' },
        samples: [
          { value: 1, timestamp: now - 3000 },
          { value: staleMarker, timestamp: now - 2500 },
          { value: Number.NaN, timestamp: now - 2000 },
          { value: Number.POSITIVE_INFINITY, timestamp: now - 1000 },
          { value: 2, timestamp: now + 3_600_000 },
          { value: 3, timestamp: now },
        ],
      },
    ]);
    expect(batch.points.map((point) => point.value)).toEqual([1, 3]);
    expect(batch.problemCount).toBe(2);
    expect(batch.problems).toEqual([
      { index: 0, field: 'samples[3].value', message: 'must be a finite number, got Infinity' },
      { index: 0, field: 'samples[4].timestamp', message: expect.stringContaining('in the future') },
    ]);
  });

  it('refuses a series with bad labels whole, naming the label, and keeps the others', () => {
    const tooMany = Object.fromEntries(
      Array.from({ length: ingestLimits.maxDimensions + 1 }, (_, index) => [`l${index}`, 'v']),
    );
    const sample = [{ value: 1, timestamp: now }];
    const batch = convert([
      { labels: { job: 'no name' }, samples: sample },
      { labels: { __name__: 'ok', host: 'a\u202eb' }, samples: sample },
      { labels: { __name__: 'wide', ...tooMany }, samples: sample },
      { labels: { __name__: 'kept' }, samples: sample },
      { labels: { __name__: `${'x'.repeat(ingestLimits.maxNameLength - 8)}_total` }, samples: sample },
      { labels: { __name__: 'reserved', ['__proto__']: 'x' }, samples: sample },
    ]);
    expect(batch.points.map((point) => point.name)).toEqual(['kept']);
    expect(batch.problems.map((problem) => [problem.index, problem.field])).toEqual([
      [0, 'labels'],
      [1, 'labels'],
      [2, 'labels'],
      [4, 'labels.__name__'],
      [5, 'labels'],
    ]);
    expect(batch.problems[0]?.message).toContain('__name__ (the metric name) is required');
    expect(batch.problems[1]?.message).toContain('"host"');
    expect(batch.problems[2]?.message).toContain(`more than ${ingestLimits.maxDimensions} labels`);
    expect(batch.problems[4]?.message).toBe('"__proto__": label names starting with "__" are reserved');
  });

  it('refuses a series that gives a label twice', () => {
    const twice = protobuf.Writer.create();
    twice.uint32(10).fork();
    const labels: [string, string][] = [
      ['__name__', 'a'],
      ['host', 'x'],
      ['host', 'y'],
    ];
    for (const [name, value] of labels)
      twice.uint32(10).fork().uint32(10).string(name).uint32(18).string(value).ldelim();
    twice.uint32(18).fork().uint32(9).double(1).uint32(16).int64(now).ldelim().ldelim();
    const batch = convertWriteRequest(decodeWriteRequest(twice.finish()), window, new CumulativeTracker());
    expect(batch.points).toEqual([]);
    expect(batch.problems[0]?.message).toBe('the label "host" is given twice');
  });

  it('skips metadata, exemplars, native histograms and unknown fields', () => {
    const writer = protobuf.Writer.create();
    // metadata (field 3), then a series with an exemplar (3) and a histogram (4) beside its sample.
    writer.uint32(26).fork().uint32(8).int32(1).uint32(18).string('up').ldelim();
    writer.uint32(10).fork();
    writer.uint32(10).fork().uint32(10).string('__name__').uint32(18).string('up').ldelim();
    writer.uint32(18).fork().uint32(9).double(1).uint32(16).int64(now).ldelim();
    writer.uint32(26).fork().uint32(17).double(0.5).ldelim();
    writer.uint32(34).fork().uint32(8).uint64(3).ldelim();
    writer.uint32(8 * 8).uint32(7);
    writer.ldelim();
    const batch = convertWriteRequest(decodeWriteRequest(writer.finish()), window, new CumulativeTracker());
    expect(batch.problems).toEqual([]);
    expect(batch.points.map((point) => [point.name, point.value])).toEqual([['up', 1]]);
  });

  it('refuses a malformed body with a ValidationError that says where it broke', () => {
    const valid = encodeWriteRequest([
      { labels: { __name__: 'up' }, samples: [{ value: 1, timestamp: now }] },
    ]);
    expect(() => decodeWriteRequest(valid.subarray(0, valid.length - 3))).toThrow(ValidationError);
    expect(() => decodeWriteRequest(valid.subarray(0, valid.length - 3))).toThrow(
      /not a valid protobuf prometheus.WriteRequest: .* at timeseries\[0\]/,
    );
    expect(() => decodeWriteRequest(Uint8Array.of(0x0b, 1))).toThrow(/wire type 3/);
  });
});

describe('decompressSnappy', () => {
  it('decompresses a snappy block', () => {
    expect(decompressSnappy(Uint8Array.of(2, 4, 104, 105), 10).toString()).toBe('hi');
    const text = Buffer.from('abc'.repeat(1000));
    expect(decompressSnappy(snappy.compress(text), text.length).equals(text)).toBe(true);
  });

  it('refuses a block whose header announces more than the limit, before taking the memory', () => {
    // Five bytes that claim 4 GiB - 1 of output.
    const bomb = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f);
    expect(() => decompressSnappy(bomb, ingestLimits.maxBodyBytes)).toThrow(PayloadTooLargeError);
    expect(() => decompressSnappy(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 10)).toThrow(
      /length header is missing or malformed/,
    );
    expect(() => decompressSnappy(Uint8Array.of(5, 0x10, 1), 10)).toThrow(SnappyError);
  });

  it('decompresses what snappyjs compresses, whatever the bytes (patterns, overlapping copies, long literals)', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 70_000 }),
      fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 9000 }))
        .map(([piece, times]) => Buffer.from(piece).toString('latin1').repeat(times))
        .map((text) => new Uint8Array(Buffer.from(text, 'latin1'))),
    );
    fc.assert(
      fc.property(bytes, (input) => {
        const block = snappy.compress(Buffer.from(input));
        expect(decompressSnappy(block, input.length).equals(Buffer.from(input))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a literal whose 4-byte length has its top bit set, at once (snappyjs loops forever on it)', () => {
    // 100 bytes announced, then a literal of 0xfffffffa + 1 bytes: read as a negative length it would step back.
    const loop = Uint8Array.of(100, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0, 0);
    const began = Date.now();
    expect(() => decompressSnappy(loop, 1000)).toThrow(
      'the body is not a valid snappy block: a literal runs past the end at byte 1',
    );
    expect(Date.now() - began).toBeLessThan(1000);
  });

  it.each([
    ['a literal length cut short', [10, 0xf0], 'a literal length runs past the end at byte 1'],
    ['a literal past the end', [10, 0x0c, 1, 2], 'a literal runs past the end at byte 1'],
    ['more than announced', [1, 0x04, 1, 2], 'a literal runs past the length announced at byte 1'],
    ['a copy before any output', [8, 0x01, 1], 'a copy reaches 1 bytes back of 0 at byte 1'],
    ['a copy of offset 0', [8, 0x00, 7, 0x02, 0, 0], 'a copy reaches 0 bytes back of 1 at byte 3'],
    ['a copy cut short', [8, 0x00, 7, 0x03, 1, 0], 'a copy runs past the end at byte 3'],
    [
      'a copy past the announced length',
      [3, 0x00, 7, 0x05, 1],
      'a copy runs past the length announced at byte 3',
    ],
    ['fewer bytes than announced', [3, 0x00, 7], 'it holds 1 bytes where its header announces 3'],
  ])('refuses %s, naming where', (_what, bytes, message) => {
    expect(() => decompressSnappy(Uint8Array.from(bytes), 100)).toThrow(
      `the body is not a valid snappy block: ${message}`,
    );
  });

  it('repeats a pattern with a copy that overlaps what it writes', () => {
    // "ab", then copy 6 bytes from 2 back: "abababab".
    expect(decompressSnappy(Uint8Array.of(8, 0x04, 97, 98, 0x09, 2), 8).toString()).toBe('abababab');
  });
});

const validSeries: SeriesToWrite[] = [
  {
    labels: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' },
    samples: [{ value: 1, timestamp: Date.now() - 1000 }],
  },
];

describe('Function: ingest, POST /api/v1/write', () => {
  let lambda: IngestLambda;
  beforeAll(async () => {
    lambda = await ingestLambda();
  });
  afterAll(() => lambda.close());

  /** Posts a body as API Gateway passes binary bodies: base64. */
  const write = (body: Uint8Array, headers: Record<string, string> = remoteWriteHeaders) =>
    lambda.invoke({
      rawPath: '/api/v1/write',
      headers,
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    });

  it('answers 204 and stores the series when the body is a valid remote write', async () => {
    const result = await write(remoteWriteBody(validSeries));
    expect(result.statusCode).toBe(204);
    expect(result.body).toBe('');
    const series = await lambda.stores.series.listSeries();
    expect(series.map((entry) => [entry.name, entry.dimensions])).toContainEqual([
      'up',
      { job: 'prometheus', instance: 'localhost:9090' },
    ]);
  });

  it('takes the key as the password of Basic auth, as Prometheus basic_auth sends it', async () => {
    const basic = Buffer.from(`prometheus:${lambda.key}`).toString('base64');
    const result = await write(remoteWriteBody(validSeries), {
      ...remoteWriteHeaders,
      authorization: `Basic ${basic}`,
    });
    expect(result.statusCode).toBe(204);
    const wrong = Buffer.from('prometheus:nope').toString('base64');
    const refused = await write(remoteWriteBody(validSeries), {
      ...remoteWriteHeaders,
      authorization: `Basic ${wrong}`,
    });
    expect(refused.statusCode).toBe(401);
  });

  it('refuses a wrong content type or encoding with 415, and remote write 2.0 with a hint', async () => {
    const body = remoteWriteBody(validSeries);
    const json = await write(body, { ...remoteWriteHeaders, 'content-type': 'application/json' });
    expect(json.statusCode).toBe(415);
    expect(bodyOf<{ error: { message: string } }>(json).error.message).toContain('application/x-protobuf');
    const plain = await write(encodeWriteRequest(validSeries), {
      'content-type': 'application/x-protobuf',
    });
    expect(plain.statusCode).toBe(415);
    expect(bodyOf<{ error: { message: string } }>(plain).error.message).toContain('Content-Encoding: snappy');
    const v2 = await write(body, {
      ...remoteWriteHeaders,
      'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
      'x-prometheus-remote-write-version': '2.0.0',
    });
    expect(v2.statusCode).toBe(415);
    expect(bodyOf<{ error: { message: string } }>(v2).error.message).toContain(
      'protobuf_message: prometheus.WriteRequest',
    );
  });

  it('answers 413 to a snappy block that claims more than 5 MB, and 400 to one that is not snappy', async () => {
    const bomb = await write(Uint8Array.of(0xff, 0xff, 0xff, 0x7f, 0x00));
    expect(bomb.statusCode).toBe(413);
    const notSnappy = await write(Buffer.from('hello, not snappy at all'));
    expect(notSnappy.statusCode).toBe(400);
    expect(bodyOf<{ error: { message: string } }>(notSnappy).error.message).toMatch(/snappy/);
    // Exactly at the limit is accepted by the decompressor (and then read as protobuf).
    const atLimit = Buffer.alloc(ingestLimits.maxBodyBytes);
    const large = await write(snappy.compress(atLimit));
    expect(large.statusCode).toBe(400);
    expect(bodyOf<{ error: { message: string } }>(large).error.message).toContain('prometheus.WriteRequest');
  });

  it('stores the valid series and names the refused ones in a 400 (a partial write Prometheus drops)', async () => {
    const at = Date.now() - 1000;
    const result = await write(
      remoteWriteBody([
        { labels: { __name__: 'partial_ok', job: 'j' }, samples: [{ value: 1, timestamp: at }] },
        { labels: { job: 'nameless' }, samples: [{ value: 1, timestamp: at }] },
      ]),
    );
    expect(result.statusCode).toBe(400);
    const body = bodyOf<{ error: { message: string; problems: unknown[]; problemCount: number } }>(result);
    expect(body.error.message).toMatch(/^partial write: 1 point\(s\) stored, 1 problem\(s\)/);
    expect(body.error.message).toContain('__name__ (the metric name) is required');
    expect(body.error.problems).toEqual([
      { index: 1, field: 'labels', message: expect.stringContaining('__name__') },
    ]);
    const series = await lambda.stores.series.listSeries();
    expect(series.map((entry) => entry.name)).toContain('partial_ok');
  });

  it('answers 400 when no series is valid', async () => {
    const result = await write(
      remoteWriteBody([{ labels: { job: 'nameless' }, samples: [{ value: 1, timestamp: Date.now() }] }]),
    );
    expect(result.statusCode).toBe(400);
    expect(bodyOf<{ error: { message: string } }>(result).error.message).toContain(
      'no metric in the request was valid',
    );
  });
});

describe('Function: ingest, POST /api/v1/write when the store cannot confirm a write', () => {
  it('answers 503 with Retry-After, and the resent request stores the same rates', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-rw-'));
    const stores = openSqliteStores(join(dataDir, 'normalcy.db'));
    let failNext = false;
    // The SQLite store, whose next write cannot be confirmed (as Timestream's throttling can leave one).
    const metrics: MetricStore = Object.assign(Object.create(stores.metrics) as MetricStore, {
      writePoints: async (points: Parameters<MetricStore['writePoints']>[0]) => {
        if (failNext) {
          failNext = false;
          throw new WriteIncompleteError(points.length, []);
        }
        return stores.metrics.writePoints(points);
      },
    });
    const key = generateKey();
    await stores.keys.putKey({
      hash: hashKey(key),
      name: 't',
      scopes: ['ingest'],
      createdAt: 0,
      revokedAt: null,
    });
    const handler = createIngestHandler(() => ({
      metrics,
      series: stores.series,
      keys: stores.keys,
      clock: { now: () => Date.now() },
    }));
    const write = async (series: SeriesToWrite[]) =>
      (await handler(
        {
          version: '2.0',
          routeKey: '$default',
          rawPath: '/api/v1/write',
          rawQueryString: '',
          headers: { ...remoteWriteHeaders, authorization: `Bearer ${key}` },
          requestContext: {
            http: {
              method: 'POST',
              path: '/api/v1/write',
              protocol: 'HTTP/1.1',
              sourceIp: '127.0.0.1',
              userAgent: 't',
            },
            requestId: 't',
          },
          body: remoteWriteBody(series).toString('base64'),
          isBase64Encoded: true,
        } as never,
        lambdaContext('normalcy-ingest'),
      )) as { statusCode: number; headers: Record<string, string> };
    try {
      const at = Date.now() - 60_000;
      const labels = { __name__: 'retried_total', host: 'a' };
      expect((await write([{ labels, samples: [{ value: 100, timestamp: at }] }])).statusCode).toBe(204);
      const next = [{ labels, samples: [{ value: 160, timestamp: at + 30_000 }] }];
      failNext = true;
      const refused = await write(next);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect((await write(next)).statusCode).toBe(204);
      const [series] = (await stores.series.listSeries()).filter(
        (entry) => entry.name === 'retried_total.rate',
      );
      const points = await stores.metrics.readPoints(series?.id ?? '', at, at + 60_000);
      expect(points.map((point) => point.value)).toEqual([2]);
    } finally {
      stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Function: ingest, POST /api/v1/write under hostile bodies (fast-check)', () => {
  let lambda: IngestLambda;
  beforeAll(async () => {
    lambda = await ingestLambda();
  });
  afterAll(() => lambda.close());

  const expectClientAnswer = async (body: Uint8Array) => {
    const result = await lambda.invoke({
      rawPath: '/api/v1/write',
      headers: remoteWriteHeaders,
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    });
    const status = result.statusCode ?? 0;
    expect([204, 400, 413], `answered ${status}: ${result.body}`).toContain(status);
    if (status !== 204)
      expect(bodyOf<{ error: { message: string } }>(result).error.message.length).toBeGreaterThan(10);
  };

  it('answers random bytes (not snappy) with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        await expectClientAnswer(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('answers random bytes inside a valid snappy block with a 4xx or a 204', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        await expectClientAnswer(snappy.compress(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('answers truncated and bit-flipped snappy bodies with a 4xx or a 204', async () => {
    const valid = remoteWriteBody(validSeries);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: valid.length }),
        fc.option(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }))),
        async (length, flip) => {
          const body = Buffer.from(valid.subarray(0, length));
          if (flip && flip[0] < body.length) body[flip[0]] = (body[flip[0]] as number) ^ flip[1];
          await expectClientAnswer(body);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers valid-ish WriteRequests (odd labels, any double, any time) with a 204 or a 4xx', async () => {
    const label = fc.oneof(
      fc.constantFrom('__name__', 'job', 'le', 'quantile', ''),
      fc.string({ maxLength: 300, unit: 'binary' }),
    );
    const value = fc.oneof(fc.double(), fc.constantFrom(staleMarker, Number.NaN, Number.POSITIVE_INFINITY));
    const timestamp = fc.oneof(
      fc.integer({ min: Date.now() - 60_000, max: Date.now() }),
      fc.maxSafeInteger(),
      fc.constant(-1),
      fc.constant(0),
    );
    const series = fc.record({
      labels: fc.dictionary(label, fc.string({ maxLength: 300, unit: 'binary' }), { maxKeys: 40 }),
      samples: fc.array(fc.record({ value, timestamp }), { maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(series, { maxLength: 8 }), async (request) => {
        await expectClientAnswer(remoteWriteBody(request));
      }),
      { numRuns: 200 },
    );
  });
});

describe('POST /api/v1/write through the local HTTP server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('stores a remote write posted over HTTP, gauges as sent and counters as rates', async () => {
    const at = Date.now() - 10_000;
    const response = await server.request('/api/v1/write', {
      method: 'POST',
      headers: remoteWriteHeaders,
      body: new Uint8Array(
        remoteWriteBody([
          { labels: { __name__: 'temperature', room: 'lab' }, samples: [{ value: 21.5, timestamp: at }] },
          {
            labels: { __name__: 'served_total', room: 'lab' },
            samples: [
              { value: 10, timestamp: at - 5000 },
              { value: 20, timestamp: at },
            ],
          },
        ]),
      ),
    });
    expect(response.status).toBe(204);
    const { series } = await server.getJson<{
      series: { name: string; dimensions: Record<string, string>; lastValue: number }[];
    }>('/v1/series');
    expect(series.map(({ name, dimensions, lastValue }) => ({ name, dimensions, lastValue }))).toEqual(
      expect.arrayContaining([
        { name: 'temperature', dimensions: { room: 'lab' }, lastValue: 21.5 },
        { name: 'served_total.rate', dimensions: { room: 'lab' }, lastValue: 2 },
      ]),
    );
  });
});
