/**
 * Incidents in the band job's delivery: alert transitions that would be published go to their incident
 * instead (see `route` in alert-delivery.ts), then the incidents' due notifications are recorded in their
 * outbox, then delivered with the same claim, lease, finish and defer rules as alert transitions.
 *
 * Mutes, history, acknowledgements and the rest of `decideDelivery` are applied to each alert first, as
 * before: only what would have paged on its own joins an incident.
 */
import {
  defaultIncidentWindowMs,
  defaultUpdateIntervalMs,
  dueTransitions,
  type Incident,
  type IncidentTransition,
  incidentFor,
  joinIncident,
  memberOf,
  startIncident,
  updateMember,
} from '../alerts/incidents.ts';
import type { Alert, AlertTransition, NotifyMode } from '../alerts/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { IncidentBoardChange, IncidentStore } from '../ports/incident-store.ts';
import type { IncidentNotification } from '../ports/notifier.ts';
import { type RoutedTransition, retryDelayMs } from './alert-delivery.ts';

export interface IncidentSettings {
  /** How close an alert must open to an incident's latest member to join it (default 10 minutes). */
  readonly windowMs?: number;
  /** The shortest time between two UPDATEs of one incident (default 5 minutes). */
  readonly updateIntervalMs?: number;
}

export interface IncidentDeliverySummary {
  /** Alert transitions that went to an incident instead of being published on their own. */
  routed: number;
  /** Incident transitions recorded (OPEN, UPDATE, RESOLVED). */
  recorded: number;
  sent: number;
  held: number;
  failed: number;
}

export const noIncidentDelivery = (): IncidentDeliverySummary => ({
  routed: 0,
  recorded: 0,
  sent: 0,
  held: 0,
  failed: 0,
});

/** How many times a change of the board is tried again after another run changed it first. */
const boardAttempts = 8;

export class IncidentBoardBusyError extends Error {
  override readonly name = 'IncidentBoardBusyError';
}

/**
 * Loads the board, applies `change` to its incidents and saves the result if no other run saved meanwhile;
 * else does it all again. `change` answers undefined when there is nothing to save.
 */
async function changeBoard(
  store: IncidentStore,
  change: (incidents: readonly Incident[]) => IncidentBoardChange | undefined,
): Promise<IncidentBoardChange | undefined> {
  for (let attempt = 0; attempt < boardAttempts; attempt++) {
    const board = await store.loadBoard();
    const changed = change(board.incidents);
    if (!changed) return undefined;
    if ((await store.commitBoard(board.version, changed)) === 'committed') return changed;
  }
  throw new IncidentBoardBusyError(`the incident board changed ${boardAttempts} times under this run`);
}

const memberOfBoard = (incidents: readonly Incident[], alertId: string): Incident | undefined =>
  incidents.find((incident) => incident.members.some((member) => member.alertId === alertId));

/**
 * The `route` of alert delivery for incidents: an OPEN of a rule paged by incident joins (or starts) its
 * incident; an ESCALATED or RESOLVED of a member updates its incident; a REMINDER of a member is suppressed
 * (the incident pages, not its members). Anything else is published on its own. Each step is idempotent (a
 * run that stops before marking the alert transition repeats it harmlessly).
 */
export function incidentRouter(
  store: IncidentStore,
  context: {
    readonly clock: Clock;
    readonly settings: IncidentSettings;
    readonly notifyMode: (ruleId: string) => NotifyMode;
    readonly summary: IncidentDeliverySummary;
  },
): (transition: AlertTransition, alert: Alert) => Promise<RoutedTransition | undefined> {
  const windowMs = context.settings.windowMs ?? defaultIncidentWindowMs;
  return async (transition, alert) => {
    const now = context.clock.now();
    let incidentId: string | undefined;
    if (transition.kind === 'OPEN') {
      if (context.notifyMode(alert.ruleId) !== 'incident') return undefined;
      await changeBoard(store, (incidents) => {
        const known = memberOfBoard(incidents, alert.id);
        incidentId = known?.id;
        if (known) return undefined;
        const member = {
          ...memberOf(alert, {
            runAt: transition.createdAt,
            joinedAt: now,
            link: transition.notification.link,
          }),
          // As it opened: a later escalation and the end come with the alert's own transitions.
          severity: transition.notification.severity,
          resolvedAt: null,
        };
        const found = incidentFor(incidents, member, windowMs);
        const incident = found
          ? joinIncident(found.incident, member, found.tie, now)
          : startIncident(member, now);
        incidentId = incident.id;
        return { incidents: [incident], transitions: [] };
      });
    } else {
      const board = await store.loadBoard();
      incidentId = memberOfBoard(board.incidents, alert.id)?.id;
      if (incidentId === undefined) return undefined;
      if (transition.kind === 'REMINDER') {
        context.summary.routed += 1;
        return { status: 'suppressed', reason: `incident ${incidentId}` };
      }
      const change =
        transition.kind === 'ESCALATED'
          ? { severity: 'critical' as const }
          : { resolvedAt: alert.resolvedAt ?? transition.at };
      await changeBoard(store, (incidents) => {
        const incident = memberOfBoard(incidents, alert.id);
        const updated = incident && updateMember(incident, alert.id, change, now);
        return updated && updated !== incident ? { incidents: [updated], transitions: [] } : undefined;
      });
    }
    if (incidentId === undefined) return undefined;
    context.summary.routed += 1;
    return { status: 'sent', reason: `incident ${incidentId}` };
  };
}

