import {
  type AlertLink,
  type EvaluatedBucket,
  evaluateSeries,
  evaluateSilence,
  hasOpenAlert,
} from '../alerts/evaluate.ts';
import { type Exclusion, emptyMonitor, type Rule } from '../alerts/model.ts';
import { type AlertConfig, effectiveRules } from '../alerts/rules.ts';
import { selects } from '../alerts/selector.ts';
import type { AlertStore } from '../alerts/store.ts';
import type { BandEngineFactory, BandSettings } from '../bands/engine.ts';
import { aggregate } from '../metrics/aggregate.ts';
import { bucketStart, defaultStepMs, inferStep } from '../metrics/step.ts';
import type {
  BandStore,
  Clock,
  MetricStore,
  Notifier,
  PendingSeries,
  SeriesInfo,
  SeriesStore,
  StoredBand,
} from '../ports.ts';
import { learnedTraits } from '../query/learned-traits.ts';
import { alertViewUrl } from '../query/links.ts';
import { type DeliverySummary, deliverTransitions } from './alert-delivery.ts';

export interface BandJobDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly bands: BandStore;
  readonly alerts: AlertStore;
  readonly notifier: Notifier;
  readonly engine: BandEngineFactory;
  readonly clock: Clock;
}

export interface BandJobOptions {
  readonly settings?: Partial<BandSettings>;
  /** A bucket is processed once it ended at least this long ago, so late points of a flush still count. */
  readonly latenessMs?: number;
  /** How many series one run takes at most; the rest wait for the next run. */
  readonly maxSeriesPerRun?: number;
  /** How many buckets of one series one run feeds at most (a long backfill takes several runs). */
  readonly maxBucketsPerSeries?: number;
  /** The job stops taking new series after this epoch-ms instant (the Lambda's time budget). */
  readonly deadline?: number;
  /** The dashboard's base URL: alert links are `<dashboardUrl>/#/series/<seriesId>?alert=<alertId>`. */
  readonly dashboardUrl?: string;
  /**
   * An alert that had already ended this long before the run that recorded it (a backfill of history) is
   * recorded, not paged. Default one hour.
   */
  readonly pageWindowMs?: number;
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
}

type Limits = Required<Omit<BandJobOptions, 'settings' | 'deadline'>> &
  Pick<BandJobOptions, 'settings' | 'deadline'> & { stepDiscoveryMs: number };

const defaults: Limits = {
  latenessMs: 15_000,
  maxSeriesPerRun: 100_000,
  maxBucketsPerSeries: 50_000,
  /** A series too sparse to show its step is given the default step after this long. */
  stepDiscoveryMs: 3_600_000,
  dashboardUrl: 'http://127.0.0.1:8080',
  pageWindowMs: 3_600_000,
};

/** The dashboard link of a series at an alert (the shape the dashboard routes). */
export const alertLink =
  (dashboardUrl: string): AlertLink =>
  (seriesId, alertId) =>
    alertViewUrl(dashboardUrl, seriesId, alertId);

interface SeriesOutcome {
  buckets: number;
  anomalies: number;
  opened: number;
  resolved: number;
}

/**
 * The scheduled band job: for every series with new data, aggregate its points to the series' step, feed the
 * engine bucket by bucket in time order from where it last stopped (skipping buckets excluded from learning),
 * store each bucket's band and apply the alert rules to it; then check silent series against no-data rules;
 * then deliver the alert transitions that are due.
 */
export async function runBandJob(
  dependencies: BandJobDependencies,
  options: BandJobOptions = {},
): Promise<BandJobSummary> {
  const limits: Limits = { ...defaults, ...options };
  const stored = await dependencies.alerts.loadConfig();
  const config: AlertConfig = { ...stored, rules: effectiveRules(stored.rules) };
  const link = alertLink(limits.dashboardUrl);
  const pending = await dependencies.series.pendingSeries(limits.maxSeriesPerRun);
  const totals = {
    seriesProcessed: 0,
    bucketsProcessed: 0,
    anomalies: 0,
    alertsOpened: 0,
    alertsResolved: 0,
  };
  const count = (outcome: SeriesOutcome) => {
    totals.bucketsProcessed += outcome.buckets;
    totals.anomalies += outcome.anomalies;
    totals.alertsOpened += outcome.opened;
    totals.alertsResolved += outcome.resolved;
  };
  for (const entry of pending) {
    if (limits.deadline !== undefined && dependencies.clock.now() > limits.deadline) break;
    count(await processSeries(entry, dependencies, limits, config, link));
    totals.seriesProcessed += 1;
  }
  count(await checkSilentSeries(dependencies, config, link));
  const delivery = await deliverTransitions(dependencies, {
    mutes: config.mutes,
    pageWindowMs: limits.pageWindowMs,
  });
  return { ...totals, notifications: delivery.sent, delivery };
}

