/**
 * The query store port: what the query API reads from the point and band stores, downsampled, each store in
 * its own query language.
 */
import type { WideBucket } from '../metrics/aggregate.ts';
import type { MetricType } from '../metrics/point.ts';
import type { AnomalyRecord } from './band-store.ts';

/** Options every read of the query API takes. */
export interface ReadOptions {
  /** Aborts the read (the request's time budget ran out). */
  readonly signal?: AbortSignal;
}

/** Downsampled values of one series. */
export interface ValueBucketQuery {
  readonly seriesId: string;
  readonly type: MetricType;
  readonly from: number;
  readonly to: number;
  /** The series' own step: points are first aggregated to it (sum for counters, mean otherwise). */
  readonly seriesStepMs: number;
  /** The step asked for, a multiple of `seriesStepMs`: the series-step values are grouped by it. */
  readonly stepMs: number;
}

/** One step-wide bucket of series-step values: their mean, lowest and highest, and the raw points it holds. */
export type ValueBucket = WideBucket;

/** One step-wide bucket of stored bands: the envelope of the bands in it. */
export interface BandBucket {
  readonly start: number;
  /** Mean of the expected values. */
  readonly expected: number;
  /** Lowest lower edge. */
  readonly lower: number;
  /** Highest upper edge. */
  readonly upper: number;
  /** Highest score. */
  readonly score: number;
  /** Whether any band in the bucket was anomalous. */
  readonly anomaly: boolean;
}

/** Where a page of anomalies stopped: newest first, then by series id. */
export interface AnomalyPosition {
  readonly timestamp: number;
  readonly seriesId: string;
}

export interface AnomalyQuery {
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  /** Only this series' anomalies. */
  readonly seriesId?: string;
  /** Start after this position (newest-first order). */
  readonly after?: AnomalyPosition;
}

/** What the query API reads from the point and band stores, each store in its own query language. */
export interface QueryStore {
  /** Buckets with data, in time order; buckets without points are left out. */
  readValueBuckets(query: ValueBucketQuery, options?: ReadOptions): Promise<ValueBucket[]>;
  /** Bands grouped into `stepMs` buckets with `from <= timestamp < to`, in time order. */
  readBandBuckets(
    seriesId: string,
    from: number,
    to: number,
    stepMs: number,
    options?: ReadOptions,
  ): Promise<BandBucket[]>;
  /** The value of each series at the given instant (its newest point); series without one are left out. */
  valuesAt(
    entries: readonly { readonly seriesId: string; readonly timestamp: number }[],
    options?: ReadOptions,
  ): Promise<Map<string, number>>;
  /** Anomalous bands, newest first (ties by series id), at most `limit`. */
  findAnomalies(query: AnomalyQuery, options?: ReadOptions): Promise<AnomalyRecord[]>;
}
