/**
 * The port feedback needs from a store ("this was normal", "this was an incident": lib/feedback/model.ts).
 * People give it by hand, so there is little of it: the band job reads it all once per run.
 */
import type { Feedback } from '../feedback/model.ts';

export interface FeedbackStore {
  /** Records feedback (a new id). */
  putFeedback(feedback: Feedback): Promise<void>;
  getFeedback(id: string): Promise<Feedback | undefined>;
  /**
   * Every record, withdrawn ones included, or one series' only; oldest first (by `at`, then id).
   */
  listFeedback(query?: { readonly seriesId?: string }): Promise<Feedback[]>;
  /**
   * Withdraws feedback at `at`: it stops applying and is kept, marked withdrawn. Returns the record as it now
   * is (the first withdrawal stays), or undefined when no feedback has that id.
   */
  withdrawFeedback(id: string, at: number): Promise<Feedback | undefined>;
}

/** Feedback in listing order: oldest first, then by id. */
export const feedbackOrder = (a: Feedback, b: Feedback): number =>
  a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
