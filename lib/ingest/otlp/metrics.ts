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
import { asList, asObject, FieldIssue, parseJsonBody } from '../json-reading.ts';
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
  const document = parseJsonBody(body, 'must be an OTLP JSON ExportMetricsServiceRequest');
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
  const resourceMetrics = readResourceMetrics(document);
  const batch = new BatchBuilder();
  for (let r = 0; r < resourceMetrics.length; r++) {
    const resource = asObject(resourceMetrics[r]);
    const resourcePath = `resourceMetrics[${r}]`;
    const source: MetricSource = {
      resourcePath: `${resourcePath}.resource`,
      resourceDimensions: readAttributes(asObject(resource?.resource)?.attributes, true),
      window,
      tracker,
    };
    const scopes = asList(resource?.scopeMetrics);
    for (let s = 0; s < scopes.length; s++) {
      const metrics = asList(asObject(scopes[s])?.metrics);
      for (let m = 0; m < metrics.length; m++) {
        const metricPath = `${resourcePath}.scopeMetrics[${s}].metrics[${m}]`;
        convertMetric(asObject(metrics[m]) ?? {}, metricPath, source, batch);
      }
    }
  }
  return batch.result();
}

/** The request's `resourceMetrics`; throws ValidationError when the request is not one. */
function readResourceMetrics(document: unknown): readonly unknown[] {
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
  return resourceMetrics;
}

/**
 * A request's points and problems, gathered as its data points are converted in request order: each data point
 * is numbered (`ordinal`), and its points and problems carry its number.
 */
class BatchBuilder {
  private readonly points: MetricPoint[] = [];
  private readonly pointItems: number[] = [];
  readonly problems = new ProblemList();
  /** The position of the data point being converted among the request's data points. */
  ordinal = 0;
  private rejectedDataPoints = 0;

  /** Rejects the current data point: `path` says where it is, the issue's field where in it. */
  reject(path: string, issue: FieldIssue): void {
    this.rejectedDataPoints += 1;
    this.problems.add(this.ordinal, issue.field ? `${path}.${issue.field}` : path, issue.message);
  }

  /** Takes the points the current data point yielded. */
  accept(points: readonly MetricPoint[]): void {
    for (const point of points) {
      this.points.push(point);
      this.pointItems.push(this.ordinal);
    }
  }

