/**
 * The series store port: the catalog entry of every series, what ingest touched, and the band job's progress
 * per series.
 */
import type { EngineState, LearnedKind, LearnedTraits, Seasonality } from '../bands/engine.ts';
import type { Dimensions, MetricType } from '../metrics/point.ts';

/** What one ingest request contributed to one series. */
export interface SeriesTouch {
  readonly id: string;
  readonly name: string;
  readonly type: MetricType;
  readonly dimensions: Dimensions;
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
  /**
   * The request holds points older than the band job's bulk read reaches (`isBackfill` in
   * lib/metrics/live-window.ts): the job must look at the series' history from `minTimestamp` on, not only at its
   * recent points.
   */
  readonly backfill?: boolean;
}

/** A series in the catalog. */
export interface SeriesInfo {
  readonly id: string;
  readonly name: string;
  readonly type: MetricType;
  readonly dimensions: Dimensions;
  /** Time of the newest point ingested (epoch ms). */
  readonly lastTimestamp: number;
  /** The learned step (ms), once the band job has seen enough points. */
  readonly stepMs: number | null;
  /** Whether the series is outside its band at its newest processed bucket. */
  readonly anomalous: boolean;
  /** What the engine learned the series measures; null (or absent) until an engine reports it. */
  readonly kind?: LearnedKind | null;
  /** The seasonality the engine learned; null (or absent) until an engine reports it. */
  readonly seasonality?: Seasonality | null;
  /** Why the band job keeps the series aside (quarantined), when it does; null (or absent) otherwise. */
  readonly fault?: SeriesFault | null;
}

/**
 * A series the band job could not judge (its engine or its rules failed on its values or its state): it is
 * kept aside, so that every other series goes on, and tried again at `retryAt` (later after each failure).
 */
export interface SeriesFault {
  /** What failed, for operators: the error's message. */
  readonly reason: string;
  /** When the series was first kept aside (epoch ms). */
  readonly since: number;
  /** How many runs in a row failed on it. */
  readonly failures: number;
  /** When the job tries the series again (epoch ms). */
  readonly retryAt: number;
}

/** Where the band job stopped for a series, and the engine's memory. */
export interface SeriesProgress {
  readonly stepMs: number;
  /** Start of the first bucket not yet fed to the engine. */
  readonly processedUntil: number;
  readonly engineState: EngineState;
  readonly anomalous: boolean;
  /** What the engine learned, when it reports it; absent leaves the stored traits as they were. */
  readonly learned?: LearnedTraits;
}

/** A series with new data for the band job, and the change counter the job saw. */
export interface PendingSeries {
  readonly series: SeriesInfo;
  readonly progress: SeriesProgress | undefined;
  readonly version: number;
  /**
   * The oldest point of the backfills recorded since the series was last settled: buckets from it on may have
   * been judged without it (absent when no backfill was recorded).
   */
  readonly pendingFrom?: number;
}

/**
 * The series catalog, and which series the band job must read one by one (new series and backfilled
 * history: "pending"); the band job's own state lives in a {@link SeriesStateStore}.
 */
export interface SeriesStore {
  /**
   * Records the series an ingest request wrote to: creates those not in the catalog (pending) and marks again
   * those touched with `backfill`. A known series touched with recent points only may cost the store nothing.
   */
  recordSeries(touches: readonly SeriesTouch[]): Promise<void>;
  listSeries(): Promise<SeriesInfo[]>;
  getSeries(id: string): Promise<SeriesInfo | undefined>;
  /**
   * Series with data the band job has not processed yet, at most `limit`: those put off (see `deferPending`)
   * only once their time has come by `now`, so that series that cannot progress yet never crowd out those
   * that can.
   */
  pendingSeries(limit: number, now: number): Promise<PendingSeries[]>;
  /**
   * The band job cannot progress with a series yet (too few points to tell its step): it stays pending but is
   * not listed before `until`, unless an ingest marks it again since `version` (new data: listed at once).
   */
  deferPending(seriesId: string, version: number, until: number): Promise<void>;
  /**
   * Saves listing figures and engine state on the catalog entry (the band job before state shards; kept for
   * stores and fixtures that set them directly). When `caughtUp` is true and no ingest touched the series
   * since `version`, the series stops being pending.
   */
  saveProgress(seriesId: string, progress: SeriesProgress, version: number, caughtUp: boolean): Promise<void>;
  /**
   * The series stops being pending (its backfill mark and deferral cleared), unless an ingest marked it again
   * since `version`.
   */
  settlePending(seriesId: string, version: number): Promise<void>;
}
