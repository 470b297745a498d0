/**
 * OTLP metrics (ExportMetricsServiceRequest, JSON or protobuf decoded by wire.ts) to Normalcy points.
 *
 * - gauge → gauge `name`; sum with delta temporality → counter `name` (the increase in the interval);
 *   cumulative monotonic sum → gauge `name.rate` (per second, from the previous reading); cumulative
 *   non-monotonic sum (an up-down counter) → gauge `name`.
 * - histogram and exponential histogram: delta → `name.count` and `name.sum` (counters), `name.mean`,
 *   `name.min`, `name.max`, `name.p50`, `name.p90`, `name.p99` (timers, percentiles estimated from the
 *   buckets); cumulative → `name.rate` (gauge, observations per second), `name.mean` and the percentiles of
 *   the interval since the previous reading.
 * - summary → `name.p50`... for each quantile (`.min`, `.max` for 0 and 1), `name.rate` and `name.mean`.
 * - Resource attributes and point attributes (the point's win) become dimensions, except resource attributes
 *   that change at every process start (they would split a series at each restart).
 */
import { describeValue, ProblemList, ValidationError } from '../../errors.ts';
import { ingestLimits } from '../../metrics/limits.ts';
import type { Dimensions, MetricPoint, MetricType } from '../../metrics/point.ts';
import { seriesKey } from '../../metrics/series.ts';
import { type CumulativeTracker, processTracker } from '../cumulative.ts';
import { type BucketedHistogram, explicitFromExponential, quantileFromBuckets } from '../histogram.ts';
import {
  dimensionProblem,
  nameProblem,
  type ParsedBatch,
  type TimeWindow,
  timeProblem,
} from '../validate.ts';

/** Resource attributes left out of dimensions: they differ at every start of the same service. */
export const volatileResourceAttributes: ReadonlySet<string> = new Set([
  'service.instance.id',
  'process.pid',
  'process.parent_pid',
  'process.command',
  'process.command_line',
  'process.command_args',
  'process.executable.path',
  'process.runtime.version',
  'process.runtime.description',
  'telemetry.sdk.version',
  'telemetry.sdk.name',
  'telemetry.sdk.language',
  'telemetry.distro.version',
  'telemetry.distro.name',
]);

/** The percentiles sent for histograms. */
export const histogramQuantiles = [0.5, 0.9, 0.99] as const;

/** What an OTLP request gave: points, problems per data point, and counts for `partialSuccess`. */
export interface OtlpBatch extends ParsedBatch {
  readonly dataPointCount: number;
  readonly rejectedDataPoints: number;
}

const temporality = { delta: 1, cumulative: 2 } as const;
const noRecordedValueFlag = 1;
const maxRenderedAttributeDepth = 8;

/** Parses an OTLP JSON body. Throws ValidationError when the body is not JSON or not a metrics request. */
export function parseOtlpJson(body: string, window: TimeWindow, tracker?: CumulativeTracker): OtlpBatch {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, [
      { field: 'body', message: 'must be an OTLP JSON ExportMetricsServiceRequest' },
    ]);
  }
  return convertOtlp(document, window, tracker);
}

/**
 * Converts a decoded ExportMetricsServiceRequest to points. Each data point either yields all its points or
 * is rejected with a problem whose index is its position among the request's data points and whose field
 * is its path. O(data points + attributes).
 */
