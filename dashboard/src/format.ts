/** Numbers as a person reads them on a chart: 3 significant digits, k/M/G beyond a thousand. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  for (const [size, suffix] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (magnitude >= size) return `${trim(value / size)}${suffix}`;
  }
  return trim(value);
}

const trim = (value: number): string => String(Number(value.toPrecision(3)));

/** A duration in the largest sensible unit: `45 s`, `12 min`, `3 h`, `2 d`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** How long ago an instant was, relative to `now`. */
export const formatAgo = (timestamp: number, now: number): string =>
  now - timestamp < 30_000 ? 'just now' : `${formatDuration(now - timestamp)} ago`;

/** A date and time in the browser's zone, without seconds: `Tue 25 Nov, 14:05`. */
export function formatTime(timestamp: number): string {
  return new Date(timestamp).toLocaleString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** A series' identity as one line: `shop.login.time{host=web-1}`. */
export function seriesLabel(
  name: string | null,
  dimensions: Readonly<Record<string, string>> | null,
): string {
  const pairs = Object.entries(dimensions ?? {}).map(([key, value]) => `${key}=${value}`);
  return `${name ?? '(deleted series)'}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''}`;
}

const twoDigits = (value: number): string => String(value).padStart(2, '0');

/**
 * An instant as a `datetime-local` input shows it: the browser's zone, to the minute (seconds dropped).
 *
 * @example localInputValue(Date.UTC(2025, 10, 25, 12, 0, 30)) // '2025-11-25T12:00' in UTC
 */
export function localInputValue(timestamp: number): string {
  const date = new Date(timestamp);
  return (
    `${date.getFullYear()}-${twoDigits(date.getMonth() + 1)}-${twoDigits(date.getDate())}` +
    `T${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}`
  );
}

/** What a `datetime-local` input says, as epoch ms in the browser's zone; undefined when empty or not a date. */
export function readLocalInput(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined;
  const timestamp = new Date(value).getTime();
  return Number.isFinite(timestamp) ? timestamp : undefined;
}
