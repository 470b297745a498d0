import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockFileExclusively } from '../../lib/adapters/sqlite-lock.ts';

/** The files of a data directory that only its owner may read. */
export const dataFiles = {
  database: 'normalcy.db',
  apiKey: 'api-key',
  /** Held locked by the server that uses the directory (see claimDataDirectory). */
  lock: 'normalcy.lock',
  /** The pid of that server, for the message a second one prints. */
  pid: 'normalcy.pid',
} as const;

/** Another server holds the data directory: the message names the directory and that server's pid. */
export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
  constructor(
    readonly directory: string,
    readonly holderPid: number | undefined,
  ) {
    const holder =
      holderPid === undefined ? 'another Normalcy server' : `another Normalcy server (pid ${holderPid})`;
    super(`the data directory ${directory} is in use by ${holder}`);
  }
}

/** A data directory this process holds until release(). */
export interface DataDirectoryClaim {
  readonly directory: string;
  /** The SQLite database's path inside it. */
  readonly databaseFile: string;
  release(): void;
}

/**
 * Makes the data directory (0700) if needed and claims it for this process: a second server on the same
 * directory, in this process or another, gets DataDirectoryInUseError at once. The claim is SQLite's exclusive
 * lock on a small lock file, held until release() or the end of the process: the operating system drops it when
 * the process dies, however it dies (kill -9 included), so a stale claim never blocks a restart, and no timer
 * has to keep it fresh (a lock file kept fresh by a timer goes stale whenever the event loop is busy longer
 * than its period). `discardData` deletes the database (and its -wal and -shm) once the claim
 * is held, never under another server's feet.
 */
export function claimDataDirectory(
  directory: string,
  options: { discardData?: boolean } = {},
): DataDirectoryClaim {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const lockFile = join(directory, dataFiles.lock);
  const pidFile = join(directory, dataFiles.pid);
  createPrivately(lockFile);
  const lock = lockFileExclusively(lockFile);
  if (!lock) throw new DataDirectoryInUseError(directory, pidIn(pidFile));
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  const databaseFile = join(directory, dataFiles.database);
  if (options.discardData) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${databaseFile}${suffix}`, { force: true });
  }
  let released = false;
  return {
    directory,
    databaseFile,
    release() {
      if (released) return;
      released = true;
      if (pidIn(pidFile) === process.pid) rmSync(pidFile, { force: true });
      lock.release();
    },
  };
}

/**
 * Creates a file readable by its owner only, or narrows an existing one to that. SQLite gives a database's
 * -wal and -shm files the database file's mode when it creates them, so creating the database this way first
 * keeps them private too.
 */
export function createPrivately(file: string): void {
  if (existsSync(file)) chmodSync(file, 0o600);
  else writeFileSync(file, '', { mode: 0o600, flag: 'a' });
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
