import {
  type AlertLink,
  type EvaluatedBucket,
  evaluateSeries,
  evaluateSilence,
  hasOpenAlert,
} from '../alerts/evaluate.ts';
import { type EvaluationOutcome, type Exclusion, emptyMonitor } from '../alerts/model.ts';
import { type AlertConfig, effectiveRules } from '../alerts/rules.ts';
import { selects } from '../alerts/selector.ts';
import type { AlertStore } from '../alerts/store.ts';
import type { BandEngineFactory, BandSettings } from '../bands/engine.ts';
import { ingestLimits } from '../ingest/limits.ts';
import { aggregate, type Bucket } from '../metrics/aggregate.ts';
import { bucketStart, defaultStepMs, inferStep } from '../metrics/step.ts';
import type {
  BandStore,
  Clock,
  MetricStore,
  Notifier,
  PendingSeries,
  SeriesBand,
  SeriesProgress,
  SeriesState,
  SeriesStateStore,
  SeriesStore,
  SeriesSummaryStore,
} from '../ports.ts';
import { learnedTraits } from '../query/learned-traits.ts';
import { type DeliverySummary, deliverTransitions } from './alert-delivery.ts';
import { liveWindowMs } from './live-window.ts';
import {
  defaultStateShards,
  type RefreshSummary,
  type SaveSummary,
  StateCache,
  type StateRun,
  summaryOf,
} from './state-cache.ts';

export interface BandJobDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly bands: BandStore;
  /** The job's own state per series, in shards, and the summaries listings read. */
  readonly states: SeriesStateStore & SeriesSummaryStore;
  readonly alerts: AlertStore;
  readonly notifier: Notifier;
  readonly engine: BandEngineFactory;
  readonly clock: Clock;
}

export interface BandJobOptions {
  readonly settings?: Partial<BandSettings>;
  /** A bucket is processed once it ended at least this long ago, so late points of a flush still count. */
  readonly latenessMs?: number;
  /** How many series one run reads one by one at most (new, backfilled or lagging ones); the rest wait. */
  readonly maxSeriesPerRun?: number;
  /** How many buckets of one series one run feeds at most (a long backfill takes several runs). */
  readonly maxBucketsPerSeries?: number;
  /** The job stops taking series one by one after this epoch-ms instant (the Lambda's time budget). */
  readonly deadline?: number;
  /** The dashboard's base URL: alert links are `<dashboardUrl>/#/series/<seriesId>?alert=<alertId>`. */
  readonly dashboardUrl?: string;
  /**
   * An alert that had already ended this long before the run that recorded it (a backfill of history) is
   * recorded, not paged. Default one hour.
   */
  readonly pageWindowMs?: number;
  /** How many shards the job's state is split into (see lib/jobs/state-cache.ts). */
  readonly stateShards?: number;
}

export interface BandJobSummary {
  readonly seriesProcessed: number;
  readonly bucketsProcessed: number;
  readonly anomalies: number;
  readonly alertsOpened: number;
  readonly alertsResolved: number;
  /** Notifications published this run. */
  readonly notifications: number;
  readonly delivery: DeliverySummary;
  /** Points the run's bulk read returned, and the series they belong to. */
  readonly recentPoints: number;
  readonly recentSeries: number;
  /** Series read one by one (new, backfilled or lagging). */
  readonly seriesReadAlone: number;
  readonly shards: RefreshSummary & SaveSummary;
}

type Limits = Required<Omit<BandJobOptions, 'settings' | 'deadline'>> &
  Pick<BandJobOptions, 'settings' | 'deadline'> & { stepDiscoveryMs: number; discoveryMs: number };

const defaults: Limits = {
  latenessMs: 15_000,
  maxSeriesPerRun: 1_000,
  maxBucketsPerSeries: 50_000,
  /** A series too sparse to show its step is given the default step after this long. */
  stepDiscoveryMs: 3_600_000,
  /** The bulk read reaches this much further back than the previous run (agents' flush delays). */
  discoveryMs: 2 * 60_000,
  dashboardUrl: 'http://127.0.0.1:8080',
  pageWindowMs: 3_600_000,
  stateShards: defaultStateShards,
};

