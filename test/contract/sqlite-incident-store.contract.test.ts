import { openSqliteDatabase } from '../../lib/adapters/sqlite-database.ts';
import { SqliteIncidentStore } from '../../lib/adapters/sqlite-incident-store.ts';
import { describeIncidentStoreContract } from './incident-store.contract.ts';

describeIncidentStoreContract('SQLite', async () => {
  const database = openSqliteDatabase(':memory:');
  return {
    store: new SqliteIncidentStore(database),
    close: async () => {
      database.close();
    },
  };
});