export function convertOtlp(
  document: unknown,
  window: TimeWindow,
  tracker: CumulativeTracker = processTracker,
): OtlpBatch {
  const request = asObject(document);
  if (!request) {
    throw new ValidationError('the body must be an OTLP ExportMetricsServiceRequest object', [
      { field: 'body', message: `must be an object, got ${describeValue(document)}` },
    ]);
  }
  const resourceMetrics = request.resourceMetrics ?? [];
  if (!Array.isArray(resourceMetrics)) {
    throw new ValidationError('"resourceMetrics" must be an array', [
      { field: 'resourceMetrics', message: `must be an array, got ${describeValue(resourceMetrics)}` },
    ]);
  }
  const points: MetricPoint[] = [];
  const pointItems: number[] = [];
  const problems = new ProblemList();
  let ordinal = 0;
  let rejectedDataPoints = 0;
  const reject = (path: string, issue: Issue) => {
    rejectedDataPoints += 1;
    problems.add(ordinal, issue.field ? `${path}.${issue.field}` : path, issue.message);
  };
  for (let r = 0; r < resourceMetrics.length; r++) {
    const resource = asObject(resourceMetrics[r]);
    const resourcePath = `resourceMetrics[${r}]`;
    const resourceDimensions = readAttributes(asObject(resource?.resource)?.attributes, true);
    const scopes = asList(resource?.scopeMetrics);
    for (let s = 0; s < scopes.length; s++) {
      const metrics = asList(asObject(scopes[s])?.metrics);
      for (let m = 0; m < metrics.length; m++) {
        const metric = asObject(metrics[m]) ?? {};
        const metricPath = `${resourcePath}.scopeMetrics[${s}].metrics[${m}]`;
        const kind = metricKinds.find((candidate) => metric[candidate] !== undefined);
        const data = kind === undefined ? undefined : asObject(metric[kind]);
        const dataPoints = asList(data?.dataPoints);
        if (kind === undefined || data === undefined) {
          if (metric.name !== undefined || Object.keys(metric).length > 0) {
            problems.add(ordinal, metricPath, `must hold one of ${metricKinds.join(', ')}`);
          }
          continue;
        }
        const name = metric.name;
        const nameIssue = nameProblem(name);
        for (let d = 0; d < dataPoints.length; d++, ordinal++) {
          const path = `${metricPath}.${kind}.dataPoints[${d}]`;
          if (nameIssue) {
            reject(metricPath, { field: 'name', message: nameIssue });
            continue;
          }
          if (!('dimensions' in resourceDimensions)) {
            reject(`${resourcePath}.resource`, resourceDimensions);
            continue;
          }
          const derived = convertDataPoint(
            kind,
            data,
            asObject(dataPoints[d]) ?? {},
            name as string,
            resourceDimensions.dimensions,
            window,
            tracker,
          );
          if (derived instanceof Issue) reject(path, derived);
          else {
            for (const point of derived) {
              points.push(point);
              pointItems.push(ordinal);
            }
          }
        }
      }
    }
  }
  return {
    points,
    problems: problems.listed,
    problemCount: problems.count,
    itemCount: ordinal,
    pointItems,
    dataPointCount: ordinal,
    rejectedDataPoints,
  };
}

const metricKinds = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
type MetricKind = (typeof metricKinds)[number];

/** A problem with one data point (a class, so nothing a client sends can pass for one). */
class Issue {
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}

