/**
 * Managing API keys, for the admin routes (`/v1/keys`) and `npm run keys` alike: a key is shown once, when it
 * is made; stores and answers carry only its digest (its id), and keys are revoked by that id or a unique
 * prefix of at least 8 hex digits of it.
 */
import { describeValue, NotFoundError, ProblemList, ValidationError } from './errors.ts';
import { generateKey } from './keys.ts';
import {
  type ApiKeyRecord,
  type KeyScope,
  type KeyStore,
  keyHashVersion,
  keyScopes,
} from './ports/key-store.ts';

/** A key as the admin routes show it: never the key itself. */
export interface KeyView {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly KeyScope[];
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

const view = (record: ApiKeyRecord): KeyView => ({
  id: record.hash,
  name: record.name,
  scopes: record.scopes,
  createdAt: record.createdAt,
  revokedAt: record.revokedAt,
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the pattern is to find them
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;

const keyRequestFields = ['name', 'scopes'];

/**
 * Reads `{"name": "...", "scopes": ["ingest", ...]}`; throws one ValidationError naming every field that is
 * wrong, unknown ones included (a `scope` typo is named, not reported as missing `scopes`).
 */
export function readKeyRequest(body: string): { name: string; scopes: KeyScope[] } {
  let document: unknown;
  try {
    document = JSON.parse(body || '{}');
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`, [
      { field: '(body)', message: 'is not valid JSON' },
    ]);
  }
  const fields = (typeof document === 'object' && document !== null ? document : {}) as Record<
    string,
    unknown
  >;
  const { name, scopes } = fields;
  const problems = new ProblemList();
  for (const field of Object.keys(fields)) {
    if (!keyRequestFields.includes(field)) {
      problems.add(undefined, field, `is not a field of a key request (${keyRequestFields.join(', ')})`);
    }
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || controlCharacters.test(name)) {
    problems.add(undefined, 'name', `must be a string of 1 to 64 characters, got ${describeValue(name)}`);
  }
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((scope) => (keyScopes as readonly unknown[]).includes(scope))
  ) {
    problems.add(
      undefined,
      'scopes',
      `must be a non-empty array of ${keyScopes.join(', ')}, got ${describeValue(scopes)}`,
    );
  }
  const first = problems.listed[0];
  if (first) throw new ValidationError(`invalid key request: ${first.field} ${first.message}`, problems);
  return { name: name as string, scopes: [...new Set(scopes as KeyScope[])] };
}

/** Makes a key; returns it (the only time it is ever shown) with its view. */
export async function createKey(
  store: KeyStore,
  request: { name: string; scopes: KeyScope[] },
  now: number,
): Promise<{ key: string } & KeyView> {
  const key = generateKey();
  const record: ApiKeyRecord = {
    hash: await store.digestKey(key),
    hashVersion: keyHashVersion,
    name: request.name,
    scopes: request.scopes,
    createdAt: now,
    revokedAt: null,
  };
  await store.putKey(record);
  return { key, ...view(record) };
}

export async function listKeyViews(store: KeyStore): Promise<KeyView[]> {
  return (await store.listKeys()).map(view);
}

/** The fewest hex digits of a key id that name a key: fewer could match many keys by chance. */
export const minKeyIdPrefix = 8;
const keyIdPattern = new RegExp(`^[0-9a-f]{${minKeyIdPrefix},64}$`);

/** Revokes the key whose id is `id` or starts with it (at least 8 hex digits, matching one key). */
export async function revokeKey(store: KeyStore, id: string | undefined, now: number): Promise<KeyView> {
  if (!id || !keyIdPattern.test(id)) {
    throw new ValidationError(
      `the key id must be ${minKeyIdPrefix} to 64 hex digits of the id keys are listed with`,
      [{ field: 'id', message: `must be ${minKeyIdPrefix} to 64 lowercase hex digits` }],
    );
  }
  const matches = (await store.listKeys()).filter((record) => record.hash.startsWith(id));
  if (matches.length > 1) {
    throw new ValidationError('several keys match: give more of the id', [
      { field: 'id', message: 'matches several keys' },
    ]);
  }
  const [match] = matches;
  if (!match) throw new NotFoundError(`no key with id ${id}`);
  await store.revokeKey(match.hash, now);
  const revoked = await store.findKey(match.hash);
  // A key of the old kind (plain SHA-256) was refiled under its keyed digest by a request just now.
  if (!revoked) throw new NotFoundError(`key ${id} has just been given a new id by its use: list keys again`);
  return view(revoked);
}
