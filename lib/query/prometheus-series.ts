/**
 * Normalcy's series as Prometheus sees them (the `/api/v1/*` query API): how a catalog entry becomes a label
 * set, which entries a selector matches, and the samples PromQL evaluates, read through the query store port
 * exactly as `GET /v1/series/{id}/points` reads points and bands.
 *
 * - A series is `{__name__="<name>", <dimension>="<value>"...}`. Normalcy names may hold characters Prometheus
 *   names may not (`shop.requests`): such a series is selected with `{__name__="shop.requests"}`.
 * - Its samples are its values at its own step (one per bucket, the mean of the bucket's points; the sum for
 *   counters), stamped with the bucket's start: points sent on step boundaries come back as sent.
 * - Its band is five more series, `normalcy_expected`, `normalcy_lower`, `normalcy_upper`, `normalcy_anomaly`
 *   (1 or 0) and `normalcy_score`, with the series' dimensions and `metric="<name>"` (a dimension called
 *   `metric` is hidden in them), one sample per bucket the band job judged. Only a selector with a `__name__`
 *   matcher selects band series.
 */
import { bucketStart, defaultStepMs } from '../metrics/step.ts';
import type { QueryStore, ReadOptions } from '../ports/query-store.ts';
import type { SeriesPosition, SeriesQuery } from '../ports/series-catalog.ts';
import type { SeriesInfo } from '../ports/series-store.ts';
import type { LabelMatcher } from './promql/ast.ts';
import { PromqlExecutionError } from './promql/errors.ts';
import {
  type SampleSource,
  type SelectOptions,
  type SeriesSamples,
  tooManySamples,
} from './promql/evaluate.ts';
import { compileMatcher, type Labels, matchesAll, metricNameLabel } from './promql/labels.ts';

/** The band series and the band figure each carries. */
export const bandSeries = {
  normalcy_expected: 'expected',
  normalcy_lower: 'lower',
  normalcy_upper: 'upper',
  normalcy_anomaly: 'anomaly',
  normalcy_score: 'score',
} as const;
export type BandSeriesName = keyof typeof bandSeries;
export const bandSeriesNames = Object.keys(bandSeries) as BandSeriesName[];

/** The label of a band series that names the series it is the band of. */
export const bandMetricLabel = 'metric';

/** The catalog as the Prometheus API reads it: filtered pages in (name, id) order. */
export interface PrometheusCatalog {
  findSeries(query: SeriesQuery): Promise<{ series: SeriesInfo[]; next: SeriesPosition | undefined }>;
}

/** A series' labels: its name as `__name__` and its dimensions (empty values are no label, as in Prometheus). */
export function seriesLabels(series: Pick<SeriesInfo, 'name' | 'dimensions'>): Labels {
  const labels: Record<string, string> = { [metricNameLabel]: series.name };
  for (const [name, value] of Object.entries(series.dimensions)) if (value !== '') labels[name] = value;
  return labels;
}

/** The labels of one of a series' band series. */
export function bandLabels(series: Pick<SeriesInfo, 'name' | 'dimensions'>, band: BandSeriesName): Labels {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(series.dimensions)) if (value !== '') labels[name] = value;
  labels[bandMetricLabel] = series.name;
  labels[metricNameLabel] = band;
  return labels;
}

/** One series a selector matched: a catalog entry, itself or one of its band series. */
export interface MatchedSeries {
  readonly series: SeriesInfo;
  readonly labels: Labels;
  /** The band series this is, when it is one. */
  readonly band?: BandSeriesName;
}

export interface MatchOptions {
  readonly maxSeries: number;
  /** Only series with a point at or after this time (epoch ms). */
  readonly since?: number;
  readonly signal?: AbortSignal;
}

const catalogPageSize = 500;

/**
 * The series (and band series) matching every matcher, in catalog order. An equality matcher on the name (or,
 * for band series, on `metric`) narrows the catalog read to that name's prefix; other matchers filter the
 * entries read. Throws a 422 past `maxSeries` matches.
 */
export async function matchSeries(
  catalog: PrometheusCatalog,
  matchers: readonly LabelMatcher[],
  options: MatchOptions,
): Promise<MatchedSeries[]> {
  const compiled = matchers.map((matcher) => compileMatcher(matcher));
  const nameMatchers = compiled.filter((matcher) => matcher.label === metricNameLabel);
  // Band series answer only selectors that name them (by a `__name__` matcher): `{host="a"}` selects the
  // series of host a, not their bands as well.
  const bands =
    nameMatchers.length === 0
      ? []
      : bandSeriesNames.filter((band) => nameMatchers.every((matcher) => matcher.test(band)));
  const prefix = catalogPrefix(matchers, bands.length > 0);
  const found: MatchedSeries[] = [];
  let after: SeriesPosition | undefined;
  do {
    if (options.signal?.aborted) throw options.signal.reason;
    const page = await catalog.findSeries({ prefix, limit: catalogPageSize, after });
    for (const series of page.series) {
      if (options.since !== undefined && series.lastTimestamp < options.since) continue;
      const own = seriesLabels(series);
      if (!bandSeriesNames.includes(series.name as BandSeriesName) && matchesAll(own, compiled)) {
        found.push({ series, labels: own });
      }
      for (const band of bands) {
        const labels = bandLabels(series, band);
        if (matchesAll(labels, compiled)) found.push({ series, labels, band });
      }
      if (found.length > options.maxSeries) {
        throw new PromqlExecutionError(
          `the selector ${describeMatchers(matchers)} matches more than ${options.maxSeries} series: narrow it`,
        );
      }
    }
    after = page.next;
  } while (after);
  return found;
}

