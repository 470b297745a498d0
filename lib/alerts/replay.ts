/**
 * "What would this rule have paged?": a rule (saved, or a draft) replayed over a series' stored buckets and
 * bands with the same evaluator the band job runs, from a fresh monitor, and each transition put through the
 * same delivery decision (mutes) as if the rule had been live. Pure: nothing is recorded or notified, which is
 * what lets a read key ask.
 */
import { describeValue, type Problem, ProblemList, ValidationError } from '../errors.ts';
import { readTimestamp } from '../metrics/timestamp.ts';
import { dayMs, minuteMs } from '../time.ts';
import { decideDelivery } from './delivery.ts';
import {
  type EvaluatedBucket,
  type ExplainSettings,
  evaluateSeries,
  evaluateSilence,
  hasOpenAlert,
} from './evaluate.ts';
import {
  type Alert,
  type AlertTransition,
  emptyMonitor,
  type Mute,
  type Rule,
  type SeriesMonitor,
  type Severity,
} from './model.ts';
import { applicableRules, defaultRuleId, effectiveRules } from './rules.ts';
import { jsonObject, parseRule } from './schema.ts';
import { type SeriesIdentity, selects } from './selector.ts';

/** How much one replay may read and answer. */
export const replayLimits = {
  /** The range when none is given: a week before `to` (default now). */
  defaultRangeMs: 7 * dayMs,
  /** The longest range: what the stores keep by default (400 days), as the query API. */
  maxRangeMs: 400 * dayMs,
  /** Buckets of the series' step one replay reads at most (34.7 days at 1 minute). */
  maxBuckets: 50_000,
  /** Alerts an answer lists (the newest); the others are only counted. */
  maxAlerts: 100,
  /** Transitions listed per alert: the first ones and the last; the others are only counted. */
  maxTransitionsPerAlert: 8,
} as const;

/** The body of a replay request, checked: a saved rule's id or a draft rule, and the range asked for. */
export interface ReplayRequest {
  readonly ruleId: string | undefined;
  /** A draft, validated as `PUT /v1/rules/{id}` validates a rule (its id defaults to `draft`). */
  readonly rule: Rule | undefined;
  readonly from: number | undefined;
  readonly to: number | undefined;
}

const requestFields = ['ruleId', 'rule', 'from', 'to'];
const ruleIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The id a draft without one replays under. */
export const draftRuleId = 'draft';

/**
 * Reads a replay request body (JSON text): every problem is named by its field, a draft's own fields under
 * `rule.` (`rule.debounce.breaches`), all in one 400.
 */
export function parseReplayRequest(text: string): ReplayRequest {
  const body = jsonObject(text, 'replay request: {"ruleId"} or {"rule"}, and "from" and "to"');
  const problems = new ProblemList();
  for (const field of Object.keys(body)) {
    if (!requestFields.includes(field)) {
      problems.add(undefined, field, `is not a field of a replay request (${requestFields.join(', ')})`);
    }
  }
  const { ruleId, rule } = body;
  if (ruleId === undefined && rule === undefined) {
    problems.add(undefined, 'rule', 'is required: give "ruleId" (a saved rule) or "rule" (a draft)');
  } else if (ruleId !== undefined && rule !== undefined) {
    problems.add(undefined, 'ruleId', 'and "rule" exclude each other: give one');
  }
  if (ruleId !== undefined && (typeof ruleId !== 'string' || !ruleIdPattern.test(ruleId))) {
    problems.add(undefined, 'ruleId', `must be a rule id, got ${describeValue(ruleId)}`);
  }
  const draft = rule === undefined ? undefined : parseDraft(rule, problems);
  const time = (field: 'from' | 'to'): number | undefined => {
    const raw = body[field];
    if (raw === undefined) return undefined;
    const parsed = readTimestamp(raw, Number.POSITIVE_INFINITY);
    if (typeof parsed === 'number') return parsed;
    problems.add(undefined, field, parsed);
    return undefined;
  };
  const from = time('from');
  const to = time('to');
  const first = problems.listed[0];
  if (first) throw new ValidationError(`invalid replay request: ${first.field} ${first.message}`, problems);
  return { ruleId: ruleId as string | undefined, rule: draft, from, to };
}

/** A draft rule through the rules' own schema, its problems moved under `rule.`. */
function parseDraft(raw: unknown, problems: ProblemList): Rule | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(undefined, 'rule', `must be a rule object, got ${describeValue(raw)}`);
    return undefined;
  }
  try {
    return parseRule(raw as Record<string, unknown>, undefined, () => draftRuleId);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const nested = new ProblemList(
      (error.problems ?? []).map(
        (problem): Problem => ({
          field: problem.field === '(body)' ? 'rule' : `rule.${problem.field}`,
          message: problem.message,
        }),
      ),
    );
    const unlisted = error.problemCount - (error.problems?.length ?? 0);
    if (unlisted > 0) nested.addUnlisted(unlisted);
    problems.addAll(nested);
    return undefined;
  }
}