function convertDataPoint(
  kind: MetricKind,
  data: Record<string, unknown>,
  dataPoint: Record<string, unknown>,
  name: string,
  resourceDimensions: Dimensions,
  window: TimeWindow,
  tracker: CumulativeTracker,
): MetricPoint[] | Issue {
  const timeNanos = readUint64(dataPoint.timeUnixNano);
  if (timeNanos === undefined || timeNanos <= 0) {
    return new Issue(
      'timeUnixNano',
      `must be a positive 64-bit integer of nanoseconds, got ${describeValue(dataPoint.timeUnixNano)}`,
    );
  }
  const timestamp = Math.floor(timeNanos / 1e6);
  const timeIssue = timeProblem(timestamp, window);
  if (timeIssue) return new Issue('timeUnixNano', timeIssue);
  const startNanos = readUint64(dataPoint.startTimeUnixNano) ?? 0;
  const start = startNanos > 0 ? Math.floor(startNanos / 1e6) : 0;
  // The point's attributes are written over a copy of the resource's (the point's win).
  const merged: Record<string, string> = {};
  for (const key in resourceDimensions) merged[key] = resourceDimensions[key] as string;
  const pointDimensions = readAttributes(dataPoint.attributes, false, merged);
  if (!('dimensions' in pointDimensions)) return pointDimensions;
  const dimensions: Dimensions = merged;
  let dimensionCount = 0;
  for (const _ in merged) dimensionCount += 1;
  if (dimensionCount > ingestLimits.maxDimensions) {
    return new Issue(
      'attributes',
      `resource and point attributes make more than ${ingestLimits.maxDimensions} dimensions`,
    );
  }
  if ((readInteger(dataPoint.flags) ?? 0) & noRecordedValueFlag) return [];
  if (kind === 'gauge') {
    // The common case, without the closures the other kinds use.
    const value = readNumberValue(dataPoint);
    if (value instanceof Issue) return value;
    return [{ name, type: 'gauge', value, timestamp, dimensions }];
  }
  const out: MetricPoint[] = [];
  const add = (suffix: string, type: MetricType, value: number | undefined) => {
    if (value === undefined || !Number.isFinite(value)) return;
    out.push({ name: suffix ? `${name}.${suffix}` : name, type, value, timestamp, dimensions });
  };
  const cumulativeKey = (extra = '') => `${seriesKey(name, dimensions)}@${start}${extra}`;

  if (kind === 'sum') {
    const value = readNumberValue(dataPoint);
    if (value instanceof Issue) return value;
    const monotonic = data.isMonotonic === true;
    const aggregation = readTemporality(data.aggregationTemporality);
    if (aggregation instanceof Issue) return aggregation;
    if (aggregation === temporality.delta) add('', 'counter', value);
    else if (!monotonic) add('', 'gauge', value);
    else {
      const increase = increaseSince(tracker, cumulativeKey(), timestamp, start, [value]);
      if (increase && increase.seconds > 0)
        add('rate', 'gauge', (increase.values[0] ?? 0) / increase.seconds);
    }
    return out;
  }

  if (kind === 'summary') {
    const count = readUint64(dataPoint.count);
    const sum = readDouble(dataPoint.sum);
    if (count === undefined)
      return new Issue('count', `must be a 64-bit integer, got ${describeValue(dataPoint.count)}`);
    for (const [position, entry] of asList(dataPoint.quantileValues).entries()) {
      const quantile = readDouble(asObject(entry)?.quantile);
      const value = readDouble(asObject(entry)?.value);
      if (
        quantile === undefined ||
        quantile < 0 ||
        quantile > 1 ||
        value === undefined ||
        !Number.isFinite(value)
      ) {
        return new Issue(
          `quantileValues[${position}]`,
          'must have a quantile between 0 and 1 and a finite value',
        );
      }
      add(quantileSuffix(quantile), 'timer', value);
    }
    const increase = increaseSince(tracker, cumulativeKey(), timestamp, start, [count, sum ?? 0]);
    if (increase) {
      const [counted = 0, summed = 0] = increase.values;
      if (increase.seconds > 0) add('rate', 'gauge', counted / increase.seconds);
      if (counted > 0 && sum !== undefined) add('mean', 'timer', summed / counted);
    }
    return out;
  }

  const histogram =
    kind === 'histogram' ? readExplicitHistogram(dataPoint) : readExponentialHistogram(dataPoint);
  if (histogram instanceof Issue) return histogram;
  const aggregation = readTemporality(data.aggregationTemporality);
  if (aggregation instanceof Issue) return aggregation;
  if (aggregation === temporality.delta) {
    add('count', 'counter', histogram.count);
    add('sum', 'counter', histogram.sum);
    if (histogram.count > 0) {
      if (histogram.sum !== undefined) add('mean', 'timer', histogram.sum / histogram.count);
      add('min', 'timer', histogram.buckets.min);
      add('max', 'timer', histogram.buckets.max);
      addQuantiles(add, histogram.buckets);
    }
    return out;
  }
  const increase = increaseSince(tracker, cumulativeKey(histogram.layout), timestamp, start, [
    histogram.count,
    histogram.sum ?? 0,
    ...histogram.buckets.counts,
  ]);
  if (!increase) return out;
  const [counted = 0, summed = 0, ...counts] = increase.values;
  if (increase.seconds > 0) add('rate', 'gauge', counted / increase.seconds);
  if (counted > 0) {
    if (histogram.sum !== undefined) add('mean', 'timer', summed / counted);
    addQuantiles(add, { ...histogram.buckets, counts });
  }
  return out;
}

function addQuantiles(
  add: (suffix: string, type: MetricType, value: number | undefined) => void,
  buckets: BucketedHistogram,
): void {
  for (const quantile of histogramQuantiles)
    add(quantileSuffix(quantile), 'timer', quantileFromBuckets(buckets, quantile));
}

/** `p50`, `p99_9`; `min` and `max` for the 0 and 1 quantiles. */
const quantileSuffix = (quantile: number): string =>
  quantile === 0
    ? 'min'
    : quantile === 1
      ? 'max'
      : `p${String(Math.round(quantile * 1e6) / 1e4).replace('.', '_')}`;

/**
 * The increase of cumulative values since the previous reading of the same series and start time, over
 * how many seconds; on a first reading, the increase since the start time (cumulative values start at zero
 * there; `seconds` is 0 when the start is the reading's own millisecond). Undefined when there is nothing to
 * compare with, or the values went down (a reset).
 */