  result(): OtlpBatch {
    const { points, problems, ordinal, pointItems, rejectedDataPoints } = this;
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
}

/** Where a metric comes from: its resource (path and dimensions, or what is wrong with them), and the reading. */
interface MetricSource {
  readonly resourcePath: string;
  readonly resourceDimensions: { dimensions: Record<string, string> } | FieldIssue;
  readonly window: TimeWindow;
  readonly tracker: CumulativeTracker;
}

/**
 * Converts one metric's data points. A metric that holds none of the known kinds is a problem (unless it is
 * empty); a bad name or bad resource attributes reject each of its data points, so the counts stay per point.
 */
function convertMetric(
  metric: Record<string, unknown>,
  metricPath: string,
  source: MetricSource,
  batch: BatchBuilder,
): void {
  const kind = metricKinds.find((candidate) => metric[candidate] !== undefined);
  const data = kind === undefined ? undefined : asObject(metric[kind]);
  const dataPoints = asList(data?.dataPoints);
  if (kind === undefined || data === undefined) {
    if (metric.name !== undefined || Object.keys(metric).length > 0) {
      batch.problems.add(batch.ordinal, metricPath, `must hold one of ${metricKinds.join(', ')}`);
    }
    return;
  }
  const name = metric.name;
  const nameIssue = nameProblem(name);
  const { resourceDimensions, window, tracker } = source;
  for (let d = 0; d < dataPoints.length; d++, batch.ordinal++) {
    if (nameIssue) batch.reject(metricPath, new FieldIssue('name', nameIssue));
    else if (resourceDimensions instanceof FieldIssue) batch.reject(source.resourcePath, resourceDimensions);
    else {
      const dataPoint = asObject(dataPoints[d]) ?? {};
      const dimensions = resourceDimensions.dimensions;
      const derived = convertDataPoint(kind, data, dataPoint, name as string, dimensions, window, tracker);
      if (derived instanceof FieldIssue) batch.reject(`${metricPath}.${kind}.dataPoints[${d}]`, derived);
      else batch.accept(derived);
    }
  }
}

const metricKinds = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
type MetricKind = (typeof metricKinds)[number];

/**
 * The points one data point yields, or what is wrong with it. Its time and dimensions are read alike for
 * every kind; then each kind reads what it carries and derives its points (see the file's head).
 */
function convertDataPoint(
  kind: MetricKind,
  data: Record<string, unknown>,
  dataPoint: Record<string, unknown>,
  name: string,
  resourceDimensions: Dimensions,
  window: TimeWindow,
  tracker: CumulativeTracker,
): MetricPoint[] | FieldIssue {
  const times = readTimes(dataPoint, window);
  if (times instanceof FieldIssue) return times;
  const dimensions = pointDimensions(dataPoint, resourceDimensions);
  if (dimensions instanceof FieldIssue) return dimensions;
  // The SDK marks a point that holds no value (a gap, say after a restart): nothing to store, nothing wrong.
  if ((readInteger(dataPoint.flags) ?? 0) & noRecordedValueFlag) return [];
  if (kind === 'gauge') {
    // The common case, without the collector the other kinds use.
    const value = readNumberValue(dataPoint);
    if (value instanceof FieldIssue) return value;
    return [{ name, type: 'gauge', value, timestamp: times.timestamp, dimensions }];
  }
  const derived = new DerivedPoints(name, dimensions, times, tracker);
  if (kind === 'sum') return convertSum(data, dataPoint, derived);
  if (kind === 'summary') return convertSummary(dataPoint, derived);
  return convertHistogram(kind, data, dataPoint, derived);
}

/** When a data point was read (epoch ms), and the start of the interval it covers (0 when it gives none). */
interface PointTimes {
  readonly timestamp: number;
  readonly start: number;
}

function readTimes(dataPoint: Record<string, unknown>, window: TimeWindow): PointTimes | FieldIssue {
  const timeNanos = readUint64(dataPoint.timeUnixNano);
  if (timeNanos === undefined || timeNanos <= 0) {
    return new FieldIssue(
      'timeUnixNano',
      `must be a positive 64-bit integer of nanoseconds, got ${describeValue(dataPoint.timeUnixNano)}`,
    );
  }
  const timestamp = Math.floor(timeNanos / 1e6);
  const timeIssue = timeProblem(timestamp, window);
  if (timeIssue) return new FieldIssue('timeUnixNano', timeIssue);
  const startNanos = readUint64(dataPoint.startTimeUnixNano) ?? 0;
  return { timestamp, start: startNanos > 0 ? Math.floor(startNanos / 1e6) : 0 };
}

/** A data point's dimensions: its attributes written over a copy of the resource's (the point's win). */
function pointDimensions(
  dataPoint: Record<string, unknown>,
  resourceDimensions: Dimensions,
): Dimensions | FieldIssue {
  const merged: Record<string, string> = {};
  for (const key in resourceDimensions) merged[key] = resourceDimensions[key] as string;
  const read = readAttributes(dataPoint.attributes, false, merged);
  if (read instanceof FieldIssue) return read;
  let dimensionCount = 0;
  for (const _ in merged) dimensionCount += 1;
  if (dimensionCount > ingestLimits.maxDimensions) {
    return new FieldIssue(
      'attributes',
      `resource and point attributes make more than ${ingestLimits.maxDimensions} dimensions`,
    );
  }
  return merged;
}

/** Collects the points one data point derives: `name` or `name.suffix`, at its time, with its dimensions. */
class DerivedPoints {
  readonly points: MetricPoint[] = [];

