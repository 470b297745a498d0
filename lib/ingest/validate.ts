import { codePointName, describeValue, hiddenCharacter, type Problem } from '../errors.ts';
import {
  type Dimensions,
  isMetricType,
  type MetricPoint,
  type MetricType,
  metricTypes,
} from '../metrics/point.ts';
import { dayMs, minuteMs } from '../time.ts';
import { ingestLimits } from './limits.ts';

/** Points that passed validation and problems with those that did not. */
export interface ParsedBatch {
  readonly points: MetricPoint[];
  /** The first problems (see problemLimits in lib/errors.ts), shortened and printable. */
  readonly problems: Problem[];
  /** How many problems were found in all, listed or not. */
  readonly problemCount: number;
  /** How many items the body held (accepted + rejected). */
  readonly itemCount: number;
  /**
   * The index of the body item each point came from (`pointItems[i]` for `points[i]`), so a point the store
   * refuses later is reported against the item the client sent. Absent means point i came from item i.
   */
  readonly pointItems?: number[];
}

/** The times a point may carry: not older than the store keeps, not further ahead than clocks drift. */
export interface TimeWindow {
  readonly now: number;
  /** The oldest timestamp accepted (epoch ms). */
  readonly earliest: number;
  /** The newest timestamp accepted (epoch ms). */
  readonly latest: number;
}

/** The window of accepted timestamps at `now`, keeping points up to `maxAgeMs` old. */
export const timeWindow = (now: number, maxAgeMs: number = ingestLimits.maxAgeMs): TimeWindow => ({
  now,
  earliest: now - maxAgeMs,
  latest: now + ingestLimits.maxFutureSkewMs,
});

/** Why a timestamp (epoch ms) falls outside the window, or undefined when it is inside. */
export function timeProblem(timestamp: number, window: TimeWindow): string | undefined {
  if (timestamp > window.latest) {
    return `is more than ${Math.round((window.latest - window.now) / minuteMs)} minutes in the future (${isoOrNumber(timestamp)})`;
  }
  if (timestamp < window.earliest) {
    const days = Math.round((window.now - window.earliest) / dayMs);
    return `is older than the ${days} days the store keeps (${isoOrNumber(timestamp)})`;
  }
  return undefined;
}

const isoOrNumber = (timestamp: number): string =>
  Number.isFinite(timestamp) && Math.abs(timestamp) < 8.64e15
    ? new Date(timestamp).toISOString()
    : String(timestamp);

/**
 * The first character of text that is invisible or reorders the text around it (see {@link hiddenCharacter}),
 * as a code point, or undefined when there is none. A loop over the plain-ASCII part rather than only a
 * regular expression: it runs for every name and dimension of every point, and most are plain ASCII.
 */
export function hiddenCharacterIn(text: string): number | undefined {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return code;
    if (code > 0x7e) {
      const found = hiddenCharacter.exec(text.slice(index));
      return found ? found[0].codePointAt(0) : undefined;
    }
  }
  return undefined;
}

/** Why text with a hidden character is refused, naming the character (`U+202E`). */
const hiddenCharacterProblem = (codePoint: number): string =>
  `must not contain ${codePointName(codePoint)}, ${
    codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f)
      ? 'a control character'
      : 'an invisible or text-reordering character'
  }`;

/** A metric name's problem, or undefined when it is fine. */
export function nameProblem(name: unknown): string | undefined {
  if (name === undefined) return 'is required';
  if (typeof name !== 'string') return `must be a string, got ${describeValue(name)}`;
  if (name.length === 0) return 'must not be empty';
  if (name.length > ingestLimits.maxNameLength)
    return `must be at most ${ingestLimits.maxNameLength} characters`;
  const hidden = hiddenCharacterIn(name);
  if (hidden !== undefined) return hiddenCharacterProblem(hidden);
  return undefined;
}

/** A metric type's problem, or undefined when it is fine. */
export function typeProblem(type: unknown): string | undefined {
  return isMetricType(type)
    ? undefined
    : `must be one of ${metricTypes.join(', ')}, got ${describeValue(type)}`;
}

/** A value's problem: it must be a finite number. */
export function valueProblem(value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  if (typeof value !== 'number') return `must be a number, got ${describeValue(value)}`;
  if (!Number.isFinite(value)) return 'must be a finite number';
  return undefined;
}

/**
 * Reads a timestamp given as epoch milliseconds or an ISO-8601 string. Returns the epoch milliseconds, or a
 * problem. Numbers below 10^11 are taken for seconds sent by mistake and rejected with a hint.
 */
