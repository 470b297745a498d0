import { isBusy } from '../../lib/adapters/sqlite-lock.ts';

/** How long one store call waits at most for another connection's write, and its longest pause between tries. */
export interface LockWait {
  readonly maxWaitMs: number;
  readonly maxPauseMs: number;
}

/**
 * A store whose calls that meet a database locked by another connection (the band job's thread, a script)
 * are tried again after a pause, up to `maxWaitMs`, then fail with that SQLITE_BUSY error (ingest answers 503
 * with Retry-After). The pauses are timers, not SQLite's busy timeout: better-sqlite3 waits synchronously, so a
 * busy timeout on the server's connection would hold its event loop, every other request with it, for as
 * long as the lock. Each store call is one transaction (or several that can be run again), rolled back whole
 * when it meets the lock, so trying it again from the start is safe.
 */
export function retryWhileLocked<T extends object>(store: T, wait: LockWait): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const deadline = performance.now() + wait.maxWaitMs;
        for (let attempt = 0; ; attempt++) {
          try {
            return await value.apply(target, args);
          } catch (error) {
            const left = deadline - performance.now();
            if (!isBusy(error) || left <= 0) throw error;
            const pause = Math.min(2 ** attempt, wait.maxPauseMs, left);
            await new Promise((resolve) => setTimeout(resolve, pause));
          }
        }
      };
    },
  });
}
