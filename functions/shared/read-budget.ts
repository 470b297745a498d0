import type { Context } from 'aws-lambda';
import type { ReadOptions } from '../../lib/ports/query-store.ts';
import type { SeriesCatalog } from '../../lib/ports/series-catalog.ts';
import type { SeriesInfo } from '../../lib/ports/series-store.ts';
import type { SeriesSummaryStore } from '../../lib/ports/series-summary-store.ts';
import { isAbortError, QueryTimeoutError } from '../../lib/ports/store-errors.ts';
import { type SummarizedCatalog, summarizedCatalog } from '../../lib/query/summaries.ts';

/** Time kept back from the Lambda's budget to answer with a clear 504 before API Gateway gives up. */
const answerMarginMs = 1_500;
/** Local mode's budget per request, matching API Gateway's 30 s integration timeout. */
const defaultBudgetMs = 29_000;

/**
 * Runs a read within the request's time budget: its signal aborts store calls when the Lambda is about to
 * run out, and an abort becomes a 504 that tells the client what to change.
 */
export async function withinBudget<T>(
  context: { readonly lambda: Pick<Context, 'getRemainingTimeInMillis'> },
  read: (options: ReadOptions) => Promise<T>,
): Promise<T> {
  const remaining = context.lambda.getRemainingTimeInMillis?.() ?? defaultBudgetMs;
  const budgetMs = Math.max(1, remaining - answerMarginMs);
  try {
    return await read({ signal: AbortSignal.timeout(budgetMs) });
  } catch (error) {
    if (isAbortError(error)) throw new QueryTimeoutError(budgetMs, { cause: error });
    throw error;
  }
}

/** The catalog as the routes read it: with the band job's summaries when the composition gives them. */
export const catalogOf = (dependencies: {
  readonly series: SeriesCatalog & { getSeries(id: string): Promise<SeriesInfo | undefined> };
  readonly summaries?: SeriesSummaryStore;
}): SummarizedCatalog =>
  dependencies.summaries
    ? summarizedCatalog(dependencies.series, dependencies.summaries)
    : dependencies.series;
