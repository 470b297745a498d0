import {
  type AlertLink,
  type EvaluatedBucket,
  evaluateSeries,
  evaluateSilence,
  hasOpenAlert,
} from '../alerts/evaluate.ts';
import { unitOf } from '../alerts/explain.ts';
import {
  defaultNotifyMode,
  type EvaluationOutcome,
  type Exclusion,
  emptyMonitor,
  type NotifyMode,
  type Rule,
} from '../alerts/model.ts';
import { type AlertConfig, effectiveRules } from '../alerts/rules.ts';
import { selects } from '../alerts/selector.ts';
import type { BandEngine, BandEngineFactory, BandSettings } from '../bands/engine.ts';
import { isSoundResult } from '../bands/finite.ts';
import { alertViewUrl, incidentViewUrl } from '../dashboard-links.ts';
import { type FeedbackPeriods, feedbackPeriods, noFeedbackPeriods } from '../feedback/model.ts';
import { aggregate, type Bucket } from '../metrics/aggregate.ts';
import { ingestLimits } from '../metrics/limits.ts';
import { liveWindowMs, readMarginMs } from '../metrics/live-window.ts';
import { bucketStart, defaultStepMs, inferStep } from '../metrics/step.ts';
import type { AlertStore } from '../ports/alert-store.ts';
import type { BandStore, SeriesBand } from '../ports/band-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { FeedbackStore } from '../ports/feedback-store.ts';
import type { IncidentStore } from '../ports/incident-store.ts';
import type { MetricStore, TimedValue } from '../ports/metric-store.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { SeriesState, SeriesStateStore } from '../ports/series-state-store.ts';
import type { PendingSeries, SeriesFault, SeriesProgress, SeriesStore } from '../ports/series-store.ts';
import type { SeriesSummary, SeriesSummaryStore } from '../ports/series-summary-store.ts';
import { learnedTraits, seriesKind } from '../query/learned-traits.ts';
import { dayMs, hourMs } from '../time.ts';
import { type DeliverySummary, deliverTransitions } from './alert-delivery.ts';
import {
  deliverIncidentTransitions,
  type IncidentDeliverySummary,
  type IncidentSettings,
  incidentRouter,
  noIncidentDelivery,
  recordDueIncidentTransitions,
} from './incident-delivery.ts';
import { type Resharding, reshardState } from './reshard.ts';
import { defaultStateShards, shardNames, shardOf, shardSelection, summaryOf } from './state-shards.ts';
import { resendStillOpen, type StillOpenSummary } from './still-open.ts';

export interface BandJobDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly bands: BandStore;
  /** The job's own state per series, in shards, and the summaries listings read. */
  readonly states: SeriesStateStore & SeriesSummaryStore;
  readonly alerts: AlertStore;
  readonly notifier: Notifier;
  /**
   * Incidents: with it (and a notifier that can page incidents), alerts of rules with `notify: "incident"`
   * (the default) are paged through their incidents (lib/jobs/incident-delivery.ts); without it, each alert
   * is paged on its own.
   */
  readonly incidents?: IncidentStore;
  readonly engine: BandEngineFactory;
  readonly clock: Clock;
  /**
   * What people said of stretches of series ("this was normal", "this was an incident"): learned as normal, or
   * kept out of learning. Without it the job hears no feedback.
   */
  readonly feedback?: FeedbackStore;
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
  /** How many shards the job's state is split into (see lib/jobs/state-shards.ts). */
  readonly stateShards?: number;
  /**
   * The smallest step a series is aggregated to, and the step of a series too sparse to show its own
   * (one of the nice steps in lib/metrics/step.ts). Default one minute.
   */
  readonly minStepMs?: number;
  /** How alerts are grouped into incidents and how often an incident is updated (see IncidentSettings). */
  readonly incidents?: IncidentSettings;
  /** The IANA time zone alerts are explained in (the season a band judged by, the times). Default UTC. */
  readonly timeZone?: string;
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
  /** Alert transitions paged through incidents, and the incidents' own notifications. */
  readonly incidents: IncidentDeliverySummary;
  /** What was open and re-sent to a notifier that mirrors state (Alertmanager), after the delivery. */
  readonly stillOpen: StillOpenSummary;
  /** Points the run's bulk read returned, and the series they belong to. */
  readonly recentPoints: number;
  readonly recentSeries: number;
  /** Series read one by one (new, backfilled, lagging or relearned). */
  readonly seriesReadAlone: number;
  /** Series learned again from their history because an exclusion created since covers what they learned. */
  readonly seriesRelearned: number;
  /**
   * Series whose buckets already judged got points late (a backfill, an agent's delayed flush): judged again
   * from the first such bucket on, as if the points had been there all along.
   */
  readonly seriesRewound: number;
  /** Series this run kept aside because their engine or rules failed on them (the others went on). */
  readonly quarantined: readonly QuarantinedSeries[];
  /** Series kept aside after this run, those of earlier runs still waiting to be tried again included. */
  readonly seriesQuarantined: number;
  /**
   * State shards read, saved, saved first by another run (this run gave way on those), and failed (a store
   * error: the shard is left as it was, for the next run; the other shards went on).
   */
  readonly shards: {
    readonly loaded: number;
    readonly saved: number;
    readonly conflicts: readonly string[];
    readonly failed: readonly { readonly shard: string; readonly reason: string }[];
  };
  /** Set when the run first moved the states to a new shard count (see lib/jobs/reshard.ts). */
  readonly resharded?: Resharding;
}

/** A series kept aside by a run, as the run reports it. */
export interface QuarantinedSeries {
  readonly seriesId: string;
  readonly name: string;
  readonly reason: string;
  readonly retryAt: number;
}

/** A series kept aside is tried again after this long, twice as long after each failure, up to a day. */
const firstRetryMs = hourMs;
const longestRetryMs = dayMs;

type Limits = Required<Omit<BandJobOptions, 'settings' | 'deadline' | 'incidents'>> &
  Pick<BandJobOptions, 'settings' | 'deadline' | 'incidents'> & {
    stepDiscoveryMs: number;
    discoveryMs: number;
  };

const defaults: Limits = {
  latenessMs: 15_000,
  maxSeriesPerRun: 1_000,
  maxBucketsPerSeries: 50_000,
  /** A series too sparse to show its step is given the default step after this long. */
  stepDiscoveryMs: hourMs,
  /** The bulk read reaches this much further back than the previous run (agents' flush delays). */
  discoveryMs: readMarginMs,
  dashboardUrl: 'http://127.0.0.1:8080',
  pageWindowMs: hourMs,
  stateShards: defaultStateShards,
  minStepMs: defaultStepMs,
  timeZone: 'UTC',
};

