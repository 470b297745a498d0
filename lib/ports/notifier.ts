/**
 * The notifier port: delivers one alert transition, or one incident transition (SNS, a webhook, the console).
 */
import type { IncidentNotification } from '../alerts/incidents.ts';
import type { Notification } from '../alerts/model.ts';

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
}
