/**
 * API keys: how they are made, filed, checked and cached.
 *
 * No I/O here: local mode's key files are read and made by lib/adapters/local-key-files.ts.
 *
 * Stores keep a key's HMAC-SHA256 under the deployment's key secret (a file in the local data dir, a Secrets
 * Manager secret in the cloud), never the key: a copy of the records without the secret cannot be used to
 * test guesses, even of a short key a person chose. Records made before keyed digests hold the key's plain
 * SHA-256; they keep working and are refiled under the keyed digest on the key's next successful use.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from '@aws-lambda-powertools/commons/utils/lru-cache';
import { ForbiddenError, HttpError, UnauthorizedError } from './errors.ts';
import { type ApiKeyRecord, type KeyScope, type KeyStore, keyHashVersion } from './ports/key-store.ts';

const keyPrefix = 'nrm_';

/**
 * The shortest key accepted where a person chooses one (`NORMALCY_API_KEY`). Generated keys have 47
 * characters (32 random bytes); a short chosen key could be guessed by anyone who can send requests.
 */
export const minKeyLength = 32;

/** The shortest key secret accepted: HMAC-SHA256 gains nothing from more than 32 bytes of entropy. */
export const minKeySecretBytes = 32;

/** The file in the local data dir that holds the key secret (base64url, readable by its owner only). */
export const keySecretFileName = 'key-secret';

/** A new random API key: 32 random bytes, base64url, with a recognisable prefix. */
export const generateKey = (): string => `${keyPrefix}${randomBytes(32).toString('base64url')}`;

/** The HMAC-SHA256 (hex) of a key under a key secret: the digest stores file the key under. */
export const keyedDigest = (secret: Uint8Array, key: string): string =>
  createHmac('sha256', secret).update(key, 'utf8').digest('hex');

/** The plain SHA-256 (hex) of a key: how records were filed before keyed digests; only used to find those. */
export const legacyKeyDigest = (key: string): string =>
  createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * @deprecated Makes a record of the old kind (plain SHA-256), which works only until the key's first use
 * refiles it. Register keys with {@link registerKey}, which files them under the store's keyed digest.
 */
export const hashKey = legacyKeyDigest;

/**
 * Checks a key a person chose (`NORMALCY_API_KEY`) and returns it; throws an Error that says what is wrong
 * (never the key itself) when it is shorter than {@link minKeyLength} characters or holds whitespace.
 */
export function checkChosenKey(key: string, variable = 'NORMALCY_API_KEY'): string {
  if (key.length < minKeyLength) {
    throw new Error(
      `${variable} must be at least ${minKeyLength} characters long (it has ${key.length}): a short key can be ` +
        'guessed. Unset it to use a generated key, or set one made with `openssl rand -base64 32`.',
    );
  }
  if (/\s/.test(key)) throw new Error(`${variable} must not contain spaces or line breaks`);
  return key;
}

/** Where a deployment's key secret comes from; read once by {@link KeyDigester}. */
export type KeySecretSource = () => Uint8Array | Promise<Uint8Array>;

/** The key secret could not be read (a Secrets Manager outage): nothing is wrong with the request, retry. */
export class KeySecretUnavailableError extends HttpError {
  override readonly name = 'KeySecretUnavailableError';
  constructor(options: { cause?: unknown } = {}) {
    super(503, 'unavailable', 'API keys cannot be checked right now: retry in a few seconds', {
      ...options,
      headers: { 'retry-after': '2' },
    });
  }
}

/**
 * Keyed digests under a secret read once, at the first digest (a function container's first request). A read
 * that fails is tried again on the next call, so one outage does not break a container for its lifetime.
 */
export class KeyDigester {
  private secret: Promise<Uint8Array> | undefined;

  constructor(private readonly source: KeySecretSource) {}

  async digest(key: string): Promise<string> {
    return keyedDigest(await this.load(), key);
  }

  private load(): Promise<Uint8Array> {
    if (!this.secret) {
      const loading = (async () => checkedSecret(await this.source()))();
      this.secret = loading;
      loading.catch(() => {
        if (this.secret === loading) this.secret = undefined;
      });
    }
    return this.secret;
  }
}

/** The secret, when it is long enough; else an error that says how long it is. */
export function checkedSecret(secret: Uint8Array): Uint8Array {
  if (secret.length < minKeySecretBytes) {
    throw new Error(`the API key secret has ${secret.length} bytes; it needs at least ${minKeySecretBytes}`);
  }
  return secret;
}

/** The key a request carries, from `Authorization: Bearer KEY` (or `Token KEY`) or `x-api-key: KEY`. */
export function keyFromHeaders(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const authorization = headers.authorization?.trim();
  if (authorization) {
    const match = /^(?:Bearer|Token)\s+(\S+)$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  return headers['x-api-key']?.trim() || undefined;
}

/**
 * The key a request carries as the password of HTTP Basic auth (`Authorization: Basic base64(user:KEY)`), as
 * clients configured with a `https://user:KEY@host` URL send it (Prometheus, promtool, Influx clients); the
 * user name is ignored.
 */
export function keyFromBasicAuth(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(headers.authorization?.trim() ?? '');
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) || undefined : undefined;
}

/** Hex digests compared in constant time, so timing reveals nothing of a stored digest. */
const sameDigest = (stored: string, computed: string): boolean =>
  stored.length === computed.length && timingSafeEqual(Buffer.from(stored), Buffer.from(computed));

