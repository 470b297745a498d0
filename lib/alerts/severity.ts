import type { Severity } from './model.ts';

/** A band alert this many band half-widths out at its worst is critical. */
export const criticalDeviation = 3;
/** Any alert outside for this long is critical. */
export const criticalDurationMs = 30 * 60_000;

/**
 * The severity of an alert from how far (peak distance from the expected value, in band half-widths; null
 * when the rule has no band) and how long (ms since the episode started) the series has been out, unless the
 * rule fixes it.
 *
 * @example severityOf(null, 4, 5 * 60_000) // 'critical'
 * @example severityOf(null, 1.5, 5 * 60_000) // 'warning'
 */
export function severityOf(
  fixed: Severity | null,
  peakDeviation: number | null,
  durationMs: number,
): Severity {
  if (fixed) return fixed;
  if (peakDeviation !== null && peakDeviation >= criticalDeviation) return 'critical';
  return durationMs >= criticalDurationMs ? 'critical' : 'warning';
}

/** How long, for people: "45 s", "15 min", "2 h 5 min", "3 d 4 h". */
export function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}
