import type { BandResult } from '../../lib/bands/engine.ts';
import { normalcyEngine } from '../../lib/bands/index.ts';
import { jobSettings, type SyntheticSeries, syntheticSeries } from '../helpers/series.ts';

/** What the band tests read of a band engine's results, as a user reads a chart. */

/** 2025-11-03 00:00 UTC, a Monday. */
export const monday = Date.UTC(2025, 10, 3);
export const iso = (timestamp: number) => new Date(timestamp).toISOString().slice(0, 16);

/** Runs the default engine over a synthetic series, with the job's settings for its type. */
export function runBand(spec: SyntheticSeries): BandResult[] {
  const engine = normalcyEngine.create(jobSettings[spec.type]);
  return syntheticSeries(spec).map(([timestamp, value]) => engine.update(timestamp, value));
}

export const within = (results: readonly BandResult[], from: number, to: number) =>
  results.filter((result) => result.timestamp >= from && result.timestamp < to);

/** A bucket as a failure message shows it: time, value, expected and the band. */
export const shown = (result: BandResult) =>
  `${iso(result.timestamp)} value ${result.value.toFixed(1)} expected ${result.expected.toFixed(1)} ` +
  `band [${result.lower.toFixed(1)}, ${result.upper.toFixed(1)}]${result.relearned ? ' relearned' : ''}`;
export const inside = (results: readonly BandResult[]) =>
  results.filter((result) => !result.anomaly).map(shown);
export const outside = (results: readonly BandResult[]) =>
  results.filter((result) => result.anomaly).map(shown);

/**
 * The buckets that make a departure: outside the band with another of the two before outside on the same
 * side (what the default rule pages on). The band is drawn so that a normal series does that once in decades;
 * a lone bucket outside it (a few a week at one-minute steps) is noise, not the event.
 */
export const departing = (results: readonly BandResult[]) =>
  results
    .filter((result, index) => {
      if (!result.anomaly) return false;
      const side = Math.sign(result.value - result.expected);
      return [results[index - 1], results[index - 2]].some(
        (before) => before?.anomaly && Math.sign(before.value - before.expected) === side,
      );
    })
    .map(shown);
