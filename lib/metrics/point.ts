/** The kinds of metric Normalcy stores, as StatsD names them. */
export const metricTypes = ['counter', 'gauge', 'timer'] as const;
export type MetricType = (typeof metricTypes)[number];

export type Dimensions = Readonly<Record<string, string>>;

/** One measurement as an agent sent it, after validation. `timestamp` is epoch milliseconds. */
export interface MetricPoint {
  readonly name: string;
  readonly type: MetricType;
  readonly value: number;
  readonly timestamp: number;
  readonly dimensions: Dimensions;
}

/** A point with the identity of the series it belongs to, as the stores keep it. */
export interface SeriesPoint extends MetricPoint {
  readonly seriesId: string;
}

export const isMetricType = (value: unknown): value is MetricType =>
  typeof value === 'string' && (metricTypes as readonly string[]).includes(value);