/** The buckets a replay reads: `[from, to)` widened to whole steps. */
export interface ReplayWindow {
  readonly from: number;
  readonly to: number;
}

/**
 * The range of a replay at a series' step: `to` defaults to now, `from` to a week before `to`; widened to whole
 * steps, at most 400 days and {@link replayLimits.maxBuckets} buckets. Throws a ValidationError that says how
 * long a range this series allows.
 */
export function replayWindow(
  request: Pick<ReplayRequest, 'from' | 'to'>,
  stepMs: number,
  now: number,
): ReplayWindow {
  const to = request.to ?? now;
  const from = request.from ?? to - replayLimits.defaultRangeMs;
  const refuse = (field: 'from' | 'to', message: string): never => {
    throw new ValidationError(`invalid replay request: ${field} ${message}`, [{ field, message }]);
  };
  if (from >= to) refuse(request.from === undefined ? 'to' : 'from', 'must be before "to"');
  if (to - from > replayLimits.maxRangeMs) refuse('from', 'is more than 400 days before "to"');
  const window = { from: Math.floor(from / stepMs) * stepMs, to: Math.ceil(to / stepMs) * stepMs };
  const buckets = (window.to - window.from) / stepMs;
  if (buckets > replayLimits.maxBuckets) {
    const days = Math.floor((replayLimits.maxBuckets * stepMs) / dayMs);
    refuse(
      'from',
      `makes a range of ${buckets} buckets of this series' step (${stepMs / minuteMs} min), more than ` +
        `${replayLimits.maxBuckets}: ask for ${days} days or less`,
    );
  }
  return window;
}

/** Whether a rule would judge a series if it were stored as it is, and if not, why. */
export interface Applicability {
  readonly applies: boolean;
  /** Why it does not apply (null when it does). */
  readonly note: string | null;
}

/**
 * Whether `rule` applies to `series` with the stored rules around it (the draft taking the place of a stored
 * rule with its id): it must be enabled, select the series, and, for the default rule, not be replaced by a
 * band rule of the user's that selects the series.
 */
export function applicability(rule: Rule, stored: readonly Rule[], series: SeriesIdentity): Applicability {
  if (!rule.enabled) return { applies: false, note: 'the rule is disabled: it pages nothing until enabled' };
  if (!selects(rule.selector, series)) {
    return { applies: false, note: "the rule's selector does not match this series: it pages nothing here" };
  }
  const rules = effectiveRules([...stored.filter((candidate) => candidate.id !== rule.id), rule]);
  if (applicableRules(rules, series).some((candidate) => candidate.id === rule.id)) {
    return { applies: true, note: null };
  }
  const replacing = rules.find(
    (candidate) =>
      candidate.kind === 'band' &&
      candidate.id !== defaultRuleId &&
      candidate.enabled &&
      selects(candidate.selector, series),
  );
  return {
    applies: false,
    note: `the band rule "${replacing?.id ?? '?'}" selects this series and replaces the default rule on it`,
  };
}

/** A transition as a replay reports it: when, and whether it would have been paged (mutes applied). */
export interface ReplayedTransition {
  readonly kind: AlertTransition['kind'];
  readonly at: number;
  readonly severity: Severity;
  readonly value: number | null;
  readonly reason: string;
  readonly paged: boolean;
  /** When it would have gone out: `at`, or the end of the mute it fell in; null when not paged. */
  readonly pagedAt: number | null;
  /** Why it would not have gone out (muted, not paged when it opened...); null when paged. */
  readonly notPagedBecause: string | null;
}

export interface ReplayedAlert {
  /** The alert as the replay left it (open at the end of the range, or resolved); `paged` is its OPEN's. */
  readonly alert: Alert;
  /** The first transitions and the last, at most {@link replayLimits.maxTransitionsPerAlert}. */
  readonly transitions: readonly ReplayedTransition[];
  readonly transitionCount: number;
}

export interface ReplayInput {
  readonly series: SeriesIdentity;
  readonly stepMs: number;
  readonly rule: Rule;
  /** The series' closed buckets in the window, in time order, each with its stored band when it has one. */
  readonly buckets: readonly EvaluatedBucket[];
  /** The series' first bucket (band rules at another sensitivity than 0.5 wait a day from it); null: unknown. */
  readonly firstBucketAt: number | null;
  readonly window: ReplayWindow;
  readonly mutes: readonly Mute[];
  readonly now: number;
  /** How the alerts found are explained (the band job's time zone and the series' unit); default UTC. */
  readonly explain?: ExplainSettings;
}

export interface ReplayResult {
  /** The alerts the rule would have opened, newest first, at most {@link replayLimits.maxAlerts}. */
  readonly alerts: readonly ReplayedAlert[];
  readonly alertCount: number;
  /** How many of all those alerts would have paged (their OPEN sent). */
  readonly pagedCount: number;
}

/** Links are not part of a replay's answer: the evaluator wants one, nothing reads it. */
const noLink = () => '';

