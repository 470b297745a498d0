import { describe, expect, it } from 'vitest';
import { cloudWatchPerSeriesMonth, estimate } from '../../../scripts/cost/model.ts';
import { measuredFigures, smallDeployment } from './fixtures.ts';

const deployment = smallDeployment;
const measured = measuredFigures;
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
