/**
 * The band's constants, in one place: what each one is for. Why each value, and what it pays on data it was
 * not chosen on: docs/engine.md, "The band's constants".
 */
import { dayMs, hourMs, minuteMs } from '../time.ts';
import { dailySlots, scaleSlots } from './band-state.ts';

export const bandTuning = {
  /** Time constant of the level, learned outside departures (ms). */
  levelMs: 12 * hourMs,
  /** Share of a day's news a daily profile slot learns each day (a young profile: a running mean of its days). */
  profileRate: 0.2,
  /** Time constant of the noise scale (ms). */
  scaleMs: 3 * dayMs,
  /** How long the tails remember (ms). */
  tailMemoryMs: 14 * dayMs,
  /** The first buckets learn level and noise as plain averages, from every bucket; none is an anomaly. */
  warmUpBuckets: 60,
  /** Daily profile slots (5 minutes each), and noise slots (an hour each). */
  dailySlots,
  scaleSlots,
  /** The daily profile is used when it cuts the level's error by this share, over two weeks of errors. */
  seasonGain: 0.1,
  seasonErrorMs: 14 * dayMs,
  /** Departures remembered to recognise weekly events, and how far an event's timing may move (ms). */
  episodes: 16,
  episodeToleranceMs: 5 * minuteMs,
  /** Buckets in a row inside that end a departure. */
  departureEndBuckets: 3,
  /** The edges are re-read from the tails every this many buckets. */
  refreshBuckets: 32,
  /** Time constant of the running mean of deviations that sees a shift too small for any one bucket (ms). */
  sustainMs: 30 * minuteMs,
} as const;

/**
 * Pages a year a normal series would get from the default rule at a sensitivity: one in fifty years at the
 * default 0.5, ten times more per 0.25 of sensitivity. O(1).
 *
 * @example pagesPerYear(0.5) // 0.02
 */
export const pagesPerYear = (sensitivity: number): number =>
  0.02 * 10 ** (4 * ((Number.isFinite(sensitivity) ? Math.min(1, Math.max(0, sensitivity)) : 0.5) - 0.5));

/** How long a departure lasts before it is the new level, unless the settings say otherwise (ms). */
export const defaultRelearnAfterMs = 6 * hourMs;
