import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localApiKey, localKeySecret } from '../../lib/adapters/local-key-files.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { createKey, revokeKey } from '../../lib/key-admin.ts';
import {
  authorize,
  cachedKeyStore,
  checkChosenKey,
  generateKey,
  keySecretFileName,
  legacyKeyDigest,
  registerKey,
} from '../../lib/keys.ts';
import type { KeyStore } from '../../lib/ports/key-store.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

describe('key scopes and the admin routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const as = (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) },
    });
  const sendMetric = (key: string) =>
    as(key, '/v1/metrics', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metrics: [{ name: 'k', value: 1 }] }),
    });

  it('creates a key with an admin key, shows it once, and lists only its hash', async () => {
    const created = await as(server.key, '/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'web-agents', scopes: ['ingest'] }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { key: string; id: string; scopes: string[] };
    expect(body.key).toMatch(/^nrm_/);
    expect(body.scopes).toEqual(['ingest']);
    expect((await sendMetric(body.key)).status).toBe(200);
    const listing = await (await as(server.key, '/v1/keys')).text();
    expect(listing).toContain(body.id);
    expect(listing).toContain('web-agents');
    expect(listing).not.toContain(body.key);
  });

  it('keeps each scope to its routes: ingest cannot read or manage keys, read cannot ingest', async () => {
    const ingestOnly = await server.addKey(['ingest']);
    const readOnly = await server.addKey(['read']);
    expect((await as(ingestOnly, '/v1/series')).status).toBe(403);
    expect((await as(ingestOnly, '/v1/keys')).status).toBe(403);
    expect((await as(readOnly, '/v1/keys', { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await sendMetric(readOnly)).status).toBe(403);
    expect((await as(readOnly, '/v1/series')).status).toBe(200);
  });

  it('revokes a key by a prefix of its id; the key stops working at once', async () => {
    const created = (await (
      await as(server.key, '/v1/keys', {
        method: 'POST',
        body: JSON.stringify({ name: 'temp', scopes: ['ingest'] }),
      })
    ).json()) as { key: string; id: string };
    const revoked = await as(server.key, `/v1/keys/${created.id.slice(0, 12)}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { key: { revokedAt: number | null } }).key.revokedAt).toBeGreaterThan(
      0,
    );
    expect((await sendMetric(created.key)).status).toBe(401);
  });

  it('answers 400 naming the field for a bad key request, and 404 for an unknown id', async () => {
    const bad = await as(server.key, '/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scopes: ['root'] }),
    });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { error: { problems: { field: string }[] } }).error.problems[0]?.field,
    ).toBe('scopes');
    expect((await as(server.key, '/v1/keys/0123456789abcdef', { method: 'DELETE' })).status).toBe(404);
  });

  it('names an unknown field of a key request, beside the fields it leaves wrong', async () => {
    const typo = await as(server.key, '/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'web-agents', scope: ['ingest'], expires: '2026-01-01' }),
    });
    expect(typo.status).toBe(400);
    const { error } = (await typo.json()) as { error: { message: string; problems: unknown[] } };
    expect(error.problems).toEqual([
      { field: 'scope', message: 'is not a field of a key request (name, scopes)' },
      { field: 'expires', message: 'is not a field of a key request (name, scopes)' },
      { field: 'scopes', message: 'must be a non-empty array of ingest, read, admin, got nothing' },
    ]);
    expect(error.message).toBe('invalid key request: scope is not a field of a key request (name, scopes)');
  });
});

/** A key store that counts the lookups that reach it (a function container's reads of the state table). */
function countingStore(store: KeyStore): KeyStore & { readonly lookups: () => number } {
  let lookups = 0;
  return {
    digestKey: (key) => store.digestKey(key),
    findKey: (hash) => {
      lookups += 1;
      return store.findKey(hash);
    },
    putKey: (record) => store.putKey(record),
    listKeys: () => store.listKeys(),
    revokeKey: (hash, at) => store.revokeKey(hash, at),
    upgradeKeyHash: (legacyHash, record) => store.upgradeKeyHash(legacyHash, record),
    lookups: () => lookups,
  };
}

describe('Function: cachedKeyStore, one per function container', () => {
  let shared: SqliteStores;
  beforeEach(() => {
    shared = openSqliteStores(':memory:');
  });
  afterEach(() => shared.close());

  it('refuses a key revoked in another container within 5 s, and at once in the container that revoked it', async () => {
    let now = 0;
    const revoking = cachedKeyStore(shared.keys, { now: () => now });
    const other = cachedKeyStore(shared.keys, { now: () => now });
    const created = await createKey(revoking, { name: 'agents', scopes: ['ingest'] }, now);
    await authorize(revoking, created.key, 'ingest');
    await authorize(other, created.key, 'ingest');

    now = 1_000;
    await revokeKey(revoking, created.id.slice(0, 8), now);
    await expect(authorize(revoking, created.key, 'ingest')).rejects.toMatchObject({ statusCode: 401 });
    // The other container still has the record it read at 0 s: the documented bound.
    now = 4_999;
    await expect(authorize(other, created.key, 'ingest')).resolves.toMatchObject({ name: 'agents' });
    now = 5_000;
    await expect(authorize(other, created.key, 'ingest')).rejects.toMatchObject({ statusCode: 401 });
  });

  it('keeps a key in use cached through 5,000 random keys (unknown keys have their own bounded LRU)', async () => {
    const store = countingStore(shared.keys);
    const container = cachedKeyStore(store, { now: () => 0 });
    const created = await createKey(store, { name: 'agents', scopes: ['ingest'] }, 0);
    await authorize(container, created.key, 'ingest');
    const afterFirstUse = store.lookups();
    expect(afterFirstUse).toBe(1);
    for (let i = 0; i < 5_000; i += 1) {
      await expect(authorize(container, generateKey(), 'ingest')).rejects.toMatchObject({ statusCode: 401 });
    }
    // Each unknown key was looked up under its keyed digest and its plain SHA-256 (records of the old kind).
    expect(store.lookups()).toBe(afterFirstUse + 2 * 5_000);
    await authorize(container, created.key, 'ingest');
    expect(store.lookups()).toBe(afterFirstUse + 2 * 5_000);
  });

  it('remembers an unknown key for 5 s only, so a key filed meanwhile works then', async () => {
    let now = 0;
    const store = countingStore(shared.keys);
    const container = cachedKeyStore(store, { now: () => now });
    const key = generateKey();
    await expect(authorize(container, key, 'read')).rejects.toMatchObject({ statusCode: 401 });
    await expect(authorize(container, key, 'read')).rejects.toMatchObject({ statusCode: 401 });
    expect(store.lookups()).toBe(2);
    await registerKey(shared.keys, key, { name: 'late', scopes: ['read'], createdAt: 0 });
    now = 5_000;
    await expect(authorize(container, key, 'read')).resolves.toMatchObject({ name: 'late' });
  });

  it('bounds the unknown keys it remembers: the oldest are forgotten first', async () => {
    const store = countingStore(shared.keys);
    const container = cachedKeyStore(store, { now: () => 0, maxUnknownKeys: 4 });
    const first = generateKey();
    await expect(authorize(container, first, 'read')).rejects.toThrow();
    await expect(authorize(container, generateKey(), 'read')).rejects.toThrow();
    const before = store.lookups();
    await expect(authorize(container, first, 'read')).rejects.toThrow();
    expect(store.lookups()).toBe(before);
    await expect(authorize(container, generateKey(), 'read')).rejects.toThrow();
    await expect(authorize(container, generateKey(), 'read')).rejects.toThrow();
    const later = store.lookups();
    await expect(authorize(container, first, 'read')).rejects.toThrow();
    expect(store.lookups()).toBe(later + 2);
  });
});

describe('Keys of the old kind (plain SHA-256), from before keyed digests', () => {
  it('keep working, are refiled under the keyed digest on first use, and cost one lookup after', async () => {
    const stores = openSqliteStores(':memory:');
    try {
      const key = generateKey();
      await stores.keys.putKey({
        hash: legacyKeyDigest(key),
        name: 'before',
        scopes: ['ingest'],
        createdAt: 1,
        revokedAt: null,
      });
      const counted = countingStore(stores.keys);
      expect(await authorize(counted, key, 'ingest')).toMatchObject({
        hash: await stores.keys.digestKey(key),
        hashVersion: 'hmac-sha256',
      });
      expect(await stores.keys.findKey(legacyKeyDigest(key))).toBeUndefined();
      const lookups = counted.lookups();
      await authorize(counted, key, 'ingest');
      expect(counted.lookups()).toBe(lookups + 1);
    } finally {
      stores.close();
    }
  });
});

describe('The local key secret (<data dir>/key-secret)', () => {
  const directories: string[] = [];
  const dataDir = () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalcy-secret-'));
    directories.push(directory);
    return directory;
  };
  afterAll(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  it('is made on first open, readable by its owner only, and the same on the next open', async () => {
    const directory = dataDir();
    const key = generateKey();
    const first = openSqliteStores(join(directory, 'normalcy.db'));
    const digest = await first.keys.digestKey(key);
    first.close();
    const file = join(directory, keySecretFileName);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')).toHaveLength(32);
    const again = openSqliteStores(join(directory, 'normalcy.db'));
    expect(await again.keys.digestKey(key)).toBe(digest);
    again.close();
    expect(localKeySecret(directory)).toEqual(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url'));
  });

  it('refuses to open a data dir whose keys were filed under a secret that is now missing', async () => {
    const directory = dataDir();
    const stores = openSqliteStores(join(directory, 'normalcy.db'));
    await registerKey(stores.keys, generateKey(), { name: 'local', scopes: ['admin'], createdAt: 0 });
    stores.close();
    rmSync(join(directory, keySecretFileName));
    expect(() => openSqliteStores(join(directory, 'normalcy.db'))).toThrow(
      /key-secret is missing, but the API keys in .* were filed under it: restore it/,
    );
    expect(existsSync(join(directory, keySecretFileName))).toBe(false);
  });
});

describe('A key a person chooses (NORMALCY_API_KEY)', () => {
  it('is refused below 32 characters, with a message that says why and never shows the key', () => {
    const short = 'hunter2-but-longer-1234567890';
    expect(() => checkChosenKey(short)).toThrow(
      'NORMALCY_API_KEY must be at least 32 characters long (it has 29)',
    );
    expect(() => checkChosenKey(short)).not.toThrow(short);
    expect(() => checkChosenKey(`${'x'.repeat(31)} y`)).toThrow(/spaces/);
    expect(checkChosenKey('x'.repeat(32))).toBe('x'.repeat(32));
    expect(checkChosenKey(generateKey())).toMatch(/^nrm_/);
  });

  it("is local mode's key when set; else the key kept in the data dir, made once, owner-only", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalcy-local-key-'));
    try {
      expect(() => localApiKey(directory, 'short')).toThrow(/at least 32 characters/);
      expect(existsSync(join(directory, 'api-key'))).toBe(false);
      const made = localApiKey(directory, undefined);
      expect(made).toMatch(/^nrm_/);
      expect(statSync(join(directory, 'api-key')).mode & 0o777).toBe(0o600);
      expect(localApiKey(directory, '')).toBe(made);
      expect(localApiKey(directory, 'c'.repeat(40))).toBe('c'.repeat(40));
      const stores = openSqliteStores(join(directory, 'normalcy.db'));
      try {
        const details = { name: 'local', scopes: ['admin'] as const, createdAt: 1 };
        const first = await registerKey(stores.keys, made, { ...details, scopes: [...details.scopes] });
        await registerKey(stores.keys, made, { ...details, scopes: [...details.scopes] });
        expect(await stores.keys.listKeys()).toEqual([first]);
      } finally {
        stores.close();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('npm run keys', () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-cli-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const keys = (...args: string[]) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'scripts/keys.ts', ...args],
        { env: { ...process.env, NORMALCY_DATA_DIR: directory } },
        (error, stdout, stderr) =>
          resolve({ code: error ? (error.code as number) : 0, output: `${stdout}${stderr}` }),
      );
    });

  it('makes keys filed under the keyed digest, and revokes only by at least 8 hex digits of one id', async () => {
    const made = await keys('create', '--name', 'agents', '--scopes', 'ingest');
    expect(made.code).toBe(0);
    const key = /^(nrm_\S+)$/m.exec(made.output)?.[1] ?? '';
    const id = /^id: ([0-9a-f]{64})$/m.exec(made.output)?.[1] ?? '';
    const stores = openSqliteStores(join(directory, 'normalcy.db'));
    try {
      expect(id).toBe(await stores.keys.digestKey(key));
      expect(id).not.toBe(legacyKeyDigest(key));
    } finally {
      stores.close();
    }
    expect(made.output).not.toMatch(/secret/i);

    const tooShort = await keys('revoke', id.slice(0, 1));
    expect(tooShort).toMatchObject({ code: 2 });
    expect(tooShort.output).toMatch(/8 to 64 hex digits/);
    expect((await keys('revoke', id.slice(0, 7))).code).toBe(2);
    expect((await keys('list')).output).toMatch(new RegExp(`${id.slice(0, 12)}  agents  ingest  active`));

    const revoked = await keys('revoke', id.slice(0, 8));
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.output).toMatch(`revoked ${id.slice(0, 12)} (agents)`);
    expect((await keys('list')).output).toMatch(new RegExp(`${id.slice(0, 12)}  agents  ingest  revoked`));
  }, 60_000);

  it('refuses a prefix that matches several keys', async () => {
    const stores = openSqliteStores(join(directory, 'normalcy.db'));
    try {
      for (const suffix of ['1', '2']) {
        await stores.keys.putKey({
          hash: `abcdef01${suffix.repeat(56)}`,
          hashVersion: 'hmac-sha256',
          name: `twin-${suffix}`,
          scopes: ['read'],
          createdAt: 0,
          revokedAt: null,
        });
      }
    } finally {
      stores.close();
    }
    const ambiguous = await keys('revoke', 'abcdef01');
    expect(ambiguous).toMatchObject({ code: 2 });
    expect(ambiguous.output).toMatch(/several keys match/);
    expect((await keys('revoke', 'abcdef011')).code).toBe(0);
  }, 60_000);
});