/** The dashboard link of a series at an alert (the shape the dashboard routes). */
export const alertLink =
  (dashboardUrl: string): AlertLink =>
  (seriesId, alertId) =>
    alertViewUrl(dashboardUrl, seriesId, alertId);

/** What a run (or a batch of its shards) counted. */
export type BandCounts = Counts;

interface Counts {
  series: number;
  relearned: number;
  rewound: number;
  buckets: number;
  anomalies: number;
  opened: number;
  resolved: number;
}

/** Shard saves a run lets run while it processes the next shards (each holds its shard's text meanwhile). */
const maxSavesInFlight = 1;

const noCounts = (): Counts => ({
  series: 0,
  relearned: 0,
  rewound: 0,
  buckets: 0,
  anomalies: 0,
  opened: 0,
  resolved: 0,
});

/** What one run needs everywhere. */
interface RunContext {
  readonly dependencies: BandJobDependencies;
  readonly limits: Limits;
  /** The exclusions in it include the stretches people said were incidents (see lib/feedback/model.ts). */
  readonly config: AlertConfig;
  /** The stretches people said were normal, taught to the engine as such, and those withdrawn. */
  readonly taught: Pick<FeedbackPeriods, 'taught' | 'withdrawnTaught'>;
  readonly link: AlertLink;
  readonly now: number;
  /** Where the run's bulk read starts. */
  readFrom: number;
  /** Series a run may still read on their own (shared by every shard's pass). */
  aloneBudget: number;
}

/** One shard's pass: its states, and what the pass produced. */
interface ShardWork {
  readonly name: string;
  readonly version: string | undefined;
  readonly states: Map<string, SeriesState>;
  readonly counts: Counts;
  /** Pending series to settle (with the version seen) once the shard is saved. */
  readonly settle: Map<string, number>;
  /** Pending series that cannot progress yet, to put off until a time (with the version seen). */
  readonly defer: Map<string, { readonly version: number; readonly until: number }>;
  /** Live series that got points late in buckets already judged: judged again from this bucket on. */
  readonly rewind: Map<string, number>;
  /** Series of the shard kept aside in this pass. */
  readonly quarantined: QuarantinedSeries[];
  changed: boolean;
}

/** The series identity the job needs for rules and notifications. */
type Identity = Pick<SeriesState, 'id' | 'name' | 'type' | 'dimensions'>;

/** What a run leaves for the next one in the same container: where its bulk read may start. */
interface Memory {
  /** When the last run read recent points. */
  lastReadAt: number | undefined;
  /** The oldest unprocessed bucket of a live series after the last run. */
  oldestLiveProcessedUntil: number | undefined;
}

const memories = new WeakMap<SeriesStateStore, Map<string, Memory>>();

/**
 * What the last run in this container remembers, per store and per batch of shards: a container of a fan-out
 * worker may take another batch next time, whose series the memory of this one does not cover.
 */
function memoryOf(store: SeriesStateStore, shards: readonly string[]): Memory {
  let byBatch = memories.get(store);
  if (!byBatch) {
    byBatch = new Map();
    memories.set(store, byBatch);
  }
  const key = shards.join(' ');
  let memory = byBatch.get(key);
  if (!memory) {
    memory = { lastReadAt: undefined, oldestLiveProcessedUntil: undefined };
    byBatch.set(key, memory);
  }
  return memory;
}

/**
 * The scheduled band job. One bulk read brings the recent points of every series; then, shard by shard (so
 * memory holds one shard's states at a time): each live series with closed buckets is fed to its engine
 * bucket by bucket in time order from where it stopped (skipping buckets excluded from learning), the alert
 * rules judge each bucket, the shard's bands go to the store in one bulk write, series the bulk read cannot
 * serve (new, backfilled, or behind the live window) are read one by one (a bounded number per run), silent
 * series are checked against no-data rules, and the shard is saved whole (one request). Then the listing
 * summaries are saved (one request) and due alert transitions are delivered.
 */
export async function runBandJob(
  dependencies: BandJobDependencies,
  options: BandJobOptions = {},
): Promise<BandJobSummary> {
  // A changed shard count: the states move to the new count's shards first (lib/jobs/reshard.ts).
  const resharded = await reshardState(dependencies.states, options.stateShards ?? defaultStateShards);
  const context = await startRun(dependencies, options);
  const { run, recent } = await processShardBatch(context, shardNames(context.limits.stateShards));
  await saveSummariesOfCompleteRun(context, run);
  // Whatever happened to the shards, what is due is delivered: one series can hold back no other's alerts.
  const { delivery, incidents, stillOpen } = await deliverDue(context);
  const summary = summaryOfRun(run, delivery, incidents, stillOpen, recent);
  return resharded ? { ...summary, resharded } : summary;
}

/**
 * One run's pass over some of its shards (all of them in {@link runBandJob}; a batch of them in a fan-out
 * worker, lib/jobs/band-fanout.ts): one bulk read of the recent points (a worker's of its shards' series
 * only), the pending series, then the shards in turn. What a container remembers for its next bulk read is
 * kept per batch of shards (see {@link memoryOf}).
 */
async function processShardBatch(
  context: RunContext,
  names: readonly string[],
): Promise<{ run: RunReport; recent: { points: number; series: number } }> {
  const { dependencies, limits, now } = context;
  const everyShard = names.length === limits.stateShards;
  // The single function's memory covers every series whatever the shard count (re-sharding changes the names).
  const memory = memoryOf(dependencies.states, everyShard ? [] : names);
  context.readFrom = bulkReadFrom(context, memory);
  // A worker asks for its shards' series only: a store partitioned by the series hash reads only their part.
  const recent = await dependencies.metrics.readRecentPoints(
    context.readFrom,
    now + ingestLimits.maxFutureSkewMs,
    everyShard ? undefined : shardSelection(names, limits.stateShards),
  );
  memory.lastReadAt = Math.max(memory.lastReadAt ?? 0, now);
  const recentByShard = byShard(recent.keys(), (id) => id, limits.stateShards);
  const batch = new Set(names);
  let recentPoints = 0;
  let recentSeries = 0;
  for (const [shard, ids] of recentByShard) {
    if (batch.has(shard)) {
      recentSeries += ids.length;
      for (const id of ids) recentPoints += recent.get(id)?.length ?? 0;
    } else {
      // Another worker's series (none from a store that honours the selection): not held.
      for (const id of ids) recent.delete(id);
    }
  }
  const pending = await dependencies.series.pendingSeries(limits.maxSeriesPerRun, now);
  const run = newRunReport();
  await processShards(context, run, names, {
    recent,
    recentByShard,
    pendingByShard: byShard(pending, (entry) => entry.series.id, limits.stateShards),
  });
  run.shards.conflicts.sort();
  run.shards.failed.sort((a, b) => a.shard.localeCompare(b.shard));
  memory.oldestLiveProcessedUntil = run.oldestLive;
  return { run, recent: { points: recentPoints, series: recentSeries } };
}

