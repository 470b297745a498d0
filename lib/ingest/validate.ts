import { codePointName, describeValue, hiddenCharacter, type Problem } from '../errors.ts';
import { ingestLimits } from '../metrics/limits.ts';
import {
  type Dimensions,
  isMetricType,
  type MetricPoint,
  type MetricType,
  metricTypes,
} from '../metrics/point.ts';
import { dayMs, minuteMs } from '../time.ts';

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
