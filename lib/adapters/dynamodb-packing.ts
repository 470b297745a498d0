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
import { partitionsOfSelection, type SeriesSelection, seriesHash } from '../metrics/series-hash.ts';
import type { StoredBand } from '../ports/band-store.ts';
import type { TimedValue } from '../ports/metric-store.ts';
import { hourMs, minuteMs } from '../time.ts';

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

/**
 * The bucket (1 to {@link logBuckets}) of a series in the log: its hash (the one the band job's state shards
 * take, lib/metrics/series-hash.ts) modulo {@link logBuckets}, plus one.
 */
export const logBucket = (seriesId: string): number => (seriesHash(seriesId) % logBuckets) + 1;

/**
 * The buckets that can hold a series of a selection, in order: a state shard s of S shards holds series whose
 * hash is s modulo S, so only buckets b with b - 1 ≡ s modulo gcd(S, {@link logBuckets}) (3 buckets of 24 for
 * S a power of two of 8 or more).
 */
export const logBucketsOfSelection = (selection: SeriesSelection): number[] =>
  partitionsOfSelection(selection, logBuckets).map((partition) => partition + 1);

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

/**
 * The sort-key ranges of some buckets ({@link logBucketRange}), adjacent buckets joined into one range (bucket
 * b's keys run from b·10^19 to (b + 1)·10^19 - 1 as numbers, so b + 1's follow on); in bucket order.
 */
export function logBucketRanges(buckets: readonly number[]): (readonly [string, string])[] {
  const ranges: (readonly [string, string])[] = [];
  const sorted = [...new Set(buckets)].sort((a, b) => a - b);
  for (let index = 0; index < sorted.length; ) {
    const first = sorted[index] as number;
    let last = first;
    while (sorted[index + 1] === last + 1) last = sorted[++index] as number;
    index++;
    ranges.push([logBucketRange(first)[0], logBucketRange(last)[1]]);
  }
  return ranges;
}

export const hourStartOf = (timestamp: number): number => Math.floor(timestamp / hourMs) * hourMs;

/**
 * The format of the series-hour items written now, the first byte of their attribute `c`. Items of format 1
 * (raw deflate of fixed-width columns, no version byte) are in attribute `d` and still read:
 * {@link unpackPointsFormat1}, {@link unpackBandsFormat1}.
 */
export const packedFormat = 2;

/**
 * Points of one series-hour, in time order, one per timestamp, in items of at most {@link pointsPerPart}:
 * format {@link packedFormat}, then deflated: the count, the timestamps ({@link writeTimes}) and the values
 * ({@link writeNumbers}: exact, about 2 to 3 bytes a value of a few decimals, 9 for any other double).
 */
export function packPoints(points: readonly TimedValue[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < points.length; offset += pointsPerPart) {
    const chunk = points.slice(offset, offset + pointsPerPart);
    const out = new ByteWriter();
    out.varint(chunk.length);
    writeTimes(out, chunk);
    writeNumbers(
      out,
      chunk.map((point) => point.value),
    );
    parts.push(versioned(out));
  }
  return parts;
}

export function unpackPoints(packed: Uint8Array, hourStart: number): TimedValue[] {
  const input = new ByteReader(unversioned(packed));
  const count = input.varint();
  const times = readTimes(input, count, hourStart);
  const values = readNumbers(input, count);
  return times.map((timestamp, i) => ({ timestamp, value: values[i] as number }));
}

/**
 * Bands of one series-hour, in time order, one per timestamp, in items of at most {@link bandsPerPart}.
 * A band's value is the point's value at its timestamp, so it is stored only where it differs from
 * `pointValues` (the hour's points: a band without its point, or a point rewritten since); {@link unpackBands}
 * fills it back. Expected, lower, upper and score are stored as given: exact (see {@link roundBand} for the
 * precision the store keeps).
 */
export function packBands(bands: readonly StoredBand[], pointValues: ReadonlyMap<number, number>): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bands.length; offset += bandsPerPart) {
    const chunk = bands.slice(offset, offset + bandsPerPart);
    const out = new ByteWriter();
    out.varint(chunk.length);
    writeTimes(out, chunk);
    const ownValue = chunk.map((band) => !Object.is(pointValues.get(band.timestamp), band.value));
    for (const [i, band] of chunk.entries()) out.byte((band.anomaly ? 1 : 0) | (ownValue[i] ? 2 : 0));
    for (const column of bandColumns)
      writeNumbers(
        out,
        chunk.map((band) => band[column]),
      );
    writeNumbers(
      out,
      chunk.filter((_, i) => ownValue[i]).map((band) => band.value),
    );
    parts.push(versioned(out));
  }
  return parts;
}

