/**
 * One line that explains an alert to a person in a second: what the series usually does at this time of the
 * week, what it does now, how far that is (relative to the usual value and in band half-widths) and since
 * when. Pure: the same facts and time zone always give the same line.
 *
 *   band       "Thursday 04:00 usually 1,250, now 360, 71% below, for 35 min (4.2 band half-widths out; band 1,100 to 1,400)"
 *   threshold  "above 500 since 13:20, now 730 (46% over, for 35 min)"
 *   no data    "no data since 13:20 (45 min)"
 *
 * The line is printable ASCII (it may end up in a mail subject), never says NaN or Infinity, and its headline
 * ({@link explanationHeadline}: everything before the first " (") stands on its own where space is short.
 */
import { minuteMs } from '../time.ts';
import type { RuleKind } from './model.ts';
import { describeDuration } from './severity.ts';

/** What the line is made of: the alert's figures at one bucket (or instant), and the episode's times. */
export interface AlertFacts {
  readonly ruleKind: RuleKind;
  /** The value judged; null when there is none (no data). */
  readonly value: number | null;
  /** What the band expected at the judged bucket (band rules). */
  readonly expected: number | null;
  /** The band the value was judged against (the rule's band: scaled by its sensitivity). */
  readonly lower: number | null;
  readonly upper: number | null;
  /** The fixed value a threshold rule watches. */
  readonly threshold: number | null;
  /** Which side a threshold rule watches (the side of the value is used when absent). */
  readonly direction?: 'above' | 'below';
  /** The start of the bucket judged: its weekday and time of day are the season the band judged it by. */
  readonly judgedAt: number;
  /** The first breaching bucket (for no-data: the last point before the silence). */
  readonly startedAt: number;
  /** Until when the episode is told: the end of the latest bucket out, or the instant of the evaluation. */
  readonly until: number;
  /** Set once the alert resolved: the line is then told in the past ("was", "until"). */
  readonly resolvedAt?: number | null;
  /** The largest distance from the expected value over the episode, in band half-widths. */
  readonly peakDeviation?: number | null;
  /** The engine found the value stuck (repeated exactly for longer than the series does by chance). */
  readonly stuck?: boolean;
  /** A unit after each value: `ms` for timers, `/min` for a counter's per-bucket sums (see {@link unitOf}). */
  readonly unit?: string;
}

export interface ExplainOptions {
  /** An IANA time zone the season and times are told in (`Europe/Paris`); default UTC. */
  readonly timeZone?: string;
}

const dayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const shortDayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const monthNames = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;

/** A deviation this large is a band of almost no width (a flat series), not a distance worth a figure. */
const largestToldDeviation = 1000;
/** Above this ratio a value is told as a multiple of the usual one ("42 times the usual"), not a percentage. */
const multipleFrom = 10;

/**
 * The line for an alert.
 *
 * @example explainAlert({ ruleKind: 'band', value: 360, expected: 1250, lower: 1100, upper: 1400, threshold: null,
 *   judgedAt: Date.UTC(2026, 11, 3, 4, 0), startedAt: Date.UTC(2026, 11, 3, 3, 30), until: Date.UTC(2026, 11, 3, 4, 5) })
 * // 'Thursday 04:00 usually 1,250, now 360, 71% below, for 35 min (5.9 band half-widths out; band 1,100 to 1,400)'
 */
export function explainAlert(facts: AlertFacts, options: ExplainOptions = {}): string {
  const timeZone = options.timeZone ?? 'UTC';
  if (facts.ruleKind === 'nodata') return explainSilence(facts, timeZone);
  if (facts.ruleKind === 'threshold') return explainThreshold(facts, timeZone);
  return explainBand(facts, timeZone);
}

/** The part of a line that stands alone when space is short: everything before its first " (". */
export const explanationHeadline = (line: string): string => line.split(' (')[0] ?? line;

/**
 * The unit an alert's values are told in, from the series' type and step: `ms` for a timer, per step for a
 * counter (its bucket is the sum of its counts: `/min`, `/5 min`, `/h`), none for a gauge.
 *
 * @example unitOf('counter', 300_000) // '/5 min'
 */
export function unitOf(type: 'counter' | 'gauge' | 'timer' | undefined, stepMs: number): string | undefined {
  if (type === 'timer') return 'ms';
  if (type !== 'counter') return undefined;
  return `/${describeDuration(stepMs).replace(/^1 /, '')}`;
}