/** What a worker reports of its batch of shards: small, as it travels through Step Functions. */
export interface ShardBatchReport {
  readonly shards: readonly string[];
  readonly counts: BandCounts;
  readonly readAlone: number;
  /** The series kept aside in this pass (at most {@link maxQuarantinedReported}), and how many in all. */
  readonly quarantined: readonly QuarantinedSeries[];
  readonly quarantinedInPass: number;
  readonly seriesQuarantined: number;
  readonly shardResults: BandJobSummary['shards'];
  readonly recentPoints: number;
  readonly recentSeries: number;
}

/** Series kept aside a worker's report lists by name (the rest are counted): Step Functions passes 256 KB. */
export const maxQuarantinedReported = 20;

/**
 * The per-shard work of a run for a batch of its shards (a fan-out worker): learn, detect, write bands, record
 * alert transitions in the outbox, save the shards. Nothing is delivered: {@link deliverBandRun} does that once
 * for the run. Returns the batch's report and its shards' listing summaries (saved as parts by the caller).
 */
export async function runShardBatch(
  dependencies: BandJobDependencies,
  options: BandJobOptions,
  shards: readonly string[],
): Promise<{ readonly report: ShardBatchReport; readonly summaries: readonly SeriesSummary[] }> {
  const context = await startRun(dependencies, options);
  const { run, recent } = await processShardBatch(context, shards);
  const report: ShardBatchReport = {
    shards,
    counts: run.totals,
    readAlone: run.readAlone,
    quarantined: run.quarantined.slice(0, maxQuarantinedReported),
    quarantinedInPass: run.quarantined.length,
    seriesQuarantined: run.seriesQuarantined,
    shardResults: run.shards,
    recentPoints: recent.points,
    recentSeries: recent.series,
  };
  return { report, summaries: run.summaries };
}

/**
 * The last step of a fanned-out run, once for the run: the workers' reports merged into the run's summary,
 * the listing summaries saved when every shard's pass completed (`summaries` gathers the parts the workers
 * left; undefined when one is missing), then due alert transitions and incidents delivered.
 */
export async function deliverBandRun(
  dependencies: BandJobDependencies,
  options: BandJobOptions,
  reports: readonly ShardBatchReport[],
  summaries: () => Promise<readonly SeriesSummary[] | undefined>,
): Promise<BandJobSummary> {
  const context = await startRun(dependencies, options);
  const run = newRunReport();
  const recent = { points: 0, series: 0 };
  for (const report of reports) {
    for (const key of Object.keys(run.totals) as (keyof Counts)[]) run.totals[key] += report.counts[key];
    run.readAlone += report.readAlone;
    run.quarantined.push(...report.quarantined);
    run.seriesQuarantined += report.seriesQuarantined;
    run.shards.loaded += report.shardResults.loaded;
    run.shards.saved += report.shardResults.saved;
    run.shards.conflicts.push(...report.shardResults.conflicts);
    run.shards.failed.push(...report.shardResults.failed);
    recent.points += report.recentPoints;
    recent.series += report.recentSeries;
  }
  run.shards.conflicts.sort();
  run.shards.failed.sort((a, b) => a.shard.localeCompare(b.shard));
  if (run.shards.conflicts.length === 0 && run.shards.failed.length === 0) {
    try {
      const parts = await summaries();
      if (parts) run.summaries.push(...parts);
      else run.shards.failed.push({ shard: 'summaries', reason: "a shard's summaries were not left" });
    } catch (error) {
      run.shards.failed.push({ shard: 'summaries', reason: messageOf(error) });
    }
  }
  await saveSummariesOfCompleteRun(context, run);
  const { delivery, incidents, stillOpen } = await deliverDue(context);
  return summaryOfRun(run, delivery, incidents, stillOpen, recent);
}

/** Delivers the alert transitions and incident notifications due (lib/jobs/alert-delivery.ts). */
async function deliverDue(context: RunContext): Promise<{
  delivery: DeliverySummary;
  incidents: IncidentDeliverySummary;
  stillOpen: StillOpenSummary;
}> {
  const { dependencies, limits } = context;
  const incidents = noIncidentDelivery();
  const { notifier, clock } = dependencies;
  const incidentStore = notifier.notifyIncident ? dependencies.incidents : undefined;
  const settings = limits.incidents ?? {};
  const delivery = await deliverTransitions(dependencies, {
    mutes: context.config.mutes,
    pageWindowMs: limits.pageWindowMs,
    ...(incidentStore && {
      route: incidentRouter(incidentStore, {
        clock,
        settings,
        notifyMode: notifyModes(context.config.rules),
        summary: incidents,
      }),
    }),
  });
  if (incidentStore && notifier.notifyIncident) {
    const notify = notifier.notifyIncident.bind(notifier);
    incidents.recorded = await recordDueIncidentTransitions(incidentStore, {
      ...settings,
      now: clock.now(),
      link: (id) => incidentViewUrl(limits.dashboardUrl, id),
    });
    await deliverIncidentTransitions({ incidents: incidentStore, notify, clock }, incidents);
  }
  const stillOpen = await resendStillOpen(
    { alerts: dependencies.alerts, incidents: incidentStore, notifier, clock },
    context.link,
  );
  // Once a run, after delivery: the store folds what it keeps in a log (the DynamoDB store; others have none).
  await dependencies.metrics.compact?.();
  return { delivery, incidents, stillOpen };
}

/** How each rule's alerts are paged; a rule not found (deleted since) pages as the default says. */
const notifyModes =
  (rules: readonly Rule[]) =>
  (ruleId: string): NotifyMode =>
    rules.find((rule) => rule.id === ruleId)?.notify ?? defaultNotifyMode;

/** What a run reports. */
function summaryOfRun(
  run: RunReport,
  delivery: DeliverySummary,
  incidents: IncidentDeliverySummary,
  stillOpen: StillOpenSummary,
  recent: { readonly points: number; readonly series: number },
): BandJobSummary {
  return {
    seriesProcessed: run.totals.series,
    bucketsProcessed: run.totals.buckets,
    anomalies: run.totals.anomalies,
    alertsOpened: run.totals.opened,
    alertsResolved: run.totals.resolved,
    notifications: delivery.sent + incidents.sent,
    delivery,
    incidents,
    stillOpen,
    recentPoints: recent.points,
    recentSeries: recent.series,
    seriesReadAlone: run.readAlone,
    seriesRelearned: run.totals.relearned,
    seriesRewound: run.totals.rewound,
    quarantined: run.quarantined,
    seriesQuarantined: run.seriesQuarantined,
    shards: run.shards,
  };
}

