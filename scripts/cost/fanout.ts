/**
 * What the band job costs fanned out (cdk/band-fanout.ts): the Standard parent's state transitions, one Express
 * child execution and one worker invocation per batch of shards, the last step, and what the workers read more
 * than one function would (each worker makes its own bulk read: Timestream scans the whole range for each, the
 * DynamoDB store reads only the log buckets of the worker's shards). From `npm run bench:fanout`
 * (bench/results/fanout.json, fanout-dynamodb.json) and the single-function estimate's own measurements. Pure,
 * like model.ts.
 */
import { logBuckets, logBucketsOfSelection } from '../../lib/adapters/dynamodb-packing.ts';
import { shardBatches } from '../../lib/jobs/band-fanout.ts';
import { fanoutShardOrder, shardSelection } from '../../lib/jobs/state-shards.ts';
import type { Deployment, Estimate, LineItem, Measured, PointsStore } from './model.ts';
import { dynamoPrices, prices } from './prices.ts';

/** What bench/fanout.ts records (the figures this model reads). */
export interface FanoutBench {
  readonly seriesCount: number;
  readonly shards: number;
  readonly shardsPerWorker: number;
  readonly batches: number;
  readonly worker: {
    readonly seconds: { readonly mean: number; readonly max: number };
    readonly cpuSeconds: { readonly mean: number; readonly max: number };
    readonly maxRssMB: { readonly max: number };
  };
}

export interface FanoutEstimate {
  readonly batches: number;
  readonly workerSeconds: number;
  readonly items: LineItem[];
  /** The fan-out's items per run, and per month. */
  readonly perRun: number;
  readonly monthly: number;
  /** The single function's band-job items the fan-out replaces, per month. */
  readonly replaced: number;
  /** The deployment's running cost per series-month with the band job fanned out. */
  readonly perSeriesMonth: number;
}

/** Worker memory (cdk/band-fanout.ts). */
const workerMemoryGb = 1;
/** The share of a vCPU Lambda gives a function of that memory (a whole vCPU at 1,769 MB). */
const workerVcpu = (workerMemoryGb * 1024) / 1769;
/** An Express child execution is billed 64 MB (its payloads are a few KB). */
const expressMemoryGb = 64 / 1024;
/** Assumed, not measured: the last step's time (read a part per batch, save the summaries, deliver). */
const lastStepSeconds = 5;
/** The parent's transitions besides the map's children: the shard list, the layout check, the map, the last step. */
const parentTransitions = 4;

/**
 * What the workers of a run read of the DynamoDB store's recent-points log: each batch of the fan-out's order
 * reads the log buckets its shards' series can be in, so together they read `wholeReads` times the log (the
 * single function reads it once); `bucketsPerWorker` the most a worker reads.
 *
 * @example dynamoLogReads(256, 4) // { wholeReads: 8, bucketsPerWorker: 3 }
 */
export function dynamoLogReads(
  stateShards: number,
  shardsPerWorker: number,
): { readonly wholeReads: number; readonly bucketsPerWorker: number } {
  const buckets = shardBatches(fanoutShardOrder(stateShards), shardsPerWorker).map(
    (batch) => logBucketsOfSelection(shardSelection(batch, stateShards)).length,
  );
  return {
    wholeReads: buckets.reduce((sum, count) => sum + count, 0) / logBuckets,
    bucketsPerWorker: Math.max(...buckets),
  };
}

