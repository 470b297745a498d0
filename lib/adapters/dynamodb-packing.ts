/**
 * The packed layout of the DynamoDB points-and-bands store (lib/adapters/dynamodb-metric-store.ts): how a
 * series-hour of points or bands becomes one binary attribute, and how the write-ahead log of recent points
 * and bands is keyed and encoded. Pure: no SDK, no I/O.
 *
 * Why packed: DynamoDB bills a write unit per started KB of every item written, so one item per point (or
 * band) costs a unit each, 43,800 a series-month at one-minute points. A series-hour item holds 60 of them in
 * one unit or a few; the log holds many series' points per item (see {@link logBuckets}).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { StoredBand } from '../ports/band-store.ts';
import type { TimedValue } from '../ports/metric-store.ts';
import { hourMs } from '../time.ts';

/**
 * Buckets of series in the log: a log item holds the entries of one bucket (series ids hashed) of one minute,
 * so reading one series' recent points reads 1/24 of the minute. 24 keeps an item of a 500-series ingest
 * request near 21 entries, under one KB (one write unit).
 */
export const logBuckets = 24;

/** Points per item of a series-hour (12 bytes each before compression: about 240 KB, under the 400 KB limit). */
export const pointsPerPart = 20_000;
/** Bands per item of a series-hour (45 bytes each before compression). */
export const bandsPerPart = 5_000;

/** The bucket (1 to {@link logBuckets}) of a series in the log: FNV-1a of its id. */
export function logBucket(seriesId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seriesId.length; i++) {
    hash ^= seriesId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) % logBuckets) + 1;
}

/**
 * A log item's sort key: bucket, then write time (ms) and 6 random digits, as a decimal number of up to 21
 * digits (DynamoDB numbers keep 38; compare them as BigInt). Later writes sort later within a bucket, so the
 * last entry read for a series and timestamp is the last one written.
 */
export const logSortKey = (bucket: number, writtenAt: number, random: number): string =>
  `${bucket}${String(writtenAt).padStart(13, '0')}${String(random).padStart(6, '0')}`;

/** The first and last sort key of a bucket's log items. */
export const logBucketRange = (bucket: number): readonly [string, string] => [
  `${bucket}${'0'.repeat(19)}`,
  `${bucket}${'9'.repeat(19)}`,
];

export const hourStartOf = (timestamp: number): number => Math.floor(timestamp / hourMs) * hourMs;

/** Points of one series-hour, in time order, one per timestamp, in items of at most {@link pointsPerPart}. */
export function packPoints(points: readonly TimedValue[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < points.length; offset += pointsPerPart) {
    const chunk = points.slice(offset, offset + pointsPerPart);
    const bytes = Buffer.alloc(4 + chunk.length * 12);
    bytes.writeUInt32LE(chunk.length, 0);
    writeTimes(bytes, 4, chunk);
    for (const [i, point] of chunk.entries()) bytes.writeDoubleLE(point.value, 4 + chunk.length * 4 + i * 8);
    parts.push(deflateRawSync(bytes));
  }
  return parts;
}

export function unpackPoints(packed: Uint8Array, hourStart: number): TimedValue[] {
  const bytes = inflateRawSync(packed);
  const count = bytes.readUInt32LE(0);
  const times = readTimes(bytes, 4, count, hourStart);
  return times.map((timestamp, i) => ({ timestamp, value: bytes.readDoubleLE(4 + count * 4 + i * 8) }));
}

const bandColumns = ['value', 'expected', 'lower', 'upper', 'score'] as const;

