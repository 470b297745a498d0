/**
 * The records of alerting: rules (what counts as a problem), mutes (when not to page), exclusions (what the
 * engine must not learn), alerts (one problem on one series, from OPEN to RESOLVED) and their transitions
 * (what is notified, exactly once each). Plain JSON, so every store keeps them as they are.
 */
import type { Dimensions } from '../metrics/point.ts';
import { dayMs } from '../time.ts';

export const severities = ['warning', 'critical'] as const;
export type Severity = (typeof severities)[number];

/** Which side of its band a band rule watches. */
export const bandDirections = ['above', 'below', 'both'] as const;
export type BandDirection = (typeof bandDirections)[number];

export const ruleKinds = ['band', 'threshold', 'nodata'] as const;
export type RuleKind = (typeof ruleKinds)[number];

/**
 * How a rule's alerts are paged: folded into incidents with related alerts (one page per problem, see
 * lib/alerts/incidents.ts), or each alert on its own. A stored rule without the setting reads as "incident".
 */
export const notifyModes = ['incident', 'alert'] as const;
export type NotifyMode = (typeof notifyModes)[number];
export const defaultNotifyMode: NotifyMode = 'incident';

/** Which series a rule, mute or exclusion is about. Every field given must match; an empty selector matches all. */
export interface SeriesSelector {
  /** One series, by id. */
  readonly seriesId?: string;
  /** A metric name, or a pattern where `*` stands for any run of characters (`shop.*.time`). */
  readonly metric?: string;
  /** Dimension values the series must carry; each value may be a pattern (`web-*`). */
  readonly dimensions?: Readonly<Record<string, string>>;
}

/** "At least `breaches` of the last `outOf` buckets breach": CloudWatch's M out of N datapoints. */
export interface Debounce {
  readonly breaches: number;
  readonly outOf: number;
}

interface RuleBase {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly selector: SeriesSelector;
  /** A fixed severity; when null it follows from how far and how long the series is out. */
  readonly severity: Severity | null;
  /** While an alert stays open and unacknowledged, remind this often (ms); null sends no reminders. */
  readonly reminderIntervalMs: number | null;
  /** How its alerts are paged (see {@link notifyModes}); absent means {@link defaultNotifyMode}. */
  readonly notify?: NotifyMode;
}

/** Alerts when a series leaves the band the engine learned for it. */
export interface BandRule extends RuleBase {
  readonly kind: 'band';
  /**
   * 0.5 judges buckets against the band as the engine drew it; 0 doubles the band's width around the expected
   * value, 1 halves it. A bucket outside that band breaches (see `bandBreach` in evaluate.ts).
   */
  readonly sensitivity: number;
  readonly direction: BandDirection;
  /** A bucket breaches only if it is at least this far from the expected value (so flat series do not page). */
  readonly minDeviation: { readonly absolute: number; readonly relative: number };
  readonly debounce: Debounce;
  /** A bucket at least this many band half-widths away from the expected value breaches at once. */
  readonly immediateDeviation: number | null;
  /** The debounced breach must last this long before the alert opens. */
  readonly minDurationMs: number;
  /** The alert resolves after this many buckets in a row back inside the rule's band. */
  readonly recoveryBuckets: number;
}

/** Alerts when a series crosses a fixed value, whatever its band says. */
export interface ThresholdRule extends RuleBase {
  readonly kind: 'threshold';
  readonly direction: 'above' | 'below';
  readonly threshold: number;
  readonly debounce: Debounce;
  readonly minDurationMs: number;
  readonly recoveryBuckets: number;
}

/** Alerts when a series has sent nothing for a while. */
export interface NoDataRule extends RuleBase {
  readonly kind: 'nodata';
  readonly afterMs: number;
}

export type Rule = BandRule | ThresholdRule | NoDataRule;

export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

/** A one-off window `[start, end)` in epoch milliseconds. */
export interface OnceSchedule {
  readonly kind: 'once';
  readonly start: number;
  readonly end: number;
}

/** A window on some days of every week, in local wall-clock time (`"03:30"` to `"05:00"`) of a time zone. */
export interface WeeklySchedule {
  readonly kind: 'weekly';
  readonly days: readonly Weekday[];
  readonly start: string;
  /** When not after `start`, the window runs past midnight into the next day. */
  readonly end: string;
  /** An IANA time zone such as `Europe/Paris`. */
  readonly timeZone: string;
}

export type MuteSchedule = OnceSchedule | WeeklySchedule;

/** While a mute is active nothing it covers is paged; an alert still open when it ends is paged then. */
export interface Mute {
  readonly id: string;
  /** Only alerts of this rule (all rules when null). */
  readonly ruleId: string | null;
  /** Only alerts on these series (all series when null). */
  readonly selector: SeriesSelector | null;
  readonly schedule: MuteSchedule;
  readonly reason: string;
  readonly createdAt: number;
}

/** A period the band engine must not learn from (maintenance, an incident). */
export interface Exclusion {
  readonly id: string;
  readonly selector: SeriesSelector | null;
  readonly start: number;
  readonly end: number;
  readonly reason: string;
  readonly createdAt: number;
  /** When it was deleted: kept a while, so that the band job learns its period again (see AlertConfig). */
  readonly deletedAt?: number;
}

/** How long a deleted exclusion is kept for the band job to learn its period again. */
export const withdrawnExclusionKeptMs = 30 * dayMs;

export const alertStates = ['open', 'resolved'] as const;
export type AlertState = (typeof alertStates)[number];