/** Bands of a part of {@link packBands}; `pointValue` gives the value of a band stored without its own. */
export function unpackBands(
  packed: Uint8Array,
  hourStart: number,
  pointValue: (timestamp: number) => number | undefined,
): StoredBand[] {
  const input = new ByteReader(unversioned(packed));
  const count = input.varint();
  const times = readTimes(input, count, hourStart);
  const flags = Array.from({ length: count }, () => input.byte());
  const [expected = [], lower = [], upper = [], score = []] = bandColumns.map(() =>
    readNumbers(input, count),
  );
  const own = readNumbers(input, flags.filter((flag) => flag & 2).length);
  let nextOwn = 0;
  return times.map((timestamp, i) => {
    const flag = flags[i] ?? 0;
    return {
      timestamp,
      // A band stored without its value whose point is gone (never: both expire together) reads as NaN.
      value: flag & 2 ? (own[nextOwn++] as number) : (pointValue(timestamp) ?? Number.NaN),
      expected: expected[i] as number,
      lower: lower[i] as number,
      upper: upper[i] as number,
      score: score[i] as number,
      anomaly: (flag & 1) === 1,
    };
  });
}

const bandColumns = ['expected', 'lower', 'upper', 'score'] as const;

/**
 * The precision the DynamoDB store keeps of a band's expected value, edges and score: a float32's (about 7
 * significant digits, far finer than the band's own uncertainty or a chart's pixels), as the shortest decimal
 * that rounds to the same float32, so 10.25 or 0.12 stay exactly themselves. A band's value (the point's)
 * stays exact, and so does any number outside float32's normal range. Shorter decimals pack into fewer bytes.
 */
export function roundBand<Band extends StoredBand>(band: Band): Band {
  return {
    ...band,
    expected: toSinglePrecision(band.expected),
    lower: toSinglePrecision(band.lower),
    upper: toSinglePrecision(band.upper),
    score: toSinglePrecision(band.score),
  };
}

const smallestNormalSingle = 2 ** -126;
const largestSingle = (2 - 2 ** -23) * 2 ** 127;

/** The shortest decimal that rounds to the same float32 as `x`; `x` itself outside float32's normal range. */
export function toSinglePrecision(x: number): number {
  const magnitude = Math.abs(x);
  if (!(magnitude >= smallestNormalSingle && magnitude <= largestSingle)) return x;
  const single = Math.fround(x);
  for (let digits = 1; digits < 9; digits++) {
    const decimal = Number(single.toPrecision(digits));
    if (Math.fround(decimal) === single) return decimal;
  }
  return Number(single.toPrecision(9));
}

/**
 * Timestamps as the first one's offset from the hour's start and a common step (the most frequent gap),
 * then each gap's difference from the step: a series of regular points stores a run of zeros that deflate
 * removes, and irregular ones stay exact.
 */
function writeTimes(out: ByteWriter, rows: readonly { readonly timestamp: number }[]): void {
  const first = rows[0]?.timestamp ?? 0;
  out.varint(first - hourStartOf(first));
  const gaps = rows.slice(1).map((row, i) => row.timestamp - (rows[i] as { timestamp: number }).timestamp);
  const counts = new Map<number, number>();
  for (const gap of gaps) counts.set(gap, (counts.get(gap) ?? 0) + 1);
  const step = [...counts].reduce((a, b) => (b[1] > a[1] ? b : a), [0, 0])[0];
  out.varint(step);
  for (const gap of gaps) out.varint(zigzag(gap - step));
}

function readTimes(input: ByteReader, count: number, hourStart: number): number[] {
  if (count === 0) return [];
  let previous = hourStart + input.varint();
  const step = input.varint();
  const times = [previous];
  for (let i = 1; i < count; i++) {
    previous += step + unzigzag(input.varint());
    times.push(previous);
  }
  return times;
}

/** Powers of ten as parsed literals: exact, and the same when packing and unpacking. */
const powersOfTen = Array.from({ length: 16 }, (_, k) => Number(`1e${k}`));
/** The largest scaled integer: its differences, zigzagged and tagged, stay below 2^53. */
const largestScaled = 2 ** 49;

/** The integer `value` is when scaled by 10^scale, if dividing it back gives exactly `value`. */
function scaled(value: number, scale: number): number | undefined {
  const power = powersOfTen[scale] as number;
  const integer = Math.round(value * power) + 0; // + 0: -0 becomes 0, and -0 itself an exception
  return Math.abs(integer) <= largestScaled && Object.is(integer / power, value) ? integer : undefined;
}

/**
 * Doubles, exactly, in few bytes when they are decimals (as metrics mostly are: 103.456, 12, 0.5): the scale
 * (a power of ten) that makes most of them integers, then each as the difference from the previous integer
 * (zigzag varint, tag bit 0), or, if scaling does not give it back exactly (1/3, NaN, 1e300), tag 1 and its
 * 8 bytes. The idea of ALP (Afroozeh, Kuffó and Boncz, SIGMOD 2023), much simplified. O(16 n).
 */
function writeNumbers(out: ByteWriter, values: readonly number[]): void {
  let scale = 0;
  let best = -1;
  for (let k = 0; k < powersOfTen.length && best < values.length; k++) {
    const exact = values.filter((value) => scaled(value, k) !== undefined).length;
    if (exact > best) [scale, best] = [k, exact];
  }
  out.byte(scale);
  let previous = 0;
  for (const value of values) {
    const integer = scaled(value, scale);
    if (integer === undefined) {
      out.varint(1);
      out.double(value);
    } else {
      out.varint(zigzag(integer - previous) * 2);
      previous = integer;
    }
  }
}

