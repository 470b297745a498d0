/**
 * The contract every band engine keeps. An engine is streaming and causal: it sees one bucket at a time,
 * in time order, and what it says about a bucket depends only on the buckets before it and the bucket itself.
 * It does no I/O; its state is plain JSON so that stores can keep it between runs.
 */

/** Which side of the band a user wants to hear about. */
export const directions = ['above', 'below', 'both'] as const;
export type Direction = (typeof directions)[number];

/** What a series measures, so that a band never leaves what the kind allows (a count is never negative). */
export const metricKinds = ['auto', 'gauge', 'count', 'ratio', 'percent', 'latency'] as const;
export type MetricKind = (typeof metricKinds)[number];

export interface BandSettings {
  /** 0 (page only for the extreme) to 1 (page for small departures). Default 0.5. */
  readonly sensitivity: number;
  /** Which departures count as anomalies. Default 'both'. */
  readonly direction: Direction;
  /** No point is flagged before the engine has seen this much history (milliseconds). Default one day. */
  readonly minHistoryMs: number;
  /** What the series measures. Default 'auto'. */
  readonly kind: MetricKind;
  /**
   * How long a series may stay outside its band on the same side before the engine accepts the new level as
   * normal (and says so with `relearned`). Engines that do not re-learn ignore it. Default six hours.
   */
  readonly relearnAfterMs?: number;
}

export const defaultBandSettings: BandSettings = {
  sensitivity: 0.5,
  direction: 'both',
  minHistoryMs: 86_400_000,
  kind: 'auto',
  relearnAfterMs: 6 * 3_600_000,
};

/** Why an engine flagged a bucket. */
export const anomalyReasons = [
  'outside-band',
  'sustained-shift',
  'unusual-level',
  'stuck',
  'variance-change',
] as const;
export type AnomalyReason = (typeof anomalyReasons)[number];

/** What the engine says about one bucket. */
export interface BandResult {
  readonly timestamp: number;
  readonly value: number;
  /** The value the engine expected before it saw this one. */
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  /**
   * How anomalous the value is, in [0, 1]; 0.5 is the engine's alerting threshold (for engines whose band is
   * their detector's, the band's edge).
   */
  readonly score: number;
  /** The bucket is outside the band (on a side the settings watch, after the minimum history). */
  readonly anomaly: boolean;
  /** Why the bucket is news (engines that explain themselves set it with `news`). */
  readonly reason?: AnomalyReason;
  /** True on the bucket where the engine accepted a sustained shift as the new normal. */
  readonly relearned?: boolean;
  /**
   * Outside the band and past what the series shows once in years on its own: one such bucket is enough to
   * page (engines that tell set it; the default rule opens at once on it).
   */
  readonly extreme?: boolean;
  /** The bucket starts something new (engines whose detector tells set it); `reason` says why. */
  readonly news?: boolean;
}

/** How a series repeats, as the band engine learned it. */
export const seasonalities = ['none', 'daily', 'weekly', 'daily+weekly'] as const;
export type Seasonality = (typeof seasonalities)[number];

/** A kind the engine can learn ('auto' is a setting, never a learned kind). */
export type LearnedKind = Exclude<MetricKind, 'auto'>;

/**
 * What an engine learned about a series, null where it cannot tell (yet). The band job passes it in
 * `SeriesProgress.learned` (see `learnedTraits()` in lib/query/learned-traits.ts) and the stores keep it.
 */
export interface LearnedTraits {
  readonly kind: LearnedKind | null;
  readonly seasonality: Seasonality | null;
}

/** A band engine for one series. */
export interface BandEngine {
  /**
   * Feeds one bucket (timestamps strictly increasing) and returns what the engine makes of it. `taughtNormal`
   * says a person judged the bucket normal ("this was normal" on an alert): an engine that can learn from it
   * takes the bucket's departure as one the series makes (the band remembers it as a weekly event); others
   * ignore it.
   */
  update(timestamp: number, value: number, taughtNormal?: boolean): BandResult;
  /** The engine's whole state as plain JSON; `restore` of it behaves exactly like this engine. */
  toState(): EngineState;
  /**
   * What the engine learned about its series, for listings (`GET /v1/series`). Optional: an engine that
   * cannot tell leaves it out, and listings show null.
   */
  describe?(): LearnedTraits;
}

/** Serialised engine state. `engine` names the implementation and version that wrote it. */
export interface EngineState {
  readonly engine: string;
  readonly [field: string]: unknown;
}

/** Creates fresh engines and restores saved ones. */
export interface BandEngineFactory {
  readonly name: string;
  /**
   * Earlier versions whose states `restore` reads as they are, going on exactly where they were: a series
   * they wrote needs no relearning after an upgrade. Any other engine's state is relearned from history.
   */
  readonly restoresAsIs?: readonly string[];
  create(settings?: Partial<BandSettings>): BandEngine;
  /** Restores an engine from `toState()`; a state of another engine (or version) starts a fresh one. */
  restore(state: EngineState | undefined, settings?: Partial<BandSettings>): BandEngine;
}
