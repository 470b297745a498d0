/**
 * Local mode's key files in its data directory: its own API key (`api-key`) and the key secret (`key-secret`)
 * the SQLite store files keys under. The file side of lib/keys.ts, which does no I/O; the cloud's
 * counterpart is secrets-manager-key-secret.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkChosenKey, checkedSecret, generateKey, keySecretFileName, minKeySecretBytes } from '../keys.ts';

/** The file in the local data dir that holds local mode's own key, made on first start. */
export const localKeyFileName = 'api-key';

/**
 * Local mode's own key: `chosen` (NORMALCY_API_KEY, checked by {@link checkChosenKey}) when set, else the key
 * kept in `<dataDir>/api-key`, made on first start (mode 0600). Register it with `registerKey` (lib/keys.ts).
 */
export function localApiKey(dataDir: string, chosen: string | undefined): string {
  if (chosen) return checkChosenKey(chosen);
  const file = join(dataDir, localKeyFileName);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = generateKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * Local mode's key secret, kept in `<dataDir>/key-secret`: read when there, else made (32 random bytes,
 * mode 0600, never printed). With `mustExist` (the data dir has keys filed under a secret), a missing file is
 * an error that says to restore it rather than a new secret that would silently invalidate every key.
 */
export function localKeySecret(dataDir: string, options: { mustExist?: boolean } = {}): Uint8Array {
  const file = join(dataDir, keySecretFileName);
  const existing = readSecretFile(file);
  if (existing) return checkedSecret(existing);
  if (options.mustExist) {
    throw new Error(
      `${file} is missing, but the API keys in ${dataDir} were filed under it: restore it from the same ` +
        'backup as the database (or remove the keys and make new ones)',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(minKeySecretBytes);
  try {
    writeFileSync(file, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process started on the same data dir made it first: use that one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return localKeySecret(dataDir, { mustExist: true });
    throw error;
  }
  return secret;
}

function readSecretFile(file: string): Buffer | undefined {
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
