/**
 * The alert lifecycle: rules applied bucket by bucket to the band the engine drew, with M-of-N debounce,
 * minimum duration and recovery window, opening an alert once, escalating it once if it grows critical, and
 * resolving it once. Pure: the same monitor and buckets always give the same alerts and transitions (with the
 * same ids), which is what makes a re-run after a crash, or two overlapping runs, record each transition once.
 */
import type { BandResult } from '../bands/engine.ts';
import { dayMs } from '../time.ts';
import { type AlertFacts, explainAlert } from './explain.ts';
import { alertId, transitionId } from './ids.ts';
import type {
  Alert,
  AlertTransition,
  BandRule,
  EvaluationOutcome,
  NoDataRule,
  Notification,
  OpenAlertMemory,
  Rule,
  RuleMonitor,
  SeriesMonitor,
  ThresholdRule,
  TransitionKind,
} from './model.ts';
import { applicableRules } from './rules.ts';
import type { SeriesIdentity } from './selector.ts';
import {
  criticalDistance,
  criticalDurationMs,
  describeDuration,
  type PeakDistance,
  severityOf,
} from './severity.ts';

/**
 * Band rules judge a bucket by where its value lies against the band only once the series has this much
 * history (as long as the engines' own warm-up, `minHistoryMs`): before, a band is still being learned. At the
 * default sensitivity the engine's verdict (`anomaly`) counts from the start, the engine keeping its warm-up.
 */
export const bandWarmUpMs = dayMs;
const defaultSensitivity = 0.5;

/** One bucket as the evaluator sees it. */
export interface EvaluatedBucket {
  readonly timestamp: number;
  readonly value: number;
  /** The band the engine drew, and its verdict; undefined for a bucket excluded from learning (band rules skip it). */
  readonly band: BandResult | undefined;
}

/** Where alert links point: the dashboard view of a series at an alert. */
export type AlertLink = (seriesId: string, alertId: string) => string;

/** How alerts of a series are explained to people (see explain.ts). */
export interface ExplainSettings {
  /** The IANA time zone seasons and times are told in; default UTC. */
  readonly timeZone?: string;
  /** The unit of the series' values (`ms`, `/min`; see `unitOf`). */
  readonly unit?: string;
}

export interface SeriesEvaluation {
  readonly series: SeriesIdentity;
  readonly stepMs: number;
  readonly monitor: SeriesMonitor;
  /** Every effective rule; the evaluator picks those that apply to the series. */
  readonly rules: readonly Rule[];
  /** New buckets in time order (those before the monitor's `evaluatedUntil` are skipped). */
  readonly buckets: readonly EvaluatedBucket[];
  readonly now: number;
  readonly link: AlertLink;
  readonly explain?: ExplainSettings;
}

/** A bucket out on the side a rule watches: how far, and against which band. */
interface Breach {
  readonly side: 'above' | 'below';
  /** Distance from the expected value in band half-widths (null for threshold rules). */
  readonly deviation: number | null;
  /** Distance from the expected value relative to it (0 when nothing was expected, or no band). */
  readonly change: number;
  readonly lower: number | null;
  readonly upper: number | null;
  /** The engine found the value stuck (exactly repeated for longer than the series does by chance). */
  readonly stuck?: boolean;
}

const idleMonitor: RuleMonitor = {
  window: [],
  episodeStart: null,
  pendingSince: null,
  peakDeviation: 0,
  peakChange: 0,
  cleanBuckets: 0,
  cleanSince: null,
  open: null,
};

/** Collects what one evaluation changes. */
class Changes {
  readonly alerts = new Map<string, Alert>();
  readonly transitions: AlertTransition[] = [];

  constructor(
    private readonly now: number,
    private readonly link: AlertLink,
    private readonly explaining: ExplainSettings = {},
  ) {}

