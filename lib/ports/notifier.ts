/**
 * The notifier port: delivers one alert transition (SNS, a webhook, the console).
 */
import type { Notification } from '../alerts/model.ts';

/** What a notifier delivers: one alert transition (OPEN, REMINDER or RESOLVED), see `lib/alerts/model.ts`. */
export type { Notification } from '../alerts/model.ts';

export interface Notifier {
  /** Delivers one notification; throws when it could not (the transition then stays pending). */
  notify(notification: Notification): Promise<void>;
}
