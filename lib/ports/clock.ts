/**
 * The clock: every layer reads the time through it, so tests can set it.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