export function readTimestamp(raw: unknown, now: number): number | string {
  let timestamp: number;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return 'must be a finite number of epoch milliseconds';
    if (raw < 0) return 'must not be negative';
    if (raw < 1e11) return `${raw} looks like epoch seconds: send epoch milliseconds or an ISO-8601 string`;
    timestamp = Math.round(raw);
  } else if (typeof raw === 'string') {
    const parsed = readIsoDateTime(raw);
    if (typeof parsed === 'string') return parsed;
    timestamp = parsed;
  } else {
    return `must be epoch milliseconds or an ISO-8601 string, got ${describeValue(raw)}`;
  }
  if (timestamp > now + ingestLimits.maxFutureSkewMs) {
    return `is more than ${ingestLimits.maxFutureSkewMs / minuteMs} minutes in the future`;
  }
  return timestamp;
}

/** `2025-11-25T00:00:00.000Z`, `2025-11-25T01:00+01:00`: date, time (seconds and fraction optional), zone. */
const isoDateTime =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)?$/i;
const monthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/**
 * Reads an ISO-8601 (RFC 3339) date-time to epoch milliseconds, or says what is wrong with it. Stricter than
 * Date.parse on purpose: an impossible date (2026-02-30, month 13, 24:61) is refused instead of rolling over
 * to another day, and a date-time without a zone is refused instead of being read in the server's own time
 * zone (which differs between a laptop and Lambda).
 *
 * @example readIsoDateTime('2025-11-25T01:00:00+01:00') // 1764028800000
 */
export function readIsoDateTime(text: string): number | string {
  const match = isoDateTime.exec(text);
  if (!match) {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/i.test(text)
      ? `is not a valid ISO-8601 date-time: ${describeValue(text)}`
      : `must be an ISO-8601 date-time such as 2025-11-25T00:00:00Z, got ${describeValue(text)}`;
  }
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone, sign, zoneHours, zoneMinutes] =
    match;
  if (zone === undefined) {
    return `needs a time zone: Z or ±hh:mm, as in 2025-11-25T00:00:00Z, got ${describeValue(text)}`;
  }
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const notReal = (why: string) => `is not a real date-time (${why}): ${describeValue(text)}`;
  if (m < 1 || m > 12) return notReal(`there is no month ${month}`);
  const daysInMonth = new Date(Date.UTC(2000, m, 0)).getUTCDate() - (m === 2 && !isLeapYear(y) ? 1 : 0);
  if (d < 1 || d > daysInMonth) {
    return notReal(`${monthNames[m - 1]} ${year} has ${daysInMonth} days`);
  }
  if (Number(hour) > 23) return notReal('hours go from 00 to 23');
  if (Number(minute) > 59) return notReal('minutes go from 00 to 59');
  if (Number(second) > 59) return notReal('seconds go from 00 to 59');
  let offsetMinutes = 0;
  if (sign !== undefined) {
    if (Number(zoneHours) > 23 || Number(zoneMinutes ?? 0) > 59) {
      return notReal(`the zone offset ${zone} is not ±hh:mm`);
    }
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes ?? 0));
  }
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  date.setUTCHours(Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0').slice(0, 3)));
  return date.getTime() - offsetMinutes * minuteMs;
}

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** A dimension's problem, or undefined when it is fine. */
export function dimensionProblem(key: string, value: unknown): string | undefined {
  if (key.length === 0) return 'a dimension name must not be empty';
  if (key.length > ingestLimits.maxDimensionKeyLength) {
    return `a dimension name must be at most ${ingestLimits.maxDimensionKeyLength} characters`;
  }
  if (typeof value !== 'string') return `must be a string, got ${describeValue(value)}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > ingestLimits.maxDimensionValueLength) {
    return `must be at most ${ingestLimits.maxDimensionValueLength} characters`;
  }
  const hiddenInKey = hiddenCharacterIn(key);
  if (hiddenInKey !== undefined) return `the dimension name ${hiddenCharacterProblem(hiddenInKey)}`;
  const hiddenInValue = hiddenCharacterIn(value);
  if (hiddenInValue !== undefined) return hiddenCharacterProblem(hiddenInValue);
  return undefined;
}

/** Builds a point from already-checked parts (a helper for parsers that validate field by field). */
export const point = (
  name: string,
  type: MetricType,
  value: number,
  timestamp: number,
  dimensions: Dimensions,
): MetricPoint => ({ name, type, value, timestamp, dimensions });
