/**
 * The key store port: API keys as stored (digests, never keys), and their scopes.
 */
export const keyScopes = ['ingest', 'read', 'admin'] as const;

export type KeyScope = (typeof keyScopes)[number];

/**
 * How a stored key's `hash` was made from the key: HMAC-SHA256 under the deployment's key secret. Records made
 * before keyed digests have no version (their hash is the key's plain SHA-256); they are refiled under the
 * keyed digest on the key's next successful use (see `findKeyRecord` in lib/keys.ts).
 */
export const keyHashVersion = 'hmac-sha256';

export type KeyHashVersion = typeof keyHashVersion;

/** An API key as stored: never the key itself, only its digest. */
export interface ApiKeyRecord {
  /** The key's digest (64 hex digits), which is also its id in the admin routes and `npm run keys`. */
  readonly hash: string;
  /** Absent on records made with plain SHA-256 before keyed digests. */
  readonly hashVersion?: KeyHashVersion;
  readonly name: string;
  readonly scopes: readonly KeyScope[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/**
 * Where API keys are filed, by digest. The store also makes the digest: it holds (or knows where to read) the
 * deployment's key secret, so that a copy of the records alone cannot be used to test guesses of a key.
 */
export interface KeyStore {
  /** The digest `key` is filed under: HMAC-SHA256 (hex) under the deployment's key secret. */
  digestKey(key: string): Promise<string>;
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  putKey(record: ApiKeyRecord): Promise<void>;
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(hash: string, at: number): Promise<boolean>;
  /**
   * Refiles the active record at `legacyHash` (plain SHA-256) as `record` (the same key under its keyed digest),
   * in one step. False, changing nothing, when no active record is at `legacyHash` any more (another request
   * refiled it first, or it was revoked) or one is already at `record.hash`.
   */
  upgradeKeyHash(legacyHash: string, record: ApiKeyRecord): Promise<boolean>;
}