/** A run's context: the options over the defaults, the run's time, and the alert configuration as of then. */
async function startRun(dependencies: BandJobDependencies, options: BandJobOptions): Promise<RunContext> {
  const limits: Limits = { ...defaults, ...options };
  // Read before the configuration, so that every exclusion created up to `now` is in it (see needsRelearning).
  const now = dependencies.clock.now();
  const stored = await dependencies.alerts.loadConfig();
  const feedback = dependencies.feedback
    ? feedbackPeriods(await dependencies.feedback.listFeedback())
    : noFeedbackPeriods;
  // "This was an incident" is an exclusion of its series' stretch: learned around, and learned again when withdrawn.
  const config: AlertConfig = {
    ...stored,
    rules: effectiveRules(stored.rules),
    exclusions: [...stored.exclusions, ...feedback.excluded],
    withdrawnExclusions: [...(stored.withdrawnExclusions ?? []), ...feedback.withdrawnExcluded],
  };
  return {
    dependencies,
    limits,
    config,
    taught: { taught: feedback.taught, withdrawnTaught: feedback.withdrawnTaught },
    link: alertLink(limits.dashboardUrl),
    now,
    readFrom: now,
    aloneBudget: limits.maxSeriesPerRun,
  };
}

/**
 * Where the run's bulk read starts. The read covers every point that arrived since the previous run (with a
 * margin for agents' delays) and the oldest unprocessed bucket of every live series; the whole live window in
 * a cold container.
 */
function bulkReadFrom(context: RunContext, memory: Memory): number {
  const { limits, now } = context;
  const liveFrom = now - liveWindowMs;
  return Math.max(
    liveFrom,
    Math.min(
      (memory.lastReadAt ?? liveFrom) - limits.discoveryMs,
      now - limits.discoveryMs,
      memory.oldestLiveProcessedUntil ?? liveFrom,
    ),
  );
}

/** Items by the state shard of the series each belongs to, in their order. */
function byShard<T>(items: Iterable<T>, seriesIdOf: (item: T) => string, shards: number): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const item of items) {
    const shard = shardOf(seriesIdOf(item), shards);
    const list = grouped.get(shard);
    if (list) list.push(item);
    else grouped.set(shard, [item]);
  }
  return grouped;
}

/** What a run gathers of its shards, each once its save settled. */
interface RunReport {
  readonly totals: Counts;
  readonly shards: {
    loaded: number;
    saved: number;
    readonly conflicts: string[];
    readonly failed: { shard: string; reason: string }[];
  };
  readonly summaries: SeriesSummary[];
  readonly quarantined: QuarantinedSeries[];
  seriesQuarantined: number;
  /** The oldest unprocessed bucket of a live series, over the shards saved. */
  oldestLive: number | undefined;
  readAlone: number;
}

const newRunReport = (): RunReport => ({
  totals: noCounts(),
  shards: { loaded: 0, saved: 0, conflicts: [], failed: [] },
  summaries: [],
  quarantined: [],
  seriesQuarantined: 0,
  oldestLive: undefined,
  readAlone: 0,
});

/** What the run read once for all its shards: the recent points, and the series of each shard to look at. */
interface RunInput {
  readonly recent: ReadonlyMap<string, readonly TimedValue[]>;
  readonly recentByShard: ReadonlyMap<string, readonly string[]>;
  readonly pendingByShard: ReadonlyMap<string, readonly PendingSeries[]>;
}

/**
 * Every shard in turn, so that memory holds one shard's states at a time: its live series, the series read one
 * by one, its silent series, then its save. The next shard downloads while one is processed, and a shard is
 * saved while the next one is processed. A shard the store fails on is left as it was (the next run takes it
 * again); the others go on.
 */
async function processShards(
  context: RunContext,
  run: RunReport,
  names: readonly string[],
  input: RunInput,
): Promise<void> {
  const { dependencies } = context;
  const load = (index: number) => {
    const loading = dependencies.states.loadShard(names[index] ?? '');
    // Awaited in its turn; until then a failed download must not count as an unhandled rejection.
    loading.catch(() => undefined);
    return loading;
  };
  const saves: Promise<void>[] = [];
  let next = load(0);
  for (const [index, name] of names.entries()) {
    const loading = next;
    if (index + 1 < names.length) next = load(index + 1);
    try {
      const work = shardWork(name, await loading, run);
      const pending = input.pendingByShard.get(name) ?? [];
      const ids = input.recentByShard.get(name) ?? [];
      const candidates = await processLiveSeries(context, work, ids, input.recent, pending);
      run.readAlone += await processSeriesAlone(context, work, pending, candidates);
      await checkSilentSeries(context, work);
      saves.push(saveShard(context, work, run));
      if (saves.length >= maxSavesInFlight) await saves.shift();
    } catch (error) {
      run.shards.failed.push({ shard: name, reason: messageOf(error) });
    }
  }
  await Promise.all(saves);
}

/** A shard's pass, from what the store loaded (counted in the run's report when there was a shard). */
function shardWork(
  name: string,
  loaded: Awaited<ReturnType<SeriesStateStore['loadShard']>>,
  run: RunReport,
): ShardWork {
  const snapshot = loaded === 'unchanged' ? undefined : loaded;
  if (snapshot) run.shards.loaded += 1;
  return {
    name,
    version: snapshot?.version,
    states: new Map((snapshot?.states ?? []).map((state) => [state.id, state])),
    counts: noCounts(),
    settle: new Map(),
    defer: new Map(),
    rewind: new Map(),
    quarantined: [],
    changed: false,
  };
}

/**
 * Saves a shard (compression runs off the main thread, while the next shard is processed). Once it is saved,
 * its pending series are settled or put off and the run's report takes its figures; only those figures are
 * taken from its states before the save, so that nothing else of them needs to wait. A shard another run saved
 * first is only reported: this run gives way.
 */
function saveShard(context: RunContext, work: ShardWork, run: RunReport): Promise<void> {
  const { dependencies, now } = context;
  const figures = shardFigures(work, now - liveWindowMs);
  const saving = work.changed
    ? dependencies.states.saveShard(work.name, [...work.states.values()], work.version)
    : Promise.resolve(undefined);
  const { counts, settle, defer } = work;
  return saving
    .then(async (version) => {
      if (version === 'conflict') {
        run.shards.conflicts.push(work.name);
        return;
      }
      if (version !== undefined) run.shards.saved += 1;
      for (const [id, seen] of settle) await dependencies.series.settlePending(id, seen);
      for (const [id, { version, until }] of defer)
        await dependencies.series.deferPending(id, version, until);
      for (const key of Object.keys(run.totals) as (keyof Counts)[]) run.totals[key] += counts[key];
      for (const summary of figures.summaries) run.summaries.push(summary);
      for (const entry of work.quarantined) run.quarantined.push(entry);
      run.seriesQuarantined += figures.quarantined;
      const { oldestLive } = figures;
      if (oldestLive !== undefined && (run.oldestLive === undefined || oldestLive < run.oldestLive)) {
        run.oldestLive = oldestLive;
      }
    })
    .catch((error: unknown) => {
      run.shards.failed.push({ shard: work.name, reason: messageOf(error) });
    });
}

