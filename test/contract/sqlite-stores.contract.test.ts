import { afterAll } from 'vitest';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { metricStoreContract } from './metric-store.contract.ts';
import { seriesStoreContract } from './series-store.contract.ts';

const opened: SqliteStores[] = [];
const fresh = async () => {
  const stores = openSqliteStores(':memory:');
  opened.push(stores);
  return stores;
};
afterAll(() => {
  for (const stores of opened) stores.close();
});

metricStoreContract('SQLite', fresh);
seriesStoreContract('SQLite', fresh);
