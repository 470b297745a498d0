/**
 * `npm run keys -- <command>`: manage API keys, with the same rules as the admin routes (`/v1/keys`). A key is
 * shown once, at creation; stores keep only its digest (HMAC-SHA256 under the deployment's key secret), which
 * is also its id. Without --table the local store is used (NORMALCY_DATA_DIR, default ./.normalcy, and the
 * key-secret file in it); with --table the deployed stack's DynamoDB state table (the StateTableName output),
 * with your AWS credentials. Creating a key there also reads the key secret: pass --secret (the KeySecretArn
 * output); your credentials then need secretsmanager:GetSecretValue on it.
 *
 *   npm run keys -- create --name web-agents --scopes ingest [--table T --secret ARN]
 *   npm run keys -- list [--table T]
 *   npm run keys -- revoke <id, or a prefix of it of at least 8 hex digits matching one key> [--table T]
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpError } from '../lib/errors.ts';
import { createKey, minKeyIdPrefix, readKeyRequest, revokeKey } from '../lib/key-admin.ts';
import type { KeyStore } from '../lib/ports/key-store.ts';

const usage = `usage: npm run keys -- create --name NAME --scopes ingest,read,admin [--table T --secret ARN]
       npm run keys -- list [--table T]
       npm run keys -- revoke ID [--table T]   (ID: the id, or at least ${minKeyIdPrefix} hex digits of it)`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', default: 'unnamed' },
    scopes: { type: 'string', default: 'ingest' },
    table: { type: 'string' },
    secret: { type: 'string' },
  },
});

async function openStore(): Promise<{ store: KeyStore; close: () => void }> {
  if (values.table) {
    const { DynamoDbStateStore } = await import('../lib/adapters/dynamodb-state-store.ts');
    const { secretsManagerKeySecret } = await import('../lib/adapters/secrets-manager-key-secret.ts');
    const secret = values.secret;
    const keySecret = secret
      ? secretsManagerKeySecret(secret)
      : () => {
          throw new Error('creating a key in the cloud needs --secret ARN (the stack output KeySecretArn)');
        };
    return { store: new DynamoDbStateStore({ table: values.table, keySecret }), close: () => undefined };
  }
  const { openSqliteStores } = await import('../lib/adapters/sqlite-stores.ts');
  const dataDir = resolve(process.env.NORMALCY_DATA_DIR ?? '.normalcy');
  mkdirSync(dataDir, { recursive: true });
  const stores = openSqliteStores(join(dataDir, 'normalcy.db'));
  return { store: stores.keys, close: () => stores.close() };
}

async function run(store: KeyStore, command: string | undefined, argument: string | undefined) {
  switch (command) {
    case 'create': {
      const request = readKeyRequest(
        JSON.stringify({ name: values.name, scopes: (values.scopes ?? '').split(',').map((s) => s.trim()) }),
      );
      const created = await createKey(store, request, Date.now());
      console.log(
        `created key "${created.name}" with scopes ${created.scopes.join(',')} (shown only now):\n${created.key}`,
      );
      console.log(`id: ${created.id}`);
      return 0;
    }
    case 'list': {
      for (const key of await store.listKeys()) {
        const state = key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`;
        const note = key.hashVersion ? '' : '  (plain SHA-256 until its next use)';
        console.log(`${key.hash.slice(0, 12)}  ${key.name}  ${key.scopes.join(',')}  ${state}${note}`);
      }
      return 0;
    }
    case 'revoke': {
      const revoked = await revokeKey(store, argument, Date.now());
      console.log(
        `revoked ${revoked.id.slice(0, 12)} (${revoked.name}) at ${new Date(revoked.revokedAt ?? 0).toISOString()}`,
      );
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

async function main(): Promise<number> {
  const [command, argument] = positionals;
  const { store, close } = await openStore();
  try {
    return await run(store, command, argument);
  } catch (error) {
    // The same checks as the admin routes: their message says what is wrong (never a key or the secret).
    if (error instanceof HttpError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  } finally {
    close();
  }
}

process.exitCode = await main();
