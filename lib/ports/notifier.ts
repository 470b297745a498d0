/**
 * The notifier port: delivers one alert transition, or one incident transition (SNS, a webhook, the console).
 */
import type { IncidentNotification } from '../alerts/incidents.ts';
import type { Alert, Notification } from '../alerts/model.ts';

/** One incident transition (OPEN, UPDATE, RESOLVED), see `lib/alerts/incidents.ts`. */
export type { IncidentNotification } from '../alerts/incidents.ts';
/** What a notifier delivers: one alert transition (OPEN, REMINDER or RESOLVED), see `lib/alerts/model.ts`. */
export type { Notification } from '../alerts/model.ts';

export interface Notifier {
  /** Delivers one notification; throws when it could not (the transition then stays pending). */
  notify(notification: Notification): Promise<void>;
  /**
   * Delivers one incident notification; throws when it could not. A notifier without it cannot page
   * incidents: the band job then pages each alert on its own, as for rules with `notify: "alert"`.
   */
  notifyIncident?(notification: IncidentNotification): Promise<void>;
  /**
   * Re-sends what is open now, once per band job run after the delivery, for a notifier that mirrors state
   * rather than relays transitions: Alertmanager resolves an alert that is not re-sent before its `endsAt`.
   * Not an outbox delivery: a failure is reported in the run's summary, and the next run sends again.
   */
  notifyStillOpen?(stillOpen: StillOpen): Promise<void>;
}

/** What is paged and open now (plain data: it crosses to local mode's server thread by structured clone). */
export interface StillOpen {
  /** When the run asked (the band job's clock). */
  readonly at: number;
  /**
   * Alerts paged and open: those paged on their own, and every member of an incident whose OPEN was recorded
   * (its members resolved meanwhile included, with their end), each with its dashboard link and its incident.
   */
  readonly alerts: readonly StillOpenAlert[];
}

export interface StillOpenAlert {
  readonly alert: Alert;
  readonly link: string;
  /** The incident it is a member of; null for an alert paged on its own. */
  readonly incidentId: string | null;
}
