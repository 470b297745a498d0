/**
 * The Netuitive ingest payload, as the Netuitive agents and clients (netuitive-client-python, netuitive-
 * statsd, the Diamond handler, statsd-netuitive-backend) POST it to `/ingest/{apiKey}`: a JSON array of
 * elements `{id, name, type, tags:[{name,value}], attributes, relations, metrics:[{id, type, tags}],
 * samples:[{metricId, timestamp, val, min, max, avg, sum, cnt}]}`, timestamps in epoch ms.
 *
 * Each sample becomes a point of the series named by its `metricId`, with the element's id (`element`) and
 * tags, and the metric's own tags, as dimensions. The metric's `statsdType` tag gives the type: `c` counter,
 * `ms` and `h` timer, `g` and `s` gauge (without it, a COUNTER metric is a counter, anything else a gauge).
 * A sample's aggregates (min, max, avg, sum, cnt: what netuitive-statsd sends for counters and timers)
 * become the series `metricId.min`, `.max`, `.mean`, `.sum` and `.count` beside it.
 */
import { describeValue, ProblemList, ValidationError } from '../errors.ts';
import { ingestLimits } from '../metrics/limits.ts';
import type { MetricPoint, MetricType } from '../metrics/point.ts';
import { readTimestamp } from '../metrics/timestamp.ts';
import { asList, asObject, FieldIssue, parseJsonBody } from './json-reading.ts';
import { dimensionProblem, nameProblem, type ParsedBatch, type TimeWindow, timeProblem } from './validate.ts';

const statsdTypes: Record<string, MetricType> = {
  c: 'counter',
  g: 'gauge',
  s: 'gauge',
  ms: 'timer',
  h: 'timer',
};

/** Aggregates of a sample, the suffix of their series and their type. */
const aggregates = [
  ['min', 'min', 'timer'],
  ['max', 'max', 'timer'],
  ['avg', 'mean', 'timer'],
  ['sum', 'sum', 'timer'],
  ['cnt', 'count', 'counter'],
] as const;

/** Parses a Netuitive element array. Throws ValidationError when it is not JSON or not an array. O(samples). */
export function parseNetuitive(body: string, window: TimeWindow): ParsedBatch {
  const document = parseJsonBody(body, 'must be a JSON array of Netuitive elements');
  const elements = Array.isArray(document)
    ? document
    : document && typeof document === 'object'
      ? [document]
      : undefined;
  if (!elements) {
    throw new ValidationError('the body must be a JSON array of Netuitive elements', [
      { field: 'body', message: `must be an array, got ${describeValue(document)}` },
    ]);
  }
  const points: MetricPoint[] = [];
  const pointItems: number[] = [];
  const problems = new ProblemList();
  for (let index = 0; index < elements.length; index++) {
    const before = points.length;
    readElement(elements[index], window, points, (field, message) => {
      problems.add(index, field, message);
      return undefined;
    });
    for (let position = before; position < points.length; position++) pointItems.push(index);
  }
  return {
    points,
    problems: problems.listed,
    problemCount: problems.count,
    itemCount: elements.length,
    pointItems,
  };
}

/** Records a problem with the element; returns undefined so that `return report(...)` ends a reading. */
type Report = (field: string, message: string) => undefined;

