/**
 * Weekly events: runs of notable buckets the band remembers (its last 16, each as start, end and largest
 * deviation), and whether a bucket falls where the series made one a week or two weeks before. O(episodes)
 * per bucket.
 */
import { hourMs, weekMs } from '../time.ts';
import { type BandState, episodeFields } from './band-state.ts';
import { bandTuning } from './band-tuning.ts';
import { toFloat32 } from './packed-state.ts';

/**
 * How a bucket counts for runs: past the notable edge on its own, taught normal by a person ("this was
 * normal" on an alert: part of a departure whatever its size), or neither.
 */
export type RunBucket = 'notable' | 'taught' | 'plain';

/**
 * Follows runs of notable buckets on one side (a gap of up to three buckets inside does not end one) and
 * remembers the short ones (under `relearnAfterMs`): what a weekly event is recognised from a week and two
 * weeks later. A taught bucket goes on with the run it is part of on either side (noise inside a departure,
 * or a shift only the running mean saw), and the run keeps the side of its largest deviation: the departure a
 * person called normal is remembered whole.
 */
export function noteRun(
  state: BandState,
  timestamp: number,
  residual: number,
  bucket: RunBucket,
  side: number,
  timing: { readonly interval: number; readonly relearnAfterMs: number },
): void {
  const s = state.s;
  const size = Math.abs(residual);
  if (bucket === 'plain') {
    if (s.eventSide !== 0 && timestamp - s.eventEnd > bandTuning.departureEndBuckets * timing.interval) {
      closeRun(state, timing.relearnAfterMs);
    }
  } else if (s.eventSide === side) {
    s.eventEnd = timestamp;
    s.eventMax = Math.max(s.eventMax, size);
  } else if (bucket === 'taught' && s.eventSide !== 0) {
    s.eventEnd = timestamp;
    if (size > s.eventMax) {
      s.eventSide = side;
      s.eventMax = size;
    }
  } else {
    closeRun(state, timing.relearnAfterMs);
    s.eventSide = side;
    s.eventStart = bucket === 'taught' ? taughtRunStart(state, timestamp, side) : timestamp;
    s.eventEnd = timestamp;
    s.eventMax = size;
  }
}

/**
 * Where a run a person taught normal starts: where the departure it is part of started (an alert opens a few
 * buckets into one), less the running mean's reach (a shift only the running mean saw had begun that much
 * before it was seen). Starting early costs little: the band is wider on one side a little sooner next week.
 */
function taughtRunStart(state: BandState, timestamp: number, side: number): number {
  const s = state.s;
  const departureStart = s.side === side && s.since > 0 ? Math.min(s.since, timestamp) : timestamp;
  return departureStart - bandTuning.sustainMs;
}

/** Ends the run followed, remembering it if it was short: a departure that lasts is the level's business. */
export function closeRun(state: BandState, relearnAfterMs: number): void {
  const { s, episodes } = state;
  const short = s.eventEnd - s.eventStart < relearnAfterMs;
  if (s.eventSide !== 0 && short) {
    // The size as the state stores it (float32): runs compared by size choose alike before and after a restore.
    episodes.push(s.eventStart, s.eventEnd, toFloat32(s.eventSide * s.eventMax));
    while (episodes.length > bandTuning.episodes * episodeFields) forgetEpisode(episodes, s.eventEnd);
  }
  s.eventSide = 0;
}

/**
 * Makes room for a run: forgets one older than two weeks (no longer a precedent), or else the shortest (a
 * lone noisy bucket before a half-hour deploy), the older of equals.
 */
function forgetEpisode(episodes: number[], now: number): void {
  let forget = 0;
  for (let at = 0; at < episodes.length; at += episodeFields) {
    const end = episodes[at + 1] ?? 0;
    if (now - end > 2 * weekMs + hourMs) {
      forget = at;
      break;
    }
    const length = end - (episodes[at] ?? 0);
    if (length < (episodes[forget + 1] ?? 0) - (episodes[forget] ?? 0)) forget = at;
  }
  episodes.splice(forget, episodeFields);
}

/**
 * The size (signed, in the band's domain) of a weekly event at this time one week or two weeks before (the
 * larger, when both on one side; none when on opposite sides). Either is enough: the week that did not show it
 * is most often the second, when the young band was too wide to notice a deploy.
 */
export function weeklyEvent(episodes: readonly number[], timestamp: number, interval: number): number {
  const tolerance = Math.max(bandTuning.episodeToleranceMs, interval);
  let lastWeek = 0;
  let weekBefore = 0;
  for (let at = 0; at < episodes.length; at += episodeFields) {
    const start = (episodes[at] ?? 0) - tolerance;
    const end = (episodes[at + 1] ?? 0) + tolerance;
    const size = episodes[at + 2] ?? 0;
    // Runs may overlap by the tolerance (a deploy's end, and the dip after it): the larger one counts.
    if (timestamp - weekMs >= start && timestamp - weekMs <= end && Math.abs(size) > Math.abs(lastWeek))
      lastWeek = size;
    if (
      timestamp - 2 * weekMs >= start &&
      timestamp - 2 * weekMs <= end &&
      Math.abs(size) > Math.abs(weekBefore)
    )
      weekBefore = size;
  }
  if (lastWeek === 0 || weekBefore === 0) return lastWeek || weekBefore;
  if (Math.sign(lastWeek) !== Math.sign(weekBefore)) return 0;
  return lastWeek > 0 ? Math.max(lastWeek, weekBefore) : Math.min(lastWeek, weekBefore);
}
