import { describe, expect, it } from 'vitest';
import {
  cloudWatchPerSeriesMonth,
  type Deployment,
  estimate,
  type Measured,
} from '../../../scripts/cost/model.ts';

const deployment: Deployment = {
  series: 10_000,
  resolutionSeconds: 60,
  seriesPerRequest: 500,
  runsPerMonth: 43_800,
  stateShards: 16,
  memoryRetentionHours: 2,
  retentionDays: 400,
  ingestMemoryGb: 1,
  bandsMemoryGb: 2,
  roundTripMs: 20,
  queryMs: 500,
};
const measured: Measured = {
  ingest: { requests: 5, writeUnits: 60, roundTrips: 1, storedBytesPerPoint: 120, cpuMs: 0.5 },
  bands: { requestsPerBand: 0.01, unitsPerBand: 0.11, storedBytes: 113 },
  read: { queriesPerRun: 1, readUnitsPerSeries: 0.01, scannedBytesPerSeries: 111 },
  cpuSecondsPerSeries: 0.000165,
  stateBytesPerSeries: 1339,
};
const item = (name: string, store: 'timestream' | 'dynamodb' = 'timestream', d = deployment) =>
  estimate(store, d, measured).items.find((entry) => entry.item.startsWith(name));

describe('the cost model', () => {
  it("prices CloudWatch's custom metric with an anomaly-detection alarm at $0.60 a series-month", () => {
    expect(cloudWatchPerSeriesMonth).toBeCloseTo(0.6, 10);
  });

  it('bills every bulk query at least 10 MB, and more once the series outgrow it', () => {
    expect(item('Timestream queries')?.monthly).toBeCloseTo((43_800 * 10 * 1024 * 1024 * 0.01) / 1e9, 6);
    const large = item('Timestream queries', 'timestream', { ...deployment, series: 1_000_000 });
    expect(large?.monthly).toBeCloseTo((43_800 * 111 * 1_000_000 * 0.01) / 1e9, 6);
  });

  it('makes state requests grow with the shards and runs, not with the series', () => {
    const puts = item('S3 PUT')?.quantity;
    expect(item('S3 PUT', 'timestream', { ...deployment, series: 100_000 })?.quantity).toBe(puts);
    expect(puts).toBe(43_800 * 17);
  });

  it('prices the Infrequent Access table class: requests 25 % dearer, storage at $0.10 a GB-month', () => {
    const ia = { ...deployment, dynamoTableClass: 'infrequent-access' as const };
    const standardWrites = item('DynamoDB writes (points', 'dynamodb');
    const iaWrites = item('DynamoDB writes (points', 'dynamodb', ia);
    expect(iaWrites?.quantity).toBe(standardWrites?.quantity);
    expect(iaWrites?.monthly).toBeCloseTo((standardWrites?.monthly ?? 0) * 1.25, 9);
    expect(item('DynamoDB reads', 'dynamodb', ia)?.monthly).toBeCloseTo(
      (item('DynamoDB reads', 'dynamodb')?.monthly ?? 0) * 1.25,
      9,
    );
    expect(item('DynamoDB storage', 'dynamodb', ia)?.monthly).toBeCloseTo(
      (item('DynamoDB storage', 'dynamodb')?.monthly ?? 0) * 0.4,
      9,
    );
    const full = (d: typeof deployment) => estimate('dynamodb', d, measured).storageAtFullRetention;
    expect(full(ia)).toBeCloseTo(full(deployment) * 0.4, 6);
  });

  it('scales ingest requests with points over series per request', () => {
    expect(item('API Gateway')?.quantity).toBe((10_000 * 43_800) / 500);
    expect(item('DynamoDB writes (points', 'dynamodb')?.quantity).toBe(((10_000 * 43_800) / 500) * 60);
  });
});
