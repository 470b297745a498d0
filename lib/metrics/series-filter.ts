import type { Dimensions } from './point.ts';

/** What the catalog filters on, beside the name prefix stores apply themselves. */
export interface SeriesFilter {
  readonly prefix?: string;
  readonly pattern?: string;
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly anomalous?: boolean;
}

/**
 * A glob as a regular expression matching the whole text: `*` is any run of characters (dots included),
 * `?` exactly one; everything else is literal.
 *
 * @example globToRegExp('shop.*.time').test('shop.login.time') // true
 */
export function globToRegExp(glob: string): RegExp {
  const source = [...glob]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.+()[\]{}|]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'su');
}

/** A predicate for series that pass every filter given (an empty filter passes everything). */
export function seriesMatcher(
  filter: SeriesFilter,
): (series: { name: string; dimensions: Dimensions; anomalous: boolean }) => boolean {
  const pattern = filter.pattern === undefined ? undefined : globToRegExp(filter.pattern);
  const dimensions = Object.entries(filter.dimensions ?? {}).map(
    ([key, value]) => [key, globToRegExp(value)] as const,
  );
  return (series) =>
    (filter.prefix === undefined || series.name.startsWith(filter.prefix)) &&
    (pattern === undefined || pattern.test(series.name)) &&
    (filter.anomalous === undefined || series.anomalous === filter.anomalous) &&
    dimensions.every(([key, value]) => {
      const actual = series.dimensions[key];
      return actual !== undefined && value.test(actual);
    });
}
