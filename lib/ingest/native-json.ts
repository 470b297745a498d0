import { describeValue, type Problem, ValidationError } from '../errors.ts';
import type { MetricPoint, MetricType } from '../metrics/point.ts';
import {
  nameProblem,
  type ParsedBatch,
  readDimensions,
  readTimestamp,
  typeProblem,
  valueProblem,
} from './validate.ts';

/**
 * Parses Normalcy's native JSON body: `{"metrics":[{"name","type","value","timestamp","dimensions"}]}`.
 * `type` defaults to gauge, `timestamp` (epoch ms or ISO-8601) to `now`. Every item is validated; bad items
 * are reported by index and field and left out. Throws ValidationError when the body itself is unusable. O(n).
 */
export function parseNativeJson(body: string, now: number): ParsedBatch {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, [
      { field: 'body', message: 'must be a JSON object like {"metrics":[...]}' },
    ]);
  }
  const items = Array.isArray(document) ? document : (document as { metrics?: unknown } | null)?.metrics;
  if (!Array.isArray(items)) {
    throw new ValidationError('the body must be a JSON object with a "metrics" array', [
      { field: 'metrics', message: `must be an array, got ${describeValue(items)}` },
    ]);
  }
  const points: MetricPoint[] = [];
  const problems: Problem[] = [];
  for (let index = 0; index < items.length; index++) {
    const result = readItem(items[index], now);
    if ('field' in result) problems.push({ index, ...result });
    else points.push(result);
  }
  return { points, problems, itemCount: items.length };
}

function readItem(item: unknown, now: number): MetricPoint | { field: string; message: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { field: '', message: `each metric must be an object, got ${describeValue(item)}` };
  }
  const {
    name,
    type = 'gauge',
    value,
    timestamp,
    dimensions: rawDimensions,
  } = item as Record<string, unknown>;
  const problem =
    fieldProblem('name', nameProblem(name)) ??
    fieldProblem('type', typeProblem(type)) ??
    fieldProblem('value', valueProblem(value));
  if (problem) return problem;
  const time = timestamp === undefined ? now : readTimestamp(timestamp, now);
  if (typeof time === 'string') return { field: 'timestamp', message: time };
  const dimensions = readDimensions(rawDimensions);
  if ('field' in dimensions) return dimensions;
  return {
    name: name as string,
    type: type as MetricType,
    value: value as number,
    timestamp: time,
    dimensions: dimensions.dimensions,
  };
}

const fieldProblem = (field: string, message: string | undefined) =>
  message === undefined ? undefined : { field, message };
