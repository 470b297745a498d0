import { afterAll } from 'vitest';
import { SqliteStore } from '../../lib/adapters/sqlite-store.ts';
import { metricStoreContract } from '../contract/metric-store.contract.ts';
import { seriesStoreContract } from '../contract/series-store.contract.ts';

const opened: SqliteStore[] = [];
const fresh = async () => {
  const store = new SqliteStore(':memory:');
  opened.push(store);
  return store;
};
afterAll(() => {
  for (const store of opened) store.close();
});

metricStoreContract('SQLite', fresh);
seriesStoreContract('SQLite', fresh);
