import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type BandJobDependencies, type BandJobOptions, runBandJob } from '../lib/jobs/band-job.ts';
import { cloudBandDependencies, cloudBandOptions } from './shared/cloud-bands.ts';
import { logger } from './shared/logger.ts';

/** Time kept back from the Lambda's budget to save progress after the last series. */
const safetyMarginMs = 20_000;

export const createBandsHandler = (dependencies: () => BandJobDependencies, options: BandJobOptions = {}) => {
  let built: BandJobDependencies | undefined;
  return middy(async (_event: unknown, context: Context) => {
    built ??= dependencies();
    const deadline = built.clock.now() + context.getRemainingTimeInMillis() - safetyMarginMs;
    const summary = await runBandJob(built, { ...options, deadline });
    logger.info('band job finished', { ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
};

export const handler = createBandsHandler(cloudBandDependencies, cloudBandOptions());
