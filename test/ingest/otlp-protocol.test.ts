import protobuf from 'protobufjs/minimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStatus } from '../../lib/ingest/otlp/wire.ts';
import { bodyOf, type IngestLambda, ingestLambda } from './lambda.ts';

const nowNanos = () => `${Date.now()}000000`;

const request = (metrics: unknown[], attributes: unknown[] = []) => ({
  resourceMetrics: [{ resource: { attributes }, scopeMetrics: [{ scope: { name: 't' }, metrics }] }],
});

/** Reads an ExportMetricsServiceResponse (or a Status) by field number, as a client would. */
function readFields(bytes: Buffer): Record<number, unknown> {
  const reader = protobuf.Reader.create(bytes);
  const fields: Record<number, unknown> = {};
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    const field = key >>> 3;
    if ((key & 7) === 0) fields[field] = Number(reader.int64().toString());
    else if ((key & 7) === 2) fields[field] = reader.bytes();
    else reader.skipType(key & 7);
  }
  return fields;
}

describe('Function: ingest, OTLP/HTTP protocol', () => {
  let lambda: IngestLambda;
  beforeAll(async () => {
    lambda = await ingestLambda();
  });
  afterAll(() => lambda.close());

  const postJson = (body: unknown) =>
    lambda.invoke({
      rawPath: '/otlp/v1/metrics',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers {} to a fully accepted request, with 64-bit values as strings or numbers', async () => {
    const result = await postJson(
      request(
        [
          { name: 'a', gauge: { dataPoints: [{ timeUnixNano: nowNanos(), asInt: '42' }] } },
          { name: 'b', gauge: { dataPoints: [{ timeUnixNano: Date.now() * 1e6, asDouble: 1.5 }] } },
        ],
        [{ key: 'host.name', value: { stringValue: 'web-1' } }],
      ),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toContain('application/json');
    expect(bodyOf(result)).toEqual({});
    const series = await lambda.stores.series.listSeries();
    expect(series.find((entry) => entry.name === 'a')?.dimensions).toEqual({ 'host.name': 'web-1' });
  });

  it('reports rejected data points in partialSuccess with the reason, storing the rest', async () => {
    const result = await postJson(
      request([
        {
          name: 'mixed',
          sum: {
            aggregationTemporality: 1,
            isMonotonic: true,
            dataPoints: [
              { timeUnixNano: nowNanos(), asInt: 3 },
              { timeUnixNano: nowNanos(), asDouble: 'NaN' },
              { timeUnixNano: '12', asInt: 1 },
            ],
          },
        },
      ]),
    );
    expect(result.statusCode).toBe(200);
    const body = bodyOf<{ partialSuccess: { rejectedDataPoints: string; errorMessage: string } }>(result);
    expect(body.partialSuccess.rejectedDataPoints).toBe('2');
    expect(body.partialSuccess.errorMessage).toContain(
      'resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[1].asDouble: must be a finite number',
    );
    expect(body.partialSuccess.errorMessage).toContain('dataPoints[2].timeUnixNano: is older than');
  });

  it('answers a protobuf request in protobuf, with partial_success', async () => {
    // One gauge point with no value: built by hand with the wire format, as an exporter would send it.
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).fork(); // resource_metrics
    writer.uint32((2 << 3) | 2).fork(); // scope_metrics
    writer.uint32((2 << 3) | 2).fork(); // metrics
    writer.uint32((1 << 3) | 2).string('empty.gauge');
    writer.uint32((5 << 3) | 2).fork(); // gauge
    writer.uint32((1 << 3) | 2).fork(); // data_points
    writer.uint32((3 << 3) | 1).fixed64(Date.now() * 1e6);
    writer.ldelim().ldelim().ldelim().ldelim().ldelim();
    const body = Buffer.from(writer.finish());
    const result = await lambda.invoke({
      rawPath: '/otlp/v1/metrics',
      headers: { 'content-type': 'application/x-protobuf' },
      body: body.toString('base64'),
      isBase64Encoded: true,
    });
    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe('application/x-protobuf');
    const status = readFields(Buffer.from(result.body ?? '', 'base64'));
    expect(status[1]).toBe(3);
    expect(Buffer.from(status[2] as Uint8Array).toString()).toContain('a data point needs asDouble or asInt');
  });

  it('answers 400 with a Status to a malformed protobuf body, and 415 to other content types', async () => {
    const truncated = await lambda.invoke({
      rawPath: '/otlp/v1/metrics',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0x05, 0x12]).toString('base64'),
      isBase64Encoded: true,
    });
    expect(truncated.statusCode).toBe(400);
    const status = readFields(Buffer.from(truncated.body ?? '', 'base64'));
    expect(Buffer.from(status[2] as Uint8Array).toString()).toContain('not a valid OTLP protobuf');
    const text = await lambda.invoke({
      rawPath: '/otlp/v1/metrics',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.statusCode).toBe(415);
    expect(encodeStatus(3, 'x').length).toBeGreaterThan(0);
  });

  it('answers 401 in the OTLP Status format without a key', async () => {
    const result = await lambda.invoke({
      rawPath: '/otlp/v1/metrics',
      headers: { 'content-type': 'application/json', authorization: '' },
      body: '{}',
    });
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toMatchObject({ code: 16 });
  });

  it('turns summaries and exponential histograms into quantile series', async () => {
    const time = nowNanos();
    const result = await postJson(
      request([
        {
          name: 'rpc',
          summary: {
            dataPoints: [
              {
                timeUnixNano: time,
                startTimeUnixNano: String(BigInt(time) - 10_000_000_000n),
                count: '10',
                sum: 50,
                quantileValues: [
                  { quantile: 0, value: 1 },
                  { quantile: 0.5, value: 4 },
                  { quantile: 0.999, value: 9 },
                ],
              },
            ],
          },
        },
        {
          name: 'expo',
          exponentialHistogram: {
            aggregationTemporality: 1,
            dataPoints: [
              {
                timeUnixNano: time,
                count: 4,
                sum: 10,
                scale: 0,
                zeroCount: 0,
                positive: { offset: 0, bucketCounts: [1, 1, 2] },
                min: 1,
                max: 8,
              },
            ],
          },
        },
      ]),
    );
    expect(result.statusCode).toBe(200);
    const names = (await lambda.stores.series.listSeries()).map((entry) => entry.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'rpc.min',
        'rpc.p50',
        'rpc.p99_9',
        'rpc.rate',
        'rpc.mean',
        'expo.count',
        'expo.p50',
        'expo.max',
      ]),
    );
  });
});
