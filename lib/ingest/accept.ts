import { HttpError, type Problem, ProblemList, ValidationError } from '../errors.ts';
import { clampToFinite } from '../metrics/finite.ts';
import { isBackfill } from '../metrics/live-window.ts';
import type { MetricPoint, SeriesPoint } from '../metrics/point.ts';
import type { MetricStore } from '../ports/metric-store.ts';
import type { SeriesStore, SeriesTouch } from '../ports/series-store.ts';
import { PointsRefusedError, type RefusedPoint, WriteIncompleteError } from '../ports/store-errors.ts';
import { SeriesIdCache } from './series-cache.ts';
import type { ParsedBatch } from './validate.ts';

/** What an ingest request achieved, as the client sees it. */
export interface IngestOutcome {
  /** Points stored. */
  readonly accepted: number;
  /** Problems found: items, fields or points left out (all of them, listed or not). */
  readonly rejected: number;
  /** The first problems (see problemLimits in lib/errors.ts). */
  readonly problems: readonly Problem[];
}

/** What acceptBatch did: the client's outcome, and which items the store refused points of. */
export interface AcceptedBatch extends IngestOutcome {
  /**
   * The body items with at least one point the store refused, all of them (the answer lists only the first
   * problems): OTLP counts them as rejected data points.
   */
  readonly refusedItems: ReadonlySet<number>;
}

/** The outcome as ingest routes answer it (`{accepted, rejected, problems}`). */
export const outcomeBody = ({ accepted, rejected, problems }: IngestOutcome): IngestOutcome => ({
  accepted,
  rejected,
  problems,
});

/** A batch ready for the stores: points merged per series and instant, with the item each came from. */
export interface PreparedBatch {
  readonly points: SeriesPoint[];
  /** The body item of each point, for reporting refusals. */
  readonly items: number[];
}

/** How long a client should wait before sending again a request the store could not confirm (seconds). */
export const retryAfterSeconds = 5;

