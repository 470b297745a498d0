import { minuteMs } from '../time.ts';
import type { Alert, Mute, MuteSchedule, Weekday, WeeklySchedule } from './model.ts';
import { weekdays } from './model.ts';
import { selects } from './selector.ts';

const dayMinutes = 24 * 60;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `timeZone` is an IANA time zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The weekday and the minute of the day (with fraction) of an instant in a time zone. */
function wallClock(instant: number, timeZone: string): { day: number; minute: number } {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  const part = (type: string) => parts.find((entry) => entry.type === type)?.value ?? '0';
  const day = weekdays.indexOf(part('weekday').toLowerCase().slice(0, 3) as Weekday);
  const minute =
    Number(part('hour')) * 60 +
    Number(part('minute')) +
    (Number(part('second')) * 1000 + (instant % 1000)) / minuteMs;
  return { day, minute };
}

/** `"03:30"` as minutes after midnight. */
export const minuteOfDay = (clock: string): number => {
  const [hours, minutes] = clock.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
};

/**
 * When the window of a schedule that contains `instant` ends, or undefined when the schedule is not active
 * then. Weekly windows are read in their time zone; a window whose end is not after its start runs past
 * midnight. (A daylight-saving change inside a window moves its end by the change.)
 *
 * @example windowEnd({ kind: 'once', start: 0, end: 10 }, 5) // 10
 */
export function windowEnd(schedule: MuteSchedule, instant: number): number | undefined {
  if (schedule.kind === 'once') {
    return instant >= schedule.start && instant < schedule.end ? schedule.end : undefined;
  }
  return weeklyWindowEnd(schedule, instant);
}

function weeklyWindowEnd(schedule: WeeklySchedule, instant: number): number | undefined {
  const { day, minute } = wallClock(instant, schedule.timeZone);
  const start = minuteOfDay(schedule.start);
  const end = minuteOfDay(schedule.end);
  const onDay = (offset: number) => schedule.days.includes(weekdays[(day + offset + 7) % 7] as Weekday);
  const untilEnd = (minutes: number) => instant + minutes * minuteMs;
  if (end > start) return onDay(0) && minute >= start && minute < end ? untilEnd(end - minute) : undefined;
  // Past midnight: from start to midnight on a listed day, or from midnight to end on the day after one.
  if (onDay(0) && minute >= start) return untilEnd(dayMinutes - minute + end);
  if (onDay(-1) && minute < end) return untilEnd(end - minute);
  return undefined;
}

/** Whether a mute covers an alert (its rule and its series). */
export function muteCovers(
  mute: Mute,
  alert: Pick<Alert, 'ruleId' | 'seriesId' | 'name' | 'dimensions'>,
): boolean {
  if (mute.ruleId !== null && mute.ruleId !== alert.ruleId) return false;
  return selects(mute.selector, { id: alert.seriesId, name: alert.name, dimensions: alert.dimensions });
}

/**
 * Until when an alert is muted at `instant`: the end of the covering windows, chained through windows that
 * overlap or touch; undefined when no mute covers it then.
 */
export function mutedUntil(
  mutes: readonly Mute[],
  alert: Pick<Alert, 'ruleId' | 'seriesId' | 'name' | 'dimensions'>,
  instant: number,
): number | undefined {
  const covering = mutes.filter((mute) => muteCovers(mute, alert));
  let until: number | undefined;
  let probe = instant;
  // Each step moves to the end of a window; a bound keeps an always-on set of windows from looping forever.
  for (let step = 0; step < 64; step++) {
    let furthest: number | undefined;
    for (const mute of covering) {
      const end = windowEnd(mute.schedule, probe);
      if (end !== undefined && (furthest === undefined || end > furthest)) furthest = end;
    }
    if (furthest === undefined || furthest <= probe) break;
    until = furthest;
    probe = furthest;
  }
  return until;
}
