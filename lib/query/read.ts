import { seriesViewPath } from '../dashboard-links.ts';
import { NotFoundError } from '../errors.ts';
import { clampToFinite } from '../metrics/finite.ts';
import { defaultStepMs } from '../metrics/step.ts';
import type { AnomalyRecord } from '../ports/band-store.ts';
import type { QueryStore, ReadOptions } from '../ports/query-store.ts';
import type { SeriesPosition } from '../ports/series-catalog.ts';
import type { SeriesInfo, SeriesStore } from '../ports/series-store.ts';
import { encodeCursor } from './cursor.ts';
import { formatDuration } from './duration.ts';
import type { PointsWindow } from './parameters.ts';

/** Anything that finds a catalog entry by id (the catalog, or the catalog with summaries). */
type SeriesLookup = Pick<SeriesStore, 'getSeries'>;

export async function requireSeries<T extends SeriesInfo>(
  store: { getSeries(id: string): Promise<T | undefined> },
  id: string | undefined,
): Promise<T> {
  const series = id ? await store.getSeries(id) : undefined;
  if (!series) throw new NotFoundError(`no series with id "${id ?? ''}"`);
  return series;
}

/** A series as the query API shows it: the catalog entry, its newest value, and what the engine learned. */
export interface SeriesView extends SeriesInfo {
  /** The value of the newest point (at `lastTimestamp`), null when it is no longer stored. */
  readonly lastValue: number | null;
  readonly kind: NonNullable<SeriesInfo['kind']> | null;
  readonly seasonality: NonNullable<SeriesInfo['seasonality']> | null;
  /** Why the band job keeps the series aside, or null (see SeriesFault). */
  readonly fault: NonNullable<SeriesInfo['fault']> | null;
}

/**
 * Adds each series' newest value and normalises the learned traits. Entries that carry their newest value
 * (from the band job's summaries) need no read; the others take one store read for the whole page.
 */
export async function seriesViews(
  queries: QueryStore,
  series: readonly (SeriesInfo & { readonly lastValue?: number | null })[],
  options: ReadOptions = {},
): Promise<SeriesView[]> {
  const unknown = series.filter((entry) => entry.lastValue === undefined);
  const values =
    unknown.length === 0
      ? new Map<string, number>()
      : await queries.valuesAt(
          unknown.map((entry) => ({ seriesId: entry.id, timestamp: entry.lastTimestamp })),
          options,
        );
  return series.map((entry) => ({
    ...entry,
    lastValue: entry.lastValue === undefined ? (values.get(entry.id) ?? null) : entry.lastValue,
    kind: entry.kind ?? null,
    seasonality: entry.seasonality ?? null,
    fault: entry.fault ?? null,
  }));
}

/** The cursor of the page after one that stopped at `next`, null on the last page. */
export const seriesCursor = (next: SeriesPosition | undefined): string | null =>
  next ? encodeCursor({ name: next.name, id: next.id }) : null;

/** One bucket of a series as the query API returns it: the data and, once the band job ran, its band. */
export interface PointView {
  readonly timestamp: number;
  /** The series-step value at the series' step; the mean of them at coarser steps. */
  readonly value: number;
  /** The lowest and highest series-step value in the bucket. */
  readonly min: number;
  readonly max: number;
  /** Raw points in the bucket. */
  readonly count: number;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly score: number | null;
  readonly anomaly: boolean;
}

export interface PointsResponse {
  readonly series: SeriesInfo;
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly step: string;
  readonly seriesStepMs: number;
  readonly automaticStep: boolean;
  readonly points: PointView[];
}

/** The buckets of a series in a window, each with the envelope of its bands where the band job made some. */
export async function readSeriesPoints(
  queries: QueryStore,
  series: SeriesInfo,
  window: PointsWindow,
  options: ReadOptions = {},
): Promise<PointsResponse> {
  const seriesStepMs = series.stepMs ?? defaultStepMs;
  const [values, bands] = await Promise.all([
    queries.readValueBuckets(
      {
        seriesId: series.id,
        type: series.type,
        from: window.from,
        to: window.to,
        seriesStepMs,
        stepMs: window.stepMs,
      },
      options,
    ),
    queries.readBandBuckets(series.id, window.from, window.to, window.stepMs, options),
  ]);
  const bandAt = new Map(bands.map((band) => [band.start, band]));
  // The stores sum and average in their own engines (SQL, or in memory for DynamoDB): a bucket of values
  // near the largest double can come back as Infinity there, which JSON would write as null.
  const points = values.map((bucket): PointView => {
    const band = bandAt.get(bucket.start);
    return {
      timestamp: bucket.start,
      value: clampToFinite(bucket.avg),
      min: clampToFinite(bucket.min),
      max: clampToFinite(bucket.max),
      count: bucket.count,
      expected: finiteOrNull(band?.expected),
      lower: finiteOrNull(band?.lower),
      upper: finiteOrNull(band?.upper),
      score: finiteOrNull(band?.score),
      anomaly: band?.anomaly ?? false,
    };
  });
  return {
    series,
    from: window.from,
    to: window.to,
    stepMs: window.stepMs,
    step: formatDuration(window.stepMs),
    seriesStepMs,
    automaticStep: window.automatic,
    points,
  };
}

/** A band figure as the API shows it: clamped to a finite number, or null when there is none. */
const finiteOrNull = (value: number | null | undefined): number | null =>
  value === null || value === undefined || Number.isNaN(value) ? null : clampToFinite(value);

/** An anomalous bucket with its series' identity and a link to its view in the dashboard. */
export interface AnomalyView extends AnomalyRecord {
  readonly name: string | null;
  readonly dimensions: Readonly<Record<string, string>> | null;
  readonly stepMs: number | null;
  /** The dashboard view of the series around this bucket, relative to the API's root. */
  readonly link: string;
}

const catalogReadConcurrency = 16;

/** Joins anomalies with their series (one catalog read per distinct series). */
export async function anomalyViews(
  catalog: SeriesLookup,
  records: readonly AnomalyRecord[],
): Promise<AnomalyView[]> {
  const ids = [...new Set(records.map((record) => record.seriesId))];
  const series = new Map<string, SeriesInfo | undefined>();
  // A page may name up to a thousand series: read them a few at a time rather than all at once.
  for (let offset = 0; offset < ids.length; offset += catalogReadConcurrency) {
    const batch = ids.slice(offset, offset + catalogReadConcurrency);
    const found = await Promise.all(batch.map((id) => catalog.getSeries(id)));
    batch.forEach((id, index) => {
      series.set(id, found[index]);
    });
  }
  return records.map((record) => {
    const entry = series.get(record.seriesId);
    return {
      ...record,
      name: entry?.name ?? null,
      dimensions: entry?.dimensions ?? null,
      stepMs: entry?.stepMs ?? null,
      link: seriesViewPath(record.seriesId, record.timestamp),
    };
  });
}