  /** The one-line explanation of an alert's facts, in the series' unit and the time zone set. */
  explain(facts: AlertFacts): string {
    const { unit, timeZone } = this.explaining;
    return explainAlert(unit === undefined ? facts : { ...facts, unit }, { timeZone: timeZone ?? 'UTC' });
  }

  alert(alert: Alert): void {
    this.alerts.set(alert.id, alert);
  }

  transition(
    alert: Alert,
    kind: TransitionKind,
    at: number,
    measured: Measured,
    extra: { readonly reminder?: number; readonly reason?: string; readonly explanation?: string } = {},
  ): void {
    const id = transitionId(alert.id, kind, extra.reminder);
    this.transitions.push({
      id,
      alertId: alert.id,
      kind,
      at,
      createdAt: this.now,
      status: 'pending',
      reason: null,
      attempts: 0,
      lastError: null,
      deliverAfter: 0,
      decidedAt: null,
      notification: {
        ...notificationOf(alert, id, kind, at, measured, this.link(alert.seriesId, alert.id)),
        ...(extra.reason !== undefined && { reason: extra.reason }),
        ...(extra.explanation !== undefined && { explanation: extra.explanation }),
      },
    });
  }
}

/** The values a notification reports: those of the bucket the transition happened at. */
interface Measured {
  readonly value: number | null;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly score: number | null;
}

const unmeasured: Measured = { value: null, expected: null, lower: null, upper: null, score: null };

function notificationOf(
  alert: Alert,
  id: string,
  kind: TransitionKind,
  at: number,
  measured: Measured,
  link: string,
): Notification {
  return {
    transitionId: id,
    alertId: alert.id,
    state: kind,
    severity: alert.severity,
    rule: { id: alert.ruleId, name: alert.ruleName, kind: alert.ruleKind },
    seriesId: alert.seriesId,
    name: alert.name,
    dimensions: alert.dimensions,
    startedAt: alert.startedAt,
    at,
    ...measured,
    threshold: alert.threshold,
    reason: kind === 'RESOLVED' ? resolvedReason(alert, at) : alert.reason,
    ...(alert.explanation !== undefined && { explanation: alert.explanation }),
    link,
  };
}

function resolvedReason(alert: Alert, at: number): string {
  const lasted = describeDuration(at - alert.startedAt);
  if (alert.ruleKind === 'nodata') return `data is back after ${lasted} without`;
  if (alert.ruleKind === 'threshold') return `back on the right side of ${alert.threshold} after ${lasted}`;
  return `back inside its band after ${lasted}`;
}

/**
 * Applies the band and threshold rules that match a series to its new buckets, in time order, and resolves
 * alerts of rules that no longer apply to it (deleted, disabled, or replaced).
 */
export function evaluateSeries(input: SeriesEvaluation): EvaluationOutcome {
  const { series, stepMs, monitor, now } = input;
  const changes = new Changes(now, input.link, input.explain);
  const applicable = applicableRules(input.rules, series);
  const fresh = input.buckets.filter(
    (bucket) => monitor.evaluatedUntil === null || bucket.timestamp >= monitor.evaluatedUntil,
  );
  const firstBucketAt = monitor.firstBucketAt ?? fresh[0]?.timestamp ?? null;
  const monitors: Record<string, RuleMonitor> = { ...monitor.rules };

  for (const rule of applicable) {
    if (rule.kind === 'nodata') continue;
    let state = monitors[rule.id] ?? idleMonitor;
    for (const bucket of fresh) {
      const warm = firstBucketAt !== null && bucket.timestamp - firstBucketAt >= bandWarmUpMs;
      state = stepRule(rule, state, bucket, { series, stepMs, warm, changes });
    }
    monitors[rule.id] = state;
  }

  const last = fresh[fresh.length - 1];
  const orphanedAt = last ? last.timestamp + stepMs : now;
  resolveOrphans(monitors, applicable, orphanedAt, changes);
  return {
    monitor: {
      seriesId: series.id,
      evaluatedUntil: last ? last.timestamp + stepMs : monitor.evaluatedUntil,
      firstBucketAt,
      rules: monitors,
    },
    asOf: now,
    alerts: [...changes.alerts.values()],
    transitions: changes.transitions,
  };
}

