import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStateStore } from '../../lib/adapters/dynamodb-state-store.ts';
import { secretsManagerKeySecret } from '../../lib/adapters/secrets-manager-key-secret.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import {
  authorize,
  cachedKeyStore,
  findKeyRecord,
  generateKey,
  KeySecretUnavailableError,
  keyedDigest,
  legacyKeyDigest,
} from '../../lib/keys.ts';
import { type ApiKeyRecord, type KeyStore, keyHashVersion } from '../../lib/ports/key-store.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../helpers/dynalite.ts';

const secret = Buffer.alloc(32, 7);

/** A record of the old kind: filed under the key's plain SHA-256, no hash version. */
const legacyRecord = (key: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  hash: legacyKeyDigest(key),
  name: 'old-agents',
  scopes: ['ingest'],
  createdAt: 1_000,
  revokedAt: null,
  ...overrides,
});

/** The KeyStore port, run against every adapter: digests, hash versions and the in-place upgrade. */
function keyStoreContract(name: string, makeStore: () => Promise<KeyStore>) {
  describe(`KeyStore contract: ${name}`, () => {
    it('files keys under the HMAC-SHA256 of the deployment secret, never the plain SHA-256', async () => {
      const store = await makeStore();
      const key = generateKey();
      const digest = await store.digestKey(key);
      expect(digest).toBe(keyedDigest(secret, key));
      expect(digest).toMatch(/^[0-9a-f]{64}$/);
      expect(digest).not.toBe(legacyKeyDigest(key));
    });

    it('keeps the hash version of a record, and none on records of the old kind', async () => {
      const store = await makeStore();
      const key = generateKey();
      const keyed: ApiKeyRecord = {
        hash: await store.digestKey(key),
        hashVersion: keyHashVersion,
        name: 'new',
        scopes: ['read'],
        createdAt: 5,
        revokedAt: null,
      };
      await store.putKey(keyed);
      await store.putKey(legacyRecord(key));
      expect(await store.findKey(keyed.hash)).toEqual(keyed);
      expect(await store.findKey(legacyKeyDigest(key))).toEqual(legacyRecord(key));
      // Listed oldest first.
      expect(await store.listKeys()).toEqual([keyed, legacyRecord(key)]);
    });

    it('refiles a record of the old kind on its first use, once, keeping its name, scopes and age', async () => {
      const store = await makeStore();
      const key = generateKey();
      await store.putKey(legacyRecord(key));
      const record = await authorize(store, key, 'ingest');
      const refiled: ApiKeyRecord = {
        ...legacyRecord(key),
        hash: keyedDigest(secret, key),
        hashVersion: keyHashVersion,
      };
      expect(record).toEqual(refiled);
      expect(await store.findKey(legacyKeyDigest(key))).toBeUndefined();
      expect(await store.listKeys()).toEqual([refiled]);
      // A second refiling finds nothing left to move.
      expect(await store.upgradeKeyHash(legacyKeyDigest(key), refiled)).toBe(false);
      expect(await authorize(store, key, 'ingest')).toEqual(refiled);
    });

    it('leaves a revoked record of the old kind as it is, and refuses its key', async () => {
      const store = await makeStore();
      const key = generateKey();
      await store.putKey(legacyRecord(key, { revokedAt: 2_000 }));
      await expect(authorize(store, key, 'ingest')).rejects.toMatchObject({ statusCode: 401 });
      const upgraded: ApiKeyRecord = {
        ...legacyRecord(key),
        hash: keyedDigest(secret, key),
        hashVersion: keyHashVersion,
      };
      expect(await store.upgradeKeyHash(legacyKeyDigest(key), upgraded)).toBe(false);
      expect(await store.findKey(upgraded.hash)).toBeUndefined();
      expect(await store.listKeys()).toEqual([legacyRecord(key, { revokedAt: 2_000 })]);
    });

    it('does not refile over a record already at the keyed digest', async () => {
      const store = await makeStore();
      const key = generateKey();
      const keyed: ApiKeyRecord = {
        ...legacyRecord(key),
        name: 'refiled elsewhere',
        hash: keyedDigest(secret, key),
        hashVersion: keyHashVersion,
      };
      await store.putKey(keyed);
      await store.putKey(legacyRecord(key));
      expect(await store.upgradeKeyHash(legacyKeyDigest(key), { ...keyed, name: 'old-agents' })).toBe(false);
      expect(await store.findKey(keyed.hash)).toEqual(keyed);
      expect(await findKeyRecord(store, key)).toEqual(keyed);
    });
  });
}

