import {
  deliveryHeader,
  signatureHeader,
  signWebhook,
  timestampHeader,
} from '../alerts/webhook-signature.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type { IncidentNotification, Notification, Notifier } from '../ports/notifier.ts';
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

export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  constructor(
    message: string,
    readonly status: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Statuses worth another try: timeouts, rate limits and server errors. */
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

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
    const attempts = Math.max(1, this.options.attempts ?? 4);
    const baseDelayMs = this.options.baseDelayMs ?? 500;
    const maxDelayMs = this.options.maxDelayMs ?? 10_000;
    let lastError: WebhookDeliveryError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const timestamp = Math.floor(this.clock.now() / 1000);
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'normalcy-webhook/1',
            [timestampHeader]: String(timestamp),
            [signatureHeader]: signWebhook(this.options.secret, timestamp, body),
            [deliveryHeader]: transitionId,
          },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
        });
        await response.body?.cancel();
        if (response.ok) return;
        lastError = new WebhookDeliveryError(`the webhook answered ${response.status}`, response.status);
        if (!retryable(response.status)) throw lastError;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
      } catch (error) {
        if (error instanceof WebhookDeliveryError) throw error;
        lastError = new WebhookDeliveryError(
          `the webhook could not be reached: ${(error as Error).message}`,
          undefined,
          {
            cause: error,
          },
        );
      }
      if (attempt < attempts)
        await this.sleep(Math.min(retryAfterMs ?? baseDelayMs * 2 ** (attempt - 1), maxDelayMs));
    }
    throw lastError ?? new WebhookDeliveryError('the webhook was not tried', undefined);
  }
}