export function fanoutEstimate(
  store: PointsStore,
  deployment: Deployment,
  measured: Measured,
  single: Estimate,
  bench: FanoutBench,
): FanoutEstimate {
  const d = deployment;
  const batches = Math.ceil(d.stateShards / bench.shardsPerWorker);
  // A worker's time: its CPU time (bench:fanout; the wall time there is mostly waiting for the shared
  // machine's cores) at the share of a vCPU its Lambda gets, growing with its series (scaled).
  const benchSeriesPerWorker = bench.seriesCount / bench.batches;
  const benchWorkerSeconds = bench.worker.cpuSeconds.mean / workerVcpu;
  const workerSeconds = benchWorkerSeconds * (d.series / batches / benchSeriesPerWorker);
  const items: LineItem[] = [];
  const add = (item: string, perRun: number, unit: string, price: number, source: string) =>
    items.push({
      item,
      quantity: perRun * d.runsPerMonth,
      unit,
      monthly: perRun * d.runsPerMonth * price,
      source,
    });
  add(
    'Step Functions transitions (Standard parent)',
    parentTransitions + batches,
    'transitions',
    prices.stepFunctionsStandardTransition,
    `${parentTransitions} states + one per child execution (${batches} batches of ${bench.shardsPerWorker} shards)`,
  );
  add(
    'Step Functions Express requests (children)',
    batches,
    'requests',
    prices.stepFunctionsExpressRequest,
    'one child per batch',
  );
  add(
    'Step Functions Express GB-s (children)',
    batches * (Math.ceil(workerSeconds * 10) / 10) * expressMemoryGb,
    'GB-s',
    prices.stepFunctionsExpressGbSecond,
    `a child lasts its worker: ${workerSeconds.toFixed(2)} s at 64 MB`,
  );
  add(
    'Lambda requests (workers, layout check, last step)',
    batches + 2,
    'requests',
    prices.lambdaRequest,
    'one per batch, one layout check (milliseconds: its time is not counted), one last step',
  );
  add(
    'Lambda GB-s (workers)',
    batches * workerSeconds * workerMemoryGb,
    'GB-s',
    prices.lambdaArmGbSecond,
    `${workerSeconds.toFixed(2)} s a worker at 1 GB: bench:fanout's ${bench.worker.cpuSeconds.mean} CPU s at ${Math.round(benchSeriesPerWorker).toLocaleString('en-US')} series a worker, at ${workerVcpu.toFixed(2)} vCPU, scaled`,
  );
  add(
    'Lambda GB-s (last step)',
    lastStepSeconds * d.bandsMemoryGb,
    'GB-s',
    prices.lambdaArmGbSecond,
    `${lastStepSeconds} s at ${d.bandsMemoryGb} GB (assumed, not measured)`,
  );
  const extraReads = batches - 1;
  const logReads = dynamoLogReads(d.stateShards, bench.shardsPerWorker);
  if (store === 'timestream') {
    const scanned = Math.max(
      prices.timestreamQueryMinimumBytes,
      d.series * measured.read.scannedBytesPerSeries,
    );
    add(
      'Timestream queries (each worker’s bulk read)',
      (extraReads * scanned * measured.read.queriesPerRun) / 1e9,
      'GB scanned',
      prices.timestreamQueryGb,
      `${extraReads} more bulk reads a run than one function makes, ${(scanned / 1e6).toFixed(1)} MB each`,
    );
  } else {
    add(
      'DynamoDB reads (each worker’s bulk read)',
      (logReads.wholeReads - 1) * measured.read.readUnitsPerSeries * d.series,
      'read units',
      dynamoPrices(deployment.dynamoTableClass).readUnit,
      `each worker reads ${logReads.bucketsPerWorker} of the ${logBuckets} log buckets: ${logReads.wholeReads.toFixed(1)} bulk reads’ worth a run, ${(logReads.wholeReads - 1).toFixed(1)} more than one function makes`,
    );
  }
  add(
    'S3 PUT and GET (summary parts)',
    batches,
    'PUT + GET',
    prices.s3Put + prices.s3Get,
    'a part per batch, written by its worker, read by the last step',
  );
  const monthly = items.reduce((sum, item) => sum + item.monthly, 0);
  const replaced = single.items
    .filter((item) => item.item === 'Lambda requests (band job)' || item.item === 'Lambda GB-s (band job)')
    .reduce((sum, item) => sum + item.monthly, 0);
  return {
    batches,
    workerSeconds,
    items,
    perRun: monthly / d.runsPerMonth,
    monthly,
    replaced,
    perSeriesMonth: (single.running - replaced + monthly) / d.series,
  };
}