function readNumbers(input: ByteReader, count: number): number[] {
  const power = powersOfTen[input.byte()] as number;
  const values: number[] = [];
  let previous = 0;
  for (let i = 0; i < count; i++) {
    const tagged = input.varint();
    if (tagged === 1) {
      values.push(input.double());
    } else {
      previous += unzigzag(tagged / 2);
      values.push(previous / power);
    }
  }
  return values;
}

const zigzag = (n: number): number => (n >= 0 ? 2 * n : -2 * n - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

const versioned = (out: ByteWriter): Buffer =>
  Buffer.concat([Buffer.of(packedFormat), deflateRawSync(out.bytes())]);

function unversioned(packed: Uint8Array): Buffer {
  if (packed[0] !== packedFormat) {
    throw new Error(
      `a series-hour item of format ${packed[0]}, not ${packedFormat}: written by a newer version?`,
    );
  }
  return inflateRawSync(packed.subarray(1));
}

/** Bytes appended to a growing buffer: unsigned varints (up to 2^53), single bytes and doubles. */
class ByteWriter {
  private buffer = Buffer.alloc(256);
  private length = 0;

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 128) {
      this.byte((rest % 128) + 128);
      rest = Math.floor(rest / 128);
    }
    this.byte(rest);
  }

  double(value: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(size: number): void {
    if (this.length + size <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(2 * this.buffer.length, this.length + size));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

class ByteReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    if (this.offset >= this.buffer.length) throw new Error('a series-hour item ends early');
    return this.buffer[this.offset++] as number;
  }

  varint(): number {
    let value = 0;
    let weight = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte % 128) * weight;
      if (byte < 128) return value;
      weight *= 128;
    }
  }

  double(): number {
    const value = this.buffer.readDoubleLE(this.offset);
    this.offset += 8;
    return value;
  }
}

/** Points of a series-hour item of format 1 (attribute `d`): 4-byte time gaps, then float64 values. */
export function unpackPointsFormat1(packed: Uint8Array, hourStart: number): TimedValue[] {
  const bytes = inflateRawSync(packed);
  const count = bytes.readUInt32LE(0);
  const times = readTimesFormat1(bytes, 4, count, hourStart);
  return times.map((timestamp, i) => ({ timestamp, value: bytes.readDoubleLE(4 + count * 4 + i * 8) }));
}

/** Bands of a series-hour item of format 1: 4-byte time gaps, 5 float64 columns, anomaly flags. */
export function unpackBandsFormat1(packed: Uint8Array, hourStart: number): StoredBand[] {
  const bytes = inflateRawSync(packed);
  const n = bytes.readUInt32LE(0);
  const times = readTimesFormat1(bytes, 4, n, hourStart);
  const column = (c: number, i: number) => bytes.readDoubleLE(4 + n * 4 + (c * n + i) * 8);
  const flags = 4 + n * (4 + 8 * 5);
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

function readTimesFormat1(bytes: Buffer, at: number, count: number, hourStart: number): number[] {
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

/**
 * A log entry of a point: `id,time,value` (entries joined by `;`), its time in ms from the start of its
 * minute (the log item's `pk`): 5 digits at most instead of 13, so a request's item of a log bucket stays
 * within one write unit more often. Entries written before carry the whole timestamp; both parse.
 */
export const pointEntry = (seriesId: string, point: TimedValue): string =>
  `${seriesId},${point.timestamp - minuteStartOf(point.timestamp)},${point.value}`;

/** A log entry of a band: `id,time,value,expected,lower,upper,score,anomaly (1 or 0)`, time as above. */
export const bandEntry = (seriesId: string, band: StoredBand): string =>
  `${seriesId},${band.timestamp - minuteStartOf(band.timestamp)},${band.value},${band.expected},${band.lower},${band.upper},${band.score},${band.anomaly ? 1 : 0}`;

const minuteStartOf = (timestamp: number): number => Math.floor(timestamp / minuteMs) * minuteMs;

/** An entry's timestamp: its time from the minute's start, or (an entry of before) the timestamp itself. */
const entryTime = (time: string, minuteStart: number): number => {
  const value = Number(time);
  return value < minuteMs ? minuteStart + value : value;
};

export function parsePointEntry(
  entry: string,
  minuteStart: number,
): { seriesId: string; point: TimedValue } | undefined {
  const [id, time, value] = entry.split(',');
  if (!id || time === undefined || value === undefined) return undefined;
  return { seriesId: id, point: { timestamp: entryTime(time, minuteStart), value: Number(value) } };
}

export function parseBandEntry(
  entry: string,
  minuteStart: number,
): { seriesId: string; band: StoredBand } | undefined {
  const [id, time, value, expected, lower, upper, score, anomaly] = entry.split(',');
  if (!id || time === undefined || anomaly === undefined) return undefined;
  return {
    seriesId: id,
    band: {
      timestamp: entryTime(time, minuteStart),
      value: Number(value),
      expected: Number(expected),
      lower: Number(lower),
      upper: Number(upper),
      score: Number(score),
      anomaly: anomaly === '1',
    },
  };
}
