/**
 * The small interfaces the domain needs from the outside world. Only files under lib/adapters/ implement
 * them with SDKs or drivers; everything else sees these.
 */
import type { Notification, SeriesMonitor } from './alerts/model.ts';
import type { EngineState, LearnedKind, LearnedTraits, Seasonality } from './bands/engine.ts';
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
   * confirm by the deadline (lib/store-errors.ts).
   */
  writePoints(points: readonly SeriesPoint[], options?: WriteOptions): Promise<void>;
  /** The points of one series with `from <= timestamp < to`, in time order. */
  readPoints(seriesId: string, from: number, to: number): Promise<TimedValue[]>;
  /** The timestamp of the earliest point of a series, if it has any. */
  earliestTimestamp(seriesId: string): Promise<number | undefined>;
  /**
   * Every point of every series with `from <= timestamp < to`, by series id, each series in time order: the
   * band job's one bulk read per run. Stores scan the time range (a few requests), never series one by one.
   */
  readRecentPoints(from: number, to: number): Promise<Map<string, TimedValue[]>>;
}

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

/** What an engine learns about a series: part of the engine's contract (lib/bands/engine.ts). */
export { type LearnedKind, type LearnedTraits, type Seasonality, seasonalities } from './bands/engine.ts';

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

/** What the band job keeps about one series between runs. Plain JSON. */
export interface SeriesState {
  readonly id: string;
  readonly name: string;
  readonly type: MetricType;
  readonly dimensions: Dimensions;
  readonly stepMs: number;
  /** Start of the first bucket not yet fed to the engine. */
  readonly processedUntil: number;
  readonly engineState: EngineState;
  /** Whether the series is outside its band at its newest processed bucket. */
  readonly anomalous: boolean;
  /** The alert rules' memory for the series (undefined before its first evaluation). */
  readonly monitor: SeriesMonitor | undefined;
  /** The newest point the job has seen (for listings and no-data rules). */
  readonly lastTimestamp: number;
  readonly lastValue: number | null;
  readonly kind: LearnedKind | null;
  readonly seasonality: Seasonality | null;
  /**
   * When the engine last learned with every exclusion then known (the run's start): an exclusion created later
   * that covers buckets already learned makes the job learn the series again without them. Undefined in
   * states saved before exclusions were relearned (taken as the time such a state is first loaded).
   */
  readonly exclusionsAsOf?: number;
  /** Set while the series is kept aside (see {@link SeriesFault}). */
  readonly fault?: SeriesFault;
  /**
   * The times (ascending) of the points fed to the engine from `from` on, those the job's next bulk reads still
   * cover: a point the next read finds before `processedUntil` that is not among them arrived late (see
   * lib/metrics/live-window.ts). Absent in states saved before the job kept it.
   */
  readonly recentFed?: { readonly from: number; readonly times: readonly number[] };
  /**
   * The pending version whose backfill (its `pendingFrom`) this state was already judged again from: a series
   * whose backfill is longer than one run can read goes on from where it stopped, instead of starting over at
   * every run. A later backfill (another version) is judged again from its own `pendingFrom`.
   */
  readonly lateApplied?: { readonly version: number; readonly from: number };
}

/** One shard of the band job's state as stored, with the version a save must name. */
export interface StateShardSnapshot {
  /** Changes with every save (an ETag in S3, a counter in SQLite). */
  readonly version: string;
  readonly states: readonly SeriesState[];
}

/**
 * The band job's state, in shards of many series each: loaded and saved whole, once per shard per run, so a
 * run costs a request per shard, not per series. Saves are conditional, so overlapping runs cannot mix
 * their work within a shard.
 */
export interface SeriesStateStore {
  /** A shard's states; 'unchanged' when it is still at `knownVersion`; undefined when never saved. */
  loadShard(shard: string, knownVersion?: string): Promise<StateShardSnapshot | 'unchanged' | undefined>;
  /**
   * Saves a shard whole if it is still at `expectedVersion` (undefined: never saved yet) and returns the new
   * version, or 'conflict' when another run saved it first.
   */
  saveShard(
    shard: string,
    states: readonly SeriesState[],
    expectedVersion: string | undefined,
  ): Promise<string | 'conflict'>;
}

/** What listings show of a series beside its catalog entry, as the band job last saw it. */
export interface SeriesSummary {
  readonly id: string;
  readonly lastTimestamp: number;
  readonly lastValue: number | null;
  readonly stepMs: number;
  readonly anomalous: boolean;
  readonly kind: LearnedKind | null;
  readonly seasonality: Seasonality | null;
  /** Set while the series is kept aside by the band job. */
  readonly fault?: SeriesFault;
}