/**
 * The record of `key`, revoked or not: filed under its keyed digest, or (made before keyed digests) under
 * its plain SHA-256, in which case an active record is refiled under the keyed digest now. Two lookups for
 * a key that is not filed at all.
 */
export async function findKeyRecord(keys: KeyStore, key: string): Promise<ApiKeyRecord | undefined> {
  const digest = await keys.digestKey(key);
  const keyed = await keys.findKey(digest);
  if (keyed) return sameDigest(keyed.hash, digest) ? keyed : undefined;
  const legacyDigest = legacyKeyDigest(key);
  const legacy = await keys.findKey(legacyDigest);
  if (!legacy || legacy.hashVersion !== undefined || !sameDigest(legacy.hash, legacyDigest)) return undefined;
  if (legacy.revokedAt !== null) return legacy;
  const upgraded: ApiKeyRecord = { ...legacy, hash: digest, hashVersion: keyHashVersion };
  if (await keys.upgradeKeyHash(legacy.hash, upgraded)) return upgraded;
  // Another request refiled it first, or it was revoked meanwhile: the store now says which.
  return (await keys.findKey(digest)) ?? (await keys.findKey(legacyDigest));
}

/**
 * Checks a key against the store: 401 when missing, unknown or revoked, 403 when it lacks the scope.
 * The key is looked up by its digest and the digests compared in constant time, so timing reveals nothing.
 */
export async function authorize(
  keys: KeyStore,
  key: string | undefined,
  scope: KeyScope,
): Promise<ApiKeyRecord> {
  if (!key) throw new UnauthorizedError();
  const record = await findKeyRecord(keys, key);
  if (!record || record.revokedAt !== null) {
    throw new UnauthorizedError('the API key is not valid (unknown or revoked)');
  }
  if (!record.scopes.includes(scope) && !record.scopes.includes('admin')) {
    throw new ForbiddenError(`the API key lacks the "${scope}" scope`);
  }
  return record;
}

/**
 * Files `key` in the store under its keyed digest (a record of the old kind is refiled), unless it is already
 * there; returns its record. Local mode registers its own key (`NORMALCY_API_KEY` or the generated one) so.
 */
export async function registerKey(
  keys: KeyStore,
  key: string,
  details: Pick<ApiKeyRecord, 'name' | 'scopes' | 'createdAt'>,
): Promise<ApiKeyRecord> {
  const existing = await findKeyRecord(keys, key);
  if (existing) return existing;
  const record: ApiKeyRecord = {
    hash: await keys.digestKey(key),
    hashVersion: keyHashVersion,
    ...details,
    revokedAt: null,
  };
  await keys.putKey(record);
  return record;
}

export interface KeyCacheOptions {
  /**
   * How long a looked-up record (or its absence) is kept: the longest a key revoked in another container keeps
   * working here. Each key in use costs one store read per container per this time.
   */
  readonly ttlMs: number;
  /** Digests of keys not in the store that are remembered, least recently used forgotten first. */
  readonly maxUnknownKeys: number;
  /** Records remembered, least recently used forgotten first. */
  readonly maxKnownKeys: number;
  readonly now: () => number;
}

export const keyCacheDefaults: KeyCacheOptions = {
  ttlMs: 5_000,
  maxUnknownKeys: 10_000,
  maxKnownKeys: 10_000,
  now: () => Date.now(),
};

/**
 * Wraps a key store with a short in-memory cache, for a function container that sees the same keys on every
 * request. Found records and digests found in no record are kept apart, each in its own bounded LRU: a flood
 * of random keys only pushes out other unknown digests, never a key in use. Entries live `ttlMs` (5 s), so a
 * key revoked anywhere stops working everywhere within that time; the container that revokes a key forgets it
 * at once. With DynamoDB that is one GetItem per key in use per container every 5 s (docs/api.md, "API keys").
 */
export function cachedKeyStore(store: KeyStore, options: Partial<KeyCacheOptions> = {}): KeyStore {
  const { ttlMs, maxUnknownKeys, maxKnownKeys, now } = { ...keyCacheDefaults, ...options };
  const known = new LRUCache<string, { record: ApiKeyRecord; until: number }>({ maxSize: maxKnownKeys });
  const unknown = new LRUCache<string, number>({ maxSize: maxUnknownKeys });
  const forget = (...hashes: string[]) => {
    for (const hash of hashes) {
      known.remove(hash);
      unknown.remove(hash);
    }
  };
  return {
    digestKey: (key) => store.digestKey(key),
    async findKey(hash) {
      const time = now();
      const hit = known.get(hash);
      if (hit && hit.until > time) return hit.record;
      const unknownUntil = unknown.get(hash);
      if (unknownUntil !== undefined && unknownUntil > time) return undefined;
      const record = await store.findKey(hash);
      forget(hash);
      if (record) known.add(hash, { record, until: time + ttlMs });
      else unknown.add(hash, time + ttlMs);
      return record;
    },
    putKey: async (record) => {
      try {
        await store.putKey(record);
      } finally {
        forget(record.hash);
      }
    },
    listKeys: () => store.listKeys(),
    revokeKey: async (hash, at) => {
      try {
        return await store.revokeKey(hash, at);
      } finally {
        forget(hash);
      }
    },
    upgradeKeyHash: async (legacyHash, record) => {
      try {
        return await store.upgradeKeyHash(legacyHash, record);
      } finally {
        forget(legacyHash, record.hash);
      }
    },
  };
}
