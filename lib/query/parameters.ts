import { ValidationError } from '../errors.ts';
import { ingestLimits } from '../metrics/limits.ts';
import { bucketStart, defaultStepMs } from '../metrics/step.ts';
import { readTimestamp } from '../metrics/timestamp.ts';
import type { AnomalyPosition, AnomalyQuery } from '../ports/query-store.ts';
import type { SeriesPosition, SeriesQuery } from '../ports/series-catalog.ts';
import type { SeriesInfo } from '../ports/series-store.ts';
import { dayMs } from '../time.ts';
import { decodeCursor } from './cursor.ts';
import { parseDuration } from './duration.ts';
import { automaticStep, defaultTargetPoints, maxPointsPerResponse, stepProblem } from './step.ts';

/** Query string parameters as the HTTP API event carries them. */
export type QueryParameters = Readonly<Record<string, string | undefined>>;

export const seriesPageLimits = { default: 100, max: 500 } as const;
export const anomalyPageLimits = { default: 100, max: 1000 } as const;
/** `dimension[host]=web-*` (OpenAPI's deepObject style): a filter on one dimension. */
const dimensionParameter = /^dimension\[(.*)\]$/s;

/** Refuses parameters a route does not know, so a typo (`?prefx=`) is a 400 instead of a silent no-op. */
function rejectUnknown(parameters: QueryParameters, known: readonly string[], allowDimensions = false): void {
  const unknown = Object.keys(parameters).filter(
    (name) => !known.includes(name) && !(allowDimensions && dimensionParameter.test(name)),
  );
  if (unknown.length === 0) return;
  const accepted = [...known, ...(allowDimensions ? ['dimension[<key>]'] : [])].join(', ');
  throw new ValidationError(`unknown query parameter "${unknown[0]}"; this route accepts ${accepted}`, [
    ...unknown.map((name) => ({ field: name, message: 'is not a parameter of this route' })),
  ]);
}

function invalid(field: string, message: string): never {
  throw new ValidationError(`query parameter "${field}" ${message}`, [{ field, message }]);
}

function integerParameter(
  parameters: QueryParameters,
  field: string,
  limits: { default: number; min: number; max: number },
): number {
  const raw = parameters[field];
  if (raw === undefined || raw === '') return limits.default;
  if (!/^\d+$/.test(raw)) invalid(field, `must be a whole number from ${limits.min} to ${limits.max}`);
  const value = Number(raw);
  if (value < limits.min || value > limits.max) {
    invalid(field, `must be from ${limits.min} to ${limits.max}, got ${value}`);
  }
  return value;
}

function textParameter(parameters: QueryParameters, field: string): string | undefined {
  const raw = parameters[field];
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > ingestLimits.maxNameLength) {
    invalid(field, `must be at most ${ingestLimits.maxNameLength} characters`);
  }
  return raw;
}

const isSeriesPosition = (value: unknown): value is SeriesPosition =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as SeriesPosition).name === 'string' &&
  typeof (value as SeriesPosition).id === 'string';

const isAnomalyPosition = (value: unknown): value is AnomalyPosition =>
  typeof value === 'object' &&
  value !== null &&
  Number.isSafeInteger((value as AnomalyPosition).timestamp) &&
  typeof (value as AnomalyPosition).seriesId === 'string';

/** `GET /v1/series`: prefix, pattern, dimension[<key>], anomalous, limit, cursor. */
export function readSeriesQuery(parameters: QueryParameters): SeriesQuery {
  rejectUnknown(parameters, ['prefix', 'pattern', 'anomalous', 'limit', 'cursor'], true);
  const dimensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    const key = dimensionParameter.exec(name)?.[1];
    if (key === undefined) continue;
    if (key === '') invalid(name, 'needs a dimension name: dimension[host]=web-1');
    if (value === undefined || value === '') invalid(name, 'needs a value (a glob such as web-*)');
    dimensions[key] = value;
  }
  const anomalous = parameters.anomalous;
  if (anomalous !== undefined && anomalous !== 'true' && anomalous !== 'false') {
    invalid('anomalous', 'must be true or false');
  }
  const cursor = parameters.cursor;
  return {
    prefix: textParameter(parameters, 'prefix'),
    pattern: textParameter(parameters, 'pattern'),
    dimensions: Object.keys(dimensions).length > 0 ? dimensions : undefined,
    anomalous: anomalous === undefined ? undefined : anomalous === 'true',
    limit: integerParameter(parameters, 'limit', { ...seriesPageLimits, min: 1 }),
    after: cursor ? decodeCursor(cursor, isSeriesPosition) : undefined,
  };
}