async function processSeries(
  { series, progress, version }: PendingSeries,
  dependencies: BandJobDependencies,
  limits: Limits,
  config: AlertConfig,
  link: AlertLink,
): Promise<SeriesOutcome> {
  const { metrics, series: seriesStore, bands, alerts, engine: factory, clock } = dependencies;
  const now = clock.now();
  const start = progress?.processedUntil ?? (await metrics.earliestTimestamp(series.id));
  const idle = { buckets: 0, anomalies: 0, opened: 0, resolved: 0 };
  if (start === undefined) return idle;

  let stepMs = progress?.stepMs;
  if (stepMs === undefined) {
    const sample = await metrics.readPoints(series.id, start, start + 200 * 3_600_000);
    stepMs = inferStep(sample.slice(0, 60).map((point) => point.timestamp));
    if (stepMs === undefined) {
      if (now - start < limits.stepDiscoveryMs) return idle;
      stepMs = defaultStepMs;
    }
  }

  const firstBucket = bucketStart(start, stepMs);
  // Buckets ending at or before this instant are closed: no late point of a flush can still arrive.
  const closedBefore = bucketStart(now - limits.latenessMs, stepMs);
  const end = Math.min(closedBefore, firstBucket + limits.maxBucketsPerSeries * stepMs);
  const points = end > firstBucket ? await metrics.readPoints(series.id, firstBucket, end) : [];
  const buckets = aggregate(series.type, points, stepMs).filter((bucket) => bucket.start + stepMs <= end);

  const engine = factory.restore(progress?.engineState, limits.settings);
  const excluded = exclusionTest(config.exclusions, series, stepMs);
  let anomalous = progress?.anomalous ?? false;
  const results: StoredBand[] = [];
  const evaluated: EvaluatedBucket[] = [];
  for (const bucket of buckets) {
    // An excluded bucket is not fed to the engine at all: it is neither learned nor judged against a band.
    if (excluded(bucket.start)) {
      evaluated.push({ timestamp: bucket.start, value: bucket.value, band: undefined });
      continue;
    }
    const result = engine.update(bucket.start, bucket.value);
    results.push({
      timestamp: bucket.start,
      value: bucket.value,
      expected: result.expected,
      lower: result.lower,
      upper: result.upper,
      score: result.score,
      anomaly: result.anomaly,
    });
    evaluated.push({ timestamp: bucket.start, value: bucket.value, band: result });
    // Anomalous now: from the engine's anomaly decision for as long as the value stays outside its band.
    anomalous = result.anomaly || (anomalous && (bucket.value > result.upper || bucket.value < result.lower));
  }

  const processedUntil = Math.max(end, progress?.processedUntil ?? firstBucket);
  if (results.length > 0) await bands.writeBands(series.id, results);
  const snapshot = await alerts.loadMonitor(series.id);
  const outcome = evaluateSeries({
    series,
    stepMs,
    monitor: snapshot.monitor ?? emptyMonitor(series.id),
    rules: config.rules,
    buckets: evaluated,
    now,
    link,
  });
  const unchanged =
    outcome.transitions.length === 0 &&
    outcome.alerts.length === 0 &&
    JSON.stringify(outcome.monitor) === JSON.stringify(snapshot.monitor);
  // Another run saved this series first: it processed the same buckets, so its progress stands.
  if (!unchanged && (await alerts.commitEvaluation(series.id, snapshot.version, outcome)) === 'conflict')
    return idle;
  const caughtUp = series.lastTimestamp < processedUntil;
  await seriesStore.saveProgress(
    series.id,
    { stepMs, processedUntil, engineState: engine.toState(), anomalous, learned: learnedTraits(engine) },
    version,
    caughtUp,
  );
  return {
    buckets: results.length,
    anomalies: results.filter((band) => band.anomaly).length,
    ...transitionCounts(outcome.transitions),
  };
}

/**
 * Series that may need a silence check: those silent longer than a no-data rule allows, and those with an
 * open alert (which may have to resolve because data is back or its rule is gone).
 */
async function checkSilentSeries(
  { series: seriesStore, alerts, clock }: BandJobDependencies,
  config: AlertConfig,
  link: AlertLink,
): Promise<SeriesOutcome> {
  const now = clock.now();
  const outcome = { buckets: 0, anomalies: 0, opened: 0, resolved: 0 };
  const noDataRules = config.rules.filter((rule) => rule.enabled && rule.kind === 'nodata');
  const open = await alerts.listAlerts({ state: 'open', limit: 10_000 });
  const needsCheck = new Set(
    open
      .filter((alert) => alert.ruleKind === 'nodata' || !ruleStillApplies(config.rules, alert))
      .map((a) => a.seriesId),
  );
  if (noDataRules.length === 0 && needsCheck.size === 0) return outcome;
  for (const series of await seriesStore.listSeries()) {
    const silent = noDataRules.some(
      (rule) =>
        rule.kind === 'nodata' &&
        selects(rule.selector, series) &&
        now - series.lastTimestamp >= rule.afterMs,
    );
    if (!silent && !needsCheck.has(series.id)) continue;
    const snapshot = await alerts.loadMonitor(series.id);
    const monitor = snapshot.monitor ?? emptyMonitor(series.id);
    if (!silent && !hasOpenAlert(monitor)) continue;
    const result = evaluateSilence({ series, monitor, rules: config.rules, now, link });
    if (result.transitions.length === 0) continue;
    if ((await alerts.commitEvaluation(series.id, snapshot.version, result)) === 'conflict') continue;
    const counts = transitionCounts(result.transitions);
    outcome.opened += counts.opened;
    outcome.resolved += counts.resolved;
  }
  return outcome;
}

function ruleStillApplies(rules: readonly Rule[], alert: { ruleId: string; ruleKind: string }): boolean {
  return rules.some((rule) => rule.id === alert.ruleId && rule.enabled && rule.kind === alert.ruleKind);
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
  series: SeriesInfo,
  stepMs: number,
): (bucketStart: number) => boolean {
  const periods = exclusions.filter((exclusion) => selects(exclusion.selector, series));
  if (periods.length === 0) return () => false;
  return (start) => periods.some((period) => start < period.end && start + stepMs > period.start);
}