function explainBand(facts: AlertFacts, timeZone: string): string {
  const value = finite(facts.value);
  const expected = finite(facts.expected);
  const resolved = isResolved(facts);
  const season = seasonOf(facts.judgedAt, timeZone);
  const now = resolved ? 'was' : 'now';
  if (value === null) return `${season}: no value${durationPart(facts, timeZone)}`;
  if (expected === null)
    return `${season} ${now} ${quantity(value, facts.unit)}${durationPart(facts, timeZone)}`;
  const parts = [
    `${season} usually ${quantity(expected, facts.unit)}`,
    `${now} ${quantity(value, facts.unit)}`,
    facts.stuck ? 'stuck at one value' : difference(value, expected, facts.unit),
  ].filter((part) => part !== '');
  // A stuck value is no distance: it is often right at the expected value.
  const distance = facts.stuck ? '' : distanceDetail(facts, value, expected, resolved);
  const details = [distance, bandRange(facts)].filter((part) => part !== '');
  const headline = `${parts.join(', ')},${durationPart(facts, timeZone)}`;
  return details.length > 0 ? `${headline} (${details.join('; ')})` : headline;
}

function explainThreshold(facts: AlertFacts, timeZone: string): string {
  const value = finite(facts.value);
  const threshold = finite(facts.threshold);
  const side =
    facts.direction ?? (value !== null && threshold !== null && value < threshold ? 'below' : 'above');
  const resolved = isResolved(facts);
  const limit = threshold === null ? `${side} its threshold` : `${side} ${quantity(threshold, facts.unit)}`;
  const lasted = describeDuration(Math.max(0, facts.until - facts.startedAt));
  if (resolved) {
    const first = value === null ? '' : `; ${quantity(value, facts.unit)} when it opened`;
    return `${limit} from ${clockOf(facts.startedAt, facts.until, timeZone)} to ${clockOf(facts.until, facts.until, timeZone)} (${lasted}${first})`;
  }
  const headline = `${limit} since ${clockOf(facts.startedAt, facts.until, timeZone)}`;
  if (value === null) return `${headline} (${lasted})`;
  const over = threshold === null ? '' : `${thresholdDifference(value, threshold, side, facts.unit)}, `;
  return `${headline}, now ${quantity(value, facts.unit)} (${over}for ${lasted})`;
}

function explainSilence(facts: AlertFacts, timeZone: string): string {
  const lasted = describeDuration(Math.max(0, facts.until - facts.startedAt));
  const since = clockOf(facts.startedAt, facts.until, timeZone);
  return isResolved(facts)
    ? `no data from ${since} to ${clockOf(facts.until, facts.until, timeZone)} (${lasted})`
    : `no data since ${since} (${lasted})`;
}

const isResolved = (facts: AlertFacts): boolean =>
  facts.resolvedAt !== undefined && facts.resolvedAt !== null;

/** " for 35 min", or " for 45 min until 04:45" once resolved. */
function durationPart(facts: AlertFacts, timeZone: string): string {
  const lasted = ` for ${describeDuration(Math.max(0, facts.until - facts.startedAt))}`;
  return isResolved(facts) ? `${lasted} until ${clockOf(facts.until, facts.until, timeZone)}` : lasted;
}

/**
 * How far the value is from the expected one, as people compare them: relative to the expected value when
 * both are positive ("71% below", "42 times the usual"), else as the absolute difference ("230 below"), since
 * a percentage of zero or of a negative value says nothing.
 */
function difference(value: number, expected: number, unit: string | undefined): string {
  if (value === expected) return 'as usual';
  const side = value > expected ? 'above' : 'below';
  if (expected > 0 && value >= 0) {
    const ratio = value / expected;
    if (!Number.isFinite(ratio)) return `${quantity(value - expected, unit)} ${side}`;
    if (ratio >= multipleFrom) return `${formatNumber(ratio)} times the usual`;
    return `${percent(Math.abs(value - expected) / expected)} ${side}`;
  }
  return `${quantity(Math.abs(value - expected), unit)} ${side}`;
}

/** How far past a threshold, relative to it when it is positive, else as the difference. */
function thresholdDifference(
  value: number,
  threshold: number,
  side: 'above' | 'below',
  unit: string | undefined,
): string {
  const beyond = side === 'above' ? value - threshold : threshold - value;
  const word = beyond >= 0 ? (side === 'above' ? 'over' : 'under') : 'back';
  const ratio = value / threshold;
  if (threshold > 0 && value >= 0 && ratio < multipleFrom)
    return `${percent(Math.abs(beyond) / threshold)} ${word}`;
  if (threshold > 0 && value >= 0 && Number.isFinite(ratio))
    return `${formatNumber(value / threshold)} times the threshold`;
  return `${quantity(Math.abs(beyond), unit)} ${word}`;
}