/** The store could not confirm every point in time: 503 with Retry-After (the retry is safe: writes are idempotent). */
export class StoreUnavailableError extends HttpError {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, cause: unknown) {
    super(503, 'store_unavailable', message, {
      cause,
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

const sharedSeriesIds = new SeriesIdCache();

/**
 * Gives each point its series id and merges points of one series with the same timestamp (counters add up,
 * gauges and timers keep the last), so that stores keyed by series and time never drop one silently. O(n).
 */
export function prepareBatch(batch: ParsedBatch, seriesIds: SeriesIdCache = sharedSeriesIds): PreparedBatch {
  const points: SeriesPoint[] = [];
  const items: number[] = [];
  const seen = new Map<string, SeenSeries>();
  const source = batch.points;
  let lastName = '';
  let lastDimensions: MetricPoint['dimensions'] | undefined;
  let lastId = '';
  for (let index = 0; index < source.length; index++) {
    const raw = source[index] as MetricPoint;
    // Points of a bulk item share one dimensions object: their id is the previous point's.
    const seriesId =
      raw.dimensions === lastDimensions && raw.name === lastName
        ? lastId
        : seriesIds.idOf(raw.name, raw.dimensions);
    lastName = raw.name;
    lastDimensions = raw.dimensions;
    lastId = seriesId;
    const item = batch.pointItems?.[index] ?? index;
    const point: SeriesPoint = {
      name: raw.name,
      type: raw.type,
      value: raw.value,
      timestamp: raw.timestamp,
      dimensions: raw.dimensions,
      seriesId,
    };
    const series = seen.get(seriesId);
    if (series === undefined) {
      seen.set(seriesId, { latest: raw.timestamp, positions: [points.length], byTime: undefined });
    } else if (raw.timestamp > series.latest) {
      // Later than every point of the series so far: cannot repeat an instant (the usual case).
      series.latest = raw.timestamp;
      series.positions.push(points.length);
      series.byTime?.set(raw.timestamp, points.length);
    } else {
      series.byTime ??= new Map(
        series.positions.map((position) => [(points[position] as SeriesPoint).timestamp, position]),
      );
      const earlier = series.byTime.get(raw.timestamp);
      if (earlier !== undefined) {
        const previous = points[earlier] as SeriesPoint;
        // Two counts may add up past the largest double: the sum is clamped to it, never stored as Infinity.
        points[earlier] =
          raw.type === 'counter' && previous.type === 'counter'
            ? { ...point, value: clampToFinite(previous.value + raw.value) }
            : point;
        items[earlier] = item;
        continue;
      }
      series.positions.push(points.length);
      series.byTime.set(raw.timestamp, points.length);
    }
    points.push(point);
    items.push(item);
  }
  return { points, items };
}

/** What prepareBatch knows of one series: its latest instant, and where its points are. */
interface SeenSeries {
  latest: number;
  readonly positions: number[];
  /** Built only when a point arrives out of order, to find an earlier point at the same instant. */
  byTime: Map<number, number> | undefined;
}

/**
 * Stores the valid points of a parsed batch and records their series as having new data. A batch with no
 * valid point but some problems is a ValidationError (400); otherwise valid points are written and problems
 * reported beside them (partial success). Points the store refuses for good are reported like bad items;
 * points it cannot confirm in time make a 503 with Retry-After.
 */
export async function acceptBatch(
  batch: ParsedBatch,
  stores: { metrics: MetricStore; series: SeriesStore },
  options: {
    deadline?: number;
    /** The request's clock: series whose points are older than the band job's live window are marked. */
    now?: number;
  } = {},
): Promise<AcceptedBatch> {
  if (batch.points.length === 0 && batch.problemCount > 0) throw noValidItem(parsedProblems(batch));
  const prepared = prepareBatch(batch);
  let refused: readonly RefusedPoint[] = [];
  let incomplete: unknown;
  if (prepared.points.length > 0) {
    try {
      await stores.metrics.writePoints(prepared.points, { deadline: options.deadline });
    } catch (error) {
      if (error instanceof PointsRefusedError) refused = error.refused;
      else if (error instanceof WriteIncompleteError) {
        refused = error.refused;
        incomplete = error;
      } else incomplete = error;
    }
  }
  const refusedPositions = new Set(refused.map((refusal) => refusal.index));
  const stored = prepared.points.filter((_, position) => !refusedPositions.has(position));
  if (stored.length > 0) {
    try {
      await stores.series.recordSeries(touches(stored, options.now));
    } catch (error) {
      incomplete ??= error;
    }
  }
  if (incomplete !== undefined) {
    throw new StoreUnavailableError(
      `the store could not confirm every point; send the same request again in ${retryAfterSeconds} s (writes are idempotent)`,
      incomplete,
    );
  }
  const problems = parsedProblems(batch);
  const refusedItems = new Set<number>();
  for (const refusal of refused) {
    const item = prepared.items[refusal.index] ?? refusal.index;
    refusedItems.add(item);
    problems.add(item, refusalField(refusal.reason), `refused by the store: ${refusal.reason}`);
  }
  if (stored.length === 0 && problems.count > 0) throw noValidItem(problems);
  const mergedAway = batch.points.length - prepared.points.length;
  return {
    accepted: stored.length + mergedAway,
    rejected: problems.count,
    problems: problems.listed,
    refusedItems,
  };
}

/** The parser's problems as a list that can take more (the store's refusals), keeping its count. */
function parsedProblems(batch: ParsedBatch): ProblemList {
  const problems = new ProblemList(batch.problems);
  const unlisted = batch.problemCount - batch.problems.length;
  if (unlisted > 0) problems.addUnlisted(unlisted);
  return problems;
}

function noValidItem(problems: ProblemList): ValidationError {
  const first = problems.listed[0];
  const where =
    first?.index === undefined ? '' : ` (item ${first.index}, field "${first.field}": ${first.message})`;
  const count = problems.count > 1 ? `; ${problems.count} problems in all` : '';
  return new ValidationError(`no metric in the request was valid${where}${count}`, problems);
}

/** The field a store's refusal names: the timestamp (retention), the dimensions, or the value. */
const refusalField = (reason: string): string =>
  /time|retention/i.test(reason) ? 'timestamp' : /dimension/i.test(reason) ? 'dimensions' : 'value';

/** What the request did to each series; without `now` every touch counts as backfill (the safe side). */
function touches(points: readonly SeriesPoint[], now: number | undefined): SeriesTouch[] {
  const bySeries = new Map<string, { -readonly [K in keyof SeriesTouch]: SeriesTouch[K] }>();
  for (const point of points) {
    const touch = bySeries.get(point.seriesId);
    if (touch) {
      if (point.timestamp < touch.minTimestamp) touch.minTimestamp = point.timestamp;
      if (point.timestamp > touch.maxTimestamp) touch.maxTimestamp = point.timestamp;
    } else {
      bySeries.set(point.seriesId, {
        id: point.seriesId,
        name: point.name,
        type: point.type,
        dimensions: point.dimensions,
        minTimestamp: point.timestamp,
        maxTimestamp: point.timestamp,
      });
    }
  }
  const all = [...bySeries.values()];
  for (const touch of all) touch.backfill = now === undefined || isBackfill(touch.minTimestamp, now);
  return all;
}
