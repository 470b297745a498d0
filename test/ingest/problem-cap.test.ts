import protobuf from 'protobufjs/minimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemList, problemLimits } from '../../lib/errors.ts';
import { parseCollectdJson } from '../../lib/ingest/collectd.ts';
import { parseLineProtocol } from '../../lib/ingest/influx-line.ts';
import { parseNativeJson } from '../../lib/ingest/native-json.ts';
import { parseNetuitive } from '../../lib/ingest/netuitive.ts';
import { parseOtlpJson } from '../../lib/ingest/otlp/metrics.ts';
import { timeWindow } from '../../lib/ingest/validate.ts';
import { bodyOf, type IngestLambda, ingestLambda } from './lambda.ts';

const now = Date.parse('2025-11-25T12:00:00Z');
const window = timeWindow(now);
const replyLimitBytes = 64 * 1024;

/** `count` copies of a JSON text, comma-separated: a list of bad items without building it as objects. */
const repeated = (item: string, count: number): string => new Array(count).fill(item).join(',');

describe('ProblemList', () => {
  it('lists the first 100 problems and counts every one', () => {
    const problems = new ProblemList();
    for (let index = 0; index < 1000; index++) problems.add(index, 'value', 'must be a number');
    expect(problems.count).toBe(1000);
    expect(problems.listed).toHaveLength(problemLimits.listed);
    expect(problems.listed[99]).toEqual({ index: 99, field: 'value', message: 'must be a number' });
  });

  it('cuts a long field or message, and writes hidden characters as code points', () => {
    const problems = new ProblemList([
      { index: 0, field: `dimensions.${'k'.repeat(1000)}`, message: `got ${'x'.repeat(1_000_000)}` },
      { index: 1, field: 'dimensions.ho\u202Est', message: 'bad \u200B\u0007' },
    ]);
    const [long, hidden] = problems.listed;
    expect(long?.field.length).toBe(problemLimits.fieldLength);
    expect(long?.message.length).toBe(problemLimits.messageLength);
    expect(long?.message.endsWith('…')).toBe(true);
    expect(hidden).toEqual({ index: 1, field: 'dimensions.ho<U+202E>st', message: 'bad <U+200B><U+0007>' });
  });

  it('lists fewer problems when they are long, keeping them under its byte budget', () => {
    const problems = new ProblemList();
    // Three-byte characters: 100 problems of this size would take about 180 KB of JSON.
    for (let index = 0; index < 200; index++) problems.add(index, '€'.repeat(500), '€'.repeat(500));
    expect(problems.count).toBe(200);
    expect(problems.listed.length).toBeLessThan(problemLimits.listed);
    expect(Buffer.byteLength(JSON.stringify(problems.listed))).toBeLessThanOrEqual(problemLimits.listedBytes);
  });
});

describe('each parser lists the first 100 problems and counts the rest', () => {
  const bad = 1000;

  const expectCapped = (
    batch: { problems: readonly { index?: number }[]; problemCount: number },
    firstIndex: number,
  ) => {
    expect(batch.problemCount).toBe(bad);
    expect(batch.problems).toHaveLength(problemLimits.listed);
    expect(batch.problems[0]?.index).toBe(firstIndex);
  };

  it('native JSON, single items and the points of a bulk item', () => {
    expectCapped(parseNativeJson(`{"metrics":[${repeated('1', bad)}]}`, window), 0);
    const bulk = parseNativeJson(
      JSON.stringify({ metrics: [{ name: 'a', points: new Array(bad).fill([now, 'x']) }] }),
      window,
    );
    expectCapped(bulk, 0);
    expect(bulk.problems[99]?.field).toBe('points[99][1]');
  });

  it('InfluxDB line protocol', () => {
    expectCapped(parseLineProtocol(new Array(bad).fill('x').join('\n'), 1, window), 1);
  });

  it('collectd', () => {
    expectCapped(parseCollectdJson(`[${repeated('1', bad)}]`, window, { storeRates: true }), 0);
  });

  it('Netuitive', () => {
    expectCapped(parseNetuitive(`[${repeated('1', bad)}]`, window), 0);
  });

  it('OTLP', () => {
    const dataPoints = new Array(bad).fill({ timeUnixNano: `${now}000000` });
    const batch = parseOtlpJson(
      JSON.stringify({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints } }] }] }],
      }),
      window,
    );
    expectCapped(batch, 0);
    expect(batch.rejectedDataPoints).toBe(bad);
  });
});