export interface SeriesSummariesSnapshot {
  readonly version: string;
  readonly summaries: ReadonlyMap<string, SeriesSummary>;
}

/** Every series' summary in one document, written by the band job once per run, read by listings. */
export interface SeriesSummaryStore {
  /** The summaries; 'unchanged' when still at `knownVersion`; undefined before the first save. */
  loadSummaries(knownVersion?: string): Promise<SeriesSummariesSnapshot | 'unchanged' | undefined>;
  saveSummaries(summaries: readonly SeriesSummary[]): Promise<void>;
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

/** A band of some series (bulk writes). */
export type SeriesBand = AnomalyRecord;

export interface BandStore {
  writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void>;
  /** Bands of many series in one go: the band job's one bulk write per run (batched by the store). */
  writeManyBands(bands: readonly SeriesBand[]): Promise<void>;
  /** Bands with `from <= timestamp < to`, in time order. */
  readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]>;
  /** Anomalous buckets of every series with `from <= timestamp < to`, newest first, at most `limit`. */
  listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]>;
}

/** What a notifier delivers: one alert transition (OPEN, REMINDER or RESOLVED), see `lib/alerts/model.ts`. */
export type { Notification } from './alerts/model.ts';

export interface Notifier {
  /** Delivers one notification; throws when it could not (the transition then stays pending). */
  notify(notification: Notification): Promise<void>;
}

export const keyScopes = ['ingest', 'read', 'admin'] as const;
export type KeyScope = (typeof keyScopes)[number];

/**
 * How a stored key's `hash` was made from the key: HMAC-SHA256 under the deployment's key secret. Records made
 * before keyed digests have no version (their hash is the key's plain SHA-256); they are refiled under the
 * keyed digest on the key's next successful use (see `findKeyRecord` in lib/keys.ts).
 */
export const keyHashVersion = 'hmac-sha256';
export type KeyHashVersion = typeof keyHashVersion;

/** An API key as stored: never the key itself, only its digest. */
export interface ApiKeyRecord {
  /** The key's digest (64 hex digits), which is also its id in the admin routes and `npm run keys`. */
  readonly hash: string;
  /** Absent on records made with plain SHA-256 before keyed digests. */
  readonly hashVersion?: KeyHashVersion;
  readonly name: string;
  readonly scopes: readonly KeyScope[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/**
 * Where API keys are filed, by digest. The store also makes the digest: it holds (or knows where to read) the
 * deployment's key secret, so that a copy of the records alone cannot be used to test guesses of a key.
 */
export interface KeyStore {
  /** The digest `key` is filed under: HMAC-SHA256 (hex) under the deployment's key secret. */
  digestKey(key: string): Promise<string>;
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  putKey(record: ApiKeyRecord): Promise<void>;
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(hash: string, at: number): Promise<boolean>;
  /**
   * Refiles the active record at `legacyHash` (plain SHA-256) as `record` (the same key under its keyed digest),
   * in one step. False, changing nothing, when no active record is at `legacyHash` any more (another request
   * refiled it first, or it was revoked) or one is already at `record.hash`.
   */
  upgradeKeyHash(legacyHash: string, record: ApiKeyRecord): Promise<boolean>;
}

/** Where a page of the series catalog stopped: series are ordered by name, then id. */
export interface SeriesPosition {
  readonly name: string;
  readonly id: string;
}

/** A filtered page of the series catalog. */
export interface SeriesQuery {
  /** Only names starting with this. */
  readonly prefix?: string;
  /** Only names matching this glob (`*` any run of characters, `?` one character). */
  readonly pattern?: string;
  /** Only series with these dimensions; a value may be a glob. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Only series that are (or are not) anomalous now. */
  readonly anomalous?: boolean;
  /** At most this many series. */
  readonly limit: number;
  /** Start after this position (from the previous page's `next`). */
  readonly after?: SeriesPosition;
}

export interface SeriesPage {
  readonly series: SeriesInfo[];
  /** Where the next page starts; undefined when the catalog holds no more matches. */
  readonly next: SeriesPosition | undefined;
}

/** The series catalog as the query API reads it: filtered pages in (name, id) order. */
export interface SeriesCatalog {
  /**
   * A page of matching series. A page may hold fewer than `limit` series (even none) while `next` is set,
   * when a store stops after examining its share of the catalog; the caller continues from `next`.
   */
  findSeries(query: SeriesQuery): Promise<SeriesPage>;
}

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

/** One step-wide bucket of series-step values. */
export interface ValueBucket {
  readonly start: number;
  /** The mean of the series-step values in the bucket (the value itself at the series' step). */
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  /** How many raw points the bucket holds. */
  readonly count: number;
}

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
