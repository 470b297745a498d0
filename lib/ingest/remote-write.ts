/**
 * Prometheus remote write 1.0: a `prometheus.WriteRequest` (protobuf, after the snappy block was undone) to
 * Normalcy points. The messages are read with protobufjs's wire-format Reader by the field numbers of
 * prometheus/prompb (`remote.proto`, `types.proto`); unknown fields are skipped, as protobuf requires, and so
 * are metadata, exemplars and native histograms (they carry no sample Normalcy stores).
 *
 * - Each time series is one item: `__name__` is the metric name, every other label a dimension (a label with
 *   an empty value is no label, as in Prometheus; other `__` names are Prometheus's own and refused).
 * - Cumulative series, named as Prometheus names counters and the parts of histograms and summaries (`_total`,
 *   `_count`, `_sum`, `_bucket`, `le` kept as a dimension), are stored as gauge `name.rate`: the increase per
 *   second since the previous sample of the series (the first sample a process sees only sets the baseline).
 *   A value lower than the previous one is a reset: the counter restarted from zero, so the increase is the
 *   value itself, as PromQL's `rate()` counts it. Every other series is a gauge stored as sent.
 * - Stale markers (the NaN Prometheus writes when a series disappears) are dropped silently: they are no
 *   measurement. Other NaNs are dropped too, as collectd's are: a summary with no observations reports NaN
 *   quantiles, which say "no value", not a mistake. ±Inf values are refused like in every other format.
 *
 * The previous sample of each cumulative series is remembered only once the batch was stored
 * ({@link RemoteWriteBatch.commit}): a request the store could not confirm (503) is resent by Prometheus, and
 * its rates must come out the same the second time.
 */
import protobuf from 'protobufjs/minimal.js';
import { ProblemList, ValidationError } from '../errors.ts';
import { ingestLimits } from '../metrics/limits.ts';
import type { Dimensions, MetricPoint } from '../metrics/point.ts';
import { seriesKey } from '../metrics/series.ts';
import { type CumulativeTracker, processTracker, type Reading } from './cumulative.ts';
import { dimensionProblem, nameProblem, type ParsedBatch, type TimeWindow, timeProblem } from './validate.ts';

type Reader = protobuf.Reader;

/** One sample: a value at a time (epoch ms). */
export interface RemoteSample {
  readonly value: number;
  readonly timestamp: number;
  /** A stale marker: Prometheus says the series is gone (no measurement). */
  readonly stale?: true;
}

/** One time series of a WriteRequest, as sent. */
export interface RemoteSeries {
  /** [name, value] pairs in the order sent. */
  readonly labels: (readonly [string, string])[];
  readonly samples: RemoteSample[];
}

/** A decoded WriteRequest: its time series (metadata is not kept). */
export interface WriteRequest {
  readonly timeseries: RemoteSeries[];
}

/** The suffixes Prometheus gives cumulative series: counters, and histograms' and summaries' parts. */
export const cumulativeSuffixes = ['_total', '_count', '_sum', '_bucket'] as const;

/** The suffix added to a cumulative series' name: what is stored is its rate per second. */
export const rateSuffix = '.rate';

const wireTypes = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;
const nameLabel = '__name__';

/** The bits of the NaN Prometheus writes as a stale marker (value.StaleNaN). */
const staleMarkerHigh = 0x7ff00000;
const staleMarkerLow = 0x00000002;
const float64 = new DataView(new ArrayBuffer(8));

/** Decodes a WriteRequest. Throws ValidationError (400) on a malformed body, naming where it broke. O(bytes). */
export function decodeWriteRequest(bytes: Uint8Array): WriteRequest {
  const timeseries: RemoteSeries[] = [];
  const reader = protobuf.Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const key = reader.uint32();
      if (key >>> 3 === 1) {
        const end = messageEnd(reader, key);
        timeseries.push(readSeries(reader, end));
      } else skipField(reader, key);
    }
  } catch (error) {
    const where = `timeseries[${timeseries.length}] (byte ${reader.pos} of ${reader.len})`;
    throw new ValidationError(
      `the body is not a valid protobuf prometheus.WriteRequest: ${(error as Error).message} at ${where}`,
      [{ field: 'body', message: 'must be a snappy-compressed protobuf prometheus.WriteRequest' }],
    );
  }
  return { timeseries };
}