function readElement(raw: unknown, window: TimeWindow, points: MetricPoint[], report: Report): undefined {
  const element = asObject(raw);
  if (!element) return report('', `each element must be an object, got ${describeValue(raw)}`);
  const elementDimensions: Record<string, string> = {};
  const tagIssue = addTags(elementDimensions, element.tags, 'tags');
  if (tagIssue) return report(tagIssue.field, tagIssue.message);
  const id = element.id ?? element.name;
  if (id !== undefined) {
    const problem = dimensionProblem('element', id);
    if (problem) return report('id', problem);
    elementDimensions.element = id as string;
  }
  const metrics = new Map<string, { type: MetricType; dimensions: Record<string, string> }>();
  const metricList = element.metrics ?? [];
  if (!Array.isArray(metricList))
    return report('metrics', `must be an array, got ${describeValue(metricList)}`);
  for (let position = 0; position < metricList.length; position++) {
    const metric = asObject(metricList[position]);
    if (typeof metric?.id !== 'string') {
      report(`metrics[${position}].id`, `must be a string, got ${describeValue(metric?.id)}`);
      continue;
    }
    const dimensions = { ...elementDimensions };
    const issue = addTags(dimensions, metric.tags, `metrics[${position}].tags`, 'statsdType');
    if (issue) {
      report(issue.field, issue.message);
      continue;
    }
    const statsdType = asList(metric.tags)
      .map(asObject)
      .find((tag) => tag?.name === 'statsdType')?.value;
    const type =
      (typeof statsdType === 'string' ? statsdTypes[statsdType] : undefined) ??
      (String(metric.type).toUpperCase() === 'COUNTER' ? 'counter' : 'gauge');
    metrics.set(metric.id, { type, dimensions });
  }
  const samples = element.samples ?? [];
  if (!Array.isArray(samples)) return report('samples', `must be an array, got ${describeValue(samples)}`);
  for (let position = 0; position < samples.length; position++) {
    const sample = asObject(samples[position]);
    const field = `samples[${position}]`;
    if (!sample) {
      report(field, `must be an object, got ${describeValue(samples[position])}`);
      continue;
    }
    const name = sample.metricId;
    const nameIssue = nameProblem(name);
    if (nameIssue) {
      report(`${field}.metricId`, nameIssue);
      continue;
    }
    const timestamp = readTimestamp(sample.timestamp, window.now);
    const timeIssue = typeof timestamp === 'string' ? timestamp : timeProblem(timestamp, window);
    if (timeIssue || typeof timestamp === 'string') {
      report(`${field}.timestamp`, timeIssue ?? 'is not a timestamp');
      continue;
    }
    const metric = metrics.get(name as string) ?? { type: 'gauge' as const, dimensions: elementDimensions };
    const derived: MetricPoint[] = [];
    let bad: string | undefined;
    const add = (key: string, suffix: string, type: MetricType) => {
      const value = sample[key];
      if (value === undefined || value === null) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        bad ??= key;
        return;
      }
      derived.push({
        name: suffix ? `${name}.${suffix}` : (name as string),
        type,
        value,
        timestamp,
        dimensions: metric.dimensions,
      });
    };
    add('val', '', metric.type);
    for (const [key, suffix, type] of aggregates) add(key, suffix, type);
    if (bad !== undefined) {
      report(`${field}.${bad}`, `must be a finite number, got ${describeValue(sample[bad])}`);
      continue;
    }
    if (derived.length === 0) {
      report(`${field}.val`, 'a sample needs val (or min, max, avg, sum, cnt)');
      continue;
    }
    points.push(...derived);
  }
}

/** Adds `[{name, value}]` tags to dimensions, leaving out `skip`. */
function addTags(
  dimensions: Record<string, string>,
  raw: unknown,
  field: string,
  skip?: string,
): FieldIssue | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    return new FieldIssue(field, `must be an array of {name, value}, got ${describeValue(raw)}`);
  for (let position = 0; position < raw.length; position++) {
    const tag = asObject(raw[position]);
    const name = tag?.name;
    if (typeof name !== 'string')
      return new FieldIssue(`${field}[${position}].name`, `must be a string, got ${describeValue(name)}`);
    if (name === skip) continue;
    const value =
      typeof tag?.value === 'number' || typeof tag?.value === 'boolean' ? String(tag.value) : tag?.value;
    const problem = dimensionProblem(name, value);
    if (problem) return new FieldIssue(`${field}[${position}].value`, `${name.slice(0, 64)}: ${problem}`);
    dimensions[name] = value as string;
    if (Object.keys(dimensions).length > ingestLimits.maxDimensions) {
      return new FieldIssue(
        field,
        `element and metric tags make more than ${ingestLimits.maxDimensions} dimensions`,
      );
    }
  }
  return undefined;
}
