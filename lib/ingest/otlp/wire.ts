/**
 * OTLP/HTTP protobuf bodies, read and written with protobufjs's wire-format Reader and Writer. Only the
 * messages of the metrics service are mapped, by the field numbers of opentelemetry-proto
 * (`opentelemetry/proto/metrics/v1/metrics.proto`, `collector/metrics/v1/metrics_service.proto`,
 * `common/v1/common.proto`, `resource/v1/resource.proto`, and `google/rpc/status.proto`). The decoded request
 * has the shape of the OTLP JSON encoding (lowerCamelCase keys, 64-bit integers as numbers), so one converter
 * reads both encodings. Unknown fields are skipped, as protobuf requires.
 */
import protobuf from 'protobufjs/minimal.js';
import { ValidationError } from '../../errors.ts';

type Reader = protobuf.Reader;

/** Attribute values nest (arrays, key-value lists); deeper than this is refused rather than recursed into. */
export const maxAttributeDepth = 16;

const wireTypes = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** Decodes an ExportMetricsServiceRequest. Throws ValidationError (400) on a malformed body. */
export function decodeMetricsRequest(bytes: Uint8Array): Record<string, unknown> {
  try {
    const reader = protobuf.Reader.create(bytes);
    return readMessage(reader, reader.len, { 1: ['resourceMetrics', repeated(readResourceMetrics)] });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(
      `the body is not a valid OTLP protobuf ExportMetricsServiceRequest: ${(error as Error).message}`,
      [{ field: 'body', message: 'must be a protobuf-encoded ExportMetricsServiceRequest' }],
    );
  }
}

/** Encodes an ExportMetricsServiceResponse: empty, or with partial_success when points were rejected. */
export function encodeMetricsResponse(rejectedDataPoints: number, errorMessage: string): Uint8Array {
  const writer = protobuf.Writer.create();
  if (rejectedDataPoints > 0 || errorMessage) {
    writer.uint32(fieldKey(1, wireTypes.bytes)).fork();
    if (rejectedDataPoints > 0) writer.uint32(fieldKey(1, wireTypes.varint)).int64(rejectedDataPoints);
    if (errorMessage) writer.uint32(fieldKey(2, wireTypes.bytes)).string(errorMessage);
    writer.ldelim();
  }
  return writer.finish();
}

/** Encodes a google.rpc.Status (the body of OTLP error responses). */
export function encodeStatus(code: number, message: string): Uint8Array {
  const writer = protobuf.Writer.create();
  if (code !== 0) writer.uint32(fieldKey(1, wireTypes.varint)).int32(code);
  if (message) writer.uint32(fieldKey(2, wireTypes.bytes)).string(message);
  return writer.finish();
}

const fieldKey = (field: number, wireType: number) => ((field << 3) | wireType) >>> 0;

/** Reads one field's value; `depth` counts nested attribute values. */
type FieldReader = (reader: Reader, wireType: number, depth: number, current: unknown) => unknown;

/** Field number → [JSON key, reader]. */
type Schema = Record<number, readonly [string, FieldReader]>;

function readMessage(reader: Reader, end: number, schema: Schema, depth = 0): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    const wireType = key & 7;
    const entry = schema[field];
    if (field === 0) throw new ValidationError('the protobuf body has a field numbered 0');
    if (entry === undefined) {
      reader.skipType(wireType);
      continue;
    }
    const [name, read] = entry;
    message[name] = read(reader, wireType, depth, message[name]);
  }
  if (reader.pos !== end) throw new RangeError('a message runs past its length');
  return message;
}

const expect = (wireType: number, wanted: number) => {
  if (wireType !== wanted)
    throw new ValidationError(`a protobuf field has wire type ${wireType} where ${wanted} belongs`);
};

const nested =
  (schema: Schema): FieldReader =>
  (reader, wireType, depth) => {
    expect(wireType, wireTypes.bytes);
    const length = reader.uint32();
    const end = reader.pos + length;
    if (end > reader.len) throw new RangeError('a message runs past the end of the body');
    return readMessage(reader, end, schema, depth);
  };

const repeated =
  (read: FieldReader): FieldReader =>
  (reader, wireType, depth, current) => {
    const list = Array.isArray(current) ? current : [];
    list.push(read(reader, wireType, depth, undefined));
    return list;
  };

const string: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.bytes);
  return reader.string();
};
const bool: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.varint);
  return reader.bool();
};
const enumeration: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.varint);
  return reader.int32();
};
const sint32: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.varint);
  return reader.sint32();
};
const double: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.fixed64);
  return reader.double();
};
const fixed64: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.fixed64);
  return toNumber(reader.fixed64());
};
const sfixed64: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.fixed64);
  return toNumber(reader.sfixed64());
};
const int64: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.varint);
  return toNumber(reader.int64());
};
const bytes: FieldReader = (reader, wireType) => {
  expect(wireType, wireTypes.bytes);
  return Buffer.from(reader.bytes()).toString('base64');
};