export interface SilenceEvaluation {
  readonly series: SeriesIdentity & { readonly lastTimestamp: number };
  readonly monitor: SeriesMonitor;
  readonly rules: readonly Rule[];
  readonly now: number;
  readonly link: AlertLink;
  readonly explain?: ExplainSettings;
}

/**
 * Applies the no-data rules that match a series at `now`: opens an alert once the series has been silent for
 * the rule's time, resolves it once data is back; and resolves alerts of rules that no longer apply.
 */
export function evaluateSilence(input: SilenceEvaluation): EvaluationOutcome {
  const { series, monitor, now } = input;
  const changes = new Changes(now, input.link, input.explain);
  const applicable = applicableRules(input.rules, series);
  const monitors: Record<string, RuleMonitor> = { ...monitor.rules };
  for (const rule of applicable) {
    if (rule.kind !== 'nodata') continue;
    monitors[rule.id] = stepSilence(rule, monitors[rule.id] ?? idleMonitor, series, now, changes);
  }
  resolveOrphans(monitors, applicable, now, changes);
  return {
    monitor: { ...monitor, rules: monitors },
    asOf: now,
    alerts: [...changes.alerts.values()],
    transitions: changes.transitions,
  };
}

/** Whether a series' monitor has anything a silence evaluation could change (an open alert). */
export const hasOpenAlert = (monitor: SeriesMonitor): boolean =>
  Object.values(monitor.rules).some((state) => state.open !== null);

function resolveOrphans(
  monitors: Record<string, RuleMonitor>,
  applicable: readonly Rule[],
  at: number,
  changes: Changes,
): void {
  for (const [ruleId, state] of Object.entries(monitors)) {
    const rule = applicable.find((candidate) => candidate.id === ruleId);
    if (rule && (!state.open || state.open.alert.ruleKind === rule.kind)) continue;
    if (state.open) {
      const resolvedAt = Math.max(at, state.open.alert.openedAt);
      const alert = explainedResolution({ ...state.open.alert, state: 'resolved', resolvedAt }, changes);
      changes.alert(alert);
      changes.transition(alert, 'RESOLVED', resolvedAt, unmeasured);
    }
    delete monitors[ruleId];
  }
}

interface StepContext {
  readonly series: SeriesIdentity;
  readonly stepMs: number;
  readonly warm: boolean;
  readonly changes: Changes;
}

/**
 * One rule's monitor after one more bucket: with an alert open, the alert follows the bucket (resolves, grows,
 * reminds); without, the bucket may build up to opening one. A band rule skips a bucket excluded from learning.
 */
function stepRule(
  rule: BandRule | ThresholdRule,
  state: RuleMonitor,
  bucket: EvaluatedBucket,
  context: StepContext,
): RuleMonitor {
  if (rule.kind === 'band' && bucket.band === undefined) return state;
  const reading = readBucket(rule, state, bucket, context.warm);
  return state.open
    ? stepOpenAlert(rule, state, state.open, reading, context)
    : stepWithoutAlert(rule, state, bucket, reading, context);
}

/** What one bucket tells a rule, with the figures of the episode it belongs to updated. */
interface Reading {
  readonly time: number;
  /** The bucket breaches the rule: it counts toward the debounce. */
  readonly breach: Breach | undefined;
  /** The bucket is out: it breaches, or an alert is open and the value is still outside the rule's band. */
  readonly out: Breach | undefined;
  readonly measured: Measured;
  /** Whether each of the rule's last `debounce.outOf` buckets breached, this one last. */
  readonly window: boolean[];
  readonly peakDeviation: number;
  readonly peakChange: number;
  /** How far out the episode went at worst (null for threshold rules: they have no band). */
  readonly peak: PeakDistance | null;
}

