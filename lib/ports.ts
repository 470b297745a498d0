/**
 * The small interfaces the domain needs from the outside world. Only files under lib/adapters/ implement
 * them with SDKs or drivers; everything else sees these.
 */
import type { EngineState } from './bands/engine.ts';
import type { Dimensions, MetricType, SeriesPoint } from './metrics/point.ts';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

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
   * confirm by the deadline (lib/ingest/write-errors.ts).
   */
  writePoints(points: readonly SeriesPoint[], options?: WriteOptions): Promise<void>;
  /** The points of one series with `from <= timestamp < to`, in time order. */
  readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]>;
  /** The timestamp of the earliest point of a series, if it has any. */
  earliestTimestamp(seriesId: string): Promise<number | undefined>;
}

/** What one ingest request contributed to one series. */
export interface SeriesTouch {
  readonly id: string;
  readonly name: string;
  readonly type: MetricType;
  readonly dimensions: Dimensions;
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
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
}

/** Where the band job stopped for a series, and the engine's memory. */
export interface SeriesProgress {
  readonly stepMs: number;
  /** Start of the first bucket not yet fed to the engine. */
  readonly processedUntil: number;
  readonly engineState: EngineState;
  readonly anomalous: boolean;
}

/** A series with new data for the band job, and the change counter the job saw. */
export interface PendingSeries {
  readonly series: SeriesInfo;
  readonly progress: SeriesProgress | undefined;
  readonly version: number;
}

/** The series catalog, which series have new data, and the band job's progress per series. */
export interface SeriesStore {
  /** Records (creating when new) the series an ingest request wrote to and marks them as having new data. */
  recordSeries(touches: readonly SeriesTouch[]): Promise<void>;
  listSeries(): Promise<SeriesInfo[]>;
  getSeries(id: string): Promise<SeriesInfo | undefined>;
  /** Series with data the band job has not processed yet, at most `limit`. */
  pendingSeries(limit: number): Promise<PendingSeries[]>;
  /**
   * Saves where the job stopped. When `caughtUp` is true and no ingest touched the series since `version`,
   * the series stops being pending.
   */
  saveProgress(seriesId: string, progress: SeriesProgress, version: number, caughtUp: boolean): Promise<void>;
}

/** The band engine's verdict on one bucket, as stored. */
export interface StoredBand {
  readonly timestamp: number;
  readonly value: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  readonly score: number;
  readonly anomaly: boolean;
}

export interface AnomalyRecord extends StoredBand {
  readonly seriesId: string;
}

export interface BandStore {
  writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void>;
  /** Bands with `from <= timestamp < to`, in time order. */
  readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]>;
  /** Anomalous buckets of every series with `from <= timestamp < to`, newest first, at most `limit`. */
  listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]>;
}

/** A series crossing its band's edge: into anomaly, or back to normal. */
export interface Notification {
  readonly state: 'ANOMALOUS' | 'RECOVERED';
  readonly severity: 'critical' | 'warning' | 'info';
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  readonly band: StoredBand;
}

export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

export const keyScopes = ['ingest', 'read', 'admin'] as const;
export type KeyScope = (typeof keyScopes)[number];

/** An API key as stored: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  readonly hash: string;
  readonly name: string;
  readonly scopes: readonly KeyScope[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface KeyStore {
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  putKey(record: ApiKeyRecord): Promise<void>;
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(hash: string, at: number): Promise<boolean>;
}
