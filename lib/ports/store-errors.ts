/**
 * The errors in the stores' contracts (lib/ports/), beside the ports so that the adapters that throw them
 * and the layers that catch them (ingest, the functions) import them from below.
 *
 * What a MetricStore may throw from writePoints besides an outage: the two outcomes ingest must tell apart,
 * because one is the client's data (report it per item) and the other is the store (ask the client to retry).
 */
import { HttpError } from '../errors.ts';

/** A point the store refused for good, by its position in the array given to writePoints. */
export interface RefusedPoint {
  readonly index: number;
  readonly reason: string;
}

/** Some points were refused for good (retrying them would not help); every other point was stored. */
export class PointsRefusedError extends Error {
  override readonly name = 'PointsRefusedError';
  constructor(readonly refused: readonly RefusedPoint[]) {
    super(`the store refused ${refused.length} point(s): ${refused[0]?.reason ?? ''}`);
  }
}

/**
 * Some points could not be confirmed as stored before the deadline (throttling, store errors, timeouts).
 * Points are written idempotently, so the client may safely send the whole request again.
 */
export class WriteIncompleteError extends Error {
  override readonly name = 'WriteIncompleteError';
  constructor(
    readonly unconfirmed: number,
    readonly refused: readonly RefusedPoint[],
    options: { cause?: unknown } = {},
  ) {
    super(`${unconfirmed} point(s) could not be confirmed as stored`, options);
  }
}

/** A read ran out of its time budget (the request's, or the store's own per-call limit). */
export class QueryTimeoutError extends HttpError {
  override readonly name = 'QueryTimeoutError';
  constructor(budgetMs: number, options: { cause?: unknown } = {}) {
    super(
      504,
      'query_timeout',
      `the query did not finish within ${Math.round(budgetMs / 1000)} s: ask for a shorter time range or a larger step`,
      options,
    );
  }
}

/** Whether an error is the abort of a read whose signal fired (fetch, the AWS SDK and Node all name it so). */
export const isAbortError = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
