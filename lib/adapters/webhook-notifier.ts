import {
  deliveryHeader,
  signatureHeader,
  signWebhook,
  timestampHeader,
} from '../alerts/webhook-signature.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type { IncidentNotification, Notification, Notifier } from '../ports/notifier.ts';
import { HttpDeliveryError, postWithRetries } from './http-post.ts';
import { incidentDocument } from './incident-text.ts';
import { notificationDocument } from './notification-text.ts';

export interface WebhookNotifierOptions {
  readonly url: string;
  /** The shared secret the HMAC signature is keyed with. */
  readonly secret: string;
  /** Tries per notification (the first and the retries). Default 4. */
  readonly attempts?: number;
  /** The wait before the first retry, doubled before each next one. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** The longest wait between tries, also the cap on a `Retry-After`. Default 10 s. */
  readonly maxDelayMs?: number;
  /** Per-request timeout. Default 5 s. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class WebhookDeliveryError extends HttpDeliveryError {
  override readonly name = 'WebhookDeliveryError';
}

/**
 * POSTs each notification's JSON document to a URL, signed (`x-normalcy-signature: sha256=<hex>` over
 * `<x-normalcy-timestamp>.<body>`, see `lib/alerts/webhook-signature.ts`) and carrying the transition id in
 * `x-normalcy-delivery` so a receiver can drop a repeat. Retries network errors, 408, 429 and 5xx with
 * exponential backoff (honouring `Retry-After`); throws when every try failed or on another 4xx, which leaves
 * the transition pending for the next run.
 */
export class WebhookNotifier implements Notifier {
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async notify(notification: Notification): Promise<void> {
    await this.post(JSON.stringify(notificationDocument(notification)), notification.transitionId);
  }

  /** POSTs an incident's document (`"kind": "incident"`, with its `incidentId`), signed the same way. */
  async notifyIncident(notification: IncidentNotification): Promise<void> {
    await this.post(JSON.stringify(incidentDocument(notification)), notification.transitionId);
  }

  private async post(body: string, transitionId: string): Promise<void> {
    await postWithRetries({
      url: this.options.url,
      headers: () => {
        const timestamp = Math.floor(this.clock.now() / 1000);
        return {
          'content-type': 'application/json',
          'user-agent': 'normalcy-webhook/1',
          [timestampHeader]: String(timestamp),
          [signatureHeader]: signWebhook(this.options.secret, timestamp, body),
          [deliveryHeader]: transitionId,
        };
      },
      body,
      attempts: this.options.attempts ?? 4,
      baseDelayMs: this.options.baseDelayMs ?? 500,
      maxDelayMs: this.options.maxDelayMs ?? 10_000,
      timeoutMs: this.options.timeoutMs ?? 5_000,
      sleep: this.sleep,
      peer: 'the webhook',
      failure: (message, status, cause) => new WebhookDeliveryError(message, status, { cause }),
    });
  }
}
