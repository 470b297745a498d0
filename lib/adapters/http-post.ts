/**
 * A JSON POST with retries, as the webhook and Alertmanager notifiers send theirs: network errors, 408, 429 and
 * 5xx are tried again with exponential backoff (honouring `Retry-After`, capped); another 4xx, or the last try's
 * failure, throws, which leaves the transition pending for the next run.
 */

/** A POST that failed: the status when there was an answer. Each notifier names its own subclass. */
export class HttpDeliveryError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export interface RetryingPost {
  readonly url: string;
  /** The headers of a try, made for each (a webhook signs each try with its time). */
  readonly headers: () => Record<string, string>;
  readonly body: string;
  /** Tries in all (the first and the retries), at least 1. */
  readonly attempts: number;
  /** The wait before the first retry, doubled before each next one. */
  readonly baseDelayMs: number;
  /** The longest wait between tries, also the cap on a `Retry-After`. */
  readonly maxDelayMs: number;
  /** Per-try timeout. */
  readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Who answers, as messages name it ("the webhook"); never the URL, which may carry credentials. */
  readonly peer: string;
  /** Whether an error quotes the start of the answer's body (Alertmanager says what it refused). */
  readonly quoteAnswer?: boolean;
  /** The error a failure throws (the notifier's own class). */
  readonly failure: (message: string, status: number | undefined, cause?: unknown) => HttpDeliveryError;
}

/** Statuses worth another try: timeouts, rate limits and server errors. */
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** POSTs `body` until it is accepted (any 2xx), see the module comment. */
export async function postWithRetries(post: RetryingPost): Promise<void> {
  const attempts = Math.max(1, post.attempts);
  let lastError: HttpDeliveryError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(post.url, {
        method: 'POST',
        headers: post.headers(),
        body: post.body,
        signal: AbortSignal.timeout(post.timeoutMs),
      });
      if (response.ok) {
        await response.body?.cancel();
        return;
      }
      const said = post.quoteAnswer ? (await response.text().catch(() => '')).trim().slice(0, 300) : '';
      if (!post.quoteAnswer) await response.body?.cancel();
      lastError = post.failure(
        `${post.peer} answered ${response.status}${said ? `: ${said}` : ''}`,
        response.status,
      );
      if (!retryable(response.status)) throw lastError;
      const retryAfter = Number(response.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
    } catch (error) {
      if (error instanceof HttpDeliveryError) throw error;
      lastError = post.failure(
        `${post.peer} could not be reached: ${(error as Error).message}`,
        undefined,
        error,
      );
    }
    if (attempt < attempts) {
      await post.sleep(Math.min(retryAfterMs ?? post.baseDelayMs * 2 ** (attempt - 1), post.maxDelayMs));
    }
  }
  throw lastError ?? post.failure(`${post.peer} was not tried`, undefined);
}