/** A packed (or, as protobuf allows, unpacked) repeated scalar. */
const packed =
  (element: (reader: Reader) => number, elementWireType: number): FieldReader =>
  (reader, wireType, _depth, current) => {
    const list: number[] = Array.isArray(current) ? current : [];
    if (wireType === elementWireType) {
      list.push(element(reader));
      return list;
    }
    expect(wireType, wireTypes.bytes);
    const end = reader.uint32() + reader.pos;
    if (end > reader.len) throw new RangeError('a packed field runs past the end of the body');
    while (reader.pos < end) list.push(element(reader));
    return list;
  };

/** protobufjs gives 64-bit integers as Long objects (or numbers without the long package). */
function toNumber(value: number | protobuf.Long): number {
  return typeof value === 'number' ? value : protobuf.util.LongBits.from(value).toNumber(value.unsigned);
}

const anyValueSchema: Schema = {};
const keyValueSchema: Schema = {};
const deeper =
  (schema: Schema): FieldReader =>
  (reader, wireType, depth) => {
    if (depth >= maxAttributeDepth) {
      throw new ValidationError(`an attribute value is nested deeper than ${maxAttributeDepth} levels`, [
        { field: 'attributes', message: `must nest at most ${maxAttributeDepth} levels` },
      ]);
    }
    expect(wireType, wireTypes.bytes);
    const end = reader.uint32() + reader.pos;
    if (end > reader.len) throw new RangeError('a message runs past the end of the body');
    return readMessage(reader, end, schema, depth + 1);
  };
Object.assign(anyValueSchema, {
  1: ['stringValue', string],
  2: ['boolValue', bool],
  3: ['intValue', int64],
  4: ['doubleValue', double],
  5: ['arrayValue', deeper({ 1: ['values', repeated(deeper(anyValueSchema))] })],
  6: ['kvlistValue', deeper({ 1: ['values', repeated(deeper(keyValueSchema))] })],
  7: ['bytesValue', bytes],
} satisfies Schema);
Object.assign(keyValueSchema, { 1: ['key', string], 2: ['value', deeper(anyValueSchema)] } satisfies Schema);

const attributes = repeated(nested(keyValueSchema));

const numberDataPoint = nested({
  7: ['attributes', attributes],
  2: ['startTimeUnixNano', fixed64],
  3: ['timeUnixNano', fixed64],
  4: ['asDouble', double],
  6: ['asInt', sfixed64],
  8: ['flags', enumeration],
});

const histogramDataPoint = nested({
  9: ['attributes', attributes],
  2: ['startTimeUnixNano', fixed64],
  3: ['timeUnixNano', fixed64],
  4: ['count', fixed64],
  5: ['sum', double],
  6: ['bucketCounts', packed((reader) => toNumber(reader.fixed64()), wireTypes.fixed64)],
  7: ['explicitBounds', packed((reader) => reader.double(), wireTypes.fixed64)],
  10: ['flags', enumeration],
  11: ['min', double],
  12: ['max', double],
});

const buckets = nested({
  1: ['offset', sint32],
  2: ['bucketCounts', packed((reader) => toNumber(reader.uint64()), wireTypes.varint)],
});

const exponentialHistogramDataPoint = nested({
  1: ['attributes', attributes],
  2: ['startTimeUnixNano', fixed64],
  3: ['timeUnixNano', fixed64],
  4: ['count', fixed64],
  5: ['sum', double],
  6: ['scale', sint32],
  7: ['zeroCount', fixed64],
  8: ['positive', buckets],
  9: ['negative', buckets],
  10: ['flags', enumeration],
  12: ['min', double],
  13: ['max', double],
  14: ['zeroThreshold', double],
});

const summaryDataPoint = nested({
  7: ['attributes', attributes],
  2: ['startTimeUnixNano', fixed64],
  3: ['timeUnixNano', fixed64],
  4: ['count', fixed64],
  5: ['sum', double],
  6: ['quantileValues', repeated(nested({ 1: ['quantile', double], 2: ['value', double] }))],
  8: ['flags', enumeration],
});

const metric = nested({
  1: ['name', string],
  3: ['unit', string],
  5: ['gauge', nested({ 1: ['dataPoints', repeated(numberDataPoint)] })],
  7: [
    'sum',
    nested({
      1: ['dataPoints', repeated(numberDataPoint)],
      2: ['aggregationTemporality', enumeration],
      3: ['isMonotonic', bool],
    }),
  ],
  9: [
    'histogram',
    nested({ 1: ['dataPoints', repeated(histogramDataPoint)], 2: ['aggregationTemporality', enumeration] }),
  ],
  10: [
    'exponentialHistogram',
    nested({
      1: ['dataPoints', repeated(exponentialHistogramDataPoint)],
      2: ['aggregationTemporality', enumeration],
    }),
  ],
  11: ['summary', nested({ 1: ['dataPoints', repeated(summaryDataPoint)] })],
});

const readResourceMetrics = nested({
  1: ['resource', nested({ 1: ['attributes', attributes] })],
  2: ['scopeMetrics', repeated(nested({ 2: ['metrics', repeated(metric)] }))],
});
