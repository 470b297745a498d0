/**
 * The metric store port: raw points as ingested, written and read back (Timestream, DynamoDB, SQLite). What
 * writePoints may throw is in lib/ports/store-errors.ts.
 */
import type { SeriesPoint } from '../metrics/point.ts';
import type { SeriesSelection } from '../metrics/series-hash.ts';

export type { SeriesSelection } from '../metrics/series-hash.ts';

/** A timestamp (epoch ms) and a value. */
export interface TimedValue {
  readonly timestamp: number;
  readonly value: number;
}

/** Limits on one write. */
export interface WriteOptions {
  /** Epoch ms by which the write must settle (the function's time budget); retries stop there. */
  readonly deadline?: number;
}

/** Raw points, as ingested. */
export interface MetricStore {
  /**
   * Writes points durably; resolves only once every point is stored (a retry of the same points is harmless).
   * Throws PointsRefusedError for points refused for good and WriteIncompleteError for points it could not
   * confirm by the deadline (lib/ports/store-errors.ts).
   */
  writePoints(points: readonly SeriesPoint[], options?: WriteOptions): Promise<void>;
  /** The points of one series with `from <= timestamp < to`, in time order. */
  readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]>;
  /** The timestamp of the earliest point of a series, if it has any. */
  earliestTimestamp(seriesId: string): Promise<number | undefined>;
  /**
   * Every point of every series with `from <= timestamp < to`, by series id, each series in time order: the
   * band job's one bulk read per run. Stores scan the time range (a few requests), never series one by one.
   * With a selection (a fan-out worker's state shards), only the selected series, exactly: a store that
   * partitions recent points by the series hash (DynamoDB's log buckets) reads only the partitions that can
   * hold them; the others filter what they read.
   */
  readRecentPoints(from: number, to: number, selection?: SeriesSelection): Promise<Map<string, TimedValue[]>>;
  /**
   * Stores that first log recent writes (DynamoDB) fold closed stretches of the log into their lasting layout;
   * the band job calls it once a run. Returns how many stretches it folded.
   */
  compact?(): Promise<number>;
}
