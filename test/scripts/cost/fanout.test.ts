import { describe, expect, it } from 'vitest';
import { dynamoLogReads, type FanoutBench, fanoutEstimate } from '../../../scripts/cost/fanout.ts';
import { type Deployment, estimate, type Measured } from '../../../scripts/cost/model.ts';
import { measuredFigures, smallDeployment } from './fixtures.ts';

const deployment: Deployment = { ...smallDeployment, series: 1_000_000, stateShards: 256 };
const measured: Measured = {
  ...measuredFigures,
  read: { ...measuredFigures.read, queriesPerRun: 14 },
};
const bench: FanoutBench = {
  seriesCount: 1_000_000,
  shards: 256,
  shardsPerWorker: 4,
  batches: 64,
  worker: { seconds: { mean: 15, max: 18 }, cpuSeconds: { mean: 6, max: 8 }, maxRssMB: { max: 400 } },
};

describe('the fan-out cost model', () => {
  it('charges the DynamoDB store’s workers the log buckets of their shards: 8 reads of the log a run, not 64', () => {
    expect(dynamoLogReads(256, 4)).toEqual({ wholeReads: 8, bucketsPerWorker: 3 });
    expect(dynamoLogReads(64, 4)).toEqual({ wholeReads: 2, bucketsPerWorker: 3 });
    // Batches of 3 of 8 shards: 3 buckets a shard, 9, 9 and 6 of the 24.
    expect(dynamoLogReads(8, 3)).toEqual({ wholeReads: 1, bucketsPerWorker: 9 });
    const single = estimate('dynamodb', deployment, measured);
    const reads = fanoutEstimate('dynamodb', deployment, measured, single, bench).items.find((item) =>
      item.item.startsWith('DynamoDB reads'),
    );
    expect(reads?.quantity).toBeCloseTo(7 * 0.01 * 1_000_000 * 43_800, 3);
    expect(reads?.source).toBe(
      'each worker reads 3 of the 24 log buckets: 8.0 bulk reads’ worth a run, 7.0 more than one function makes',
    );
  });

  it('charges each Timestream worker a whole scan: Timestream cannot read part of the range', () => {
    const single = estimate('timestream', deployment, measured);
    const scans = fanoutEstimate('timestream', deployment, measured, single, bench).items.find((item) =>
      item.item.startsWith('Timestream queries'),
    );
    expect(scans?.quantity).toBeCloseTo((63 * 111 * 1_000_000 * 14 * 43_800) / 1e9, 3);
  });
});
