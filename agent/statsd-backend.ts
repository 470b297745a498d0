/**
 * The Normalcy backend for etsy's statsd daemon (npm `statsd`): statsd loads it through its `backends`
 * setting (`npm run agent` builds it to a CommonJS file and writes the configuration). Each flush is copied
 * at once (statsd resets counters and timers after its listeners return), queued, and POSTed to
 * `/v1/metrics`. A failed POST stays queued and is retried with backoff; when the queue is full the oldest
 * flush is dropped and counted.
 *
 * Configuration, under `normalcy` in the statsd config: url, apiKey, maxQueuedFlushes (default 360),
 * timeoutMs (default 10000), globalDimensions, includeStatsdMetrics.
 */
import { EventEmitter } from 'node:events';
import { backoffDelay, DeliveryQueue } from './delivery-queue.ts';
import { type FlushOptions, flushToMetrics, type NativeMetric, type StatsdFlush } from './flush-to-points.ts';

export interface NormalcyBackendConfig extends FlushOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly maxQueuedFlushes?: number;
  readonly timeoutMs?: number;
}

interface StatsdLogger {
  log(message: string, level?: string): void;
}

type StatusCallback = (error: unknown, backend: string, name: string, value: number) => void;

/** Statuses that mean the server will never accept this payload: drop it (after logging) and go on. */
const permanentFailures = new Set([400, 401, 403, 404, 413, 415, 422]);

export class NormalcyBackend {
  readonly queue: DeliveryQueue<NativeMetric[]>;
  private sending = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastFlushTime = 0;
  private lastError = '';
  private delivered = 0;
  private refused = 0;
  /** Emits 'delivered' and 'dropped' (for tests and for statsd's status command). */
  readonly events = new EventEmitter();

  constructor(
    private readonly config: NormalcyBackendConfig,
    private readonly logger: StatsdLogger,
  ) {
    this.queue = new DeliveryQueue(config.maxQueuedFlushes ?? 360);
  }

  /** statsd's flush listener: copies the flush synchronously, then delivers in the background. */
  onFlush(timestampSeconds: number, flush: StatsdFlush): void {
    this.lastFlushTime = timestampSeconds;
    const metrics = flushToMetrics(timestampSeconds, flush, this.config);
    if (metrics.length === 0) return;
    const dropped = this.queue.push(metrics);
    if (dropped > 0) {
      this.logger.log(
        `normalcy: queue full, dropped ${dropped} oldest flush(es) (${this.queue.dropped} in all)`,
        'ERROR',
      );
      this.events.emit('dropped', dropped);
    }
    void this.drain();
  }

  /** statsd's status listener (the management console's `stats` command). */
  onStatus(write: StatusCallback): void {
    write(null, 'normalcy', 'lastFlush', this.lastFlushTime);
    write(null, 'normalcy', 'queuedFlushes', this.queue.length);
    write(null, 'normalcy', 'droppedFlushes', this.queue.dropped);
    write(null, 'normalcy', 'deliveredFlushes', this.delivered);
    write(null, 'normalcy', 'refusedFlushes', this.refused);
  }

  /** Sends queued flushes in order until the queue is empty or a send fails. */
  async drain(): Promise<void> {
    if (this.sending || this.retryTimer) return;
    this.sending = true;
    try {
      for (let payload = this.queue.peek(); payload; payload = this.queue.peek()) {
        const outcome = await this.send(payload);
        if (outcome === 'retry') {
          const delay = backoffDelay(this.attempt++);
          this.logger.log(`normalcy: delivery failed (${this.lastError}); retrying in ${delay} ms`, 'ERROR');
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.drain();
          }, delay);
          this.retryTimer.unref();
          return;
        }
        this.attempt = 0;
        if (this.queue.peek() === payload) this.queue.shift();
        if (outcome === 'delivered') this.delivered += 1;
        else this.refused += 1;
        this.events.emit(outcome, payload.length);
      }
    } finally {
      this.sending = false;
    }
  }

  private async send(metrics: NativeMetric[]): Promise<'delivered' | 'refused' | 'retry'> {
    try {
      const response = await fetch(new URL('/v1/metrics', this.config.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.config.apiKey}` },
        body: JSON.stringify({ metrics }),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 10_000),
      });
      const text = await response.text();
      if (response.ok) return 'delivered';
      this.lastError = `HTTP ${response.status}: ${text.slice(0, 200)}`;
      if (permanentFailures.has(response.status)) {
        this.logger.log(`normalcy: flush refused for good, ${this.lastError}`, 'ERROR');
        return 'refused';
      }
      return 'retry';
    } catch (error) {
      this.lastError = (error as Error).message;
      return 'retry';
    }
  }
}

/** The last backend `init` created (tests reach it through the module). */
export let activeBackend: NormalcyBackend | undefined;

/** statsd's backend entry point. */
export function init(
  _startupTime: number,
  config: { normalcy?: NormalcyBackendConfig },
  events: EventEmitter,
  logger: StatsdLogger,
): boolean {
  const settings = config.normalcy;
  if (!settings?.url || !settings.apiKey) {
    logger.log('normalcy: config.normalcy.url and config.normalcy.apiKey are required', 'ERROR');
    return false;
  }
  const backend = new NormalcyBackend(settings, logger);
  events.on('flush', (timestamp: number, metrics: StatsdFlush) => backend.onFlush(timestamp, metrics));
  events.on('status', (write: StatusCallback) => backend.onStatus(write));
  activeBackend = backend;
  return true;
}