  constructor(
    private readonly name: string,
    private readonly dimensions: Dimensions,
    private readonly times: PointTimes,
    private readonly tracker: CumulativeTracker,
  ) {}

  /** Adds a point (the name alone without a suffix); a value that is missing or not finite adds none. */
  add(suffix: string, type: MetricType, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    const { name, dimensions } = this;
    this.points.push({
      name: suffix ? `${name}.${suffix}` : name,
      type,
      value,
      timestamp: this.times.timestamp,
      dimensions,
    });
  }

  /**
   * How much cumulative values grew since the previous reading of the same series, start time and bucket
   * `layout` (see {@link increaseSince}); the reading is remembered for the next one.
   */
  increase(values: number[], layout = ''): { values: number[]; seconds: number } | undefined {
    const { timestamp, start } = this.times;
    const key = `${seriesKey(this.name, this.dimensions)}@${start}${layout}`;
    return increaseSince(this.tracker, key, timestamp, start, values);
  }
}

/**
 * A sum: with delta temporality a counter (the increase in the interval); cumulative and monotonic, a rate per
 * second since the previous reading; cumulative and not monotonic (an up-down counter), a gauge.
 */
function convertSum(
  data: Record<string, unknown>,
  dataPoint: Record<string, unknown>,
  derived: DerivedPoints,
): MetricPoint[] | FieldIssue {
  const value = readNumberValue(dataPoint);
  if (value instanceof FieldIssue) return value;
  const monotonic = data.isMonotonic === true;
  const aggregation = readTemporality(data.aggregationTemporality);
  if (aggregation instanceof FieldIssue) return aggregation;
  if (aggregation === temporality.delta) derived.add('', 'counter', value);
  else if (!monotonic) derived.add('', 'gauge', value);
  else {
    const increase = derived.increase([value]);
    if (increase && increase.seconds > 0)
      derived.add('rate', 'gauge', (increase.values[0] ?? 0) / increase.seconds);
  }
  return derived.points;
}

/**
 * A summary: its quantiles as they are (the client computed them), and, from the cumulative count and sum,
 * the rate of observations and their mean since the previous reading. Every quantile is checked before the
 * reading is remembered, so a refused point leaves the next one's increase as it was.
 */
function convertSummary(
  dataPoint: Record<string, unknown>,
  derived: DerivedPoints,
): MetricPoint[] | FieldIssue {
  const count = readUint64(dataPoint.count);
  const sum = readDouble(dataPoint.sum);
  if (count === undefined)
    return new FieldIssue('count', `must be a 64-bit integer, got ${describeValue(dataPoint.count)}`);
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
      return new FieldIssue(
        `quantileValues[${position}]`,
        'must have a quantile between 0 and 1 and a finite value',
      );
    }
    derived.add(quantileSuffix(quantile), 'timer', value);
  }
  const increase = derived.increase([count, sum ?? 0]);
  if (increase) {
    const [counted = 0, summed = 0] = increase.values;
    if (increase.seconds > 0) derived.add('rate', 'gauge', counted / increase.seconds);
    if (counted > 0 && sum !== undefined) derived.add('mean', 'timer', summed / counted);
  }
  return derived.points;
}

/**
 * A histogram (explicit or exponential buckets): with delta temporality its count, sum, mean, extremes and
 * percentiles as sent; cumulative, the rate, mean and percentiles of what it observed since the previous
 * reading (bucket by bucket, so the percentiles are those of the interval, not of all time).
 */
