/**
 * What each HTTP function needs, as ports. The function (`functions/<name>.ts`) and the compositions that
 * build it (`cloud-<name>.ts` here, the local server) both import these from this file, so the dependency
 * points one way: function → composition → adapters, never back.
 */
import type { AlertStore } from '../../lib/ports/alert-store.ts';
import type { BandStore } from '../../lib/ports/band-store.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { FeedbackStore } from '../../lib/ports/feedback-store.ts';
import type { IncidentStore } from '../../lib/ports/incident-store.ts';
import type { KeyStore } from '../../lib/ports/key-store.ts';
import type { MetricStore } from '../../lib/ports/metric-store.ts';
import type { QueryStore } from '../../lib/ports/query-store.ts';
import type { SeriesCatalog } from '../../lib/ports/series-catalog.ts';
import type { SeriesStore } from '../../lib/ports/series-store.ts';
import type { SeriesSummaryStore } from '../../lib/ports/series-summary-store.ts';
import type { QueryDocuments } from '../../lib/query/documents.ts';

export interface IngestDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
  /** How old a point may be (ms); the store's retention. Default `ingestLimits.maxAgeMs`. */
  readonly maxPointAgeMs?: number;
}

export interface QueryDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore & SeriesCatalog;
  readonly bands: BandStore;
  /** The read side's downsampled queries (Timestream in the cloud, SQLite locally). */
  readonly queries: QueryStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
  readonly documents: QueryDocuments;
  /**
   * The band job's per-series summaries (step, anomalous now, learned traits, newest value): laid over the
   * catalog's entries when given. Without it the catalog's own figures are shown.
   */
  readonly summaries?: SeriesSummaryStore;
}

export interface AlertsDependencies {
  readonly alerts: AlertStore;
  /** Incidents (`/v1/incidents`); the incident routes answer 404 without it. */
  readonly incidents?: IncidentStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
  /** The series catalog, for replays (the series' identity and step). */
  readonly series: SeriesCatalog & Pick<SeriesStore, 'getSeries'>;
  /** The band job's summaries (each series' step), laid over the catalog when given, as the query API does. */
  readonly summaries?: SeriesSummaryStore;
  /** The reads of `GET /v1/series/{id}/points`, for replays: buckets and their bands. */
  readonly queries: QueryStore;
  /** A series' first point, for replays (band rules at another sensitivity wait a day from it). */
  readonly metrics: Pick<MetricStore, 'earliestTimestamp'>;
  /** "This was normal" and "this was an incident" (functions/shared/feedback-routes.ts). */
  readonly feedback: FeedbackStore;
}
