/**
 * The catalog as listings show it: each entry with the band job's latest figures for the series (step,
 * "anomalous now", learned traits, newest point and value), read from the summaries document the job saves
 * once per run, instead of per-series writes to the catalog.
 */
import type { SeriesCatalog, SeriesPage, SeriesPosition, SeriesQuery } from '../ports/series-catalog.ts';
import type { SeriesInfo } from '../ports/series-store.ts';
import type {
  SeriesSummariesSnapshot,
  SeriesSummary,
  SeriesSummaryStore,
} from '../ports/series-summary-store.ts';

/** A catalog entry with the newest value the band job saw (absent when the job has not seen the series). */
export type SummarizedSeries = SeriesInfo & { readonly lastValue?: number | null };

/** What the query side reads series through. */
export interface SummarizedCatalog {
  findSeries(query: SeriesQuery): Promise<{ series: SummarizedSeries[]; next: SeriesPosition | undefined }>;
  getSeries(id: string): Promise<SummarizedSeries | undefined>;
}

/** Entries one filtered listing examines at most before it answers with a cursor (bounds its latency). */
const maxExaminedPerPage = 5_000;

/** The latest summaries per store, kept across requests of a warm container (re-read only when changed). */
const cached = new WeakMap<SeriesSummaryStore, SeriesSummariesSnapshot>();

async function currentSummaries(store: SeriesSummaryStore): Promise<ReadonlyMap<string, SeriesSummary>> {
  const known = cached.get(store);
  const found = await store.loadSummaries(known?.version);
  if (found === 'unchanged') return known?.summaries ?? new Map();
  if (found === undefined) return new Map();
  cached.set(store, found);
  return found.summaries;
}

/** An entry with its summary laid over it (the summary is newer than anything the catalog holds). */
export function summarized(series: SeriesInfo, summary: SeriesSummary | undefined): SummarizedSeries {
  if (!summary) return series;
  return {
    ...series,
    lastTimestamp: Math.max(series.lastTimestamp, summary.lastTimestamp),
    lastValue: summary.lastTimestamp >= series.lastTimestamp ? summary.lastValue : undefined,
    stepMs: summary.stepMs,
    anomalous: summary.anomalous,
    kind: summary.kind,
    seasonality: summary.seasonality,
    fault: summary.fault ?? null,
  };
}

/**
 * The catalog with summaries laid over it. The `anomalous` filter applies to the summarized entries: the
 * catalog is paged through without it until a page is full, the catalog ends, or {@link maxExaminedPerPage}
 * entries were examined (the page then ends early with a cursor, as the port allows).
 */
export function summarizedCatalog(
  catalog: SeriesCatalog & { getSeries(id: string): Promise<SeriesInfo | undefined> },
  summaries: SeriesSummaryStore,
): SummarizedCatalog {
  return {
    async getSeries(id) {
      const series = await catalog.getSeries(id);
      return series && summarized(series, (await currentSummaries(summaries)).get(id));
    },
    async findSeries(query) {
      const all = await currentSummaries(summaries);
      const { anomalous, ...unfiltered } = query;
      const found: SummarizedSeries[] = [];
      let after = query.after;
      let examined = 0;
      while (true) {
        const page: SeriesPage = await catalog.findSeries({ ...unfiltered, after, limit: query.limit });
        for (const [index, entry] of page.series.entries()) {
          examined += 1;
          const series = summarized(entry, all.get(entry.id));
          if (anomalous !== undefined && series.anomalous !== anomalous) continue;
          found.push(series);
          if (found.length === query.limit) {
            const last = index === page.series.length - 1 && page.next === undefined;
            return { series: found, next: last ? undefined : { name: series.name, id: series.id } };
          }
        }
        if (page.next === undefined) return { series: found, next: undefined };
        after = page.next;
        if (examined >= maxExaminedPerPage) return { series: found, next: after };
      }
    },
  };
}
