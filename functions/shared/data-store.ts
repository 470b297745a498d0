/**
 * The points-and-bands store the stack chose (context normalcy:store), for the functions that read or write
 * points and bands.
 */
import { DynamoDbMetricStore } from '../../lib/adapters/dynamodb-metric-store.ts';
import { TimestreamStore } from '../../lib/adapters/timestream-store.ts';
import type { BandStore } from '../../lib/ports/band-store.ts';
import type { MetricStore } from '../../lib/ports/metric-store.ts';
import { requiredEnv, requiredPositiveNumberEnv } from './environment.ts';

export function dataStore(): (MetricStore & BandStore) | DynamoDbMetricStore {
  const store = process.env.NORMALCY_STORE ?? 'timestream';
  if (store === 'dynamodb') {
    return new DynamoDbMetricStore({
      table: requiredEnv('DATA_TABLE'),
      retentionDays: requiredPositiveNumberEnv('DATA_RETENTION_DAYS'),
    });
  }
  if (store !== 'timestream') throw new Error(`NORMALCY_STORE must be timestream or dynamodb, got ${store}`);
  return new TimestreamStore(timestreamTables());
}

/** The Timestream database and tables of points and bands. */
export const timestreamTables = () => ({
  database: requiredEnv('TIMESTREAM_DATABASE'),
  pointsTable: requiredEnv('TIMESTREAM_POINTS_TABLE'),
  bandsTable: requiredEnv('TIMESTREAM_BANDS_TABLE'),
});