/** "4.2 band half-widths out", with the worst of the episode when it went further. */
function distanceDetail(facts: AlertFacts, value: number, expected: number, resolved: boolean): string {
  const peak = finite(facts.peakDeviation ?? null);
  if (resolved) return peak === null || peak === 0 ? '' : `${widths(peak)} band half-widths out at worst`;
  const lower = finite(facts.lower);
  const upper = finite(facts.upper);
  const halfWidth =
    value >= expected ? (upper === null ? null : upper - expected) : lower === null ? null : expected - lower;
  const current =
    halfWidth === null
      ? null
      : halfWidth > 0
        ? Math.abs(value - expected) / halfWidth
        : Number.POSITIVE_INFINITY;
  if (current === null)
    return peak === null || peak === 0 ? '' : `${widths(peak)} band half-widths out at worst`;
  const now = `${widths(current)} band half-widths out`;
  return peak !== null && peak >= current * 1.05 && widths(peak) !== widths(current)
    ? `${now}, ${widths(peak)} at worst`
    : now;
}

/** "band 1,100 to 1,400". */
function bandRange(facts: AlertFacts): string {
  const lower = finite(facts.lower);
  const upper = finite(facts.upper);
  if (lower === null || upper === null) return '';
  return `band ${formatNumber(lower)} to ${quantity(upper, facts.unit)}`;
}

/** A band half-width count: one decimal below 10, whole above, and "over 1,000" for a band of almost no width. */
const widths = (count: number): string =>
  count >= largestToldDeviation ? 'over 1,000' : String(Number(count.toFixed(count >= 10 ? 0 : 1)));

/** "71%", "4.5%", "0.3%", "<0.1%". */
function percent(share: number): string {
  const hundred = share * 100;
  if (hundred < 0.05) return '<0.1%';
  const digits = hundred >= 10 ? 0 : 1;
  return `${Number(hundred.toFixed(digits)).toLocaleString('en-US')}%`;
}

/** A value and its unit: "360 ms", "1,250/min", "42". */
function quantity(value: number, unit: string | undefined): string {
  const number = formatNumber(value);
  if (!unit) return number;
  return unit.startsWith('/') ? `${number}${unit}` : `${number} ${unit}`;
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 3 });

/**
 * A number as people read it: whole numbers below a million with thousands separators ("1,250", "-37,400"),
 * fractions to three significant digits ("12.3", "0.0042"), millions to trillions compactly ("4.57M"), and
 * anything beyond in scientific notation ("1.2e+21", "3e-7").
 *
 * @example formatNumber(1250.4) // '1,250'
 * @example formatNumber(0.000123) // '0.000123'
 */
export function formatNumber(value: number): string {
  // Callers pass finite numbers (see `finite`); a difference of two huge ones can still overflow.
  if (!Number.isFinite(value)) return value > 0 ? 'over 1e308' : value < 0 ? 'under -1e308' : '?';
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e15 || magnitude < 1e-4) return value.toExponential(1).replace(/\.0e/, 'e');
  if (magnitude >= 1e6) return compact.format(value);
  if (magnitude >= 100) return grouped.format(value);
  return String(Number(value.toPrecision(3)));
}

/** "Thursday 04:00": the weekday and time of day of the judged bucket in the time zone. */
function seasonOf(instant: number, timeZone: string): string {
  const clock = wallClock(instant, timeZone);
  return `${dayNames[clock.weekday]} ${clock.time}`;
}

/**
 * A time of day as near `reference` (both in the time zone) reads it: "13:20" on the same day, "Wed 23:50"
 * within the week before, "28 Nov 13:20" earlier.
 */
function clockOf(instant: number, reference: number, timeZone: string): string {
  const clock = wallClock(instant, timeZone);
  const day = wallClock(reference, timeZone);
  if (clock.date === day.date) return clock.time;
  if (reference - instant < 6 * 24 * 60 * minuteMs) return `${shortDayNames[clock.weekday]} ${clock.time}`;
  return `${clock.dayOfMonth} ${monthNames[clock.month]} ${clock.time}`;
}

interface WallClock {
  readonly weekday: number;
  /** "04:00". */
  readonly time: string;
  /** "2026-12-03": tells two days apart. */
  readonly date: string;
  readonly dayOfMonth: number;
  readonly month: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function wallClock(instant: number, timeZone: string): WallClock {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((entry) => entry.type === type)?.value ?? '';
  const month = Number(part('month')) - 1;
  const dayOfMonth = Number(part('day'));
  return {
    weekday: Math.max(0, shortDayNames.indexOf(part('weekday') as (typeof shortDayNames)[number])),
    time: `${part('hour')}:${part('minute')}`,
    date: `${part('year')}-${month}-${dayOfMonth}`,
    dayOfMonth,
    month,
  };
}

/** A finite number, or null (so that NaN or Infinity never reach the line). */
const finite = (value: number | null | undefined): number | null =>
  value === null || value === undefined || !Number.isFinite(value) ? null : value;
