import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { type BandDeliveryRequest, deliverBandFanout } from '../lib/jobs/band-fanout.ts';
import type { BandJobDependencies, BandJobOptions, BandJobSummary } from '../lib/jobs/band-job.ts';
import { type Resharding, reshardState } from '../lib/jobs/reshard.ts';
import { defaultStateShards } from '../lib/jobs/state-shards.ts';
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

/** The first step's request: settle the state's shard layout before any worker loads a shard. */
const prepareSchema = z.object({ phase: z.literal('prepare'), runId: z.string().min(1) });

/** What the first step answers: whether the states moved to a new shard count (lib/jobs/reshard.ts). */
export interface BandPrepareResult {
  readonly runId: string;
  readonly resharded?: Resharding;
}

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
  return middy(async (event: unknown): Promise<BandJobSummary | BandPrepareResult> => {
    built ??= dependencies();
    const prepare = prepareSchema.safeParse(event);
    if (prepare.success) {
      // Once per run, before the map: a changed shard count moves the states to the new count's shards, so
      // that no worker loads a shard of a layout not yet moved (the single function does this in runBandJob).
      const resharded = await reshardState(built.job.states, options.stateShards ?? defaultStateShards);
      if (resharded) logger.info('state shards moved', { runId: prepare.data.runId, ...resharded });
      return { runId: prepare.data.runId, ...(resharded && { resharded }) };
    }
    const request = parseDeliveryRequest(event);
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
