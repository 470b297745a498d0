/** A cumulative reading: the values (a counter, or a histogram's counts) at a time. */
export interface Reading {
  readonly timestamp: number;
  readonly values: readonly number[];
}

/**
 * Remembers the last cumulative reading of each series, so that the next one can be turned into an increase
 * over the interval between them (OTLP cumulative sums and histograms, collectd counters sent without
 * StoreRates). The memory is the process's own: a function container (or the local server) sees the
 * readings it receives, so an increase may span a longer interval when another container took the readings
 * in between; rates and distributions over that interval are still right. Bounded: the least recently
 * used series are forgotten past `capacity`.
 */
export class CumulativeTracker {
  private readonly readings = new Map<string, Reading>();

  constructor(readonly capacity = 100_000) {}

  /** The last reading remembered for `key`, without recording anything (remote write records once stored). */
  latest(key: string): Reading | undefined {
    return this.readings.get(key);
  }

  /**
   * Records `reading` for `key` and returns the previous one, if it is older. A reading not newer than the
   * one remembered is ignored (returns undefined and keeps the newer one): it arrived out of order.
   */
  advance(key: string, reading: Reading): Reading | undefined {
    const previous = this.readings.get(key);
    if (previous !== undefined && previous.timestamp >= reading.timestamp) return undefined;
    this.readings.delete(key);
    this.readings.set(key, reading);
    if (this.readings.size > this.capacity) {
      const oldest = this.readings.keys().next();
      if (!oldest.done) this.readings.delete(oldest.value);
    }
    return previous;
  }
}

/** The tracker ingest uses when none is given (one per process). */
export const processTracker = new CumulativeTracker();