function readBucket(
  rule: BandRule | ThresholdRule,
  state: RuleMonitor,
  bucket: EvaluatedBucket,
  warm: boolean,
): Reading {
  const departure = rule.kind === 'band' ? bandDeparture(rule, bucket) : undefined;
  const breach =
    rule.kind === 'band' ? breachOf(rule, bucket, departure, warm) : thresholdBreach(rule, bucket);
  // An open band alert stays open while the value is outside the rule's band, whatever the engine makes of each
  // such bucket (an engine may call only the first bucket of a departure news): it resolves once back inside.
  const out = breach ?? (state.open && departure?.outside ? departure : undefined);
  const peakDeviation = Math.max(state.peakDeviation, out?.deviation ?? 0);
  const peakChange = Math.max(state.peakChange, out?.change ?? 0);
  return {
    time: bucket.timestamp,
    breach,
    out,
    measured: measuredAt(bucket, out),
    window: [...state.window, breach !== undefined].slice(-rule.debounce.outOf),
    peakDeviation,
    peakChange,
    peak: rule.kind === 'band' ? { widths: peakDeviation, change: peakChange } : null,
  };
}

/**
 * An open alert after one more bucket: resolved once `recoveryBuckets` buckets in a row were back (as of the
 * first of them), else it follows the departure while the bucket is still out.
 */
function stepOpenAlert(
  rule: BandRule | ThresholdRule,
  state: RuleMonitor,
  open: OpenAlertMemory,
  reading: Reading,
  context: StepContext,
): RuleMonitor {
  const { out, time, window, peakDeviation, peakChange } = reading;
  const cleanBuckets = out ? 0 : state.cleanBuckets + 1;
  const cleanSince = out ? null : (state.cleanSince ?? time);
  if (cleanBuckets >= rule.recoveryBuckets && cleanSince !== null) {
    const { alert } = open;
    const resolved = explainedResolution(
      {
        ...alert,
        state: 'resolved',
        resolvedAt: cleanSince,
        peakDeviation: rule.kind === 'band' ? peakDeviation : null,
        severity: severityOf(rule.severity, reading.peak, cleanSince - alert.startedAt),
      },
      context.changes,
    );
    context.changes.alert(resolved);
    context.changes.transition(resolved, 'RESOLVED', cleanSince, reading.measured);
    return idleMonitor;
  }
  // Buckets back inside are on their way to resolving: they change nothing of the alert (and would otherwise
  // count the recovery window as time out).
  const followed = out ? followDeparture(rule, open, out, reading, context) : open;
  return {
    ...state,
    window,
    peakDeviation,
    peakChange,
    cleanBuckets,
    cleanSince,
    open: { alert: followed.alert, lastReminderAt: followed.lastReminderAt, reminders: followed.reminders },
  };
}

/**
 * An open alert on a bucket still out: its severity follows the departure (escalated once, when it grows
 * critical), and it is reminded of every `reminderIntervalMs` while out.
 */
function followDeparture(
  rule: BandRule | ThresholdRule,
  open: OpenAlertMemory,
  out: Breach,
  reading: Reading,
  context: StepContext,
): OpenAlertMemory {
  const { alert } = open;
  const { time, measured, peak } = reading;
  const { changes } = context;
  const durationMs = time + context.stepMs - alert.startedAt;
  const explanation = changes.explain(readingFacts(rule, alert.startedAt, reading, context.stepMs));
  const current = followed(
    alert,
    severityOf(rule.severity, peak, durationMs),
    { peakDeviation: reading.peakDeviation, explanation },
    rule,
    changes,
  );
  if (escalates(alert, current)) {
    const reason = escalatedReason(rule, out, peak, durationMs);
    changes.transition(current, 'ESCALATED', time, measured, { reason, explanation });
  }
  const due = rule.reminderIntervalMs !== null && time - open.lastReminderAt >= rule.reminderIntervalMs;
  if (!due) return { ...open, alert: current };
  const reminders = open.reminders + 1;
  changes.transition(current, 'REMINDER', time, measured, { reminder: reminders, explanation });
  return { alert: current, lastReminderAt: time, reminders };
}

