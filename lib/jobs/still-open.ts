/**
 * The band job's re-send of what is open, for a notifier that mirrors state (Alertmanager, which resolves an
 * alert not posted again before its `endsAt`). Runs after the delivery, so what was paged this run is open
 * here already; it is no outbox delivery (nothing is claimed or marked): a failed re-send is reported in the
 * run's summary, and the next run re-sends everything again.
 */
import type { Alert } from '../alerts/model.ts';
import type { AlertStore } from '../ports/alert-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { IncidentStore } from '../ports/incident-store.ts';
import type { Notifier, StillOpenAlert } from '../ports/notifier.ts';

export interface StillOpenSummary {
  /** Alerts re-sent (open ones, and members of an open incident that resolved before it). */
  readonly alerts: number;
  /** Why the re-send failed (`name: message`), or null. */
  readonly failed: string | null;
}

export const noStillOpen = (): StillOpenSummary => ({ alerts: 0, failed: null });

/** Open alerts are read this many at a time. */
const pageSize = 500;

/**
 * Re-sends every alert that is paged and open: those paged on their own (their OPEN was sent), and the members
 * of each incident on the board whose OPEN was recorded, with their incident (members resolved meanwhile
 * included, with their end, so they resolve in Alertmanager without waiting for the incident). An alert whose
 * OPEN was held (a mute) or suppressed is not paged, so not re-sent.
 */
export async function resendStillOpen(
  dependencies: {
    readonly alerts: AlertStore;
    /** Given when incidents are paged (the notifier can page them). */
    readonly incidents: IncidentStore | undefined;
    readonly notifier: Notifier;
    readonly clock: Clock;
  },
  link: (seriesId: string, alertId: string) => string,
): Promise<StillOpenSummary> {
  const { notifier, clock } = dependencies;
  if (!notifier.notifyStillOpen) return noStillOpen();
  try {
    const open = await openAlerts(dependencies.alerts);
    const incidentOf = new Map<string, string>();
    const pagedIncidentMembers: string[] = [];
    for (const incident of (await dependencies.incidents?.loadBoard())?.incidents ?? []) {
      for (const member of incident.members) {
        incidentOf.set(member.alertId, incident.id);
        if (incident.notice.opened) pagedIncidentMembers.push(member.alertId);
      }
    }
    const byId = new Map(open.map((alert) => [alert.id, alert]));
    const stillOpen: StillOpenAlert[] = [];
    for (const alert of open) {
      if (alert.paged !== true || incidentOf.has(alert.id)) continue;
      stillOpen.push({ alert, link: link(alert.seriesId, alert.id), incidentId: null });
    }
    for (const alertId of pagedIncidentMembers) {
      const alert = byId.get(alertId) ?? (await dependencies.alerts.getAlert(alertId));
      if (!alert) continue;
      stillOpen.push({
        alert,
        link: link(alert.seriesId, alert.id),
        incidentId: incidentOf.get(alertId) ?? null,
      });
    }
    await notifier.notifyStillOpen({ at: clock.now(), alerts: stillOpen });
    return { alerts: stillOpen.length, failed: null };
  } catch (error) {
    const failed = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { alerts: 0, failed: failed.slice(0, 500) };
  }
}

async function openAlerts(store: AlertStore): Promise<Alert[]> {
  const open: Alert[] = [];
  for (;;) {
    const last = open.at(-1);
    const page = await store.listAlerts({
      state: 'open',
      limit: pageSize,
      ...(last && { after: { startedAt: last.startedAt, id: last.id } }),
    });
    open.push(...page);
    if (page.length < pageSize) return open;
  }
}
