import { sleep } from './server-process.ts';

/** A request as the soak sends it (the same bytes on every try). */
export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** The final answer to a request. */
export interface Answer {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown;
  readonly contentType: string;
}

/** What happened to the requests of one kind. */
export interface KindStats {
  requests: number;
  /** Tries, the first included. */
  attempts: number;
  /** Tries that met a closed port, a reset connection or a timeout. */
  connectionErrors: number;
  /** Final answers by status. */
  readonly statuses: Map<number, number>;
  /** Answers of 503 or 429 that were tried again. */
  retriedAnswers: number;
  /** Requests with no final answer when the soak stopped trying. */
  gaveUp: number;
  pointsSent: number;
  pointsAcknowledged: number;
  /** Bad items (or bad pairs, or Influx lines) inside requests with good ones, refused one by one as they should be. */
  badItemsRefused: number;
}

/** A promise the product made that the soak saw broken, by what it is; the first few examples kept. */
export class Findings {
  readonly broken = new Map<string, { count: number; examples: string[] }>();
  /** Noteworthy but not a broken promise. */
  readonly notes = new Map<string, { count: number; examples: string[] }>();

  breach(what: string, example: string): void {
    add(this.broken, what, example);
  }

  note(what: string, example: string): void {
    add(this.notes, what, example);
  }

  /** Many of one kind at once (counted elsewhere), with a few examples. */
  add(into: 'broken' | 'notes', what: string, count: number, examples: readonly string[]): void {
    const map = into === 'broken' ? this.broken : this.notes;
    const entry = map.get(what) ?? { count: 0, examples: [] };
    entry.count += count;
    entry.examples.push(
      ...examples.slice(0, Math.max(0, 3 - entry.examples.length)).map((e) => e.slice(0, 500)),
    );
    map.set(what, entry);
  }
}

function add(map: Map<string, { count: number; examples: string[] }>, what: string, example: string): void {
  const entry = map.get(what) ?? { count: 0, examples: [] };
  entry.count += 1;
  if (entry.examples.length < 3) entry.examples.push(example.slice(0, 500));
  map.set(what, entry);
}

export interface SendOptions {
  /** No try starts after this instant (epoch ms); read at every try, so it can be moved while a request waits. */
  readonly giveUpAt: () => number;
}

/**
 * Sends requests the way a careful agent does: a closed port, a reset connection, a timeout, 503 or 429 are
 * tried again (honouring `Retry-After`, with backoff), since every write is idempotent; any other answer is
 * final. Counts everything by kind.
 */
export class SoakClient {
  readonly stats = new Map<string, KindStats>();

  constructor(private readonly baseUrl: string) {}

  statsOf(kind: string): KindStats {
    let stats = this.stats.get(kind);
    if (!stats) {
      stats = {
        requests: 0,
        attempts: 0,
        connectionErrors: 0,
        statuses: new Map(),
        retriedAnswers: 0,
        gaveUp: 0,
        pointsSent: 0,
        pointsAcknowledged: 0,
        badItemsRefused: 0,
      };
      this.stats.set(kind, stats);
    }
    return stats;
  }

  /** The final answer, or undefined when the soak stopped trying first. */
  async send(kind: string, spec: RequestSpec, options: SendOptions): Promise<Answer | undefined> {
    const stats = this.statsOf(kind);
    stats.requests += 1;
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.key !== undefined) headers.authorization = `Bearer ${spec.key}`;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && Date.now() >= options.giveUpAt()) {
        stats.gaveUp += 1;
        return undefined;
      }
      stats.attempts += 1;
      let waitMs = Math.min(2_000, 100 * 2 ** Math.min(attempt - 1, 5)) * (0.5 + Math.random());
      try {
        const response = await fetch(`${this.baseUrl}${spec.path}`, {
          method: spec.method,
          headers,
          ...(spec.body !== undefined && {
            body: typeof spec.body === 'string' ? spec.body : new Uint8Array(spec.body),
          }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        if (response.status === 503 || response.status === 429) {
          stats.retriedAnswers += 1;
          const retryAfter = Number(response.headers.get('retry-after'));
          if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.min(retryAfter * 1000, 5_000);
        } else {
          stats.statuses.set(response.status, (stats.statuses.get(response.status) ?? 0) + 1);
          const contentType = response.headers.get('content-type') ?? '';
          return { status: response.status, text, json: parseJson(text), contentType };
        }
      } catch {
        stats.connectionErrors += 1;
      }
      await sleep(waitMs);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