/**
 * Runs one rule over a series' history as if it had watched the series from the window's start: band and
 * threshold rules bucket by bucket (`evaluateSeries`), no-data rules at every step of the window from the
 * first bucket with data (`evaluateSilence`, as the band job checks silent series each run). Each alert's
 * transitions then go through the delivery decision with the mutes. O(buckets).
 */
export function replayRule(input: ReplayInput): ReplayResult {
  // The rule is replayed on this series whatever its selector or switch says: `applicability` tells whether it
  // would page here as configured.
  const rule: Rule = { ...input.rule, enabled: true, selector: {} };
  const monitor: SeriesMonitor = { ...emptyMonitor(input.series.id), firstBucketAt: input.firstBucketAt };
  const { alerts, transitions } =
    rule.kind === 'nodata'
      ? replaySilence(input, rule, monitor)
      : evaluateSeries({
          series: input.series,
          stepMs: input.stepMs,
          monitor,
          rules: [rule],
          buckets: input.buckets,
          now: input.now,
          link: noLink,
          ...(input.explain && { explain: input.explain }),
        });
  const byAlert = new Map<string, AlertTransition[]>();
  for (const transition of transitions) {
    const own = byAlert.get(transition.alertId) ?? [];
    own.push(transition);
    byAlert.set(transition.alertId, own);
  }
  const latest = new Map<string, Alert>();
  for (const alert of alerts) latest.set(alert.id, alert);
  const replayed = [...latest.values()]
    .map((alert) => delivered(alert, byAlert.get(alert.id) ?? [], input.mutes))
    .sort((a, b) => b.alert.startedAt - a.alert.startedAt || (a.alert.id < b.alert.id ? -1 : 1));
  return {
    alerts: replayed.slice(0, replayLimits.maxAlerts),
    alertCount: replayed.length,
    pagedCount: replayed.filter((entry) => entry.alert.paged === true).length,
  };
}

/**
 * A no-data rule over the window: at each step from the first bucket with data to the window's end (or now),
 * the silence since the newest bucket with data is judged, as the band job judges it on each run.
 */
function replaySilence(
  input: ReplayInput,
  rule: Rule,
  start: SeriesMonitor,
): { alerts: Alert[]; transitions: AlertTransition[] } {
  const alerts: Alert[] = [];
  const transitions: AlertTransition[] = [];
  const first = input.buckets[0];
  if (!first) return { alerts, transitions };
  const end = Math.min(input.window.to, input.now);
  const withData = new Set(input.buckets.map((bucket) => bucket.timestamp));
  let monitor = start;
  let last = first.timestamp;
  const judge = (at: number) => {
    const outcome = evaluateSilence({
      series: { ...input.series, lastTimestamp: last },
      monitor,
      rules: [rule],
      now: at,
      link: noLink,
      ...(input.explain && { explain: input.explain }),
    });
    monitor = outcome.monitor;
    alerts.push(...outcome.alerts);
    transitions.push(...outcome.transitions);
  };
  const afterMs = rule.kind === 'nodata' ? rule.afterMs : 0;
  let at = first.timestamp;
  while (at <= end) {
    if (withData.has(at)) last = at;
    if (hasOpenAlert(monitor) || at - last >= afterMs) judge(at);
    // Every step of the window, and its end itself (now, when the window reaches it).
    at = at < end && at + input.stepMs > end ? end : at + input.stepMs;
  }
  return { alerts, transitions };
}

/** Pages as the band job's delivery would have, had the rule been live: mutes held or dropped, nothing history. */
function delivered(
  alert: Alert,
  transitions: readonly AlertTransition[],
  mutes: readonly Mute[],
): ReplayedAlert {
  let openPaged: boolean | undefined;
  const replayed = transitions.map((transition): ReplayedTransition => {
    // A reminder was decided while its alert was open; an OPEN or RESOLVED against how the alert ended (an
    // OPEN held by a mute is sent at the mute's end only if the alert is still open then).
    const asThen: Alert =
      transition.kind === 'REMINDER' ? { ...alert, state: 'open', resolvedAt: null } : alert;
    const context = { alert: asThen, openPaged, mutes, pageWindowMs: Number.POSITIVE_INFINITY };
    let decision = decideDelivery(transition, { ...context, now: transition.at });
    let pagedAt = transition.at;
    if (decision.action === 'hold') {
      pagedAt = decision.until;
      decision = decideDelivery(transition, { ...context, now: decision.until });
    }
    const paged = decision.action === 'publish';
    if (transition.kind === 'OPEN') openPaged = paged;
    return {
      kind: transition.kind,
      at: transition.at,
      severity: transition.notification.severity,
      value: transition.notification.value,
      reason: transition.notification.reason,
      paged,
      pagedAt: paged ? pagedAt : null,
      notPagedBecause: decision.action === 'suppress' ? decision.reason : null,
    };
  });
  const limit = replayLimits.maxTransitionsPerAlert;
  const listed =
    replayed.length <= limit ? replayed : [...replayed.slice(0, limit - 1), ...replayed.slice(-1)];
  return {
    alert: { ...alert, paged: openPaged ?? null },
    transitions: listed,
    transitionCount: replayed.length,
  };
}