/**
 * A rule without an open alert after one more bucket: the episode builds while breaches pass the debounce (or
 * one bucket is out enough to open at once), and the alert opens once the episode has lasted `minDurationMs`;
 * a window without a breach forgets the episode.
 */
function stepWithoutAlert(
  rule: BandRule | ThresholdRule,
  state: RuleMonitor,
  bucket: EvaluatedBucket,
  reading: Reading,
  context: StepContext,
): RuleMonitor {
  const { breach, time, window, peakDeviation, peakChange } = reading;
  const episodeStart = breach ? (state.episodeStart ?? time) : state.episodeStart;
  const debounced =
    opensAtOnce(rule, breach, bucket) || window.filter(Boolean).length >= rule.debounce.breaches;
  if (!debounced) {
    const quiet = !window.some(Boolean);
    return {
      ...idleMonitor,
      window,
      episodeStart: quiet ? null : episodeStart,
      peakDeviation: quiet ? 0 : peakDeviation,
      peakChange: quiet ? 0 : peakChange,
    };
  }
  const pendingSince = state.pendingSince ?? time;
  if (time + context.stepMs - pendingSince < rule.minDurationMs) {
    return { ...idleMonitor, window, episodeStart, pendingSince, peakDeviation, peakChange };
  }
  const alert = openedAlert(rule, episodeStart ?? time, reading, context);
  context.changes.alert(alert);
  context.changes.transition(alert, 'OPEN', time, reading.measured);
  return {
    ...idleMonitor,
    window,
    episodeStart: alert.startedAt,
    pendingSince,
    peakDeviation,
    peakChange,
    open: { alert, lastReminderAt: time, reminders: 0 },
  };
}

/**
 * Whether one bucket opens at once: when it is `immediateDeviation` band half-widths out, or, at the default
 * sensitivity, when the engine says it is extreme (past what the series shows once in years).
 */
function opensAtOnce(
  rule: BandRule | ThresholdRule,
  breach: Breach | undefined,
  bucket: EvaluatedBucket,
): boolean {
  return (
    breach !== undefined &&
    rule.kind === 'band' &&
    rule.immediateDeviation !== null &&
    ((breach.deviation ?? 0) >= rule.immediateDeviation ||
      (rule.sensitivity === defaultSensitivity && bucket.band?.extreme === true))
  );
}

/** The alert a rule opens at the reading's bucket, for the episode that started at `startedAt`. */
function openedAlert(
  rule: BandRule | ThresholdRule,
  startedAt: number,
  reading: Reading,
  context: StepContext,
): Alert {
  const durationMs = reading.time + context.stepMs - startedAt;
  return newAlert(rule, context.series, {
    severity: severityOf(rule.severity, reading.peak, durationMs),
    startedAt,
    openedAt: reading.time,
    peakDeviation: rule.kind === 'band' ? reading.peakDeviation : null,
    measured: reading.measured,
    threshold: rule.kind === 'threshold' ? rule.threshold : null,
    reason: openReason(rule, reading.breach, durationMs),
    explanation: context.changes.explain(readingFacts(rule, startedAt, reading, context.stepMs)),
  });
}

