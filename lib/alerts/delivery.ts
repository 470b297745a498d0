/**
 * What to do with a pending transition: publish it, hold it (a mute), or suppress it for good (history,
 * muted episode, acknowledged or stale reminder). Pure; the band job carries the decisions out in order,
 * alert by alert, and a transition it cannot deliver yet holds back the later ones of the same alert.
 */
import type { Alert, AlertTransition, Mute } from './model.ts';
import { mutedUntil } from './mutes.ts';

export type DeliveryDecision =
  | { readonly action: 'publish' }
  | { readonly action: 'suppress'; readonly reason: string }
  | { readonly action: 'hold'; readonly until: number; readonly reason: string };

export interface DeliveryContext {
  /** The alert as stored now (after this run's evaluation). */
  readonly alert: Alert;
  /** Whether the alert's OPEN was paged; undefined when not known (then later transitions are sent). */
  readonly openPaged: boolean | undefined;
  readonly mutes: readonly Mute[];
  readonly now: number;
  /**
   * An alert that had ended this long before its OPEN was recorded (a backfill of history) is recorded, not
   * paged; so is a reminder recorded this long after its time.
   */
  readonly pageWindowMs: number;
}

const publish: DeliveryDecision = { action: 'publish' };
const suppress = (reason: string): DeliveryDecision => ({ action: 'suppress', reason });

/**
 * Decides one transition. Mutes are judged at the time the transition happened: an OPEN or an ESCALATED
 * inside a mute waits for the mute's end and is sent then if the alert is still open (or resolved only after
 * the mute), and is dropped when the alert resolved inside the mute (the OPEN with its RESOLVED). REMINDERs are
 * never held, only sent or dropped.
 */
export function decideDelivery(transition: AlertTransition, context: DeliveryContext): DeliveryDecision {
  const { alert, mutes, now } = context;
  // History is judged against when the transition was recorded, not now: a backfill records an old episode
  // late, while a transition that waited out a notifier outage is still news and must go.
  const historic = transition.createdAt - context.pageWindowMs;
  switch (transition.kind) {
    case 'OPEN': {
      if (alert.resolvedAt !== null && alert.resolvedAt < historic) return suppress('history');
      const muteEnd = mutedUntil(mutes, alert, transition.at);
      if (muteEnd === undefined) return publish;
      if (alert.resolvedAt !== null && alert.resolvedAt < muteEnd) return suppress('muted');
      return now < muteEnd ? { action: 'hold', until: muteEnd, reason: 'muted' } : publish;
    }
    case 'ESCALATED': {
      // Paged with its alert, like the RESOLVED: an escalation of an alert recorded as history, or one whose
      // OPEN was never paged, is not paged either. It is news however late it goes (an outage of the notifier)
      // and even once the alert is acknowledged or resolved: it says the problem got worse.
      if (context.openPaged === false) return suppress('not paged when it opened');
      if (alert.resolvedAt !== null && alert.resolvedAt < historic) return suppress('history');
      // Held by a mute like the OPEN, not dropped: an alert that opened and turned critical inside a mute is
      // paged at the mute's end as critical, not as the warning its OPEN says.
      const muteEnd = mutedUntil(mutes, alert, transition.at);
      if (muteEnd !== undefined) {
        if (alert.resolvedAt !== null && alert.resolvedAt < muteEnd) return suppress('muted');
        if (now < muteEnd) return { action: 'hold', until: muteEnd, reason: 'muted' };
      }
      // Recorded before a mute that has begun since (its delivery was late): it waits for that mute's end too.
      const laterMuteEnd = mutedUntil(mutes, alert, now);
      return laterMuteEnd === undefined ? publish : { action: 'hold', until: laterMuteEnd, reason: 'muted' };
    }
    case 'REMINDER': {
      if (context.openPaged === false) return suppress('not paged when it opened');
      if (alert.state === 'resolved') return suppress('resolved');
      if (alert.acknowledgedAt !== null) return suppress('acknowledged');
      if (transition.at < historic) return suppress('history');
      const muted =
        mutedUntil(mutes, alert, transition.at) !== undefined || mutedUntil(mutes, alert, now) !== undefined;
      return muted ? suppress('muted') : publish;
    }
    case 'RESOLVED': {
      if (context.openPaged === false) return suppress('not paged when it opened');
      const muteEnd = mutedUntil(mutes, alert, transition.at);
      return muteEnd !== undefined && now < muteEnd
        ? { action: 'hold', until: muteEnd, reason: 'muted' }
        : publish;
    }
  }
}
