import { HttpError } from '../errors.ts';

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
