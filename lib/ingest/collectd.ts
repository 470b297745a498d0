/**
 * collectd's write_http plugin with `Format "JSON"`: an array of value lists
 * `{values, dstypes, dsnames, time, interval, host, plugin, plugin_instance, type, type_instance}`.
 *
 * Each data source becomes one gauge series named `plugin[.type][.dsname]` (the type is left out when it
 * repeats the plugin, the data-source name when it is `value`), with dimensions `host`, `plugin_instance`
 * and `type_instance` (when not empty). Gauges are stored as sent (`null`, collectd's NaN, is skipped).
 * Counters and derives are raw totals unless collectd stored rates (`StoreRates true`, announced with
 * `?storeRates=true` on the URL, since the JSON does not say): totals become per-second rates against the
 * previous value of the same series, so the first value after a start only sets the baseline, and a counter
 * that went down (a wrap or restart) sets a new one. Absolute values become rates over the interval.
 */
import { describeValue, ProblemList, ValidationError } from '../errors.ts';
import type { MetricPoint } from '../metrics/point.ts';
import { seriesKey } from '../metrics/series.ts';
import { type CumulativeTracker, processTracker } from './cumulative.ts';
import { asObject, FieldIssue, parseJsonBody } from './json-reading.ts';
import { dimensionProblem, nameProblem, type ParsedBatch, type TimeWindow, timeProblem } from './validate.ts';

export interface CollectdOptions {
  /** collectd sent rates (`StoreRates true`), not raw counter totals. */
  readonly storeRates: boolean;
  readonly tracker?: CumulativeTracker;
}

const dataSourceTypes = new Set(['gauge', 'counter', 'derive', 'absolute']);

/** Parses a write_http JSON body. Throws ValidationError when it is not a JSON array. O(values). */
export function parseCollectdJson(body: string, window: TimeWindow, options: CollectdOptions): ParsedBatch {
  const document = parseJsonBody(body, 'must be a JSON array of collectd value lists');
  if (!Array.isArray(document)) {
    throw new ValidationError('the body must be a JSON array of collectd value lists', [
      { field: 'body', message: `must be an array, got ${describeValue(document)}` },
    ]);
  }
  const tracker = options.tracker ?? processTracker;
  const points: MetricPoint[] = [];
  const pointItems: number[] = [];
  const problems = new ProblemList();
  for (let index = 0; index < document.length; index++) {
    const derived = readValueList(document[index], window, options.storeRates, tracker);
    if (derived instanceof FieldIssue) problems.add(index, derived.field, derived.message);
    else {
      for (const point of derived.points) {
        points.push(point);
        pointItems.push(index);
      }
    }
  }
  return {
    points,
    problems: problems.listed,
    problemCount: problems.count,
    itemCount: document.length,
    pointItems,
  };
}

function readValueList(
  raw: unknown,
  window: TimeWindow,
  storeRates: boolean,
  tracker: CumulativeTracker,
): { points: MetricPoint[] } | FieldIssue {
  const list = asObject(raw);
  if (!list) return new FieldIssue('', `each value list must be an object, got ${describeValue(raw)}`);
  const { values, dstypes, dsnames, time, interval, plugin, type } = list;
  if (!Array.isArray(values) || !Array.isArray(dstypes) || !Array.isArray(dsnames)) {
    return new FieldIssue('values', 'values, dstypes and dsnames must be arrays');
  }
  if (values.length !== dstypes.length || values.length !== dsnames.length) {
    return new FieldIssue('values', 'values, dstypes and dsnames must have the same length');
  }
  for (const [field, text] of [
    ['plugin', plugin],
    ['type', type],
  ] as const) {
    if (typeof text !== 'string' || text === '')
      return new FieldIssue(field, `must be a non-empty string, got ${describeValue(text)}`);
  }
  if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) {
    return new FieldIssue('time', `must be epoch seconds, got ${describeValue(time)}`);
  }
  const timestamp = Math.round(time * 1000);
  const timeIssue = timeProblem(timestamp, window);
  if (timeIssue) return new FieldIssue('time', timeIssue);
  const intervalSeconds = typeof interval === 'number' && interval > 0 ? interval : undefined;
  const dimensions: Record<string, string> = {};
  for (const key of ['host', 'plugin_instance', 'type_instance'] as const) {
    const value = list[key];
    if (value === undefined || value === '') continue;
    const problem = dimensionProblem(key, value);
    if (problem) return new FieldIssue(key, problem);
    dimensions[key] = value as string;
  }
  const base = type === plugin ? (plugin as string) : `${plugin as string}.${type as string}`;
  const points: MetricPoint[] = [];
  for (let source = 0; source < values.length; source++) {
    const dsType = dstypes[source];
    const dsName = dsnames[source];
    const value: unknown = values[source];
    if (typeof dsType !== 'string' || !dataSourceTypes.has(dsType)) {
      return new FieldIssue(
        `dstypes[${source}]`,
        `must be gauge, counter, derive or absolute, got ${describeValue(dsType)}`,
      );
    }
    if (typeof dsName !== 'string' || dsName === '')
      return new FieldIssue(`dsnames[${source}]`, 'must be a non-empty string');
    const name = dsName === 'value' ? base : `${base}.${dsName}`;
    const nameIssue = nameProblem(name);
    if (nameIssue) return new FieldIssue('plugin', `the metric name ${nameIssue}`);
    // collectd writes a gauge's NaN as null: no measurement in this interval.
    if (value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return new FieldIssue(`values[${source}]`, `must be a finite number, got ${describeValue(value)}`);
    }
    const rate =
      storeRates || dsType === 'gauge'
        ? value
        : toRate(dsType, value, name, dimensions, timestamp, intervalSeconds, tracker);
    if (rate === undefined) continue;
    points.push({ name, type: 'gauge', value: rate, timestamp, dimensions });
  }
  return { points };
}

/** The per-second rate of a raw counter, derive or absolute value; undefined while there is no baseline. */
function toRate(
  dsType: string,
  value: number,
  name: string,
  dimensions: Record<string, string>,
  timestamp: number,
  intervalSeconds: number | undefined,
  tracker: CumulativeTracker,
): number | undefined {
  if (dsType === 'absolute') return intervalSeconds === undefined ? undefined : value / intervalSeconds;
  const previous = tracker.advance(`collectd|${seriesKey(name, dimensions)}`, { timestamp, values: [value] });
  if (!previous) return undefined;
  const increase = value - (previous.values[0] ?? 0);
  if (dsType === 'counter' && increase < 0) return undefined;
  return increase / ((timestamp - previous.timestamp) / 1000);
}