/** The dashboard link of a series at an alert (the shape the dashboard routes). */
export const alertLink =
  (dashboardUrl: string): AlertLink =>
  (seriesId, alertId) =>
    `${dashboardUrl.replace(/\/+$/, '')}/#/series/${encodeURIComponent(seriesId)}?alert=${encodeURIComponent(alertId)}`;

interface Counts {
  series: number;
  buckets: number;
  anomalies: number;
  opened: number;
  resolved: number;
}

const noCounts = (): Counts => ({ series: 0, buckets: 0, anomalies: 0, opened: 0, resolved: 0 });

/** What one run needs everywhere. */
interface RunContext {
  readonly dependencies: BandJobDependencies;
  readonly limits: Limits;
  readonly config: AlertConfig;
  readonly link: AlertLink;
  readonly now: number;
  readonly run: StateRun;
  /** Counts per shard: only those of shards this run saves are reported. */
  readonly counts: Map<string, Counts>;
}

/** The series identity the job needs for rules and notifications. */
type Identity = Pick<SeriesState, 'id' | 'name' | 'type' | 'dimensions'>;

/** State caches per store and shard count, kept across runs of a warm container. */
const caches = new WeakMap<SeriesStateStore, Map<number, StateCache>>();

function cacheFor(store: SeriesStateStore, shardCount: number): StateCache {
  let byCount = caches.get(store);
  if (!byCount) {
    byCount = new Map();
    caches.set(store, byCount);
  }
  let cache = byCount.get(shardCount);
  if (!cache) {
    cache = new StateCache(store, shardCount);
    byCount.set(shardCount, cache);
  }
  return cache;
}

/**
 * The scheduled band job. One bulk read brings the recent points of every series; each live series with
 * closed buckets is fed to its engine bucket by bucket in time order from where it stopped (skipping buckets
 * excluded from learning), and the alert rules judge each bucket; every band goes to the store in one bulk
 * write. Series the bulk read cannot serve (new, backfilled, or behind the live window) are read one by one,
 * a bounded number per run. Then silent series are checked against no-data rules, the state shards and the
 * listing summaries are saved (one request each), and due alert transitions are delivered.
 */
export async function runBandJob(
  dependencies: BandJobDependencies,
  options: BandJobOptions = {},
): Promise<BandJobSummary> {
  const limits: Limits = { ...defaults, ...options };
  const stored = await dependencies.alerts.loadConfig();
  const config: AlertConfig = { ...stored, rules: effectiveRules(stored.rules) };
  const cache = cacheFor(dependencies.states, limits.stateShards);
  const { run, refresh } = await cache.begin();
  const context: RunContext = {
    dependencies,
    limits,
    config,
    link: alertLink(limits.dashboardUrl),
    now: dependencies.clock.now(),
    run,
    counts: new Map(),
  };

  const live = await processLiveSeries(context, cache.lastReadAt);
  cache.lastReadAt = Math.max(cache.lastReadAt ?? 0, context.now);
  const settle = await processSeriesAlone(context, live.candidates);
  await checkSilentSeries(context);

  const saved = await run.commit();
  const conflicts = new Set(saved.conflicts);
  for (const [id, version] of settle) {
    if (!conflicts.has(run.shardOf(id))) await dependencies.series.settlePending(id, version);
  }
  if (conflicts.size === 0 && (saved.saved > 0 || refresh.loaded === 0)) {
    await dependencies.states.saveSummaries([...run.all()].map(summaryOf));
  }
  const totals = noCounts();
  for (const [shard, counts] of context.counts) {
    if (conflicts.has(shard)) continue;
    for (const key of Object.keys(totals) as (keyof Counts)[]) totals[key] += counts[key];
  }
  const delivery = await deliverTransitions(dependencies, {
    mutes: config.mutes,
    pageWindowMs: limits.pageWindowMs,
  });
  return {
    seriesProcessed: totals.series,
    bucketsProcessed: totals.buckets,
    anomalies: totals.anomalies,
    alertsOpened: totals.opened,
    alertsResolved: totals.resolved,
    notifications: delivery.sent,
    delivery,
    recentPoints: live.points,
    recentSeries: live.series,
    seriesReadAlone: settle.size + live.readAlone,
    shards: { ...refresh, ...saved },
  };
}

