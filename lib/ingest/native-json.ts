import { describeValue, ProblemList, ValidationError } from '../errors.ts';
import { ingestLimits } from '../metrics/limits.ts';
import type { Dimensions, MetricPoint, MetricType } from '../metrics/point.ts';
import { readTimestamp } from '../metrics/timestamp.ts';
import { asObject, FieldIssue, parseJsonBody } from './json-reading.ts';
import {
  dimensionProblem,
  nameProblem,
  type ParsedBatch,
  type TimeWindow,
  timeProblem,
  timeWindow,
  typeProblem,
  valueProblem,
} from './validate.ts';

/**
 * Parses Normalcy's native JSON body: `{"metrics":[item, ...]}` where an item is either one point,
 * `{"name","type","value","timestamp","dimensions"}`, or the compact bulk form for backfill, many points of
 * one series: `{"name","type","dimensions","points":[[timestamp, value], ...]}`. `type` defaults to gauge,
 * `timestamp` (epoch ms or ISO-8601) to now. Every item (and every point of a bulk item) is validated; bad ones
 * are reported by item index and field and left out, and so is an item with a field a metric does not have
 * (named, as `{index: 3, field: "valu"}`). Throws ValidationError when the body itself is unusable or has a
 * field other than `metrics`.
 * O(n) in the body's size; the hot path allocates only the points it returns.
 *
 * @example parseNativeJson('{"metrics":[{"name":"a","points":[[1764028800000,1]]}]}', now).points.length // 1
 */
export function parseNativeJson(body: string, window: TimeWindow | number): ParsedBatch {
  const times = typeof window === 'number' ? timeWindow(window) : window;
  const document = parseJsonBody(body, 'must be a JSON object like {"metrics":[...]}');
  const items = Array.isArray(document) ? document : (document as { metrics?: unknown } | null)?.metrics;
  const bodyProblems = unknownBodyFields(document);
  if (!Array.isArray(items)) {
    bodyProblems.add(undefined, 'metrics', `must be an array, got ${describeValue(items)}`);
  }
  if (!Array.isArray(items) || bodyProblems.count > 0) {
    const first = bodyProblems.listed[0];
    throw new ValidationError(
      `the body must be a JSON object with a "metrics" array and nothing else${first ? `: ${first.field} ${first.message}` : ''}`,
      bodyProblems,
    );
  }
  const points: MetricPoint[] = [];
  const problems = new ProblemList();
  // Only bulk items make a point's item differ from its position; the list is built once one appears.
  let pointItems: number[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const fields = asObject(items[index]);
    if (!fields) {
      problems.add(index, '', `each metric must be an object, got ${describeValue(items[index])}`);
      continue;
    }
    const unknown = unknownItemField(fields);
    if (unknown) {
      problems.add(index, unknown.field, unknown.message);
      continue;
    }
    if (fields.points !== undefined) {
      pointItems ??= points.map((_, position) => position);
      readBulkItem(fields, index, times, points, problems, pointItems);
      continue;
    }
    const result = readSingleItem(fields, times);
    if (result instanceof FieldIssue) {
      problems.add(index, result.field, result.message);
    } else {
      points.push(result);
      pointItems?.push(index);
    }
  }
  const reported = { problems: problems.listed, problemCount: problems.count };
  return pointItems
    ? { points, ...reported, itemCount: items.length, pointItems }
    : { points, ...reported, itemCount: items.length };
}

/**
 * The body's fields other than `metrics`, each a problem: `{"metric": [...]}` is named as the typo it is.
 * An array body has none.
 */
function unknownBodyFields(document: unknown): ProblemList {
  const problems = new ProblemList();
  const body = asObject(document);
  if (!body) return problems;
  for (const key in body) {
    if (key !== 'metrics') problems.add(undefined, key, 'is not a field of the body: send {"metrics":[...]}');
  }
  return problems;
}

/**
 * An item's first field that is not one of a metric's, refused rather than ignored: a typo such as
 * `timestmp` or `dimension` would otherwise store the point at another time or in another series. One
 * problem per item (its count is the items left out); the message names the item's other unknown fields.
 * O(fields), a switch on the key.
 */
