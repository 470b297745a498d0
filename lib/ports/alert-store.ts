/**
 * The port the alerting needs from a store: rules, mutes and exclusions (managed through the API), the
 * evaluator's memory per series (saved with optimistic concurrency), alerts, and the transitions waiting to
 * be delivered (an outbox: recorded before publishing, marked after).
 */
import type {
  Alert,
  AlertState,
  AlertTransition,
  EvaluationOutcome,
  Exclusion,
  Mute,
  Rule,
  SeriesMonitor,
} from '../alerts/model.ts';
import type { AlertConfig } from '../alerts/rules.ts';

export interface MonitorSnapshot {
  /** Undefined for a series never evaluated. */
  readonly monitor: SeriesMonitor | undefined;
  /** Pass back to {@link AlertStore.commitEvaluation}: 0 for a series never evaluated. */
  readonly version: number;
}

/** Where a page of alerts stopped: alerts are listed newest first (by start), then by id. */
export interface AlertPosition {
  readonly startedAt: number;
  readonly id: string;
}

export interface AlertQuery {
  readonly state?: AlertState;
  /** Alerts active at some time in `[from, to)`: started before `to`, not resolved before `from`. */
  readonly from?: number;
  readonly to?: number;
  /** One series' alerts only. */
  readonly seriesId?: string;
  readonly limit: number;
  /** Only alerts after this position (the last alert of the previous page). */
  readonly after?: AlertPosition;
}

/** Alerts in listing order: newest first by start, then by id (compared as bytes, as the stores order them). */
export const alertListingOrder = (a: Alert, b: Alert): number =>
  b.startedAt - a.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export type CommitResult = 'committed' | 'conflict';

export interface AlertStore {
  /** Rules, mutes and exclusions as stored (the built-in default rule is not stored until changed). */
  loadConfig(): Promise<AlertConfig>;
  putRule(rule: Rule): Promise<void>;
  deleteRule(id: string): Promise<boolean>;
  putMute(mute: Mute): Promise<void>;
  deleteMute(id: string): Promise<boolean>;
  putExclusion(exclusion: Exclusion): Promise<void>;
  /**
   * Withdraws an exclusion at `at`: it stops applying, and is kept as withdrawn (see
   * {@link AlertConfig.withdrawnExclusions}) until `withdrawnExclusionKeptMs` later. False when no exclusion
   * has that id.
   */
  deleteExclusion(id: string, at: number): Promise<boolean>;

  loadMonitor(seriesId: string): Promise<MonitorSnapshot>;
  /**
   * Records an evaluation: its transitions (each once: an id already recorded is left as it is), its alerts
   * (acknowledgement and paging are kept), then the monitor, only if its version is still `version`. Returns
   * 'conflict' when another run saved the monitor first; what this run recorded is then the same as what that
   * run recorded, or what it will record, because ids follow from the data.
   */
  commitEvaluation(seriesId: string, version: number, outcome: EvaluationOutcome): Promise<CommitResult>;
  /**
   * Records an evaluation's transitions (each once) and alerts, without its monitor: the band job keeps
   * monitors in its state shards and calls this only when an evaluation changed something.
   */
  recordEvaluation(outcome: EvaluationOutcome): Promise<void>;

  /** Transitions not delivered yet, in the order they happened (then by `transitionRank`), at most `limit`. */
  pendingTransitions(limit: number): Promise<AlertTransition[]>;
  /** Takes a pending transition for publishing until `leaseUntil`; false when another run holds it or it is done. */
  claimTransition(id: string, leaseUntil: number, now: number): Promise<boolean>;
  /** Marks a transition sent or suppressed (an OPEN also records on its alert whether it was paged). */
  finishTransition(
    transition: AlertTransition,
    outcome: { readonly status: 'sent' | 'suppressed'; readonly at: number; readonly reason: string | null },
  ): Promise<void>;
  /** Leaves a transition pending, not to be tried before `deliverAfter`, noting why. */
  deferTransition(id: string, deliverAfter: number, error: string | null): Promise<void>;

  getAlert(id: string): Promise<Alert | undefined>;
  /** At most `limit` alerts after `after`, newest first by start, then by id (see {@link alertListingOrder}). */
  listAlerts(query: AlertQuery): Promise<Alert[]>;
  transitionsOf(alertId: string): Promise<AlertTransition[]>;
  /** Records who acknowledged an alert (the first acknowledgement stays); undefined for an unknown alert. */
  acknowledgeAlert(id: string, by: string, at: number): Promise<Alert | undefined>;
}