function readSeries(reader: Reader, end: number): RemoteSeries {
  const series: RemoteSeries = { labels: [], samples: [] };
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    if (field === 1) series.labels.push(readLabel(reader, messageEnd(reader, key)));
    else if (field === 2) readSample(reader, messageEnd(reader, key), series);
    else skipField(reader, key);
  }
  checkEnd(reader, end);
  return series;
}

function readLabel(reader: Reader, end: number): readonly [string, string] {
  let name = '';
  let value = '';
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    if (field === 1 && (key & 7) === wireTypes.bytes) name = reader.string();
    else if (field === 2 && (key & 7) === wireTypes.bytes) value = reader.string();
    else skipField(reader, key);
  }
  checkEnd(reader, end);
  return [name, value];
}

function readSample(reader: Reader, end: number, series: RemoteSeries): void {
  let value = 0;
  let stale = false;
  let timestamp = 0;
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    if (field === 1 && (key & 7) === wireTypes.fixed64) {
      // Read as bits: the stale marker is one NaN among many, and a NaN's bits may not survive a number.
      const low = reader.fixed32();
      const high = reader.fixed32();
      stale = high === staleMarkerHigh && low === staleMarkerLow;
      float64.setUint32(0, low, true);
      float64.setUint32(4, high, true);
      value = float64.getFloat64(0, true);
    } else if (field === 2 && (key & 7) === wireTypes.varint) {
      timestamp = toNumber(reader.int64());
    } else skipField(reader, key);
  }
  checkEnd(reader, end);
  series.samples.push(stale ? { value, timestamp, stale } : { value, timestamp });
}

/** The end of the length-delimited message whose key was just read; throws when it is not one or overruns. */
function messageEnd(reader: Reader, key: number): number {
  if ((key & 7) !== wireTypes.bytes) {
    throw new Error(`field ${key >>> 3} has wire type ${key & 7} where a message (2) belongs`);
  }
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new Error('a message runs past the end of the body');
  return end;
}

function skipField(reader: Reader, key: number): void {
  if (key >>> 3 === 0) throw new Error('a field is numbered 0');
  reader.skipType(key & 7);
}

function checkEnd(reader: Reader, end: number): void {
  if (reader.pos !== end) throw new Error('a message runs past its length');
}

/** protobufjs gives 64-bit integers as Long objects (or numbers without the long package). */
function toNumber(value: number | protobuf.Long): number {
  return typeof value === 'number' ? value : value.high * 4294967296 + (value.low >>> 0);
}

/** A converted WriteRequest: points and problems, and the cumulative readings to remember once stored. */
export interface RemoteWriteBatch extends ParsedBatch {
  /** Remembers the last sample of each cumulative series (call it once the batch was stored, or refused for good). */
  commit(): void;
}

/** Whether a series of this name holds a cumulative count (see the file's head). */
export const isCumulativeName = (name: string): boolean =>
  cumulativeSuffixes.some((suffix) => name.endsWith(suffix));

/**
 * Converts a decoded WriteRequest to points. A series with bad labels is refused whole (one problem); a sample
 * with a bad value or time is refused alone. Problems' index is the series' position in the request.
 * O(samples + labels).
 */
