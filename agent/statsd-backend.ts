/**
 * The Normalcy backend for etsy's statsd daemon (npm `statsd`): statsd loads it through its `backends`
 * setting (`npm run agent` builds it to a CommonJS file and writes the configuration). Each flush is copied
 * at once (statsd resets counters and timers after its listeners return), queued, and POSTed to
 * `/v1/metrics`. A failed POST stays queued and is retried with backoff; when the queue is full the oldest
 * flush is dropped and counted.
 *
 * statsd's own HTTP backends lose a flush when a POST fails; this one keeps it. A flush the server finds too
 * large (413) is split in halves and sent again; 401 and 403 are retried too (a key can be fixed without
 * losing data); only 400, 404, 415 and 422 drop a flush, which is logged and counted. Dropped flushes are
 * reported in the next flush sent, as the counter `normalcy.agent.dropped_flushes`.
 *
 * Configuration, under `normalcy` in the statsd config: url, apiKey, maxQueuedFlushes (default 360),
 * timeoutMs (default 10000), retryBaseMs (default 1000), retryMaxMs (default 60000), globalDimensions,
 * includeStatsdMetrics.
 */
import { EventEmitter } from 'node:events';
import { gzipSync } from 'node:zlib';
import { backoffDelay, DeliveryQueue } from './delivery-queue.ts';
import { type FlushOptions, flushToMetrics, type NativeMetric, type StatsdFlush } from './flush-to-points.ts';

export interface NormalcyBackendConfig extends FlushOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly maxQueuedFlushes?: number;
  readonly timeoutMs?: number;
  /** First retry delay; each failure doubles it (full jitter) up to retryMaxMs. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
}

/** The counter that reports flushes dropped because the queue was full. */
export const droppedFlushesMetric = 'normalcy.agent.dropped_flushes';

interface StatsdLogger {
  log(message: string, level?: string): void;
}

type StatusCallback = (error: unknown, backend: string, name: string, value: number) => void;

/** Statuses that mean the server will never accept this payload: drop it (after logging) and go on. */
const permanentFailures = new Set([400, 404, 415, 422]);

export class NormalcyBackend {
  readonly queue: DeliveryQueue<NativeMetric[]>;
  private sending = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastFlushTime = 0;
  private lastError = '';
  private delivered = 0;
  private refused = 0;
  /** Drops not yet reported to the server. */
  private unreportedDrops = 0;
  private retryAfterMs: number | undefined;
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
    if (this.unreportedDrops > 0) {
      metrics.push({
        name: droppedFlushesMetric,
        type: 'counter',
        value: this.unreportedDrops,
        timestamp: timestampSeconds * 1000,
      });
      this.unreportedDrops = 0;
    }
    if (metrics.length === 0) return;
    const dropped = this.queue.push(metrics, this.sending);
    if (dropped > 0) {
      this.unreportedDrops += dropped;
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

  /** Sends queued flushes now instead of at the next retry (on shutdown, or when the server is known to be back). */
  retryNow(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    return this.drain();
  }

  /** Sends queued flushes in order until the queue is empty or a send fails. */
  async drain(): Promise<void> {
    if (this.sending || this.retryTimer) return;
    this.sending = true;
    try {
      for (let payload = this.queue.peek(); payload; payload = this.queue.peek()) {
        const outcome = await this.send(payload);
        if (outcome === 'split') {
          // Too large for the server: the same metrics in two requests, in order, at the front of the queue.
          const half = Math.ceil(payload.length / 2);
          this.queue.replaceFront(payload, [payload.slice(0, half), payload.slice(half)]);
          continue;
        }
        if (outcome === 'retry') {
          const delay =
            this.retryAfterMs ??
            backoffDelay(this.attempt++, this.config.retryBaseMs ?? 1000, this.config.retryMaxMs ?? 60_000);
          this.retryAfterMs = undefined;
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

  private async send(metrics: NativeMetric[]): Promise<'delivered' | 'refused' | 'retry' | 'split'> {
    try {
      const response = await fetch(new URL('/v1/metrics', this.config.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Bearer ${this.config.apiKey}`,
        },
        body: gzipSync(JSON.stringify({ metrics })),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 10_000),
      });
      const text = await response.text();
      if (response.ok) return 'delivered';
      this.lastError = `HTTP ${response.status}: ${text.slice(0, 200)}`;
      if (response.status === 413 && metrics.length > 1) return 'split';
      const retryAfter = Number(response.headers.get('retry-after'));
      if ((response.status === 429 || response.status === 503) && retryAfter > 0) {
        this.retryAfterMs = Math.min(retryAfter * 1000, this.config.retryMaxMs ?? 60_000);
      }
      if (permanentFailures.has(response.status) || response.status === 413) {
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
