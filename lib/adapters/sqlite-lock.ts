import Database from 'better-sqlite3';

/** A lock this process holds on a file until release(). */
export interface FileLock {
  release(): void;
}

/**
 * Takes SQLite's exclusive lock on `file` (a small SQLite database of its own, made if missing) and keeps it
 * until release() or the end of the process; undefined, at once, when another connection holds it, in this
 * process or another. The lock is the operating system's (POSIX advisory locks, as SQLite uses on every
 * database): it goes when the process ends, however it ends (kill -9 included), so it is never stale and needs
 * no timer to keep it fresh.
 */
export function lockFileExclusively(file: string): FileLock | undefined {
  // No busy timeout: a held lock answers SQLITE_BUSY at once.
  const connection = new Database(file, { timeout: 0 });
  try {
    // In exclusive locking mode SQLite keeps the lock of its first write until the connection closes.
    connection.pragma('locking_mode = EXCLUSIVE');
    connection.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); COMMIT');
  } catch (error) {
    connection.close();
    if (isBusy(error)) return undefined;
    throw error;
  }
  return { release: () => connection.close() };
}

/** Whether an error is SQLite's "the database is locked by another connection" (any of its variants). */
export const isBusy = (error: unknown): boolean =>
  typeof (error as { code?: unknown } | null)?.code === 'string' &&
  (error as { code: string }).code.startsWith('SQLITE_BUSY');