/** The facts of a bucket an alert is out at (or opens at), for its explanation. */
function readingFacts(
  rule: BandRule | ThresholdRule,
  startedAt: number,
  reading: Reading,
  stepMs: number,
): AlertFacts {
  return {
    ruleKind: rule.kind,
    ...reading.measured,
    threshold: rule.kind === 'threshold' ? rule.threshold : null,
    ...(rule.kind === 'threshold' && { direction: rule.direction }),
    judgedAt: reading.time,
    startedAt,
    until: reading.time + stepMs,
    peakDeviation: rule.kind === 'band' ? reading.peakDeviation : null,
    ...(reading.out?.stuck && { stuck: true }),
  };
}

/**
 * A resolved alert with its explanation told in the past: the bucket it opened at (its `value`, `expected`
 * and band), how long it lasted and how far it went at worst.
 */
function explainedResolution(alert: Alert, changes: Changes): Alert {
  const explanation = changes.explain({
    ruleKind: alert.ruleKind,
    value: alert.value,
    expected: alert.expected,
    lower: alert.lower,
    upper: alert.upper,
    threshold: alert.threshold,
    judgedAt: alert.openedAt,
    startedAt: alert.startedAt,
    until: alert.resolvedAt ?? alert.openedAt,
    resolvedAt: alert.resolvedAt,
    peakDeviation: alert.peakDeviation,
  });
  return { ...alert, explanation };
}

/** The facts of a silence as of an instant, for a no-data alert's explanation. */
const silenceFacts = (startedAt: number, at: number): AlertFacts => ({
  ruleKind: 'nodata',
  value: null,
  expected: null,
  lower: null,
  upper: null,
  threshold: null,
  judgedAt: at,
  startedAt,
  until: at,
});

/** A new open alert of a rule on a series; what depends on the rule's kind and the episode is given. */
function newAlert(
  rule: Rule,
  series: SeriesIdentity,
  opened: Pick<
    Alert,
    'severity' | 'startedAt' | 'openedAt' | 'peakDeviation' | 'threshold' | 'reason' | 'explanation'
  > & {
    readonly measured: Measured;
  },
): Alert {
  return {
    id: alertId(rule.id, series.id, opened.startedAt),
    ruleId: rule.id,
    ruleName: rule.name,
    ruleKind: rule.kind,
    seriesId: series.id,
    name: series.name,
    dimensions: series.dimensions,
    state: 'open',
    severity: opened.severity,
    startedAt: opened.startedAt,
    openedAt: opened.openedAt,
    resolvedAt: null,
    peakDeviation: opened.peakDeviation,
    ...opened.measured,
    threshold: opened.threshold,
    reason: opened.reason,
    ...(opened.explanation !== undefined && { explanation: opened.explanation }),
    acknowledgedAt: null,
    acknowledgedBy: null,
    paged: null,
  };
}

/**
 * An open alert as of the latest bucket still out (or the latest check of a silence): its severity, for a
 * band rule the peak deviation, and its explanation as of now. Recorded each time, so that what people read
 * of an open alert ("now 360, for 35 min") is as fresh as the last run.
 */
function followed(
  alert: Alert,
  severity: Alert['severity'],
  now: { readonly peakDeviation: number; readonly explanation: string },
  rule: Rule,
  changes: Changes,
): Alert {
  const current: Alert = {
    ...alert,
    severity,
    peakDeviation: rule.kind === 'band' ? now.peakDeviation : null,
    explanation: now.explanation,
  };
  changes.alert(current);
  return current;
}

/**
 * Whether an alert just reached critical, which is notified of its own (once: its id is `<alertId>.escalated`).
 * An alert that opened critical is not escalated.
 */
const escalates = (before: Alert, after: Alert): boolean =>
  before.severity !== 'critical' && after.severity === 'critical';

function openReason(rule: BandRule | ThresholdRule, breach: Breach | undefined, durationMs: number): string {
  const side = breach?.side ?? rule.direction;
  const lasting = `for ${describeDuration(durationMs)}`;
  if (breach?.stuck) return `stuck at one value ${lasting}`;
  return rule.kind === 'band' ? `${side} its band ${lasting}` : `${side} ${rule.threshold} ${lasting}`;
}