/**
 * Records what the board's incidents are due now (OPEN with every member so far, a rate-limited UPDATE,
 * RESOLVED) in their outbox, with the incidents noted, in one change of the board.
 */
export async function recordDueIncidentTransitions(
  store: IncidentStore,
  options: IncidentSettings & { readonly now: number; readonly link: (incidentId: string) => string },
): Promise<number> {
  const changed = await changeBoard(store, (incidents) => {
    const updated: Incident[] = [];
    const transitions: IncidentTransition[] = [];
    for (const incident of incidents) {
      const due = dueTransitions(incident, {
        now: options.now,
        updateIntervalMs: options.updateIntervalMs ?? defaultUpdateIntervalMs,
        windowMs: options.windowMs ?? defaultIncidentWindowMs,
        link: options.link(incident.id),
      });
      if (due.transitions.length === 0) continue;
      updated.push(due.incident);
      transitions.push(...due.transitions);
    }
    return updated.length === 0 ? undefined : { incidents: updated, transitions };
  });
  return changed?.transitions.length ?? 0;
}

export interface IncidentDeliveryDependencies {
  readonly incidents: IncidentStore;
  readonly notify: (notification: IncidentNotification) => Promise<void>;
  readonly clock: Clock;
}

/**
 * Delivers pending incident transitions, incident by incident and in order within one: claims each before
 * publishing and marks it after, so a failed publish leaves it pending (retried after a backoff, as alert
 * transitions are) and a transition marked sent is never sent again. One that cannot go yet holds back the
 * later ones of its incident.
 */
export async function deliverIncidentTransitions(
  { incidents, notify, clock }: IncidentDeliveryDependencies,
  summary: IncidentDeliverySummary,
  options: {
    readonly limit?: number;
    readonly leaseMs?: number;
    readonly maxConsecutiveFailures?: number;
  } = {},
): Promise<void> {
  const leaseMs = options.leaseMs ?? 120_000;
  const maxFailures = options.maxConsecutiveFailures ?? 3;
  let failuresInRow = 0;
  for (const group of byIncident(await incidents.pendingIncidentTransitions(options.limit ?? 500))) {
    if (failuresInRow >= maxFailures) break;
    for (const transition of group) {
      const now = clock.now();
      if (transition.deliverAfter > now) {
        summary.held += 1;
        break;
      }
      if (!(await incidents.claimIncidentTransition(transition.id, now + leaseMs, now))) break;
      try {
        await notify(transition.notification);
      } catch (error) {
        const attempts = transition.attempts + 1;
        await incidents.deferIncidentTransition(
          transition.id,
          now + retryDelayMs(attempts),
          describeError(error),
        );
        summary.failed += 1;
        failuresInRow += 1;
        break;
      }
      failuresInRow = 0;
      await incidents.finishIncidentTransition(transition.id, {
        status: 'sent',
        at: clock.now(),
        reason: null,
      });
      summary.sent += 1;
    }
  }
}

function byIncident(transitions: readonly IncidentTransition[]): IncidentTransition[][] {
  const groups = new Map<string, IncidentTransition[]>();
  for (const transition of transitions) {
    const group = groups.get(transition.incidentId);
    if (group) group.push(transition);
    else groups.set(transition.incidentId, [transition]);
  }
  return [...groups.values()];
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}
