import type { IncidentNotification, Notification, Notifier, StillOpen } from '../ports/notifier.ts';
import { incidentSubject } from './incident-text.ts';
import { notificationSubject, round } from './notification-text.ts';

/** Local mode's notifier: one line per notification on the console. */
export class ConsoleNotifier implements Notifier {
  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {}

  async notify(notification: Notification): Promise<void> {
    const { lower, upper } = notification;
    const band = lower !== null && upper !== null ? `, band ${round(lower)}..${round(upper)}` : '';
    this.write(
      `${notificationSubject(notification)} at ${new Date(notification.at).toISOString()}${band}, ` +
        `${notification.reason}, rule ${notification.rule.id} -> ${notification.link}`,
    );
  }

  async notifyIncident(notification: IncidentNotification): Promise<void> {
    const members = notification.members.map((member) => member.name).join(', ');
    this.write(
      `${incidentSubject(notification)} at ${new Date(notification.at).toISOString()}, ` +
        `members ${members} -> ${notification.link}`,
    );
  }
}

/** Delivers to several notifiers in order; the first failure stops it (the transition is retried whole). */
export class FanOutNotifier implements Notifier {
  /** Only when every one of its notifiers pages incidents (else the band job pages each alert on its own). */
  readonly notifyIncident?: (notification: IncidentNotification) => Promise<void>;
  /** When one of its notifiers mirrors what is open (Alertmanager): re-sent to those only. */
  readonly notifyStillOpen?: (stillOpen: StillOpen) => Promise<void>;

  constructor(private readonly notifiers: readonly Notifier[]) {
    if (notifiers.every((notifier) => notifier.notifyIncident)) {
      this.notifyIncident = async (notification) => {
        for (const notifier of notifiers) await notifier.notifyIncident?.(notification);
      };
    }
    if (notifiers.some((notifier) => notifier.notifyStillOpen)) {
      this.notifyStillOpen = async (stillOpen) => {
        for (const notifier of notifiers) await notifier.notifyStillOpen?.(stillOpen);
      };
    }
  }

  async notify(notification: Notification): Promise<void> {
    for (const notifier of this.notifiers) await notifier.notify(notification);
  }
}
