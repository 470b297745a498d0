/**
 * How bad an alert is. Every alert opens as a `warning` unless it is already critical (or its rule fixes the
 * severity), and becomes `critical` once the departure grows past one of the thresholds below; reaching
 * critical after opening is notified of its own (an ESCALATED transition, see evaluate.ts). These three
 * constants are the only place the thresholds live.
 */

import { minuteMs } from '../time.ts';
import type { Severity } from './model.ts';

/** A band alert this many band half-widths out at its worst is critical. */
export const criticalDeviation = 3;
/** So is one that, at its worst, was this far from the expected value relative to it (0.5: half again, or half gone). */
export const criticalChange = 0.5;
/** Any alert outside for this long is critical (measured from its first breaching bucket). */
export const criticalDurationMs = 30 * minuteMs;

/** How far a series went from what was expected, at its worst. */
export interface PeakDistance {
  /** In band half-widths. */
  readonly widths: number;
  /** Relative to the expected value (0.5 = 50%); 0 when nothing was expected. */
  readonly change: number;
}

/**
 * The severity of an alert from how far (see {@link PeakDistance}; null for rules without a band) and how
 * long (ms since the episode started) the series has been out, unless the rule fixes it.
 *
 * @example severityOf(null, { widths: 4, change: 0.2 }, 5 * 60_000) // 'critical'
 * @example severityOf(null, { widths: 1.5, change: 0.2 }, 5 * 60_000) // 'warning'
 * @example severityOf(null, null, 45 * 60_000) // 'critical'
 */
export function severityOf(fixed: Severity | null, peak: PeakDistance | null, durationMs: number): Severity {
  if (fixed) return fixed;
  if (peak && (peak.widths >= criticalDeviation || peak.change >= criticalChange)) return 'critical';
  return durationMs >= criticalDurationMs ? 'critical' : 'warning';
}

/**
 * Why an alert is critical, for people, when it is for how far it went: "4.2 band half-widths from the
 * expected value at worst", "62% from the expected value at worst"; undefined when it is for how long it
 * lasted (or not critical by distance), which the duration in the reason already says.
 *
 * @example criticalDistance({ widths: 4.21, change: 0.2 }) // '4.2 band half-widths from the expected value at worst'
 * @example criticalDistance({ widths: 1.5, change: 0.62 }) // '62% from the expected value at worst'
 */
export function criticalDistance(peak: PeakDistance | null): string | undefined {
  if (!peak) return undefined;
  if (peak.widths >= criticalDeviation) {
    // A band of almost no width (a flat series) puts any departure millions of half-widths out.
    const widths = peak.widths >= 1000 ? 'over 1000' : peak.widths.toFixed(1);
    return `${widths} band half-widths from the expected value at worst`;
  }
  if (peak.change >= criticalChange)
    return `${Math.round(peak.change * 100)}% from the expected value at worst`;
  return undefined;
}

/** How long, for people: "45 s", "15 min", "2 h 5 min", "3 d 4 h". */
export function describeDuration(ms: number): string {
  const minutes = Math.round(ms / minuteMs);
  if (ms < minuteMs) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}