/** "above its band for 35 min, 4.2 band half-widths from the expected value at worst". */
function escalatedReason(
  rule: BandRule | ThresholdRule,
  out: Breach,
  peak: PeakDistance | null,
  durationMs: number,
): string {
  const distance = criticalDistance(peak);
  return distance ? `${openReason(rule, out, durationMs)}, ${distance}` : openReason(rule, out, durationMs);
}

function measuredAt(bucket: EvaluatedBucket, out: Breach | undefined): Measured {
  const { band } = bucket;
  return {
    value: bucket.value,
    expected: band?.expected ?? null,
    lower: out?.lower ?? band?.lower ?? null,
    upper: out?.upper ?? band?.upper ?? null,
    score: band?.score ?? null,
  };
}

/** How much wider than the engine's band a rule's band is: 1 at sensitivity 0.5, 2 at 0, 0.5 at 1. */
export const bandScale = (sensitivity: number): number => 2 ** (1 - 2 * sensitivity);

/** A bucket on the side a band rule watches, at least its minimum deviation away; `outside` its band or not. */
interface BandDeparture extends Breach {
  readonly outside: boolean;
}

/**
 * Where a bucket lies against a band rule's band (the engine's band scaled around the expected value by the
 * rule's sensitivity): on which side, how far in half-widths of that band and relative to the expected
 * value, and whether outside it. Undefined when the value is the expected one, on a side the rule does not
 * watch, or nearer than the rule's minimum deviation (so that a flat series' tiny wiggles do not page).
 */
function bandDeparture(rule: BandRule, bucket: EvaluatedBucket): BandDeparture | undefined {
  const { band } = bucket;
  if (!band) return undefined;
  const distance = bucket.value - band.expected;
  if (distance === 0) return undefined;
  const side = distance > 0 ? 'above' : 'below';
  if (rule.direction !== 'both' && rule.direction !== side) return undefined;
  // A stuck value is no deviation: it is often near the expected value, and still an incident (an agent or a
  // counter frozen), so the minimum deviation does not hide it.
  const stuck = band.anomaly && band.reason === 'stuck';
  const minimum = Math.max(rule.minDeviation.absolute, rule.minDeviation.relative * Math.abs(band.expected));
  if (Math.abs(distance) < minimum && !stuck) return undefined;
  const scale = bandScale(rule.sensitivity);
  const upper = band.expected + (band.upper - band.expected) * scale;
  const lower = band.expected - (band.expected - band.lower) * scale;
  const halfWidth = side === 'above' ? upper - band.expected : band.expected - lower;
  const tiny = 1e-9 * Math.max(1, Math.abs(band.expected));
  const change = band.expected === 0 ? 0 : Math.abs(distance) / Math.abs(band.expected);
  const outside = side === 'above' ? bucket.value > upper : bucket.value < lower;
  const deviation = Math.abs(distance) / Math.max(halfWidth, tiny);
  return { side, deviation, change, lower, upper, outside, ...(stuck && { stuck }) };
}

/**
 * Whether a bucket breaches a band rule, and how far out it is: a bucket outside the rule's band (at the
 * default sensitivity the band as the engine drew it; at another, that band scaled around the expected value)
 * once the series has `bandWarmUpMs` of history, and at least the rule's minimum deviation away. At the
 * default sensitivity a bucket the engine calls anomalous breaches too (from the start: the engine keeps its
 * own warm-up), so the rule holds with an engine that flags buckets outside its band and with one that flags
 * only the first bucket of a departure alike.
 */
export function bandBreach(rule: BandRule, bucket: EvaluatedBucket, warm: boolean): Breach | undefined {
  return breachOf(rule, bucket, bandDeparture(rule, bucket), warm);
}