/**
 * What the run reports of a shard's states: their summaries, how many are kept aside, and the oldest
 * unprocessed bucket of its live series (where the next run's bulk read must start at the latest).
 */
function shardFigures(
  work: ShardWork,
  liveFrom: number,
): { summaries: SeriesSummary[]; quarantined: number; oldestLive: number | undefined } {
  let oldestLive: number | undefined;
  let quarantined = 0;
  for (const state of work.states.values()) {
    if (state.fault) quarantined += 1;
    if (state.processedUntil >= liveFrom && (oldestLive === undefined || state.processedUntil < oldestLive)) {
      oldestLive = state.processedUntil;
    }
  }
  return { summaries: [...work.states.values()].map(summaryOf), quarantined, oldestLive };
}

/**
 * Saves the listing summaries, unless another run saved some shard first or a shard failed: the summaries
 * saved now would lack that shard's changes (or series), so the last complete ones stay.
 */
async function saveSummariesOfCompleteRun(context: RunContext, run: RunReport): Promise<void> {
  const { shards, summaries } = run;
  if (shards.conflicts.length > 0 || shards.failed.length > 0) return;
  if (shards.saved === 0 && summaries.length === 0) return;
  try {
    await context.dependencies.states.saveSummaries(summaries);
  } catch (error) {
    shards.failed.push({ shard: 'summaries', reason: messageOf(error) });
  }
}

/**
 * The live path for one shard: every series of the shard with state inside the live window and points in the
 * bulk read, in memory; the shard's bands in one bulk write. Returns the series of the shard the bulk read
 * found that need the per-series path (no state yet, or behind the live window).
 */
async function processLiveSeries(
  context: RunContext,
  work: ShardWork,
  ids: readonly string[],
  recent: ReadonlyMap<string, readonly TimedValue[]>,
  pending: readonly PendingSeries[],
): Promise<string[]> {
  const { dependencies, limits, now } = context;
  const liveFrom = now - liveWindowMs;
  const closedAt = now - limits.latenessMs;
  const candidates: string[] = [];
  const bands: SeriesBand[] = [];
  const outcomes: EvaluationOutcome[] = [];
  // Series ingest marked with points older than the bulk read: judged again from there on its own path.
  const backfilled = new Map(
    pending.flatMap((entry) => {
      const from = unappliedBackfill(entry, work.states.get(entry.series.id));
      return from === undefined ? [] : [[entry.series.id, from]];
    }),
  );
  for (const id of ids) {
    const series = recent.get(id) ?? [];
    const state = work.states.get(id);
    if (state && isKeptAside(state, now)) {
      // Not judged while aside, but its data is seen: listings show it, and no-data rules stay quiet.
      const seen = withNewest(state, series);
      if (seen !== state) {
        work.states.set(id, seen);
        work.changed = true;
      }
      continue;
    }
    if (!state || state.processedUntil < liveFrom || needsRelearning(context, state)) {
      candidates.push(id);
      continue;
    }
    const late = firstLatePoint(state, series, context.readFrom) ?? backfilled.get(id);
    if (late !== undefined && late < state.processedUntil) {
      work.rewind.set(id, late);
      candidates.push(id);
      continue;
    }
    const closedBefore = bucketStart(closedAt, state.stepMs);
    const due = series.filter(
      (point) => point.timestamp >= state.processedUntil && point.timestamp < closedBefore,
    );
    let next = state;
    if (due.length > 0) {
      let fed: Fed;
      try {
        fed = feed(context, work, state, state, aggregate(state.type, due, state.stepMs), closedBefore, due);
      } catch (error) {
        keepAside(context, work, state, error);
        continue;
      }
      next = fed.state;
      for (const band of fed.bands) bands.push(band);
      if (fed.outcome) outcomes.push(fed.outcome);
    }
    next = withNewest(next, series);
    if (next !== state) {
      work.states.set(id, next);
      work.changed = true;
    }
  }
  if (bands.length > 0) await dependencies.bands.writeManyBands(bands);
  for (const outcome of outcomes) await dependencies.alerts.recordEvaluation(outcome);
  return candidates;
}

/**
 * The per-series path for one shard, for series the bulk read cannot serve: new series and backfilled
 * history (marked pending by ingest), and series behind the live window (the job was stopped, or a series
 * came back after a silence). Each is read from where it stopped, up to a bounded number of buckets.
 * Returns how many series it read.
 */
async function processSeriesAlone(
  context: RunContext,
  work: ShardWork,
  pending: readonly PendingSeries[],
  candidates: readonly string[],
): Promise<number> {
  const { dependencies, limits } = context;
  const entries: { id: string; pending?: PendingSeries }[] = pending.map((entry) => ({
    id: entry.series.id,
    pending: entry,
  }));
  const listed = new Set(entries.map((entry) => entry.id));
  for (const id of candidates) {
    if (!listed.has(id)) entries.push({ id });
    listed.add(id);
  }
  // Series to learn again, silent ones included (the live ones among them are candidates already).
  for (const state of work.states.values()) {
    if (!listed.has(state.id) && needsRelearning(context, state)) entries.push({ id: state.id });
  }

  let taken = 0;
  for (const entry of entries) {
    if (context.aloneBudget <= 0) break;
    if (limits.deadline !== undefined && dependencies.clock.now() > limits.deadline) break;
    const state = work.states.get(entry.id);
    if (state && isKeptAside(state, context.now)) continue;
    const identity: Identity | undefined =
      state ?? entry.pending?.series ?? (await dependencies.series.getSeries(entry.id));
    if (!identity) continue;
    context.aloneBudget -= 1;
    taken += 1;
    const backfillFrom = entry.pending && unappliedBackfill(entry.pending, state);
    const late = [work.rewind.get(entry.id), backfillFrom].filter((at) => at !== undefined);
    const rewindFrom = late.length > 0 ? Math.min(...late) : undefined;
    const outcome = await processAlone(context, work, identity, state, entry.pending?.progress, rewindFrom);
    if (!entry.pending) continue;
    const judged = work.states.get(entry.id);
    if (backfillFrom !== undefined && judged && !judged.fault && outcome === 'behind') {
      // The backfill is applied: the next run goes on from where this one stopped.
      work.states.set(entry.id, {
        ...judged,
        lateApplied: { version: entry.pending.version, from: backfillFrom },
      });
      work.changed = true;
    }
    if (outcome === 'caught-up') work.settle.set(entry.id, entry.pending.version);
    else if (typeof outcome === 'number') {
      work.defer.set(entry.id, { version: entry.pending.version, until: outcome });
    }
  }
  return taken;
}

