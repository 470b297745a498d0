import type { Notification, Notifier } from '../ports.ts';
import { notificationSubject, round } from './notification-text.ts';

/** Local mode's notifier: one line per notification on the console. */
export class ConsoleNotifier implements Notifier {
  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {}

  async notify(notification: Notification): Promise<void> {
    const { band } = notification;
    const when = new Date(band.timestamp).toISOString();
    this.write(
      `${notificationSubject(notification)} at ${when}, band ${round(band.lower)}..${round(band.upper)}, ` +
        `score ${band.score.toFixed(2)}, severity ${notification.severity}`,
    );
  }
}
