/**
 * Reading a timestamp as every API takes it (ingest, queries, alert rules and replays): epoch milliseconds or
 * an ISO-8601 date-time. Part of the metric model, so each of those layers imports it from below.
 */
import { describeValue } from '../errors.ts';
import { minuteMs } from '../time.ts';
import { ingestLimits } from './limits.ts';

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