/** One problem on one series under one rule: opened once, resolved once. */
export interface Alert {
  /** Derived from rule, series and start, so that two runs seeing the same data make the same alert. */
  readonly id: string;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly ruleKind: RuleKind;
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  readonly state: AlertState;
  readonly severity: Severity;
  /** The first breaching bucket (for no-data: the last point before the silence). */
  readonly startedAt: number;
  /** The bucket (or instant) at which the alert opened. */
  readonly openedAt: number;
  /** The first bucket back to normal (or the instant the rule stopped applying). */
  readonly resolvedAt: number | null;
  /** The largest distance from the expected value, in band half-widths (band rules only). */
  readonly peakDeviation: number | null;
  /** The bucket that opened the alert. */
  readonly value: number | null;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly score: number | null;
  readonly threshold: number | null;
  /** A sentence for people: "above its band for 15 min", "no data for 10 min". */
  readonly reason: string;
  /**
   * One line that explains the alert (lib/alerts/explain.ts): "Thursday 04:00 usually 1,250, now 360, 71% below,
   * for 35 min (...)". Written when the alert opens, at each bucket still out while it is open, and when it
   * resolves; absent on alerts recorded before it existed.
   */
  readonly explanation?: string;
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
  /** Whether the OPEN notification was sent (true) or deliberately not (false); null until decided. */
  readonly paged: boolean | null;
}

/**
 * What is notified about an alert: it OPENs, it is ESCALATED once if it reaches critical after opening as a
 * warning, it may send REMINDERs while open, and it is RESOLVED.
 */
export const transitionKinds = ['OPEN', 'ESCALATED', 'REMINDER', 'RESOLVED'] as const;
export type TransitionKind = (typeof transitionKinds)[number];

/**
 * Delivery order within one alert, for transitions at the same instant (the stores sort by time, then rank,
 * then id). Transitions stored pending before ESCALATED existed keep their old ranks (REMINDER 1, RESOLVED 2):
 * those still sort REMINDER before RESOLVED, and an alert's transitions at one instant are recorded by one
 * evaluation, so old and new ranks never meet there.
 */
export const transitionRank: Readonly<Record<TransitionKind, number>> = {
  OPEN: 0,
  ESCALATED: 1,
  REMINDER: 2,
  RESOLVED: 3,
};

export const transitionStatuses = ['pending', 'sent', 'suppressed'] as const;
export type TransitionStatus = (typeof transitionStatuses)[number];

/** What is notified about an alert: a change of state or a reminder. Recorded before it is published. */
export interface AlertTransition {
  /**
   * `<alertId>.open`, `<alertId>.escalated`, `<alertId>.reminder.<n>`, `<alertId>.resolved`: a retry always
   * reuses it, and an alert is escalated at most once.
   */
  readonly id: string;
  readonly alertId: string;
  readonly kind: TransitionKind;
  /** When it happened (a bucket start, or an instant for no-data). */
  readonly at: number;
  readonly createdAt: number;
  readonly status: TransitionStatus;
  /** Why a transition was suppressed (history, muted, acknowledged...). */
  readonly reason: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  /** Not delivered before this instant (a mute, or a backoff after a failed publish). */
  readonly deliverAfter: number;
  readonly decidedAt: number | null;
  /** The notification as it will be sent: fixed when recorded, so a retry sends the same message. */
  readonly notification: Notification;
}

/** What subscribers receive (the port's payload). */
export interface Notification {
  readonly transitionId: string;
  readonly alertId: string;
  readonly state: TransitionKind;
  readonly severity: Severity;
  readonly rule: { readonly id: string; readonly name: string; readonly kind: RuleKind };
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  readonly startedAt: number;
  /** When the transition happened. */
  readonly at: number;
  readonly value: number | null;
  readonly expected: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly score: number | null;
  readonly threshold: number | null;
  readonly reason: string;
  /** The alert explained in one line as of this transition (see Alert); absent on notifications recorded before. */
  readonly explanation?: string;
  /** The dashboard view of the series at the alert. */
  readonly link: string;
}

/** The rule evaluator's memory for one rule on one series. */
export interface RuleMonitor {
  /** Breach flags of the last buckets, newest last (as many as the debounce window). */
  readonly window: readonly boolean[];
  /** First breaching bucket of the current episode, while one is building or open. */
  readonly episodeStart: number | null;
  /** When the debounced condition became true (for the minimum duration). */
  readonly pendingSince: number | null;
  readonly peakDeviation: number;
  /** The largest distance from the expected value relative to it. */
  readonly peakChange: number;
  /** Buckets in a row without a breach while open. */
  readonly cleanBuckets: number;
  /** The first of those clean buckets. */
  readonly cleanSince: number | null;
  readonly open: OpenAlertMemory | null;
}

export interface OpenAlertMemory {
  readonly alert: Alert;
  readonly lastReminderAt: number;
  readonly reminders: number;
}

/** Everything the evaluator remembers about one series, saved with optimistic concurrency. */
export interface SeriesMonitor {
  readonly seriesId: string;
  /** Buckets before this were evaluated already (a re-run after a crash skips them). */
  readonly evaluatedUntil: number | null;
  readonly firstBucketAt: number | null;
  readonly rules: Readonly<Record<string, RuleMonitor>>;
}

/** The result of evaluating a series, written to the alert store as one unit. */
export interface EvaluationOutcome {
  readonly monitor: SeriesMonitor;
  /**
   * When the evaluation ran (its clock). A store never lets an alert written by a later evaluation be set back
   * by an earlier one: two overlapping runs may write in either order.
   */
  readonly asOf: number;
  /** Alerts that opened, changed or resolved. */
  readonly alerts: readonly Alert[];
  readonly transitions: readonly AlertTransition[];
}

export const emptyMonitor = (seriesId: string): SeriesMonitor => ({
  seriesId,
  evaluatedUntil: null,
  firstBucketAt: null,
  rules: {},
});