function convertHistogram(
  kind: 'histogram' | 'exponentialHistogram',
  data: Record<string, unknown>,
  dataPoint: Record<string, unknown>,
  derived: DerivedPoints,
): MetricPoint[] | FieldIssue {
  const histogram =
    kind === 'histogram' ? readExplicitHistogram(dataPoint) : readExponentialHistogram(dataPoint);
  if (histogram instanceof FieldIssue) return histogram;
  const aggregation = readTemporality(data.aggregationTemporality);
  if (aggregation instanceof FieldIssue) return aggregation;
  if (aggregation === temporality.delta) {
    derived.add('count', 'counter', histogram.count);
    derived.add('sum', 'counter', histogram.sum);
    if (histogram.count > 0) {
      if (histogram.sum !== undefined) derived.add('mean', 'timer', histogram.sum / histogram.count);
      derived.add('min', 'timer', histogram.buckets.min);
      derived.add('max', 'timer', histogram.buckets.max);
      addQuantiles(derived, histogram.buckets);
    }
    return derived.points;
  }
  const increase = derived.increase(
    [histogram.count, histogram.sum ?? 0, ...histogram.buckets.counts],
    histogram.layout,
  );
  if (!increase) return derived.points;
  const [counted = 0, summed = 0, ...counts] = increase.values;
  if (increase.seconds > 0) derived.add('rate', 'gauge', counted / increase.seconds);
  if (counted > 0) {
    if (histogram.sum !== undefined) derived.add('mean', 'timer', summed / counted);
    addQuantiles(derived, { ...histogram.buckets, counts });
  }
  return derived.points;
}