/**
 * The live path: one bulk read of the recent past, then every series with state inside the live window and a
 * closed bucket to process, in memory. Returns the series the bulk read found that need the per-series path.
 */
async function processLiveSeries(
  context: RunContext,
  lastReadAt: number | undefined,
): Promise<{ candidates: Set<string>; points: number; series: number; readAlone: number }> {
  const { dependencies, limits, now, run } = context;
  const liveFrom = now - liveWindowMs;
  const closedAt = now - limits.latenessMs;
  // The read covers every point that arrived since the previous run (a margin for agents' delays; the whole
  // live window in a cold container) and the oldest unprocessed bucket of every live series.
  let readFrom = Math.min(now, lastReadAt ?? liveFrom) - limits.discoveryMs;
  for (const state of run.all()) {
    if (state.processedUntil >= liveFrom && state.processedUntil < readFrom) {
      if (bucketStart(closedAt, state.stepMs) > state.processedUntil) readFrom = state.processedUntil;
    }
  }
  readFrom = Math.max(readFrom, liveFrom);
  const recent = await dependencies.metrics.readRecentPoints(readFrom, now + ingestLimits.maxFutureSkewMs);

  const candidates = new Set<string>();
  const bands: SeriesBand[] = [];
  const outcomes: EvaluationOutcome[] = [];
  let points = 0;
  for (const [id, series] of recent) {
    points += series.length;
    const state = run.get(id);
    if (!state || state.processedUntil < liveFrom) {
      candidates.add(id);
      continue;
    }
    const newest = series[series.length - 1];
    const closedBefore = bucketStart(closedAt, state.stepMs);
    const due = series.filter(
      (point) => point.timestamp >= state.processedUntil && point.timestamp < closedBefore,
    );
    let next = state;
    if (due.length > 0) {
      const fed = feed(context, state, state, aggregate(state.type, due, state.stepMs), closedBefore);
      next = fed.state;
      bands.push(...fed.bands);
      if (fed.outcome) outcomes.push(fed.outcome);
    }
    if (newest && newest.timestamp >= next.lastTimestamp) {
      next = { ...next, lastTimestamp: newest.timestamp, lastValue: newest.value };
    }
    if (next !== state) run.set(next);
  }
  if (bands.length > 0) await dependencies.bands.writeManyBands(bands);
  for (const outcome of outcomes) await dependencies.alerts.recordEvaluation(outcome);
  return { candidates, points, series: recent.size, readAlone: 0 };
}

/**
 * The per-series path, for series the bulk read cannot serve: new series and backfilled history (marked
 * pending by ingest), and series behind the live window (the job was stopped, or a series came back after a
 * silence). Each is read from where it stopped, up to a bounded number of buckets. Returns the pending
 * series to settle (with the version seen) once the run's state is saved.
 */
async function processSeriesAlone(
  context: RunContext,
  candidates: Set<string>,
): Promise<Map<string, number>> {
  const { dependencies, limits, run } = context;
  const settle = new Map<string, number>();
  const pending = await dependencies.series.pendingSeries(limits.maxSeriesPerRun);
  const work: { id: string; pending?: PendingSeries }[] = pending.map((entry) => ({
    id: entry.series.id,
    pending: entry,
  }));
  const listed = new Set(work.map((entry) => entry.id));
  for (const id of candidates) if (!listed.has(id)) work.push({ id });

  let taken = 0;
  for (const entry of work) {
    if (taken >= limits.maxSeriesPerRun) break;
    if (limits.deadline !== undefined && dependencies.clock.now() > limits.deadline) break;
    const state = run.get(entry.id);
    const identity: Identity | undefined =
      state ?? entry.pending?.series ?? (await dependencies.series.getSeries(entry.id));
    if (!identity) continue;
    taken += 1;
    const caughtUp = await processAlone(context, identity, state, entry.pending?.progress);
    if (caughtUp && entry.pending) settle.set(entry.id, entry.pending.version);
  }
  return settle;
}