function breachOf(
  rule: BandRule,
  bucket: EvaluatedBucket,
  departure: BandDeparture | undefined,
  warm: boolean,
): Breach | undefined {
  if (!departure) return undefined;
  const engineVerdict = rule.sensitivity === defaultSensitivity && bucket.band?.anomaly === true;
  return engineVerdict || (warm && departure.outside) ? departure : undefined;
}

function thresholdBreach(rule: ThresholdRule, bucket: EvaluatedBucket): Breach | undefined {
  const beyond = rule.direction === 'above' ? bucket.value > rule.threshold : bucket.value < rule.threshold;
  return beyond ? { side: rule.direction, deviation: null, change: 0, lower: null, upper: null } : undefined;
}

/**
 * A no-data rule's monitor at `now`: an open alert follows the silence (resolves once data is back, grows,
 * reminds); without one, an alert opens once the series has been silent for the rule's time.
 */
function stepSilence(
  rule: NoDataRule,
  state: RuleMonitor,
  series: SeriesIdentity & { readonly lastTimestamp: number },
  now: number,
  changes: Changes,
): RuleMonitor {
  if (state.open) return stepOpenSilence(rule, state, state.open, series.lastTimestamp, now, changes);
  const silentFor = now - series.lastTimestamp;
  if (silentFor < rule.afterMs) return state;
  const startedAt = series.lastTimestamp;
  const openedAt = startedAt + rule.afterMs;
  const alert = newAlert(rule, series, {
    severity: severityOf(rule.severity, null, silentFor),
    startedAt,
    openedAt,
    peakDeviation: null,
    measured: unmeasured,
    threshold: null,
    reason: `no data for ${describeDuration(rule.afterMs)}`,
    explanation: changes.explain(silenceFacts(startedAt, openedAt)),
  });
  changes.alert(alert);
  changes.transition(alert, 'OPEN', openedAt, unmeasured);
  return { ...idleMonitor, episodeStart: startedAt, open: { alert, lastReminderAt: openedAt, reminders: 0 } };
}

/**
 * An open no-data alert at `now`: resolved when a point newer than its start came (as of that point), else
 * rescored by how long the series has been silent (escalated once, when it grows critical) and reminded.
 */
function stepOpenSilence(
  rule: NoDataRule,
  state: RuleMonitor,
  open: OpenAlertMemory,
  lastTimestamp: number,
  now: number,
  changes: Changes,
): RuleMonitor {
  const { alert } = open;
  if (lastTimestamp > alert.startedAt) {
    const resolvedAt = Math.max(lastTimestamp, alert.openedAt);
    const resolved = explainedResolution({ ...alert, state: 'resolved', resolvedAt }, changes);
    changes.alert(resolved);
    changes.transition(resolved, 'RESOLVED', resolvedAt, unmeasured);
    return idleMonitor;
  }
  let { lastReminderAt, reminders } = open;
  const explanation = changes.explain(silenceFacts(alert.startedAt, now));
  const severity = severityOf(rule.severity, null, now - lastTimestamp);
  const current = followed(alert, severity, { peakDeviation: 0, explanation }, rule, changes);
  if (escalates(alert, current)) {
    // When the silence reached the critical duration (this run may come later), unless the rule's fixed
    // severity was changed to critical.
    const critical = rule.severity === null ? alert.startedAt + criticalDurationMs : now;
    const at = Math.min(now, Math.max(alert.openedAt, critical));
    const reason = `no data for ${describeDuration(at - alert.startedAt)}`;
    const escalation = changes.explain(silenceFacts(alert.startedAt, at));
    changes.transition(current, 'ESCALATED', at, unmeasured, { reason, explanation: escalation });
  }
  if (rule.reminderIntervalMs !== null && now - lastReminderAt >= rule.reminderIntervalMs) {
    reminders += 1;
    lastReminderAt = now;
    changes.transition(current, 'REMINDER', now, unmeasured, { reminder: reminders, explanation });
  }
  return { ...state, open: { alert: current, lastReminderAt, reminders } };
}