function increaseSince(
  tracker: CumulativeTracker,
  key: string,
  timestamp: number,
  start: number,
  values: number[],
): { values: number[]; seconds: number } | undefined {
  const previous = tracker.advance(key, { timestamp, values });
  const from =
    previous ??
    (start > 0 && start <= timestamp ? { timestamp: start, values: values.map(() => 0) } : undefined);
  if (!from || from.values.length !== values.length) return undefined;
  const increase = values.map((value, index) => value - (from.values[index] ?? 0));
  if (increase.some((value) => value < 0)) return undefined;
  return { values: increase, seconds: (timestamp - from.timestamp) / 1000 };
}

interface ReadHistogram {
  readonly count: number;
  readonly sum: number | undefined;
  readonly buckets: BucketedHistogram;
  /** What identifies the bucket layout: cumulative readings compare only within one layout. */
  readonly layout: string;
}

function readExplicitHistogram(dataPoint: Record<string, unknown>): ReadHistogram | Issue {
  const count = readUint64(dataPoint.count);
  if (count === undefined)
    return new Issue('count', `must be a 64-bit integer, got ${describeValue(dataPoint.count)}`);
  const counts = readNumberList(dataPoint.bucketCounts, readUint64);
  const bounds = readNumberList(dataPoint.explicitBounds, readDouble);
  if (counts === undefined) return new Issue('bucketCounts', 'must be an array of 64-bit integers');
  if (bounds === undefined) return new Issue('explicitBounds', 'must be an array of numbers');
  if (counts.length > 0 && counts.length !== bounds.length + 1) {
    return new Issue(
      'bucketCounts',
      `must have one more entry than explicitBounds (${bounds.length + 1}), got ${counts.length}`,
    );
  }
  const sum = readDouble(dataPoint.sum);
  return {
    count,
    sum: sum !== undefined && Number.isFinite(sum) ? sum : undefined,
    buckets: { bounds, counts, min: finiteOrUndefined(dataPoint.min), max: finiteOrUndefined(dataPoint.max) },
    layout: `|${bounds.join(',')}`,
  };
}

function readExponentialHistogram(dataPoint: Record<string, unknown>): ReadHistogram | Issue {
  const count = readUint64(dataPoint.count);
  if (count === undefined)
    return new Issue('count', `must be a 64-bit integer, got ${describeValue(dataPoint.count)}`);
  const scale = readInteger(dataPoint.scale) ?? 0;
  if (scale < -10 || scale > 20) return new Issue('scale', `must be between -10 and 20, got ${scale}`);
  const side = (raw: unknown, field: string) => {
    const buckets = asObject(raw);
    const counts = readNumberList(buckets?.bucketCounts, readUint64);
    const offset = readInteger(buckets?.offset) ?? 0;
    return counts === undefined
      ? new Issue(`${field}.bucketCounts`, 'must be an array of 64-bit integers')
      : { offset, counts };
  };
  const positive = side(dataPoint.positive, 'positive');
  const negative = side(dataPoint.negative, 'negative');
  if (positive instanceof Issue) return positive;
  if (negative instanceof Issue) return negative;
  const buckets = explicitFromExponential({
    scale,
    zeroCount: readUint64(dataPoint.zeroCount) ?? 0,
    positive,
    negative,
    min: finiteOrUndefined(dataPoint.min),
    max: finiteOrUndefined(dataPoint.max),
  });
  if (!buckets) return new Issue('scale', 'gives bucket bounds beyond the range of a double');
  const sum = readDouble(dataPoint.sum);
  return {
    count,
    sum: sum !== undefined && Number.isFinite(sum) ? sum : undefined,
    buckets,
    layout: `|${scale}|${positive.offset}|${negative.offset}|${positive.counts.length}|${negative.counts.length}`,
  };
}

function readNumberValue(dataPoint: Record<string, unknown>): number | Issue {
  if (dataPoint.asDouble !== undefined) {
    const value = readDouble(dataPoint.asDouble);
    if (value === undefined || !Number.isFinite(value)) {
      return new Issue('asDouble', `must be a finite number, got ${describeValue(dataPoint.asDouble)}`);
    }
    return value;
  }
  if (dataPoint.asInt !== undefined) {
    const value = readInt64(dataPoint.asInt);
    if (value === undefined)
      return new Issue('asInt', `must be a 64-bit integer, got ${describeValue(dataPoint.asInt)}`);
    return value;
  }
  return new Issue('asDouble', 'a data point needs asDouble or asInt');
}