/**
 * Where a pending series' backfill must be judged again from: its `pendingFrom`, unless the state was already
 * judged again from it (the same pending version) and only has to go on.
 */
function unappliedBackfill(pending: PendingSeries, state: SeriesState | undefined): number | undefined {
  if (pending.pendingFrom === undefined) return undefined;
  return state?.lateApplied?.version === pending.version ? undefined : pending.pendingFrom;
}

/**
 * Reads one series from where it stopped (or from `rewindFrom`, when points arrived late in buckets it had
 * judged) and feeds it. Returns 'caught-up' when it reached the closed buckets, 'behind' when a budget or a
 * failure stopped it, or, for a series too sparse to show its step yet, the time from which it is worth
 * reading again (it gets the default step then).
 */
async function processAlone(
  context: RunContext,
  work: ShardWork,
  identity: Identity,
  state: SeriesState | undefined,
  seed: SeriesProgress | undefined,
  rewindFrom: number | undefined,
): Promise<'caught-up' | 'behind' | number> {
  const { dependencies, limits, now } = context;
  const { metrics, alerts, bands } = dependencies;
  const rewind = state && rewindFrom !== undefined && rewindFrom < state.processedUntil;
  if (state && (rewind || needsRelearning(context, state))) {
    // The engine as it was at the first bucket to judge again (learned again from the stored points before
    // it, with today's exclusions); the alert rules keep their memory, so what they judged stays judged.
    const before = state;
    const until = rewind ? Math.max(bucketStart(rewindFrom, state.stepMs), 0) : state.processedUntil;
    const from = { ...state, processedUntil: Math.min(until, state.processedUntil) };
    const points = await relearningPoints(context, from);
    try {
      state = relearn(context, from, points);
    } catch (error) {
      keepAside(context, work, before, error);
      return 'behind';
    }
    work.states.set(state.id, state);
    work.changed = true;
    if (rewind) work.counts.rewound += 1;
    else work.counts.relearned += 1;
  }
  const known = state ?? seed;
  if (known && bucketStart(now - limits.latenessMs, known.stepMs) <= known.processedUntil) return 'caught-up';
  const start = known?.processedUntil ?? (await metrics.earliestTimestamp(identity.id));
  if (start === undefined) return 'behind';

  let stepMs = known?.stepMs;
  if (stepMs === undefined) {
    const sample = await metrics.readPoints(identity.id, start, start + 200 * hourMs);
    stepMs = inferStep(
      sample.slice(0, 60).map((point) => point.timestamp),
      limits.minStepMs,
    );
    if (stepMs === undefined) {
      if (now - start < limits.stepDiscoveryMs) return start + limits.stepDiscoveryMs;
      stepMs = limits.minStepMs;
    }
  }
  const firstBucket = bucketStart(start, stepMs);
  const closedBefore = bucketStart(now - limits.latenessMs, stepMs);
  const end = Math.min(closedBefore, firstBucket + limits.maxBucketsPerSeries * stepMs);
  const points = end > firstBucket ? await metrics.readPoints(identity.id, firstBucket, end) : [];
  const buckets = aggregate(identity.type, points, stepMs).filter((bucket) => bucket.start + stepMs <= end);
  // A series the job never kept state for may have a monitor in the alert store (from before state shards).
  const monitor = state ? state.monitor : (await alerts.loadMonitor(identity.id)).monitor;
  const before = state ?? {
    ...identity,
    stepMs,
    processedUntil: firstBucket,
    anomalous: seed?.anomalous ?? false,
    monitor,
    // The first point is seen (silence counts from it) even when its bucket is not closed yet.
    lastTimestamp: start,
    lastValue: null,
    kind: null,
    seasonality: null,
  };
  let fed: Fed;
  try {
    fed = feed(
      context,
      work,
      identity,
      { ...before, stepMs, engineState: known?.engineState },
      buckets,
      end,
      points,
    );
  } catch (error) {
    const engineState =
      known?.engineState ?? dependencies.engine.create(settingsFor(context, identity)).toState();
    keepAside(context, work, { ...before, stepMs, engineState }, error);
    return 'behind';
  }
  const next = withNewest(fed.state, points);
  if (fed.bands.length > 0) await bands.writeManyBands(fed.bands);
  if (fed.outcome) await alerts.recordEvaluation(fed.outcome);
  work.states.set(identity.id, next);
  work.changed = true;
  return end === closedBefore ? 'caught-up' : 'behind';
}

interface Fed {
  readonly state: SeriesState;
  readonly bands: SeriesBand[];
  /** The evaluation, when it opened, changed or resolved an alert (to record). */
  readonly outcome: EvaluationOutcome | undefined;
}

/**
 * Feeds closed buckets to a series' engine in time order and applies the alert rules to them; the state
 * that results has processed everything before `end`. Pure but for the counts it adds to the shard's.
 */
function feed(
  context: RunContext,
  work: ShardWork,
  identity: Identity,
  state: Omit<SeriesState, 'engineState'> & { engineState: SeriesState['engineState'] | undefined },
  buckets: readonly Bucket[],
  end: number,
  points: readonly TimedValue[],
): Fed {
  const { dependencies, config, now, link } = context;
  const { stepMs } = state;
  const engine = dependencies.engine.restore(state.engineState, settingsFor(context, identity));
  const excluded = exclusionTest(config.exclusions, identity, stepMs);
  const taught = exclusionTest(context.taught.taught, identity, stepMs);
  const judged = judgeBuckets(engine, identity.id, buckets, { excluded, taught }, state.anomalous);
  const outcome = evaluateSeries({
    series: identity,
    stepMs,
    monitor: state.monitor ?? emptyMonitor(identity.id),
    rules: config.rules,
    buckets: judged.evaluated,
    now,
    link,
    explain: { timeZone: context.limits.timeZone, unit: unitOf(identity.type, stepMs) },
  });
  const transitions = transitionCounts(outcome.transitions);
  const { counts } = work;
  counts.series += 1;
  counts.buckets += judged.bands.length;
  counts.anomalies += judged.anomalies;
  counts.opened += transitions.opened;
  counts.resolved += transitions.resolved;
  const fed = { engine, anomalous: judged.anomalous, monitor: outcome.monitor, end, points };
  return {
    state: stateAfterFeeding(context, identity, state, fed),
    bands: judged.bands,
    outcome: outcome.transitions.length > 0 || outcome.alerts.length > 0 ? outcome : undefined,
  };
}

