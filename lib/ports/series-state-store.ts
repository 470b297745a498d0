/**
 * The band job's state store port: what the job keeps about each series between runs, in shards.
 */
import type { SeriesMonitor } from '../alerts/model.ts';
import type { EngineState, LearnedKind, Seasonality } from '../bands/engine.ts';
import type { Dimensions, MetricType } from '../metrics/point.ts';
import type { SeriesFault } from './series-store.ts';

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
 * How the stored state is cut into shards: the count its shards were written with, and while a re-sharding
 * empties the shards of the count it left, that count (see lib/jobs/reshard.ts).
 */
export interface StateLayout {
  readonly shardCount: number;
  /** The count whose shards still hold copies of states now in the `shardCount` shards (to empty). */
  readonly retiring?: number;
}

/** The layout as stored, with the version a save must name. */
export interface StateLayoutSnapshot {
  readonly version: string;
  readonly layout: StateLayout;
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
  /** The layout the shards were written with; undefined when none was recorded (a store from before layouts). */
  loadLayout(): Promise<StateLayoutSnapshot | undefined>;
  /** Saves the layout if it is still at `expectedVersion` (undefined: none yet); 'conflict' otherwise. */
  saveLayout(layout: StateLayout, expectedVersion: string | undefined): Promise<string | 'conflict'>;
}