/** Reads one series from where it stopped and feeds it; true when it caught up with the closed buckets. */
async function processAlone(
  context: RunContext,
  identity: Identity,
  state: SeriesState | undefined,
  seed: SeriesProgress | undefined,
): Promise<boolean> {
  const { dependencies, limits, now, run } = context;
  const { metrics, alerts, bands } = dependencies;
  const known = state ?? seed;
  if (known && bucketStart(now - limits.latenessMs, known.stepMs) <= known.processedUntil) return true;
  const start = known?.processedUntil ?? (await metrics.earliestTimestamp(identity.id));
  if (start === undefined) return false;

  let stepMs = known?.stepMs;
  if (stepMs === undefined) {
    const sample = await metrics.readPoints(identity.id, start, start + 200 * 3_600_000);
    stepMs = inferStep(sample.slice(0, 60).map((point) => point.timestamp));
    if (stepMs === undefined) {
      if (now - start < limits.stepDiscoveryMs) return false;
      stepMs = defaultStepMs;
    }
  }
  const firstBucket = bucketStart(start, stepMs);
  const closedBefore = bucketStart(now - limits.latenessMs, stepMs);
  const end = Math.min(closedBefore, firstBucket + limits.maxBucketsPerSeries * stepMs);
  const points = end > firstBucket ? await metrics.readPoints(identity.id, firstBucket, end) : [];
  const buckets = aggregate(identity.type, points, stepMs).filter((bucket) => bucket.start + stepMs <= end);
  // A series the job never kept state for may have a monitor in the alert store (from before state shards).
  const monitor = state ? state.monitor : (await alerts.loadMonitor(identity.id)).monitor;
  const before: SeriesState = state ?? {
    ...identity,
    stepMs,
    processedUntil: firstBucket,
    engineState: seed?.engineState ?? { engine: 'none' },
    anomalous: seed?.anomalous ?? false,
    monitor,
    lastTimestamp: 0,
    lastValue: null,
    kind: null,
    seasonality: null,
  };
  const fed = feed(
    context,
    identity,
    { ...before, stepMs, engineState: known ? before.engineState : undefined },
    buckets,
    end,
  );
  const newest = points[points.length - 1];
  let next = fed.state;
  if (newest && newest.timestamp >= next.lastTimestamp) {
    next = { ...next, lastTimestamp: newest.timestamp, lastValue: newest.value };
  }
  if (fed.bands.length > 0) await bands.writeManyBands(fed.bands);
  if (fed.outcome) await alerts.recordEvaluation(fed.outcome);
  run.set(next);
  return end === closedBefore;
}

interface Fed {
  readonly state: SeriesState;
  readonly bands: SeriesBand[];
  /** The evaluation, when it opened, changed or resolved an alert (to record). */
  readonly outcome: EvaluationOutcome | undefined;
}

/**
 * Feeds closed buckets to a series' engine in time order and applies the alert rules to them; the state
 * that results has processed everything before `end`. Pure but for the counts it adds to the run's.
 */
