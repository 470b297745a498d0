import type { MetricKind } from './engine.ts';

/**
 * What values a kind of metric allows, so that a band never promises the impossible: a count, a latency or a
 * percentage is never negative, a ratio never leaves [0, 1], a percentage never passes 100. An 'auto' series
 * (and a gauge) is bounded below by zero only while every value it has shown is non-negative.
 */
export interface KindBounds {
  readonly lower: number;
  readonly upper: number;
}

/**
 * The bounds of a kind, given the smallest value the series has shown. O(1).
 *
 * @example kindBounds('ratio', 0.2) // { lower: 0, upper: 1 }
 * @example kindBounds('auto', -3) // { lower: -Infinity, upper: Infinity }
 */
export function kindBounds(kind: MetricKind, smallestSeen: number): KindBounds {
  switch (kind) {
    case 'ratio':
      return { lower: 0, upper: 1 };
    case 'percent':
      return { lower: 0, upper: 100 };
    case 'count':
    case 'latency':
      return { lower: 0, upper: Number.POSITIVE_INFINITY };
    case 'gauge':
    case 'auto':
      return { lower: smallestSeen >= 0 ? 0 : Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  }
}

/**
 * Clamps a value into bounds. O(1).
 *
 * @example clampToBounds(-2, { lower: 0, upper: 1 }) // 0
 */
export function clampToBounds(value: number, bounds: KindBounds): number {
  return Math.min(bounds.upper, Math.max(bounds.lower, value));
}
