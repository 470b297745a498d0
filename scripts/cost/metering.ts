/**
 * How AWS meters the requests Normalcy makes, from the requests themselves: used by the benchmarks (which
 * run the cloud adapters against counting fakes) and by the cost model (which prices what they measured).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { _Record } from '@aws-sdk/client-timestream-write';

const utf8 = (text: string | undefined): number => (text === undefined ? 0 : Buffer.byteLength(text));

/** Timestream's size of a measure value: 8 bytes for DOUBLE and BIGINT, 1 for BOOLEAN, the text for VARCHAR. */
function measureBytes(type: string | undefined, value: string | undefined): number {
  if (type === 'BOOLEAN') return 1;
  if (type === 'VARCHAR') return utf8(value);
  return 8;
}

/** The bytes Timestream meters for one record: timestamp (8), dimension names and values, measures. */
function recordBytes(record: _Record, common: _Record): number {
  let bytes = record.Time !== undefined ? 8 : 0;
  for (const dimension of record.Dimensions ?? []) bytes += utf8(dimension.Name) + utf8(dimension.Value);
  if (record.MeasureName !== undefined) bytes += utf8(record.MeasureName);
  if (record.MeasureValue !== undefined) {
    bytes += measureBytes(record.MeasureValueType ?? common.MeasureValueType, record.MeasureValue);
  }
  for (const measure of record.MeasureValues ?? [])
    bytes += utf8(measure.Name) + measureBytes(measure.Type, measure.Value);
  return bytes;
}

/**
 * The 1-KiB write units Timestream bills for one WriteRecords request: the size of its records (each timestamp,
 * dimension name and value, measure name and value; common attributes counted once), rounded up to KiB.
 * "Metering and pricing: Writes" in the Timestream developer guide.
 */
export function timestreamWriteUnits(records: readonly _Record[], common: _Record = {}): number {
  return Math.max(1, Math.ceil(timestreamWriteBytes(records, common) / 1024));
}

/** The bytes Timestream meters for one WriteRecords request (before rounding to KiB). */
export function timestreamWriteBytes(records: readonly _Record[], common: _Record = {}): number {
  let bytes = recordBytes(common, common);
  for (const record of records) bytes += recordBytes(record, common);
  return bytes;
}

/** DynamoDB's size of an item: attribute names plus values (numbers: about one byte per two digits, plus one). */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += utf8(name);
    if (value.S !== undefined) bytes += utf8(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.replace(/[-.]/g, '').length / 2) + 1;
    else if (value.B !== undefined) bytes += value.B.length;
    else bytes += 1;
  }
  return bytes;
}

/** Write request units of a PutItem of an item: one per started KB. */
export const dynamoWriteUnits = (item: Record<string, AttributeValue>): number =>
  Math.max(1, Math.ceil(dynamoItemBytes(item) / 1024));

/** Read request units of an eventually consistent Query returning items of `bytes` in all: half per 4 KB. */
export const dynamoQueryReadUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 4096)) / 2;
