/**
 * The weekday's level: how much a whole day of this weekday differs from the series' typical day (a quieter
 * weekend, a busier Monday), learned from UTC days' means. O(1) per bucket; O(7 log 7) once a day.
 */
import { dayMs } from '../time.ts';
import type { BandState } from './band-state.ts';

/** The weekday of a time, Monday 0 (1970-01-01 was a Thursday). */
export const weekdayOf = (timestamp: number): number => (Math.floor(timestamp / dayMs) + 3) % 7;

/**
 * A day ended: its mean, less the median of the other days' last means (the series' typical day that week),
 * joins its weekday's last three deviations, and the weekday's part is the median of those it has. Day means
 * are taken as they were, not from a level that may have followed a weekend: the part does not depend on what
 * the level did. The first day has no other day to be measured against. A day of less than half a day of
 * buckets is not kept.
 */
export function closeDay({ s, a }: BandState, weekday: number, interval: number): void {
  if (s.today >= 0 && s.todayBuckets >= (0.5 * dayMs) / interval) {
    const others: number[] = [];
    for (let day = 0; day < 7; day++)
      if (day !== s.today && s.daysSeen & (1 << day)) others.push(a.dayMeans[day] ?? 0);
    a.dayMeans[s.today] = s.todaySum / s.todayBuckets;
    s.daysSeen = s.daysSeen | (1 << s.today);
    if (others.length > 0) {
      const at = 3 * s.today;
      const means = a.weekdayMeans;
      means[at + 2] = means[at + 1] ?? 0;
      means[at + 1] = means[at] ?? 0;
      means[at] = (a.dayMeans[s.today] ?? 0) - median(others);
      const count = Math.min(3, (a.weekdayCount[s.today] ?? 0) + 1);
      a.weekdayCount[s.today] = count;
      a.weekday[s.today] = median(Array.from(means.subarray(at, at + count)));
    }
  }
  s.today = weekday;
  s.todaySum = 0;
  s.todayBuckets = 0;
}

/** The median of a few numbers (sorts them in place). */
function median(values: number[]): number {
  values.sort((x, y) => x - y);
  const middle = values.length >> 1;
  return values.length % 2 === 1
    ? (values[middle] ?? 0)
    : ((values[middle - 1] ?? 0) + (values[middle] ?? 0)) / 2;
}