function readTemporality(raw: unknown): number | Issue {
  if (raw === 1 || raw === 'AGGREGATION_TEMPORALITY_DELTA') return temporality.delta;
  if (raw === 2 || raw === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return temporality.cumulative;
  return new Issue(
    'aggregationTemporality',
    `must be 1 (delta) or 2 (cumulative), got ${describeValue(raw)}`,
  );
}

/** Attributes to dimensions; empty values are left out (they name nothing). */
function readAttributes(
  raw: unknown,
  resource: boolean,
  dimensions: Record<string, string> = {},
): { dimensions: Record<string, string> } | Issue {
  if (raw === undefined || raw === null) return { dimensions };
  if (!Array.isArray(raw)) return new Issue('attributes', `must be an array, got ${describeValue(raw)}`);
  for (let index = 0; index < raw.length; index++) {
    const attribute = asObject(raw[index]);
    const key = attribute?.key;
    if (typeof key !== 'string')
      return new Issue(`attributes[${index}].key`, `must be a string, got ${describeValue(key)}`);
    if (resource && volatileResourceAttributes.has(key)) continue;
    const value = renderAnyValue(attribute?.value, 0);
    if (value instanceof Issue) return new Issue(`attributes[${index}].value`, value.message);
    if (value === undefined || value === '') continue;
    const problem = dimensionProblem(key, value);
    if (problem) return new Issue(`attributes[${index}]`, `${key.slice(0, 64)}: ${problem}`);
    dimensions[key] = value;
  }
  return { dimensions };
}

/** An AnyValue as a dimension value: scalars as text, arrays and key-value lists as compact JSON. */
function renderAnyValue(raw: unknown, depth: number): string | undefined | Issue {
  const value = asObject(raw);
  if (!value) return undefined;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return String(value.boolValue);
  if (value.intValue !== undefined) {
    const integer = readInt64(value.intValue);
    return integer === undefined
      ? new Issue('', 'intValue must be a 64-bit integer')
      : String(value.intValue);
  }
  if (value.doubleValue !== undefined) {
    const double = readDouble(value.doubleValue);
    return double === undefined ? new Issue('', 'doubleValue must be a number') : String(double);
  }
  if (typeof value.bytesValue === 'string') return value.bytesValue;
  if (depth >= maxRenderedAttributeDepth)
    return new Issue('', `must nest at most ${maxRenderedAttributeDepth} levels`);
  const array = asObject(value.arrayValue);
  if (array) {
    const parts: string[] = [];
    for (const element of asList(array.values)) {
      const rendered = renderAnyValue(element, depth + 1);
      if (rendered instanceof Issue) return rendered;
      parts.push(JSON.stringify(rendered ?? null));
    }
    return `[${parts.join(',')}]`;
  }
  const kvlist = asObject(value.kvlistValue);
  if (kvlist) {
    const parts: string[] = [];
    for (const entry of asList(kvlist.values)) {
      const pair = asObject(entry);
      const rendered = renderAnyValue(pair?.value, depth + 1);
      if (rendered instanceof Issue) return rendered;
      parts.push(`${JSON.stringify(String(pair?.key ?? ''))}:${JSON.stringify(rendered ?? null)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return undefined;
}

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const asList = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** A 64-bit unsigned integer sent as a number or a decimal string (the OTLP JSON encoding). */
function readUint64(value: unknown): number | undefined {
  const number = readInt64(value);
  return number !== undefined && number >= 0 ? number : undefined;
}

function readInt64(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return Number(value);
  return undefined;
}

function readInteger(value: unknown): number | undefined {
  const number = readInt64(value);
  return number !== undefined && Number.isSafeInteger(number) ? number : undefined;
}

/** A double: a number, or "NaN", "Infinity", "-Infinity" as proto3 JSON writes them. */
function readDouble(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

function finiteOrUndefined(value: unknown): number | undefined {
  const number = readDouble(value);
  return number !== undefined && Number.isFinite(number) ? number : undefined;
}

function readNumberList(value: unknown, read: (entry: unknown) => number | undefined): number[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const list: number[] = new Array(value.length);
  for (let index = 0; index < value.length; index++) {
    const number = read(value[index]);
    if (number === undefined) return undefined;
    list[index] = number;
  }
  return list;
}
