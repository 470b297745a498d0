import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery the receiver accepted (answered 2xx). */
export interface Delivery {
  readonly transitionId: string;
  readonly alertId: string;
  readonly state: string;
  readonly receivedAt: number;
}

/**
 * The webhook a user would run: checks each request's signature as docs/alerts.md's "Notifications and delivery"
 * shows (HMAC-SHA256 of `<timestamp>.<raw body>`, a timestamp within five minutes), and records the accepted
 * deliveries by transition id. Every `failEvery`-th request is answered 503 without being recorded, so the
 * notifier's retries run too.
 */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  /** Requests refused because their signature or timestamp did not check out, or their body was not a notification. */
  readonly refused: string[] = [];
  /** Requests answered 503 on purpose. */
  failedOnPurpose = 0;
  private requests = 0;
  private server: Server | undefined;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly secret: string,
    private readonly failEvery = 0,
  ) {}

  async start(): Promise<string> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const status = this.receive(request.method ?? '', request.headers, Buffer.concat(chunks).toString());
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end();
        if (status === 200) {
          const waiting = this.waiting;
          this.waiting = undefined;
          waiting?.();
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/normalcy`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Resolves right after the next accepted delivery was answered, before the sender can have read the answer
   * (the same tick): a kill then falls between the send and its mark.
   */
  nextDelivery(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** How many accepted deliveries each transition id got. */
  countsByTransition(): Map<string, Delivery[]> {
    const byId = new Map<string, Delivery[]>();
    for (const delivery of this.deliveries) {
      byId.set(delivery.transitionId, [...(byId.get(delivery.transitionId) ?? []), delivery]);
    }
    return byId;
  }

  private receive(method: string, headers: IncomingHttpHeaders, body: string): number {
    this.requests += 1;
    if (method !== 'POST') return this.refuse(`${method} instead of POST`, 405);
    if (!signedBySender(this.secret, body, headers)) {
      return this.refuse(`bad signature or stale timestamp on ${headers['x-normalcy-delivery']}`, 401);
    }
    let document: { transitionId?: unknown; alertId?: unknown; state?: unknown };
    try {
      document = JSON.parse(body);
    } catch {
      return this.refuse('a body that is not JSON', 400);
    }
    const transitionId = String(headers['x-normalcy-delivery'] ?? '');
    if (document.transitionId !== transitionId) {
      return this.refuse(
        `x-normalcy-delivery ${transitionId} but transitionId ${document.transitionId}`,
        400,
      );
    }
    if (this.failEvery > 0 && this.requests % this.failEvery === 0) {
      this.failedOnPurpose += 1;
      return 503;
    }
    this.deliveries.push({
      transitionId,
      alertId: String(document.alertId),
      state: String(document.state),
      receivedAt: Date.now(),
    });
    return 200;
  }

  private refuse(reason: string, status: number): number {
    this.refused.push(reason);
    return status;
  }
}

/** docs/alerts.md's check of a delivery, with the raw body as received. */
function signedBySender(secret: string, rawBody: string, headers: IncomingHttpHeaders): boolean {
  const timestamp = headers['x-normalcy-timestamp'];
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
  const given = String(headers['x-normalcy-signature'] ?? '');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return (
    fresh && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  );
}
