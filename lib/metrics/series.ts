import { createHash } from 'node:crypto';
import type { Dimensions, MetricPoint, SeriesPoint } from './point.ts';

/**
 * The canonical text of a series identity: the name, then the dimensions sorted by key.
 * Two points belong to the same series exactly when their keys are equal.
 *
 * @example seriesKey('shop.login.time', { region: 'eu', host: 'web-1' }) // 'shop.login.time{host=web-1,region=eu}'
 */
export function seriesKey(name: string, dimensions: Dimensions): string {
  const keys = Object.keys(dimensions).sort();
  if (keys.length === 0) return name;
  const pairs = keys.map((key) => `${escapePart(key)}=${escapePart(dimensions[key] ?? '')}`);
  return `${name}{${pairs.join(',')}}`;
}

/** A short, URL-safe, stable id for a series: the first 16 hex digits of the SHA-256 of its key. */
export function seriesId(name: string, dimensions: Dimensions): string {
  return createHash('sha256').update(seriesKey(name, dimensions)).digest('hex').slice(0, 16);
}

/** Attaches the series id to a point. */
export function withSeriesId(point: MetricPoint): SeriesPoint {
  return { ...point, seriesId: seriesId(point.name, point.dimensions) };
}

/** Sorts the dimensions by key so that equal identities serialise to equal JSON. */
export function sortedDimensions(dimensions: Dimensions): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(dimensions).sort()) sorted[key] = dimensions[key] ?? '';
  return sorted;
}

const escapePart = (text: string): string => text.replace(/[\\,={}]/g, (c) => `\\${c}`);
