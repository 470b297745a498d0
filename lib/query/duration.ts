import { dayMs, hourMs, minuteMs } from '../time.ts';

const units = [
  ['d', dayMs],
  ['h', hourMs],
  ['m', minuteMs],
  ['s', 1_000],
] as const;

/**
 * Reads a duration: whole milliseconds (`300000`) or a number with a unit `s`, `m`, `h` or `d` (`5m`, `1.5h`).
 * Returns the milliseconds, or undefined when the text is neither.
 *
 * @example parseDuration('5m') // 300000
 */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] === 'ms' ? 1 : (units.find(([name]) => name === match[2])?.[1] ?? Number.NaN);
  const ms = amount * unit;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * The shortest way to write a duration with one unit: `5m`, `1d`, `90s`, or `1500ms`.
 *
 * @example formatDuration(1_800_000) // '30m'
 */
export function formatDuration(ms: number): string {
  for (const [name, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${name}`;
  return `${ms}ms`;
}
