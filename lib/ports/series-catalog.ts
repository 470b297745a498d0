/**
 * The series catalog port: filtered pages of series in (name, id) order, as the query API reads them.
 */
import type { SeriesInfo } from './series-store.ts';

/** Where a page of the series catalog stopped: series are ordered by name, then id. */
export interface SeriesPosition {
  readonly name: string;
  readonly id: string;
}

/** A filtered page of the series catalog. */
export interface SeriesQuery {
  /** Only names starting with this. */
  readonly prefix?: string;
  /** Only names matching this glob (`*` any run of characters, `?` one character). */
  readonly pattern?: string;
  /** Only series with these dimensions; a value may be a glob. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Only series that are (or are not) anomalous now. */
  readonly anomalous?: boolean;
  /** At most this many series. */
  readonly limit: number;
  /** Start after this position (from the previous page's `next`). */
  readonly after?: SeriesPosition;
}

export interface SeriesPage {
  readonly series: SeriesInfo[];
  /** Where the next page starts; undefined when the catalog holds no more matches. */
  readonly next: SeriesPosition | undefined;
}

/** The series catalog as the query API reads it: filtered pages in (name, id) order. */
export interface SeriesCatalog {
  /**
   * A page of matching series. A page may hold fewer than `limit` series (even none) while `next` is set,
   * when a store stops after examining its share of the catalog; the caller continues from `next`.
   */
  findSeries(query: SeriesQuery): Promise<SeriesPage>;
}