/** Bands of one series-hour, in time order, one per timestamp, in items of at most {@link bandsPerPart}. */
export function packBands(bands: readonly StoredBand[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bands.length; offset += bandsPerPart) {
    const chunk = bands.slice(offset, offset + bandsPerPart);
    const n = chunk.length;
    const bytes = Buffer.alloc(4 + n * (4 + 8 * bandColumns.length + 1));
    bytes.writeUInt32LE(n, 0);
    writeTimes(bytes, 4, chunk);
    // Column by column: a column of similar numbers compresses better than rows of mixed ones.
    for (const [c, column] of bandColumns.entries()) {
      for (const [i, band] of chunk.entries()) bytes.writeDoubleLE(band[column], 4 + n * 4 + (c * n + i) * 8);
    }
    const flags = 4 + n * (4 + 8 * bandColumns.length);
    for (const [i, band] of chunk.entries()) bytes.writeUInt8(band.anomaly ? 1 : 0, flags + i);
    parts.push(deflateRawSync(bytes));
  }
  return parts;
}

export function unpackBands(packed: Uint8Array, hourStart: number): StoredBand[] {
  const bytes = inflateRawSync(packed);
  const n = bytes.readUInt32LE(0);
  const times = readTimes(bytes, 4, n, hourStart);
  const column = (c: number, i: number) => bytes.readDoubleLE(4 + n * 4 + (c * n + i) * 8);
  const flags = 4 + n * (4 + 8 * bandColumns.length);
  return times.map((timestamp, i) => ({
    timestamp,
    value: column(0, i),
    expected: column(1, i),
    lower: column(2, i),
    upper: column(3, i),
    score: column(4, i),
    anomaly: bytes.readUInt8(flags + i) === 1,
  }));
}

/** Timestamps as gaps from the previous one (the first from the hour's start): regular steps compress away. */
function writeTimes(bytes: Buffer, at: number, rows: readonly { readonly timestamp: number }[]): void {
  let previous = hourStartOf(rows[0]?.timestamp ?? 0);
  rows.forEach((row, i) => {
    bytes.writeUInt32LE(row.timestamp - previous, at + i * 4);
    previous = row.timestamp;
  });
}

function readTimes(bytes: Buffer, at: number, count: number, hourStart: number): number[] {
  const times: number[] = [];
  let previous = hourStart;
  for (let i = 0; i < count; i++) {
    previous += bytes.readUInt32LE(at + i * 4);
    times.push(previous);
  }
  return times;
}

/**
 * Merges rows by timestamp: the later list wins a timestamp both hold. Both in any order; the result in time
 * order. O(n log n).
 */
export function mergeByTimestamp<T extends { readonly timestamp: number }>(
  older: readonly T[],
  newer: readonly T[],
): T[] {
  const byTime = new Map<number, T>();
  for (const row of older) byTime.set(row.timestamp, row);
  for (const row of newer) byTime.set(row.timestamp, row);
  return [...byTime.values()].sort((a, b) => a.timestamp - b.timestamp);
}

/** A log entry of a point: `id,timestamp,value` (entries joined by `;`). */
export const pointEntry = (seriesId: string, point: TimedValue): string =>
  `${seriesId},${point.timestamp},${point.value}`;

/** A log entry of a band: `id,timestamp,value,expected,lower,upper,score,anomaly (1 or 0)`. */
export const bandEntry = (seriesId: string, band: StoredBand): string =>
  `${seriesId},${band.timestamp},${band.value},${band.expected},${band.lower},${band.upper},${band.score},${band.anomaly ? 1 : 0}`;

export function parsePointEntry(entry: string): { seriesId: string; point: TimedValue } | undefined {
  const [id, time, value] = entry.split(',');
  if (!id || time === undefined || value === undefined) return undefined;
  return { seriesId: id, point: { timestamp: Number(time), value: Number(value) } };
}

export function parseBandEntry(entry: string): { seriesId: string; band: StoredBand } | undefined {
  const [id, time, value, expected, lower, upper, score, anomaly] = entry.split(',');
  if (!id || anomaly === undefined) return undefined;
  return {
    seriesId: id,
    band: {
      timestamp: Number(time),
      value: Number(value),
      expected: Number(expected),
      lower: Number(lower),
      upper: Number(upper),
      score: Number(score),
      anomaly: anomaly === '1',
    },
  };
}
