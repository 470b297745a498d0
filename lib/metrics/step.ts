/** The steps a series may be aggregated to, in milliseconds: each a divisor of a day. */
export const niceStepsMs = [
  60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000,
] as const;

/** The step used while a series' natural interval is unknown, and the smallest step Normalcy keeps. */
export const defaultStepMs = 60_000;

/** How many distinct timestamps a series needs before its step can be inferred. */
export const minimumPointsForStep = 3;

/**
 * The natural step of a series: the median gap between its distinct timestamps, rounded to the nearest
 * nice step at or above it (within 10%, so 4.6-minute jitter keeps a 5-minute step). Intervals below a minute
 * (StatsD flushes every 10 s) aggregate to one minute.
 * A deployment may set a coarser smallest step (`minimumStepMs`, one of {@link niceStepsMs}).
 * Returns undefined when fewer than {@link minimumPointsForStep} distinct timestamps are given. O(n log n).
 *
 * @example inferStep([0, 300_000, 600_000, 900_000]) // 300_000
 */
export function inferStep(timestamps: readonly number[], minimumStepMs = defaultStepMs): number | undefined {
  const distinct = [...new Set(timestamps)].sort((a, b) => a - b);
  if (distinct.length < minimumPointsForStep) return undefined;
  const gaps: number[] = [];
  for (let i = 1; i < distinct.length; i++) gaps.push((distinct[i] ?? 0) - (distinct[i - 1] ?? 0));
  gaps.sort((a, b) => a - b);
  const medianGap = gaps[Math.floor((gaps.length - 1) / 2)] ?? defaultStepMs;
  for (const step of niceStepsMs) if (step >= medianGap * 0.9 && step >= minimumStepMs) return step;
  return niceStepsMs[niceStepsMs.length - 1];
}

/** The start of the bucket of the given step that holds `timestamp`. */
export const bucketStart = (timestamp: number, stepMs: number): number =>
  Math.floor(timestamp / stepMs) * stepMs;