export function convertWriteRequest(
  request: WriteRequest,
  window: TimeWindow,
  tracker: CumulativeTracker = processTracker,
): RemoteWriteBatch {
  const points: MetricPoint[] = [];
  const pointItems: number[] = [];
  const problems = new ProblemList();
  const pending = new Map<string, Reading>();
  const { timeseries } = request;
  for (let index = 0; index < timeseries.length; index++) {
    const series = timeseries[index] as RemoteSeries;
    const identity = readIdentity(series.labels);
    if (typeof identity === 'string') {
      problems.add(index, 'labels', identity);
      continue;
    }
    const { name, dimensions } = identity;
    const samples: RemoteSample[] = [];
    for (let position = 0; position < series.samples.length; position++) {
      const sample = series.samples[position] as RemoteSample;
      // Stale markers and NaNs are no measurement (see the file's head): nothing to store, nothing wrong.
      if (sample.stale || Number.isNaN(sample.value)) continue;
      if (!Number.isFinite(sample.value)) {
        problems.add(index, `samples[${position}].value`, `must be a finite number, got ${sample.value}`);
        continue;
      }
      const timeIssue = timeProblem(sample.timestamp, window);
      if (timeIssue) {
        problems.add(index, `samples[${position}].timestamp`, timeIssue);
        continue;
      }
      samples.push(sample);
    }
    if (!isCumulativeName(name)) {
      for (const sample of samples) {
        points.push({ name, type: 'gauge', value: sample.value, timestamp: sample.timestamp, dimensions });
        pointItems.push(index);
      }
      continue;
    }
    const rateName = `${name}${rateSuffix}`;
    const rateNameIssue = nameProblem(rateName);
    if (rateNameIssue) {
      problems.add(index, 'labels.__name__', `with "${rateSuffix}" added, the name ${rateNameIssue}`);
      continue;
    }
    const key = `prometheus|${seriesKey(name, dimensions)}`;
    let previous = pending.get(key) ?? tracker.latest(key);
    // Prometheus sends a series' samples in time order; a resent one (not newer) adds nothing.
    if (!inTimeOrder(samples)) samples.sort((a, b) => a.timestamp - b.timestamp);
    for (const sample of samples) {
      if (previous !== undefined && sample.timestamp <= previous.timestamp) continue;
      if (previous !== undefined) {
        const before = previous.values[0] ?? 0;
        const increase = sample.value >= before ? sample.value - before : sample.value;
        const seconds = (sample.timestamp - previous.timestamp) / 1000;
        points.push({
          name: rateName,
          type: 'gauge',
          value: increase / seconds,
          timestamp: sample.timestamp,
          dimensions,
        });
        pointItems.push(index);
      }
      previous = { timestamp: sample.timestamp, values: [sample.value] };
    }
    if (previous !== undefined) pending.set(key, previous);
  }
  return {
    points,
    problems: problems.listed,
    problemCount: problems.count,
    itemCount: timeseries.length,
    pointItems,
    commit() {
      for (const [key, reading] of pending) tracker.advance(key, reading);
    },
  };
}

function inTimeOrder(samples: readonly RemoteSample[]): boolean {
  for (let index = 1; index < samples.length; index++) {
    if ((samples[index] as RemoteSample).timestamp < (samples[index - 1] as RemoteSample).timestamp)
      return false;
  }
  return true;
}

/** A series' metric name and dimensions from its labels, or what is wrong with them. O(labels). */
function readIdentity(
  labels: readonly (readonly [string, string])[],
): { name: string; dimensions: Dimensions } | string {
  let name: string | undefined;
  const dimensions: Record<string, string> = {};
  let count = 0;
  for (const [label, value] of labels) {
    if (label === nameLabel) {
      if (name !== undefined) return `the label ${nameLabel} is given twice`;
      name = value;
      continue;
    }
    if (value === '') continue;
    // Prometheus reserves `__` names for itself and drops them before storing or sending; `__proto__` could
    // not be a dimension anyway.
    if (label.startsWith('__')) {
      return `${JSON.stringify(label.slice(0, 64))}: label names starting with "__" are reserved`;
    }
    const problem = dimensionProblem(label, value);
    if (problem) return `${JSON.stringify(label.slice(0, 64))}: ${problem}`;
    if (Object.hasOwn(dimensions, label))
      return `the label ${JSON.stringify(label.slice(0, 64))} is given twice`;
    dimensions[label] = value;
    count += 1;
  }
  if (name === undefined || name === '') return `the label ${nameLabel} (the metric name) is required`;
  const problem = nameProblem(name);
  if (problem) return `${nameLabel}: the metric name ${problem}`;
  if (count > ingestLimits.maxDimensions) {
    return `more than ${ingestLimits.maxDimensions} labels besides ${nameLabel} (${count})`;
  }
  return { name, dimensions };
}