/** The name prefix that every match has, when the matchers fix one (else the whole catalog is read). */
function catalogPrefix(matchers: readonly LabelMatcher[], bandsPossible: boolean): string | undefined {
  const equal = (label: string) =>
    matchers.find((matcher) => matcher.label === label && matcher.operator === '=' && matcher.value !== '')
      ?.value;
  const name = equal(metricNameLabel);
  if (name !== undefined && !bandsPossible) return name;
  if (name !== undefined && name in bandSeries) return equal(bandMetricLabel);
  return undefined;
}

const describeMatchers = (matchers: readonly LabelMatcher[]): string =>
  `{${matchers.map((matcher) => `${matcher.label}${matcher.operator}${JSON.stringify(matcher.value)}`).join(',')}}`;

const readConcurrency = 8;

/**
 * The PromQL sample source over the catalog and the query store: each matched series' values (or band
 * figures) at its own step, in `[from, to]`. Refuses (422) before reading when the window and series would
 * hold more samples than allowed.
 */
export function storeSampleSource(catalog: PrometheusCatalog, queries: QueryStore): SampleSource {
  return {
    async select(matchers, from, to, options: SelectOptions): Promise<SeriesSamples[]> {
      const matched = await matchSeries(catalog, matchers, {
        maxSeries: options.maxSeries,
        since: from,
        signal: options.signal,
      });
      let expected = 0;
      for (const entry of matched) expected += Math.floor((to - from) / stepOf(entry.series)) + 1;
      if (expected > options.maxSamples) throw tooManySamples();
      const read: ReadOptions = { signal: options.signal };
      const bandsOf = new Map<string, Promise<Awaited<ReturnType<QueryStore['readBandBuckets']>>>>();
      const results: SeriesSamples[] = [];
      for (let offset = 0; offset < matched.length; offset += readConcurrency) {
        const batch = matched.slice(offset, offset + readConcurrency);
        const samples = await Promise.all(
          batch.map(async (entry): Promise<SeriesSamples> => {
            const step = stepOf(entry.series);
            const first = bucketStart(from, step);
            const end = bucketStart(to, step) + step;
            if (entry.band === undefined) {
              const buckets = await queries.readValueBuckets(
                {
                  seriesId: entry.series.id,
                  type: entry.series.type,
                  from: first,
                  to: end,
                  seriesStepMs: step,
                  stepMs: step,
                },
                read,
              );
              const kept = buckets.filter((bucket) => bucket.start >= from && bucket.start <= to);
              return {
                labels: entry.labels,
                timestamps: kept.map((bucket) => bucket.start),
                values: kept.map((bucket) => bucket.avg),
              };
            }
            let bands = bandsOf.get(entry.series.id);
            if (!bands) {
              bands = queries.readBandBuckets(entry.series.id, first, end, step, read);
              bandsOf.set(entry.series.id, bands);
            }
            const field = bandSeries[entry.band];
            const timestamps: number[] = [];
            const values: number[] = [];
            for (const band of await bands) {
              if (band.start < from || band.start > to) continue;
              const value = field === 'anomaly' ? Number(band.anomaly) : band[field];
              if (value === null || value === undefined || Number.isNaN(value)) continue;
              timestamps.push(band.start);
              values.push(value);
            }
            return { labels: entry.labels, timestamps, values };
          }),
        );
        results.push(...samples.filter((series) => series.timestamps.length > 0));
      }
      return results;
    },
  };
}

const stepOf = (series: SeriesInfo): number => series.stepMs ?? defaultStepMs;

/** The label sets of the series (and band series) matching any of the selectors, without duplicates. */
export async function labelSets(
  catalog: PrometheusCatalog,
  selectors: readonly (readonly LabelMatcher[])[],
  options: MatchOptions,
): Promise<Labels[]> {
  const sets = new Map<string, Labels>();
  for (const matchers of selectors) {
    for (const entry of await matchSeries(catalog, matchers, options)) {
      sets.set(`${entry.series.id}/${entry.band ?? ''}`, entry.labels);
    }
    if (sets.size > options.maxSeries) {
      throw new PromqlExecutionError(
        `the selectors match more than ${options.maxSeries} series: narrow them`,
      );
    }
  }
  return [...sets.values()];
}

/** The labels every series has when no selector is given: its name, its dimensions; bands add `metric`. */
export async function allLabelSets(catalog: PrometheusCatalog, options: MatchOptions): Promise<Labels[]> {
  return labelSets(catalog, [[{ label: metricNameLabel, operator: '=~', value: '.+' }]], options);
}