function unknownItemField(item: Record<string, unknown>): FieldIssue | undefined {
  let first: string | undefined;
  const others: string[] = [];
  for (const key in item) {
    switch (key) {
      case 'name':
      case 'type':
      case 'value':
      case 'timestamp':
      case 'dimensions':
      case 'points':
        continue;
      default:
        if (first === undefined) first = key;
        else if (others.length < 5) others.push(JSON.stringify(key.slice(0, 64)));
    }
  }
  if (first === undefined) return undefined;
  const alsoUnknown =
    others.length > 0 ? ` (nor ${others.length > 1 ? 'are' : 'is'} ${others.join(', ')})` : '';
  return new FieldIssue(
    first,
    `is not a field of a metric${alsoUnknown}: the fields are name, type, value, timestamp, dimensions, or points for the bulk form`,
  );
}

function readSingleItem(item: Record<string, unknown>, window: TimeWindow): MetricPoint | FieldIssue {
  const name = item.name;
  const type = item.type ?? 'gauge';
  const value = item.value;
  const seriesIssue = checkSeries(name, type);
  if (seriesIssue) return seriesIssue;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return new FieldIssue('value', valueProblem(value) ?? 'must be a finite number');
  }
  const time = readTime(item.timestamp, window);
  if (typeof time === 'string') return new FieldIssue('timestamp', time);
  const dimensions = checkDimensions(item.dimensions);
  if (dimensions instanceof FieldIssue) return dimensions;
  return { name: name as string, type: type as MetricType, value, timestamp: time, dimensions };
}

function readBulkItem(
  item: Record<string, unknown>,
  index: number,
  window: TimeWindow,
  points: MetricPoint[],
  problems: ProblemList,
  pointItems: number[],
): void {
  const { name, type = 'gauge', points: pairs } = item;
  const issue =
    checkSeries(name, type) ??
    (item.value === undefined
      ? undefined
      : new FieldIssue(
          'value',
          'must not be given beside "points": a bulk item carries its values in "points"',
        ));
  if (issue) {
    problems.add(index, issue.field, issue.message);
    return;
  }
  if (!Array.isArray(pairs)) {
    problems.add(
      index,
      'points',
      `must be an array of [timestamp, value] pairs, got ${describeValue(pairs)}`,
    );
    return;
  }
  const dimensions = checkDimensions(item.dimensions);
  if (dimensions instanceof FieldIssue) {
    problems.add(index, dimensions.field, dimensions.message);
    return;
  }
  for (let position = 0; position < pairs.length; position++) {
    const pair: unknown = pairs[position];
    if (!Array.isArray(pair) || pair.length !== 2) {
      problems.add(
        index,
        `points[${position}]`,
        `must be a [timestamp, value] pair, got ${describeValue(pair)}`,
      );
      continue;
    }
    const time = readTime(pair[0], window);
    if (typeof time === 'string') {
      problems.add(index, `points[${position}][0]`, time);
      continue;
    }
    const value: unknown = pair[1];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.add(index, `points[${position}][1]`, valueProblem(value) ?? 'must be a finite number');
      continue;
    }
    points.push({ name: name as string, type: type as MetricType, value, timestamp: time, dimensions });
    pointItems.push(index);
  }
}

function checkSeries(name: unknown, type: unknown): FieldIssue | undefined {
  const nameIssue = nameProblem(name);
  if (nameIssue) return new FieldIssue('name', nameIssue);
  if (type !== 'gauge' && type !== 'counter' && type !== 'timer') {
    return new FieldIssue('type', typeProblem(type) ?? 'is not a metric type');
  }
  return undefined;
}

function readTime(raw: unknown, window: TimeWindow): number | string {
  if (raw === undefined) return window.now;
  const time = readTimestamp(raw, window.now);
  if (typeof time === 'string') return time;
  return timeProblem(time, window) ?? time;
}

const noDimensions: Dimensions = Object.freeze({});

/**
 * Checks a dimensions object and returns it as is: JSON.parse made it, so it is the request's own copy and
 * needs no copying (the hot path's main saving).
 */
function checkDimensions(raw: unknown): Dimensions | FieldIssue {
  if (raw === undefined || raw === null) return noDimensions;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return new FieldIssue('dimensions', `must be an object of strings, got ${describeValue(raw)}`);
  }
  const dimensions = raw as Record<string, unknown>;
  let count = 0;
  for (const key in dimensions) {
    count += 1;
    if (count > ingestLimits.maxDimensions) {
      return new FieldIssue('dimensions', `must have at most ${ingestLimits.maxDimensions} entries`);
    }
    const problem = dimensionProblem(key, dimensions[key]);
    if (problem) return new FieldIssue(`dimensions.${key.slice(0, 64)}`, problem);
  }
  return dimensions as Dimensions;
}
