import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { type BandDeliveryRequest, deliverBandFanout } from '../lib/jobs/band-fanout.ts';
import type { BandJobDependencies, BandJobOptions, BandJobSummary } from '../lib/jobs/band-job.ts';
import type { SummaryPartStore } from '../lib/ports/summary-part-store.ts';
import { cloudSummaryParts } from './shared/cloud-band-fanout.ts';
import { cloudBandDependencies, cloudBandOptions } from './shared/cloud-bands.ts';
import { logger } from './shared/logger.ts';

const counts = z.object({
  series: z.number(),
  relearned: z.number(),
  rewound: z.number(),
  buckets: z.number(),
  anomalies: z.number(),
  opened: z.number(),
  resolved: z.number(),
});
const failure = z.object({ shard: z.string(), reason: z.string() });
const report = z.object({
  shards: z.array(z.string()).min(1),
  counts,
  readAlone: z.number(),
  quarantined: z.array(
    z.object({ seriesId: z.string(), name: z.string(), reason: z.string(), retryAt: z.number() }),
  ),
  quarantinedInPass: z.number(),
  seriesQuarantined: z.number(),
  shardResults: z.object({
    loaded: z.number(),
    saved: z.number(),
    conflicts: z.array(z.string()),
    failed: z.array(failure),
  }),
  recentPoints: z.number(),
  recentSeries: z.number(),
});
/** What the state machine sends the last step: the run's id and every batch's report, or its failure. */
const requestSchema = z.object({
  runId: z.string().min(1),
  batches: z.array(z.union([z.object({ shards: z.array(z.string()).min(1), error: z.string() }), report])),
});

/** Reads the last step's request, or throws an error that says which field is wrong. */
export function parseDeliveryRequest(event: unknown): BandDeliveryRequest {
  const parsed = requestSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`,
    );
    throw new Error(`band delivery request refused: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export const createBandDeliveryHandler = (
  dependencies: () => { readonly job: BandJobDependencies; readonly parts: SummaryPartStore },
  options: BandJobOptions = {},
) => {
  let built: ReturnType<typeof dependencies> | undefined;
  return middy(async (event: unknown): Promise<BandJobSummary> => {
    const request = parseDeliveryRequest(event);
    built ??= dependencies();
    const summary = await deliverBandFanout(built.job, built.parts, options, request);
    // The same line as the single band function's: the quarantined-series metric filter reads it.
    logger.info('band job finished', { runId: request.runId, ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
};

export const handler = createBandDeliveryHandler(
  () => ({ job: cloudBandDependencies(), parts: cloudSummaryParts() }),
  cloudBandOptions(),
);
