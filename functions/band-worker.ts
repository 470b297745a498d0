import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import {
  type BandWorkerDependencies,
  type BandWorkerRequest,
  runBandWorker,
} from '../lib/jobs/band-fanout.ts';
import type { BandJobOptions, ShardBatchReport } from '../lib/jobs/band-job.ts';
import type { SummaryPartStore } from '../lib/ports/summary-part-store.ts';
import { cloudBandWorkerDependencies, cloudSummaryParts } from './shared/cloud-band-fanout.ts';
import { cloudBandOptions } from './shared/cloud-bands.ts';
import { logger } from './shared/logger.ts';

/** Time kept back from the Lambda's budget to save the shards after the last series. */
const safetyMarginMs = 20_000;

/** What the state machine sends: `{ runId, shards }` for one batch of the Distributed Map. */
const requestSchema = z.object({
  runId: z.string().min(1).max(128),
  shards: z.array(z.string().min(1).max(64)).min(1).max(256),
});

/** A request the worker cannot run: not retried by the state machine (its catch reports it). */
export class BandWorkerRequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BandWorkerRequestError';
  }
}

/** Reads a worker request, or throws a BandWorkerRequestError that says which field is wrong. */
export function parseWorkerRequest(event: unknown): BandWorkerRequest {
  const parsed = requestSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`,
    );
    throw new BandWorkerRequestError(`band worker request refused: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export const createBandWorkerHandler = (
  dependencies: () => { readonly job: BandWorkerDependencies; readonly parts: SummaryPartStore },
  options: BandJobOptions = {},
) => {
  let built: ReturnType<typeof dependencies> | undefined;
  return middy(async (event: unknown, context: Context): Promise<ShardBatchReport> => {
    const request = parseWorkerRequest(event);
    built ??= dependencies();
    const deadline = built.job.clock.now() + context.getRemainingTimeInMillis() - safetyMarginMs;
    const report = await runBandWorker(built.job, built.parts, { ...options, deadline }, request);
    logger.info('band worker finished', { runId: request.runId, ...report });
    return report;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
};

export const handler = createBandWorkerHandler(
  () => ({ job: cloudBandWorkerDependencies(), parts: cloudSummaryParts() }),
  cloudBandOptions(),
);
