import { NotFoundError, ValidationError } from '../errors.ts';
import { readTimestamp } from '../ingest/validate.ts';
import { aggregate } from '../metrics/aggregate.ts';
import { defaultStepMs } from '../metrics/step.ts';
import type { BandStore, MetricStore, SeriesInfo, SeriesStore } from '../ports.ts';

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

const dayMs = 86_400_000;
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

export async function requireSeries(store: SeriesStore, id: string | undefined): Promise<SeriesInfo> {
  const series = id ? await store.getSeries(id) : undefined;
  if (!series) throw new NotFoundError(`no series with id "${id ?? ''}"`);
  return series;
}

/** One bucket of a series as the query API returns it: the data and, once the band job ran, its band. */
export interface PointView {
  readonly timestamp: number;
  readonly value: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly score: number | null;
  readonly anomaly: boolean;
}

/** The buckets of a series in a range at its step, each with its band where the band job has computed one. */
export async function readSeriesPoints(
  stores: { metrics: MetricStore; bands: BandStore },
  series: SeriesInfo,
  range: TimeRange,
): Promise<{ series: SeriesInfo; stepMs: number; from: number; to: number; points: PointView[] }> {
  const stepMs = series.stepMs ?? defaultStepMs;
  const [points, bands] = await Promise.all([
    stores.metrics.readPoints(series.id, range.from, range.to),
    stores.bands.readBands(series.id, range.from, range.to),
  ]);
  const bandAt = new Map(bands.map((band) => [band.timestamp, band]));
  const views = aggregate(series.type, points, stepMs).map((bucket): PointView => {
    const band = bandAt.get(bucket.start);
    return {
      timestamp: bucket.start,
      value: bucket.value,
      count: bucket.count,
      min: bucket.min,
      max: bucket.max,
      expected: band?.expected ?? null,
      lower: band?.lower ?? null,
      upper: band?.upper ?? null,
      score: band?.score ?? null,
      anomaly: band?.anomaly ?? false,
    };
  });
  return { series, stepMs, from: range.from, to: range.to, points: views };
}