/**
 * A series' state once `fed.engine` was fed up to `fed.end`: the identity's fields alone (`identity` may be a
 * whole state, whose fault a pass that worked clears), what the engine and the rules now know, and the times
 * of the points fed that the next bulk reads still cover.
 */
function stateAfterFeeding(
  context: RunContext,
  identity: Identity,
  state: Omit<SeriesState, 'engineState'>,
  fed: {
    readonly engine: BandEngine;
    readonly anomalous: boolean;
    readonly monitor: SeriesState['monitor'];
    readonly end: number;
    readonly points: readonly TimedValue[];
  },
): SeriesState {
  const { limits, now } = context;
  const { engine, end, points } = fed;
  return {
    id: identity.id,
    name: identity.name,
    type: identity.type,
    dimensions: identity.dimensions,
    stepMs: state.stepMs,
    processedUntil: Math.max(end, state.processedUntil),
    engineState: engine.toState(),
    anomalous: fed.anomalous,
    monitor: fed.monitor,
    lastTimestamp: state.lastTimestamp,
    lastValue: state.lastValue,
    ...learnedBy(engine, state),
    exclusionsAsOf: now,
    recentFed: recentlyFed(state, points, now - limits.discoveryMs, end),
  };
}

/** The engine's verdicts on a series' buckets: bands to store, buckets for the alert rules. */
interface Judged {
  readonly bands: SeriesBand[];
  readonly evaluated: EvaluatedBucket[];
  /** How many buckets the engine called anomalous. */
  readonly anomalies: number;
  /** Whether the series is anomalous after the last bucket the engine judged. */
  readonly anomalous: boolean;
}

/** Which buckets of a series are excluded from learning, and which a person taught normal. */
interface Teaching {
  readonly excluded: (bucketStart: number) => boolean;
  readonly taught: (bucketStart: number) => boolean;
}

/**
 * Feeds buckets to a series' engine in time order. An excluded bucket is not fed to the engine at all: it is
 * neither learned nor judged against a band (the alert rules still see its value). A taught one is fed as
 * taught normal. Throws when the engine draws a band a store cannot keep (see soundUpdate).
 */
function judgeBuckets(
  engine: BandEngine,
  seriesId: string,
  buckets: readonly Bucket[],
  { excluded, taught }: Teaching,
  anomalousBefore: boolean,
): Judged {
  const bands: SeriesBand[] = [];
  const evaluated: EvaluatedBucket[] = [];
  let anomalies = 0;
  let anomalous = anomalousBefore;
  for (const bucket of buckets) {
    if (excluded(bucket.start)) {
      evaluated.push({ timestamp: bucket.start, value: bucket.value, band: undefined });
      continue;
    }
    const result = soundUpdate(engine, bucket, taught(bucket.start));
    const { expected, lower, upper, score, anomaly } = result;
    bands.push({
      seriesId,
      timestamp: bucket.start,
      value: bucket.value,
      expected,
      lower,
      upper,
      score,
      anomaly,
    });
    if (anomaly) anomalies += 1;
    evaluated.push({ timestamp: bucket.start, value: bucket.value, band: result });
    // Anomalous now: the engine's verdict, which is "outside the band" (after the engine's warm-up).
    anomalous = anomaly;
  }
  return { bands, evaluated, anomalies, anomalous };
}

/**
 * A shard's silent series against no-data rules, and its series with an open alert (which may have to
 * resolve because data is back or its rule is gone): in memory, from the states.
 */
async function checkSilentSeries(context: RunContext, work: ShardWork): Promise<void> {
  const { config, now, link, dependencies } = context;
  const noDataRules = config.rules.filter((rule) => rule.enabled && rule.kind === 'nodata');
  for (const state of work.states.values()) {
    const monitor = state.monitor ?? emptyMonitor(state.id);
    const silent = noDataRules.some(
      (rule) =>
        rule.kind === 'nodata' &&
        state.lastTimestamp > 0 &&
        selects(rule.selector, state) &&
        now - state.lastTimestamp >= rule.afterMs,
    );
    if (!silent && !hasOpenAlert(monitor)) continue;
    const result = evaluateSilence({
      series: state,
      monitor,
      rules: config.rules,
      now,
      link,
      explain: { timeZone: context.limits.timeZone, unit: unitOf(state.type, state.stepMs) },
    });
    // An open alert changes at each check (its explanation says how long the silence has lasted).
    if (result.transitions.length === 0 && result.alerts.length === 0) continue;
    await dependencies.alerts.recordEvaluation(result);
    work.states.set(state.id, { ...state, monitor: result.monitor });
    work.changed = true;
    const transitions = transitionCounts(result.transitions);
    work.counts.opened += transitions.opened;
    work.counts.resolved += transitions.resolved;
  }
}

function transitionCounts(transitions: readonly { kind: string }[]): { opened: number; resolved: number } {
  return {
    opened: transitions.filter((transition) => transition.kind === 'OPEN').length,
    resolved: transitions.filter((transition) => transition.kind === 'RESOLVED').length,
  };
}

/**
 * Whether an exclusion created after the last run that fed a series covers buckets that run (or an earlier
 * one) had already learned: then the engine has learned what it should not have. Every run since the
 * exclusion's creation knows it and skips its buckets, so only exclusions created since `exclusionsAsOf`
 * matter, and only where they start before `processedUntil`. Likewise an exclusion deleted since: the engine
 * skipped buckets it should now learn.
 */
function needsRelearning(context: RunContext, state: SeriesState): boolean {
  // A state of another engine (an upgrade): the new engine learns the series' history rather than start blank.
  const { engine } = context.dependencies;
  const writer = state.engineState.engine;
  if (writer !== engine.name && !engine.restoresAsIs?.includes(writer)) return true;
  const { exclusionsAsOf } = state;
  if (exclusionsAsOf === undefined) return false;
  const { exclusions, withdrawnExclusions = [] } = context.config;
  const { taught, withdrawnTaught } = context.taught;
  // At the same instant as the run (a clock's resolution): whether the run saw the change is unknown.
  const since = (exclusion: Exclusion, changedAt: number) =>
    changedAt >= exclusionsAsOf &&
    exclusion.start < state.processedUntil &&
    selects(exclusion.selector, state);
  // Stretches taught normal ("this was normal") are learned again exactly as exclusions are.
  return (
    [...exclusions, ...taught].some((exclusion) => since(exclusion, exclusion.createdAt)) ||
    [...withdrawnExclusions, ...withdrawnTaught].some((exclusion) =>
      since(exclusion, exclusion.deletedAt ?? 0),
    )
  );
}

/**
 * The stored points a series' engine learns again from: the newest `maxBucketsPerSeries` buckets before
 * `processedUntil` (what the engine still remembers of older ones has mostly faded).
 */