function feed(
  context: RunContext,
  identity: Identity,
  state: Omit<SeriesState, 'engineState'> & { engineState: SeriesState['engineState'] | undefined },
  buckets: readonly Bucket[],
  end: number,
): Fed {
  const { dependencies, limits, config, now, link, run } = context;
  const { stepMs } = state;
  const engine = dependencies.engine.restore(state.engineState, limits.settings);
  const excluded = exclusionTest(config.exclusions, identity, stepMs);
  let anomalous = state.anomalous;
  const bands: SeriesBand[] = [];
  const evaluated: EvaluatedBucket[] = [];
  let anomalies = 0;
  for (const bucket of buckets) {
    // An excluded bucket is not fed to the engine at all: it is neither learned nor judged against a band.
    if (excluded(bucket.start)) {
      evaluated.push({ timestamp: bucket.start, value: bucket.value, band: undefined });
      continue;
    }
    const result = engine.update(bucket.start, bucket.value);
    bands.push({
      seriesId: identity.id,
      timestamp: bucket.start,
      value: bucket.value,
      expected: result.expected,
      lower: result.lower,
      upper: result.upper,
      score: result.score,
      anomaly: result.anomaly,
    });
    if (result.anomaly) anomalies += 1;
    evaluated.push({ timestamp: bucket.start, value: bucket.value, band: result });
    // Anomalous now: from the engine's anomaly decision for as long as the value stays outside its band.
    anomalous = result.anomaly || (anomalous && (bucket.value > result.upper || bucket.value < result.lower));
  }
  const outcome = evaluateSeries({
    series: identity,
    stepMs,
    monitor: state.monitor ?? emptyMonitor(identity.id),
    rules: config.rules,
    buckets: evaluated,
    now,
    link,
  });
  const learned = learnedTraits(engine);
  const transitions = transitionCounts(outcome.transitions);
  const counts = countsOf(context.counts, run.shardOf(identity.id));
  counts.series += 1;
  counts.buckets += bands.length;
  counts.anomalies += anomalies;
  counts.opened += transitions.opened;
  counts.resolved += transitions.resolved;
  return {
    state: {
      ...identity,
      stepMs,
      processedUntil: Math.max(end, state.processedUntil),
      engineState: engine.toState(),
      anomalous,
      monitor: outcome.monitor,
      lastTimestamp: state.lastTimestamp,
      lastValue: state.lastValue,
      kind: learned ? learned.kind : state.kind,
      seasonality: learned ? learned.seasonality : state.seasonality,
    },
    bands,
    outcome: outcome.transitions.length > 0 || outcome.alerts.length > 0 ? outcome : undefined,
  };
}

function countsOf(counts: Map<string, Counts>, shard: string): Counts {
  let found = counts.get(shard);
  if (!found) {
    found = noCounts();
    counts.set(shard, found);
  }
  return found;
}

/**
 * Silent series against no-data rules, and series with an open alert (which may have to resolve because data
 * is back or its rule is gone): all in memory, from the states.
 */
async function checkSilentSeries(context: RunContext): Promise<void> {
  const { config, now, link, run, dependencies } = context;
  const noDataRules = config.rules.filter((rule) => rule.enabled && rule.kind === 'nodata');
  for (const state of run.all()) {
    const monitor = state.monitor ?? emptyMonitor(state.id);
    const silent = noDataRules.some(
      (rule) =>
        rule.kind === 'nodata' && selects(rule.selector, state) && now - state.lastTimestamp >= rule.afterMs,
    );
    if (!silent && !hasOpenAlert(monitor)) continue;
    const result = evaluateSilence({ series: state, monitor, rules: config.rules, now, link });
    if (result.transitions.length === 0) continue;
    await dependencies.alerts.recordEvaluation(result);
    run.set({ ...state, monitor: result.monitor });
    const counts = countsOf(context.counts, run.shardOf(state.id));
    const transitions = transitionCounts(result.transitions);
    counts.opened += transitions.opened;
    counts.resolved += transitions.resolved;
  }
}

function transitionCounts(transitions: readonly { kind: string }[]): { opened: number; resolved: number } {
  return {
    opened: transitions.filter((transition) => transition.kind === 'OPEN').length,
    resolved: transitions.filter((transition) => transition.kind === 'RESOLVED').length,
  };
}

/** Whether a bucket of a series overlaps a period excluded from learning. */
function exclusionTest(
  exclusions: readonly Exclusion[],
  series: Identity,
  stepMs: number,
): (bucketStart: number) => boolean {
  const periods = exclusions.filter((exclusion) => selects(exclusion.selector, series));
  if (periods.length === 0) return () => false;
  return (start) => periods.some((period) => start < period.end && start + stepMs > period.start);
}
