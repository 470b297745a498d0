import { type Problem, ValidationError } from '../errors.ts';
import type { MetricPoint, SeriesPoint } from '../metrics/point.ts';
import { withSeriesId } from '../metrics/series.ts';
import type { MetricStore, SeriesStore, SeriesTouch } from '../ports.ts';
import type { ParsedBatch } from './validate.ts';

/** What an ingest request achieved, as the client sees it. */
export interface IngestOutcome {
  readonly accepted: number;
  readonly rejected: number;
  readonly problems: readonly Problem[];
}

/**
 * Stores the valid points of a parsed batch and records their series as having new data. A batch with no
 * valid point but some problems is a ValidationError (400); otherwise valid points are written and problems
 * reported beside them (partial success).
 *
 * Points of one series with the same timestamp in one batch are merged first (counters add up, gauges and
 * timers keep the last), so that stores keyed by series and time never drop one silently.
 */
export async function acceptBatch(
  batch: ParsedBatch,
  stores: { metrics: MetricStore; series: SeriesStore },
): Promise<IngestOutcome> {
  if (batch.points.length === 0 && batch.problems.length > 0) {
    const first = batch.problems[0];
    const where =
      first?.index === undefined ? '' : ` (item ${first.index}, field "${first.field}": ${first.message})`;
    throw new ValidationError(`no metric in the request was valid${where}`, batch.problems);
  }
  const points = mergeSameInstant(batch.points);
  if (points.length > 0) {
    await stores.metrics.writePoints(points);
    await stores.series.recordSeries(touches(points));
  }
  return { accepted: batch.points.length, rejected: batch.problems.length, problems: batch.problems };
}

function mergeSameInstant(points: readonly MetricPoint[]): SeriesPoint[] {
  const byKey = new Map<string, SeriesPoint>();
  for (const raw of points) {
    const point = withSeriesId(raw);
    const key = `${point.seriesId}@${point.timestamp}`;
    const earlier = byKey.get(key);
    if (earlier && point.type === 'counter') {
      byKey.set(key, { ...point, value: earlier.value + point.value });
    } else {
      byKey.set(key, point);
    }
  }
  return [...byKey.values()];
}

function touches(points: readonly SeriesPoint[]): SeriesTouch[] {
  const bySeries = new Map<string, { -readonly [K in keyof SeriesTouch]: SeriesTouch[K] }>();
  for (const point of points) {
    const touch = bySeries.get(point.seriesId);
    if (touch) {
      touch.minTimestamp = Math.min(touch.minTimestamp, point.timestamp);
      touch.maxTimestamp = Math.max(touch.maxTimestamp, point.timestamp);
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
  return [...bySeries.values()];
}