/** The buckets a points request asks for: a range aligned to whole steps, and the step. */
export interface PointsWindow {
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  /** Whether the step was chosen automatically. */
  readonly automatic: boolean;
}

/**
 * `GET /v1/series/{id}/points`: from, to, step, maxPoints. Without `step`, the smallest nice step giving at
 * most `maxPoints` buckets (default 2,000); with one, it must suit the series and stay under the cap. The
 * range is widened to whole steps so that the first and last buckets are complete.
 */
export function readPointsWindow(parameters: QueryParameters, series: SeriesInfo, now: number): PointsWindow {
  rejectUnknown(parameters, ['from', 'to', 'step', 'maxPoints']);
  const range = timeRange(parameters, now);
  const seriesStepMs = series.stepMs ?? defaultStepMs;
  const rawStep = parameters.step;
  let stepMs: number;
  if (rawStep === undefined || rawStep === '') {
    const target = integerParameter(parameters, 'maxPoints', {
      default: defaultTargetPoints,
      min: 1,
      max: maxPointsPerResponse,
    });
    stepMs = automaticStep(range.to - range.from, seriesStepMs, target);
  } else {
    if (parameters.maxPoints !== undefined) invalid('maxPoints', 'applies only when no step is given');
    const parsed = parseDuration(rawStep);
    if (parsed === undefined || parsed <= 0) {
      invalid('step', `must be a duration such as 5m, 1h, 1d or milliseconds, got "${rawStep.slice(0, 40)}"`);
    }
    stepMs = parsed;
  }
  const from = bucketStart(range.from, stepMs);
  const to = Math.ceil(range.to / stepMs) * stepMs;
  const automatic = rawStep === undefined || rawStep === '';
  const problem = automatic ? undefined : stepProblem(stepMs, seriesStepMs, to - from);
  if (problem) invalid('step', problem);
  return { from, to, stepMs, automatic };
}

/** The `series` parameter (a series id, as `GET /v1/series` lists them), when given. */
export function seriesParameter(parameters: QueryParameters): string | undefined {
  const seriesId = parameters.series;
  if (seriesId === undefined || seriesId === '') return undefined;
  if (!/^[0-9a-f]{16}$/.test(seriesId)) {
    invalid('series', 'must be a series id (16 hex digits, as GET /v1/series lists them)');
  }
  return seriesId;
}

/** `GET /v1/anomalies`: from, to, series, limit, cursor. */
export function readAnomalyQuery(parameters: QueryParameters, now: number): AnomalyQuery {
  rejectUnknown(parameters, ['from', 'to', 'series', 'limit', 'cursor']);
  const range = timeRange(parameters, now);
  const seriesId = seriesParameter(parameters);
  const cursor = parameters.cursor;
  return {
    ...range,
    seriesId,
    limit: integerParameter(parameters, 'limit', { ...anomalyPageLimits, min: 1 }),
    after: cursor ? decodeCursor(cursor, isAnomalyPosition) : undefined,
  };
}

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

const maxRangeMs = 400 * dayMs;

/**
 * Reads `from` and `to` query parameters (epoch ms or ISO-8601). `to` defaults to now, `from` to a day
 * before `to`. Throws ValidationError naming the parameter that is wrong.
 */
export function timeRange(parameters: Readonly<Record<string, string | undefined>>, now: number): TimeRange {
  const read = (name: 'from' | 'to', fallback: number): number => {
    const raw = parameters[name];
    if (raw === undefined || raw === '') return fallback;
    const parsed = readTimestamp(/^\d+$/.test(raw) ? Number(raw) : raw, Number.POSITIVE_INFINITY);
    if (typeof parsed === 'string') {
      throw new ValidationError(`query parameter "${name}" ${parsed}`, [{ field: name, message: parsed }]);
    }
    return parsed;
  };
  const to = read('to', now);
  const from = read('from', to - dayMs);
  if (from >= to)
    throw new ValidationError('"from" must be before "to"', [{ field: 'from', message: 'after "to"' }]);
  if (to - from > maxRangeMs) {
    throw new ValidationError('the time range is longer than 400 days', [
      { field: 'from', message: 'too early' },
    ]);
  }
  return { from, to };
}
