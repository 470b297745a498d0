import { niceStepsMs } from '../metrics/step.ts';
import { dayMs } from '../time.ts';
import { formatDuration } from './duration.ts';

/** The most buckets one points response may hold; past it the request is refused with a 400. */
export const maxPointsPerResponse = 10_000;

/** How many buckets the automatic step aims at, at most, unless the client asks for fewer. */
export const defaultTargetPoints = 2_000;

/**
 * The automatic step for a range: the smallest nice step (a divisor of a day, or a whole number of days) that
 * is a multiple of the series' step and gives at most `targetPoints` buckets. Never finer than the series'
 * step. O(1).
 *
 * @example automaticStep(30 * 86_400_000, 60_000, 2_000) // 1_800_000 (30 minutes: 1,440 or 1,441 buckets)
 */
export function automaticStep(rangeMs: number, seriesStepMs: number, targetPoints: number): number {
  // Widening the range to whole steps adds at most one bucket.
  const fits = (step: number) => Math.ceil(rangeMs / step) + 1 <= targetPoints;
  const candidates = [seriesStepMs, ...niceStepsMs.filter((step) => step > seriesStepMs)].filter(
    (step) => step % seriesStepMs === 0,
  );
  for (const step of candidates) if (fits(step)) return step;
  const unit = seriesStepMs % dayMs === 0 ? seriesStepMs : lcm(seriesStepMs, dayMs);
  return unit * Math.max(1, Math.ceil(rangeMs / (Math.max(1, targetPoints - 1) * unit)));
}

/**
 * Why an explicit step cannot be served for a series and range, or undefined when it can: it must be a
 * multiple of the series' step (the data holds nothing finer) and give at most {@link maxPointsPerResponse}
 * buckets.
 */
export function stepProblem(stepMs: number, seriesStepMs: number, rangeMs: number): string | undefined {
  const series = formatDuration(seriesStepMs);
  if (stepMs < seriesStepMs) return `${formatDuration(stepMs)} is finer than the series' step of ${series}`;
  if (stepMs % seriesStepMs !== 0) return `must be a multiple of the series' step of ${series}`;
  const buckets = Math.ceil(rangeMs / stepMs);
  if (buckets > maxPointsPerResponse) {
    const smallest = automaticStep(rangeMs, seriesStepMs, maxPointsPerResponse);
    return (
      `${formatDuration(stepMs)} over this range gives ${buckets} points, more than the limit of ` +
      `${maxPointsPerResponse} per response: use a step of at least ${formatDuration(smallest)} or a shorter range`
    );
  }
  return undefined;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;