let dynamo: LocalDynamoDb;
const directories: string[] = [];
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamo.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

keyStoreContract('SQLite', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-keys-'));
  directories.push(directory);
  return openSqliteStores(join(directory, 'normalcy.db'), { keySecret: () => secret }).keys;
});

keyStoreContract('DynamoDB (dynalite)', async () => {
  const table = await dynamo.createStateTable();
  return new DynamoDbStateStore({ table, client: dynamo.client, keySecret: () => secret });
});

describe('What checking keys costs in DynamoDB reads', () => {
  it('is one GetItem per key in use per container every 5 s: 12 a minute, at any request rate', async () => {
    const table = await dynamo.createStateTable();
    let getItems = 0;
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetItemCommand') getItems += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countGetItems' },
    );
    try {
      const store = new DynamoDbStateStore({ table, client: dynamo.client, keySecret: () => secret });
      const keys = [generateKey(), generateKey(), generateKey()];
      for (const key of keys) {
        await store.putKey({
          hash: await store.digestKey(key),
          hashVersion: keyHashVersion,
          name: 'agents',
          scopes: ['ingest'],
          createdAt: 0,
          revokedAt: null,
        });
      }
      let now = 0;
      const container = cachedKeyStore(store, { now: () => now });
      // One minute of 20 requests a second, spread over three keys.
      for (now = 0; now < 60_000; now += 50) {
        await authorize(container, keys[(now / 50) % keys.length], 'ingest');
      }
      expect(getItems).toBe(3 * 12);
    } finally {
      dynamo.client.middlewareStack.remove('countGetItems');
    }
  });
});

describe('Function: the key secret from Secrets Manager', () => {
  const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:NormalcyKeySecret-AbCdEf';

  it('reads the secret once per container, by its ARN, and digests under its bytes', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    try {
      const value = 'k'.repeat(64);
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: value });
      const table = await dynamo.createStateTable();
      const store = new DynamoDbStateStore({
        table,
        client: dynamo.client,
        keySecret: secretsManagerKeySecret(secretArn, new SecretsManagerClient({ region: 'eu-west-1' })),
      });
      const key = generateKey();
      expect(await store.digestKey(key)).toBe(keyedDigest(Buffer.from(value), key));
      for (let i = 0; i < 5; i += 1) await store.digestKey(generateKey());
      expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
        { SecretId: secretArn },
      ]);
    } finally {
      secretsManager.restore();
    }
  });

  it('answers 503 (retry) while the secret cannot be read, and reads it again on the next request', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    try {
      secretsManager
        .on(GetSecretValueCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
        .resolves({ SecretString: 'k'.repeat(64) });
      const store = new DynamoDbStateStore({
        table: await dynamo.createStateTable(),
        client: dynamo.client,
        keySecret: secretsManagerKeySecret(secretArn, new SecretsManagerClient({ region: 'eu-west-1' })),
      });
      const failure = authorize(cachedKeyStore(store), generateKey(), 'ingest');
      await expect(failure).rejects.toBeInstanceOf(KeySecretUnavailableError);
      await expect(failure).rejects.toMatchObject({ statusCode: 503 });
      await expect(authorize(cachedKeyStore(store), generateKey(), 'ingest')).rejects.toMatchObject({
        statusCode: 401,
      });
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    } finally {
      secretsManager.restore();
    }
  });

  it('refuses a secret shorter than 32 bytes', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    try {
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
      const store = new DynamoDbStateStore({
        table: 'unused',
        keySecret: secretsManagerKeySecret(secretArn, new SecretsManagerClient({ region: 'eu-west-1' })),
      });
      await expect(store.digestKey('x')).rejects.toThrow(/at least 32/);
    } finally {
      secretsManager.restore();
    }
  });
});
