import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import type { ApiKeyRecord, KeyScope, KeyStore } from './ports.ts';

const keyPrefix = 'nrm_';

/** A new random API key: 32 random bytes, base64url, with a recognisable prefix. */
export const generateKey = (): string => `${keyPrefix}${randomBytes(32).toString('base64url')}`;

/** The SHA-256 (hex) of a key: what stores keep. Keys are random, so a fast hash cannot be brute-forced. */
export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

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
 * Checks a key against the store: 401 when missing, unknown or revoked, 403 when it lacks the scope.
 * The key is looked up by its hash and the hashes compared in constant time, so timing reveals nothing.
 */
export async function authorize(
  keys: KeyStore,
  key: string | undefined,
  scope: KeyScope,
): Promise<ApiKeyRecord> {
  if (!key) throw new UnauthorizedError();
  const hash = hashKey(key);
  const record = await keys.findKey(hash);
  const matches =
    record !== undefined &&
    record.hash.length === hash.length &&
    timingSafeEqual(Buffer.from(record.hash), Buffer.from(hash));
  if (!record || !matches || record.revokedAt !== null) {
    throw new UnauthorizedError('the API key is not valid (unknown or revoked)');
  }
  if (!record.scopes.includes(scope) && !record.scopes.includes('admin')) {
    throw new ForbiddenError(`the API key lacks the "${scope}" scope`);
  }
  return record;
}

/** Wraps a key store with a short in-memory cache (a Lambda sees the same keys on every request). */
export function cachedKeyStore(store: KeyStore, ttlMs = 60_000, now = () => Date.now()): KeyStore {
  const cache = new Map<string, { record: ApiKeyRecord | undefined; until: number }>();
  return {
    async findKey(hash) {
      const hit = cache.get(hash);
      if (hit && hit.until > now()) return hit.record;
      const record = await store.findKey(hash);
      if (cache.size > 1000) cache.clear();
      cache.set(hash, { record, until: now() + ttlMs });
      return record;
    },
    putKey: (record) => {
      cache.delete(record.hash);
      return store.putKey(record);
    },
    listKeys: () => store.listKeys(),
    revokeKey: (hash, at) => {
      cache.delete(hash);
      return store.revokeKey(hash, at);
    },
  };
}
