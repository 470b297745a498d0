/**
 * `npm run keys -- <command>`: manage API keys. Keys are shown once, at creation; stores keep only their
 * SHA-256. Without --table the local store (NORMALCY_DATA_DIR, default ./.normalcy) is used; with
 * --table the deployed stack's DynamoDB state table (the StateTableName output), with your AWS credentials.
 *
 *   npm run keys -- create --name web-agents --scopes ingest [--table T]
 *   npm run keys -- list [--table T]
 *   npm run keys -- revoke <hash or hash prefix> [--table T]
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKey, hashKey } from '../lib/keys.ts';
import { type KeyScope, type KeyStore, keyScopes } from '../lib/ports.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', default: 'unnamed' },
    scopes: { type: 'string', default: 'ingest' },
    table: { type: 'string' },
  },
});

async function openStore(): Promise<{ store: KeyStore; close: () => void }> {
  if (values.table) {
    const { DynamoDbStateStore } = await import('../lib/adapters/dynamodb-state-store.ts');
    return { store: new DynamoDbStateStore({ table: values.table }), close: () => undefined };
  }
  const { SqliteStore } = await import('../lib/adapters/sqlite-store.ts');
  const dataDir = resolve(process.env.NORMALCY_DATA_DIR ?? '.normalcy');
  mkdirSync(dataDir, { recursive: true });
  const store = new SqliteStore(join(dataDir, 'normalcy.db'));
  return { store, close: () => store.close() };
}

async function main(): Promise<number> {
  const [command, argument] = positionals;
  const { store, close } = await openStore();
  try {
    switch (command) {
      case 'create': {
        const scopes = (values.scopes ?? '').split(',').map((scope) => scope.trim());
        const unknown = scopes.filter((scope) => !(keyScopes as readonly string[]).includes(scope));
        if (unknown.length > 0) {
          console.error(`unknown scope(s): ${unknown.join(', ')}; use ${keyScopes.join(', ')}`);
          return 2;
        }
        const key = generateKey();
        await store.putKey({
          hash: hashKey(key),
          name: values.name ?? 'unnamed',
          scopes: scopes as KeyScope[],
          createdAt: Date.now(),
          revokedAt: null,
        });
        console.log(`created key "${values.name}" with scopes ${scopes.join(',')} (shown only now):\n${key}`);
        console.log(`id (SHA-256): ${hashKey(key)}`);
        return 0;
      }
      case 'list': {
        for (const key of await store.listKeys()) {
          const state =
            key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`;
          console.log(`${key.hash.slice(0, 12)}  ${key.name}  ${key.scopes.join(',')}  ${state}`);
        }
        return 0;
      }
      case 'revoke': {
        if (!argument) {
          console.error('usage: npm run keys -- revoke <hash or hash prefix>');
          return 2;
        }
        const matches = (await store.listKeys()).filter((key) => key.hash.startsWith(argument));
        if (matches.length !== 1) {
          console.error(
            matches.length === 0 ? 'no key matches' : 'several keys match: give more of the hash',
          );
          return 2;
        }
        const [match] = matches;
        if (match && (await store.revokeKey(match.hash, Date.now())))
          console.log(`revoked ${match.hash.slice(0, 12)}`);
        else console.log('already revoked');
        return 0;
      }
      default:
        console.error(
          'usage: npm run keys -- create --name NAME --scopes ingest,read,admin | list | revoke HASH',
        );
        return 2;
    }
  } finally {
    close();
  }
}

process.exitCode = await main();
