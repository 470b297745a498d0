import type { Dimensions } from '../metrics/point.ts';
import type { SeriesSelector } from './model.ts';

/** What a selector is matched against: a series' identity. */
export interface SeriesIdentity {
  readonly id: string;
  readonly name: string;
  readonly dimensions: Dimensions;
}

const patternCache = new Map<string, RegExp>();

/**
 * Whether `text` matches `pattern`, where `*` stands for any run of characters (dots included) and everything
 * else is literal. O(length) after the pattern's first use.
 *
 * @example matchesPattern('shop.*.time', 'shop.login.time') // true
 */
export function matchesPattern(pattern: string, text: string): boolean {
  if (!pattern.includes('*')) return pattern === text;
  let compiled = patternCache.get(pattern);
  if (!compiled) {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    compiled = new RegExp(`^${source}$`, 's');
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(pattern, compiled);
  }
  return compiled.test(text);
}

/** Whether a series is one a selector is about (every field given must match; a missing selector matches all). */
export function selects(selector: SeriesSelector | null | undefined, series: SeriesIdentity): boolean {
  if (!selector) return true;
  if (selector.seriesId !== undefined && selector.seriesId !== series.id) return false;
  if (selector.metric !== undefined && !matchesPattern(selector.metric, series.name)) return false;
  for (const [key, pattern] of Object.entries(selector.dimensions ?? {})) {
    const value = series.dimensions[key];
    if (value === undefined || !matchesPattern(pattern, value)) return false;
  }
  return true;
}