function addQuantiles(derived: DerivedPoints, buckets: BucketedHistogram): void {
  for (const quantile of histogramQuantiles)
    derived.add(quantileSuffix(quantile), 'timer', quantileFromBuckets(buckets, quantile));
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

function readExplicitHistogram(dataPoint: Record<string, unknown>): ReadHistogram | FieldIssue {
  const count = readUint64(dataPoint.count);
  if (count === undefined)
    return new FieldIssue('count', `must be a 64-bit integer, got ${describeValue(dataPoint.count)}`);
  const counts = readNumberList(dataPoint.bucketCounts, readUint64);
  const bounds = readNumberList(dataPoint.explicitBounds, readDouble);
  if (counts === undefined) return new FieldIssue('bucketCounts', 'must be an array of 64-bit integers');
  if (bounds === undefined) return new FieldIssue('explicitBounds', 'must be an array of numbers');
  if (counts.length > 0 && counts.length !== bounds.length + 1) {
    return new FieldIssue(
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

function readExponentialHistogram(dataPoint: Record<string, unknown>): ReadHistogram | FieldIssue {
  const count = readUint64(dataPoint.count);
  if (count === undefined)
    return new FieldIssue('count', `must be a 64-bit integer, got ${describeValue(dataPoint.count)}`);
  const scale = readInteger(dataPoint.scale) ?? 0;
  if (scale < -10 || scale > 20) return new FieldIssue('scale', `must be between -10 and 20, got ${scale}`);
  const side = (raw: unknown, field: string) => {
    const buckets = asObject(raw);
    const counts = readNumberList(buckets?.bucketCounts, readUint64);
    const offset = readInteger(buckets?.offset) ?? 0;
    return counts === undefined
      ? new FieldIssue(`${field}.bucketCounts`, 'must be an array of 64-bit integers')
      : { offset, counts };
  };
  const positive = side(dataPoint.positive, 'positive');
  const negative = side(dataPoint.negative, 'negative');
  if (positive instanceof FieldIssue) return positive;
  if (negative instanceof FieldIssue) return negative;
  const buckets = explicitFromExponential({
    scale,
    zeroCount: readUint64(dataPoint.zeroCount) ?? 0,
    positive,
    negative,
    min: finiteOrUndefined(dataPoint.min),
    max: finiteOrUndefined(dataPoint.max),
  });
  if (!buckets) return new FieldIssue('scale', 'gives bucket bounds beyond the range of a double');
  const sum = readDouble(dataPoint.sum);
  return {
    count,
    sum: sum !== undefined && Number.isFinite(sum) ? sum : undefined,
    buckets,
    layout: `|${scale}|${positive.offset}|${negative.offset}|${positive.counts.length}|${negative.counts.length}`,
  };
}

function readNumberValue(dataPoint: Record<string, unknown>): number | FieldIssue {
  if (dataPoint.asDouble !== undefined) {
    const value = readDouble(dataPoint.asDouble);
    if (value === undefined || !Number.isFinite(value)) {
      return new FieldIssue('asDouble', `must be a finite number, got ${describeValue(dataPoint.asDouble)}`);
    }
    return value;
  }
  if (dataPoint.asInt !== undefined) {
    const value = readInt64(dataPoint.asInt);
    if (value === undefined)
      return new FieldIssue('asInt', `must be a 64-bit integer, got ${describeValue(dataPoint.asInt)}`);
    return value;
  }
  return new FieldIssue('asDouble', 'a data point needs asDouble or asInt');
}

function readTemporality(raw: unknown): number | FieldIssue {
  if (raw === 1 || raw === 'AGGREGATION_TEMPORALITY_DELTA') return temporality.delta;
  if (raw === 2 || raw === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return temporality.cumulative;
  return new FieldIssue(
    'aggregationTemporality',
    `must be 1 (delta) or 2 (cumulative), got ${describeValue(raw)}`,
  );
}

/** Attributes to dimensions; empty values are left out (they name nothing). */
function readAttributes(
  raw: unknown,
  resource: boolean,
  dimensions: Record<string, string> = {},
): { dimensions: Record<string, string> } | FieldIssue {
  if (raw === undefined || raw === null) return { dimensions };
  if (!Array.isArray(raw)) return new FieldIssue('attributes', `must be an array, got ${describeValue(raw)}`);
  for (let index = 0; index < raw.length; index++) {
    const attribute = asObject(raw[index]);
    const key = attribute?.key;
    if (typeof key !== 'string')
      return new FieldIssue(`attributes[${index}].key`, `must be a string, got ${describeValue(key)}`);
    if (resource && volatileResourceAttributes.has(key)) continue;
    const value = renderAnyValue(attribute?.value, 0);
    if (value instanceof FieldIssue) return new FieldIssue(`attributes[${index}].value`, value.message);
    if (value === undefined || value === '') continue;
    const problem = dimensionProblem(key, value);
    if (problem) return new FieldIssue(`attributes[${index}]`, `${key.slice(0, 64)}: ${problem}`);
    dimensions[key] = value;
  }
  return { dimensions };
}

/** An AnyValue as a dimension value: scalars as text, arrays and key-value lists as compact JSON. */
function renderAnyValue(raw: unknown, depth: number): string | undefined | FieldIssue {
  const value = asObject(raw);
  if (!value) return undefined;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return String(value.boolValue);
  if (value.intValue !== undefined) {
    const integer = readInt64(value.intValue);
    return integer === undefined
      ? new FieldIssue('', 'intValue must be a 64-bit integer')
      : String(value.intValue);
  }
  if (value.doubleValue !== undefined) {
    const double = readDouble(value.doubleValue);
    return double === undefined ? new FieldIssue('', 'doubleValue must be a number') : String(double);
  }
  if (typeof value.bytesValue === 'string') return value.bytesValue;
  if (depth >= maxRenderedAttributeDepth)
    return new FieldIssue('', `must nest at most ${maxRenderedAttributeDepth} levels`);
  const array = asObject(value.arrayValue);
  if (array) {
    const parts: string[] = [];
    for (const element of asList(array.values)) {
      const rendered = renderAnyValue(element, depth + 1);
      if (rendered instanceof FieldIssue) return rendered;
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
      if (rendered instanceof FieldIssue) return rendered;
      parts.push(`${JSON.stringify(String(pair?.key ?? ''))}:${JSON.stringify(rendered ?? null)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return undefined;
}

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