async function relearningPoints(context: RunContext, state: SeriesState): Promise<TimedValue[]> {
  const { dependencies, limits } = context;
  const { stepMs, processedUntil } = state;
  const earliest = (await dependencies.metrics.earliestTimestamp(state.id)) ?? processedUntil;
  const from = Math.max(bucketStart(earliest, stepMs), processedUntil - limits.maxBucketsPerSeries * stepMs);
  return from < processedUntil ? await dependencies.metrics.readPoints(state.id, from, processedUntil) : [];
}

/**
 * A series' engine learned again, with today's exclusions, from its stored points (see
 * {@link relearningPoints}). Only the engine's state changes: the bands stored for those buckets and the alerts
 * already raised stay as they were (history is not rewritten), and the buckets after go on from the new state.
 * Throws when the engine fails on the series.
 */
function relearn(context: RunContext, state: SeriesState, points: readonly TimedValue[]): SeriesState {
  const { dependencies, config, now } = context;
  const { stepMs, processedUntil } = state;
  const engine = dependencies.engine.create(settingsFor(context, state));
  const excluded = exclusionTest(config.exclusions, state, stepMs);
  const taught = exclusionTest(context.taught.taught, state, stepMs);
  for (const bucket of aggregate(state.type, points, stepMs)) {
    if (bucket.start < processedUntil && !excluded(bucket.start)) {
      soundUpdate(engine, bucket, taught(bucket.start));
    }
  }
  return { ...state, engineState: engine.toState(), ...learnedBy(engine, state), exclusionsAsOf: now };
}

/**
 * A series' kind (from its type and what its engine says) and seasonality (what its engine says, or what the
 * series' state knew while it cannot tell yet).
 */
function learnedBy(engine: BandEngine, series: Pick<SeriesState, 'type' | 'seasonality'>) {
  const learned = learnedTraits(engine);
  return { kind: seriesKind(series.type, learned), seasonality: learned?.seasonality ?? series.seasonality };
}

/** Whether a bucket of a series overlaps one of some periods (excluded from learning, or taught normal). */
function exclusionTest(
  exclusions: readonly Exclusion[],
  series: Identity,
  stepMs: number,
): (bucketStart: number) => boolean {
  const periods = exclusions.filter((exclusion) => selects(exclusion.selector, series));
  if (periods.length === 0) return () => false;
  return (start) => periods.some((period) => start < period.end && start + stepMs > period.start);
}

/** An engine's verdict on a bucket; throws when it is not one a store can keep (a fault of this series). */
function soundUpdate(engine: BandEngine, bucket: Bucket, taughtNormal = false) {
  const result = engine.update(bucket.start, bucket.value, taughtNormal);
  if (!isSoundResult(result)) {
    throw new Error(
      `the engine's band for the bucket at ${new Date(bucket.start).toISOString()} (value ${bucket.value}) ` +
        `is not finite and ordered: expected ${result.expected}, lower ${result.lower}, upper ${result.upper}, ` +
        `score ${result.score}`,
    );
  }
  return result;
}

/** Whether a series is kept aside at `now` (its retry has not come yet). */
const isKeptAside = (state: SeriesState, now: number): boolean =>
  state.fault !== undefined && now < state.fault.retryAt;

/**
 * Keeps a series aside after its engine or rules failed on it: its state stays where it was (nothing of the
 * failed pass is kept), with the fault, and the job tries it again later (an hour, then twice as long after
 * each failure, up to a day). Every other series goes on.
 */
function keepAside(context: RunContext, work: ShardWork, state: SeriesState, error: unknown): void {
  const { now } = context;
  const failures = (state.fault?.failures ?? 0) + 1;
  const fault: SeriesFault = {
    reason: messageOf(error),
    since: state.fault?.since ?? now,
    failures,
    retryAt: now + Math.min(longestRetryMs, firstRetryMs * 2 ** (failures - 1)),
  };
  work.states.set(state.id, { ...state, fault });
  work.changed = true;
  work.quarantined.push({
    seriesId: state.id,
    name: state.name,
    reason: fault.reason,
    retryAt: fault.retryAt,
  });
}

/** An error's message, for reports (never its stack, which may carry paths). */
const messageOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, 500);

/** A state that knows the newest of `points` (time order), when it is newer than what the state knew. */
function withNewest(state: SeriesState, points: readonly TimedValue[]): SeriesState {
  const newest = points[points.length - 1];
  return newest && newest.timestamp >= state.lastTimestamp
    ? { ...state, lastTimestamp: newest.timestamp, lastValue: newest.value }
    : state;
}

/** How many recently fed point times a state keeps at most (a point a second for two minutes, and some). */
const maxRecentFed = 256;

/**
 * The times of the points a state's engine was fed that the next bulk reads still cover (from `keepFrom`),
 * after feeding `points` (time order) up to `end`: the times it knew before the first of them, then theirs.
 */
function recentlyFed(
  state: Pick<SeriesState, 'recentFed'>,
  points: readonly TimedValue[],
  keepFrom: number,
  end: number,
): SeriesState['recentFed'] {
  const fedFrom = points[0]?.timestamp ?? end;
  const times = (state.recentFed?.times ?? []).filter((time) => time >= keepFrom && time < fedFrom);
  for (const point of points) {
    if (point.timestamp >= keepFrom && point.timestamp < end) times.push(point.timestamp);
  }
  const kept = times.slice(-maxRecentFed);
  const from = kept.length < times.length ? (kept[0] ?? keepFrom) : keepFrom;
  return { from: Math.min(from, end), times: kept };
}

/**
 * The time of the first point the bulk read found that lies in buckets the job judged already (before
 * `processedUntil`) without having fed it: it arrived after the run that judged its bucket. Undefined when
 * there is none, or when the state does not know what it was fed (states from before it kept that).
 */
function firstLatePoint(
  state: SeriesState,
  points: readonly TimedValue[],
  readFrom: number,
): number | undefined {
  const fed = state.recentFed;
  if (!fed) return undefined;
  const from = Math.max(readFrom, fed.from);
  let known = 0;
  for (const point of points) {
    if (point.timestamp >= state.processedUntil) break;
    if (point.timestamp < from) continue;
    while (known < fed.times.length && (fed.times[known] ?? 0) < point.timestamp) known += 1;
    if (fed.times[known] !== point.timestamp) return point.timestamp;
  }
  return undefined;
}

/**
 * The engine settings for a series: what its type says it measures (a counter counts, a timer is a latency:
 * both vary by ratios), unless the job's settings name a kind.
 */
function settingsFor(context: RunContext, series: Pick<SeriesState, 'type'>): Partial<BandSettings> {
  const kind = series.type === 'counter' ? 'count' : series.type === 'timer' ? 'latency' : 'auto';
  return { kind, ...context.limits.settings };
}