/** Reads a protobuf message's fields by number (varints and length-delimited ones), as a client would. */
function readFields(bytes: Buffer): Record<number, unknown> {
  const reader = protobuf.Reader.create(bytes);
  const fields: Record<number, unknown> = {};
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    if ((key & 7) === 0) fields[key >>> 3] = Number(reader.int64().toString());
    else if ((key & 7) === 2) fields[key >>> 3] = reader.bytes();
    else reader.skipType(key & 7);
  }
  return fields;
}

/** An OTLP protobuf request of one gauge: one data point with a value, then `bad` without one. */
function otlpProtobuf(bad: number): Buffer {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 2).fork(); // resource_metrics
  writer.uint32((2 << 3) | 2).fork(); // scope_metrics
  writer.uint32((2 << 3) | 2).fork(); // metrics
  writer.uint32((1 << 3) | 2).string('capped.gauge');
  writer.uint32((5 << 3) | 2).fork(); // gauge
  writer.uint32((1 << 3) | 2).fork(); // a data point with a value
  writer.uint32((3 << 3) | 1).fixed64(Date.now() * 1e6);
  writer.uint32((4 << 3) | 1).double(1);
  writer.ldelim();
  for (let index = 0; index < bad; index++) {
    writer.uint32((1 << 3) | 2).fork(); // no value
    writer.uint32((3 << 3) | 1).fixed64(Date.now() * 1e6);
    writer.ldelim();
  }
  writer.ldelim().ldelim().ldelim().ldelim();
  return Buffer.from(writer.finish());
}

