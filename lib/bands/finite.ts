import type { BandResult } from './engine.ts';

/**
 * The largest magnitude an engine computes with. Engines square values (variances), subtract them from each
 * other, add them up and keep profiles as 32-bit floats (whose largest is 3.4e38); at this magnitude all of
 * that stays finite with room to spare, so an agent that sends ±1e308 gets a band near ±1e30 and an anomaly,
 * not a NaN that no store can keep. No real metric comes near it (a zettabyte is 1e21 bytes).
 */
export const engineValueLimit = 1e30;

/**
 * Whether a value must be brought within {@link engineValueLimit} before an engine computes with it. O(1).
 *
 * @example beyondEngineLimit(-1e308) // true
 */
export const beyondEngineLimit = (value: number): boolean =>
  value > engineValueLimit || value < -engineValueLimit;

/**
 * A value brought within ±{@link engineValueLimit}. O(1).
 *
 * @example withinEngineLimit(1e308) // 1e30
 */
export const withinEngineLimit = (value: number): number =>
  Math.min(engineValueLimit, Math.max(-engineValueLimit, value));

/**
 * What an engine said of a value it computed with at the limit, reported with the value the series really
 * had (the stored band keeps the real value beside a finite band).
 */
export const withRealValue = (result: BandResult, value: number): BandResult => ({ ...result, value });

/**
 * Whether every number of a result is finite and its band ordered (lower ≤ upper, score in [0, 1]): what a
 * store can keep and a chart can draw. O(1).
 */
export function isSoundResult(result: BandResult): boolean {
  return (
    Number.isFinite(result.expected) &&
    Number.isFinite(result.lower) &&
    Number.isFinite(result.upper) &&
    result.lower <= result.upper &&
    result.score >= 0 &&
    result.score <= 1
  );
}
