/**
 * Feedback: what a person said of a stretch of a series. "This was normal" on an alert teaches the band the
 * alert's departure (it is remembered as a weekly event: the same departure at the same time next week does
 * not page); "this was an incident" on a stretch no alert covered keeps its buckets out of learning, as an
 * exclusion does. Both are kept with who said it and when, and can be withdrawn: the series then learns again
 * as if it had never been said (see the band job's `needsRelearning`). Plain JSON, so every store keeps it as
 * it is.
 */
import type { Exclusion } from '../alerts/model.ts';

export const feedbackVerdicts = ['normal', 'incident'] as const;
export type FeedbackVerdict = (typeof feedbackVerdicts)[number];

export interface Feedback {
  readonly id: string;
  readonly seriesId: string;
  /** The alert said to be normal; null for "this was an incident" on a stretch. */
  readonly alertId: string | null;
  readonly verdict: FeedbackVerdict;
  /** The buckets it is about, `[start, end)` in epoch ms: an alert's from its start to its end (or the feedback). */
  readonly start: number;
  readonly end: number;
  /** Who said it: the name of the API key that sent it. */
  readonly by: string;
  /** When it was said. */
  readonly at: number;
  readonly note: string;
  /** When it was withdrawn; null while it holds. Withdrawn feedback is kept, for the record. */
  readonly withdrawnAt: number | null;
}

/** What an alert shows of the "this was normal" said of it (the latest that holds). */
export interface AlertFeedbackMark {
  readonly id: string;
  readonly verdict: 'normal';
  readonly by: string;
  readonly at: number;
  readonly note: string;
}

export const alertMarkOf = (feedback: Feedback): AlertFeedbackMark => ({
  id: feedback.id,
  verdict: 'normal',
  by: feedback.by,
  at: feedback.at,
  note: feedback.note,
});

/**
 * The feedback that holds on each alert: the latest "this was normal" not withdrawn, by alert id. O(n).
 */
export function alertMarks(records: readonly Feedback[]): Map<string, AlertFeedbackMark> {
  const marks = new Map<string, Feedback>();
  for (const record of records) {
    if (record.alertId === null || record.verdict !== 'normal' || record.withdrawnAt !== null) continue;
    const known = marks.get(record.alertId);
    if (!known || record.at > known.at) marks.set(record.alertId, record);
  }
  return new Map([...marks].map(([alertId, record]) => [alertId, alertMarkOf(record)]));
}

/**
 * Feedback as the periods the band job already knows how to learn around: each record as an exclusion-shaped
 * period of its one series (`deletedAt` when withdrawn), "incident" ones to keep out of learning and "normal"
 * ones to teach as normal. The job relearns a series when one is said or withdrawn over buckets it learned,
 * exactly as it does for exclusions.
 */
export interface FeedbackPeriods {
  readonly excluded: readonly Exclusion[];
  readonly withdrawnExcluded: readonly Exclusion[];
  readonly taught: readonly Exclusion[];
  readonly withdrawnTaught: readonly Exclusion[];
}

export const noFeedbackPeriods: FeedbackPeriods = {
  excluded: [],
  withdrawnExcluded: [],
  taught: [],
  withdrawnTaught: [],
};

export function feedbackPeriods(records: readonly Feedback[]): FeedbackPeriods {
  const period = (record: Feedback): Exclusion => ({
    id: record.id,
    selector: { seriesId: record.seriesId },
    start: record.start,
    end: record.end,
    reason: record.note,
    createdAt: record.at,
    ...(record.withdrawnAt === null ? {} : { deletedAt: record.withdrawnAt }),
  });
  const of = (verdict: FeedbackVerdict, withdrawn: boolean) =>
    records
      .filter((record) => record.verdict === verdict && (record.withdrawnAt !== null) === withdrawn)
      .map(period);
  return {
    excluded: of('incident', false),
    withdrawnExcluded: of('incident', true),
    taught: of('normal', false),
    withdrawnTaught: of('normal', true),
  };
}
