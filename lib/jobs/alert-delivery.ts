import { decideDelivery } from '../alerts/delivery.ts';
import type { Alert, AlertTransition, Mute } from '../alerts/model.ts';
import type { AlertStore } from '../ports/alert-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { Notifier } from '../ports/notifier.ts';

export interface DeliveryDependencies {
  readonly alerts: AlertStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

export interface DeliveryOptions {
  readonly mutes: readonly Mute[];
  readonly pageWindowMs: number;
  /** How many pending transitions one run looks at. */
  readonly limit?: number;
  /** How long a run holds a transition while publishing it (another run may take it over after). */
  readonly leaseMs?: number;
  /** The pass stops after this many failed publishes in a row (the notifier is down: try next run). */
  readonly maxConsecutiveFailures?: number;
  /**
   * Where a transition due to be published goes instead of the notifier (its incident: see
   * lib/jobs/incident-delivery.ts). Called once the transition is claimed; undefined publishes it on its own.
   */
  readonly route?: (transition: AlertTransition, alert: Alert) => Promise<RoutedTransition | undefined>;
}

/** How a routed transition is marked: sent (its incident pages for it) or suppressed, and why. */
export interface RoutedTransition {
  readonly status: 'sent' | 'suppressed';
  /** Names where it went (`incident in_...`). */
  readonly reason: string;
}

export interface DeliverySummary {
  readonly sent: number;
  readonly suppressed: number;
  readonly held: number;
  readonly failed: number;
}

/** Waits after a failed publish: 30 s, 1 min, 2 min... at most 10 min. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 600_000);

/**
 * Delivers pending transitions, alert by alert and in order within an alert: claims each before publishing
 * and marks it after, so a failed publish leaves it pending for the next run and a transition that was
 * marked sent is never sent again. A transition that cannot go yet (held by a mute, waiting after a failure,
 * taken by another run) holds back the later ones of its alert.
 */
export async function deliverTransitions(
  { alerts, notifier, clock }: DeliveryDependencies,
  options: DeliveryOptions,
): Promise<DeliverySummary> {
  const leaseMs = options.leaseMs ?? 120_000;
  const maxFailures = options.maxConsecutiveFailures ?? 3;
  const summary = { sent: 0, suppressed: 0, held: 0, failed: 0 };
  let failuresInRow = 0;

  for (const group of byAlert(await alerts.pendingTransitions(options.limit ?? 500))) {
    if (failuresInRow >= maxFailures) break;
    const first = group[0];
    const alert = first && (await alerts.getAlert(first.alertId));
    if (!alert) continue;
    let openPaged = alert.paged ?? undefined;
    for (const transition of group) {
      const now = clock.now();
      if (transition.deliverAfter > now) {
        summary.held += 1;
        break;
      }
      const decision = decideDelivery(transition, {
        alert,
        openPaged,
        mutes: options.mutes,
        now,
        pageWindowMs: options.pageWindowMs,
      });
      // A hold is decided afresh on every run (a mute may be deleted or changed meanwhile), not stored.
      if (decision.action === 'hold') {
        summary.held += 1;
        break;
      }
      if (decision.action === 'suppress') {
        await alerts.finishTransition(transition, { status: 'suppressed', at: now, reason: decision.reason });
        if (transition.kind === 'OPEN') openPaged = false;
        summary.suppressed += 1;
        continue;
      }
      if (!(await alerts.claimTransition(transition.id, now + leaseMs, now))) break;
      let routed: RoutedTransition | undefined;
      try {
        routed = await options.route?.(transition, alert);
        if (!routed) await notifier.notify(transition.notification);
      } catch (error) {
        const attempts = transition.attempts + 1;
        await alerts.deferTransition(transition.id, now + retryDelayMs(attempts), describeError(error));
        summary.failed += 1;
        failuresInRow += 1;
        break;
      }
      failuresInRow = 0;
      if (routed) {
        // Not counted here: the incident's own notifications are (see IncidentDeliverySummary).
        await alerts.finishTransition(transition, { ...routed, at: clock.now() });
        if (transition.kind === 'OPEN') openPaged = routed.status === 'sent';
        continue;
      }
      await alerts.finishTransition(transition, { status: 'sent', at: clock.now(), reason: null });
      if (transition.kind === 'OPEN') openPaged = true;
      summary.sent += 1;
    }
  }
  return summary;
}

/** Groups transitions by alert, keeping the order of each alert's first transition and the order within. */
function byAlert(transitions: readonly AlertTransition[]): AlertTransition[][] {
  const groups = new Map<string, AlertTransition[]>();
  for (const transition of transitions) {
    const group = groups.get(transition.alertId);
    if (group) group.push(transition);
    else groups.set(transition.alertId, [transition]);
  }
  return [...groups.values()];
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}