describe('Function: ingest, replies of every format stay small however many items are bad', () => {
  const bad = 20_000;
  let lambda: IngestLambda;
  beforeAll(async () => {
    lambda = await ingestLambda();
  });
  afterAll(() => lambda.close());

  const post = (rawPath: string, contentType: string, body: string) =>
    lambda.invoke({ rawPath, headers: { 'content-type': contentType }, body });

  const replyBytes = (result: { body?: string; isBase64Encoded?: boolean }) =>
    Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8').length;

  it('native JSON: 400 with the first 100 problems and problemCount, and a partial success with rejected', async () => {
    const refused = await post('/v1/metrics', 'application/json', `{"metrics":[${repeated('1', bad)}]}`);
    expect(refused.statusCode).toBe(400);
    expect(replyBytes(refused)).toBeLessThan(replyLimitBytes);
    const { error } = bodyOf<{ error: { problems: unknown[]; problemCount: number; message: string } }>(
      refused,
    );
    expect(error.problems).toHaveLength(100);
    expect(error.problemCount).toBe(bad);
    expect(error.message).toContain(`${bad} problems in all`);
    const partial = await post(
      '/v1/metrics',
      'application/json',
      `{"metrics":[{"name":"capped.native","value":1},${repeated('1', bad)}]}`,
    );
    expect(partial.statusCode).toBe(200);
    expect(replyBytes(partial)).toBeLessThan(replyLimitBytes);
    expect(bodyOf(partial)).toMatchObject({ accepted: 1, rejected: bad });
    expect(bodyOf<{ problems: unknown[] }>(partial).problems).toHaveLength(100);
  });

  it('OTLP JSON and protobuf: partialSuccess counts every rejected data point in a short message', async () => {
    const dataPoints = [
      { timeUnixNano: `${Date.now()}000000`, asDouble: 1 },
      ...new Array(bad).fill({ timeUnixNano: `${Date.now()}000000` }),
    ];
    const json = await post(
      '/otlp/v1/metrics',
      'application/json',
      JSON.stringify({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'capped.otlp', gauge: { dataPoints } }] }] }],
      }),
    );
    expect(json.statusCode).toBe(200);
    expect(replyBytes(json)).toBeLessThan(replyLimitBytes);
    const { partialSuccess } = bodyOf<{
      partialSuccess: { rejectedDataPoints: string; errorMessage: string };
    }>(json);
    expect(partialSuccess.rejectedDataPoints).toBe(String(bad));
    expect(partialSuccess.errorMessage).toContain(`(and ${bad - 5} more)`);

    const binary = await lambda.invoke({
      rawPath: '/otlp/v1/metrics',
      headers: { 'content-type': 'application/x-protobuf' },
      body: otlpProtobuf(bad).toString('base64'),
      isBase64Encoded: true,
    });
    expect(binary.statusCode).toBe(200);
    expect(replyBytes(binary)).toBeLessThan(replyLimitBytes);
    const response = readFields(Buffer.from(binary.body ?? '', 'base64'));
    const partial = readFields(Buffer.from(response[1] as Uint8Array));
    expect(partial[1]).toBe(bad);
    expect(Buffer.from(partial[2] as Uint8Array).toString()).toContain(`(and ${bad - 5} more)`);

    const allBad = await post(
      '/otlp/v1/metrics',
      'application/json',
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              { metrics: [{ name: 'capped.otlp', gauge: { dataPoints: dataPoints.slice(1) } }] },
            ],
          },
        ],
      }),
    );
    expect(allBad.statusCode).toBe(400);
    expect(replyBytes(allBad)).toBeLessThan(replyLimitBytes);
    expect(bodyOf<{ message: string }>(allBad).message).toContain(`(and ${bad - 5} more)`);
  });

  it.each(['/v1/influx/write', '/api/v2/write'])(
    '%s: partial write and refused write list 100 problems and count them all',
    async (path) => {
      const lines = new Array(bad).fill('x').join('\n');
      const partial = await post(path, 'text/plain', `capped.influx value=1\n${lines}`);
      expect(partial.statusCode).toBe(400);
      expect(replyBytes(partial)).toBeLessThan(replyLimitBytes);
      const written = bodyOf<{ accepted: number; rejected: number; problems: unknown[]; message: string }>(
        partial,
      );
      expect(written).toMatchObject({ accepted: 1, rejected: bad });
      expect(written.problems).toHaveLength(100);
      expect(written.message).toContain(`(and ${bad - 5} more)`);
      const refused = await post(path, 'text/plain', lines);
      expect(refused.statusCode).toBe(400);
      expect(replyBytes(refused)).toBeLessThan(replyLimitBytes);
      const body = bodyOf<{ problems: unknown[]; problemCount: number }>(refused);
      expect(body.problems).toHaveLength(100);
      expect(body.problemCount).toBe(bad);
    },
  );

  it('collectd and Netuitive: the partial answers list 100 problems, rejected counts them all', async () => {
    const collectd = await post(
      '/v1/collectd',
      'application/json',
      `[{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":${Date.now() / 1000},"interval":10,` +
        `"host":"h","plugin":"capped","type":"collectd"},${repeated('1', bad)}]`,
    );
    expect(collectd.statusCode).toBe(200);
    expect(replyBytes(collectd)).toBeLessThan(replyLimitBytes);
    expect(bodyOf(collectd)).toMatchObject({ accepted: 1, rejected: bad });
    expect(bodyOf<{ problems: unknown[] }>(collectd).problems).toHaveLength(100);

    const netuitive = await lambda.invoke({
      rawPath: `/ingest/${lambda.key}`,
      headers: { 'content-type': 'application/json', authorization: '' },
      body: `[{"id":"h","samples":[{"metricId":"capped.netuitive","timestamp":${Date.now()},"val":1}]},${repeated('1', bad)}]`,
    });
    expect(netuitive.statusCode).toBe(202);
    expect(replyBytes(netuitive)).toBeLessThan(replyLimitBytes);
    expect(bodyOf(netuitive)).toMatchObject({ accepted: 1, rejected: bad });
    expect(bodyOf<{ problems: unknown[] }>(netuitive).problems).toHaveLength(100);
  });
});
