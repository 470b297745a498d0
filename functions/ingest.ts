import { acceptBatch } from '../lib/ingest/accept.ts';
import { ingestLimits } from '../lib/ingest/limits.ts';
import { parseNativeJson } from '../lib/ingest/native-json.ts';
import { type TimeWindow, timeWindow } from '../lib/ingest/validate.ts';
import type { Clock, KeyStore, MetricStore, SeriesStore } from '../lib/ports.ts';
import { cloudIngestDependencies } from './shared/cloud.ts';
import {
  bodyText,
  type HttpEvent,
  httpHandler,
  json,
  type RouteContext,
  type RouteDefinition,
} from './shared/http.ts';

export interface IngestDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
  /** How old a point may be (ms); the store's retention. Default {@link ingestLimits.maxAgeMs}. */
  readonly maxPointAgeMs?: number;
}

/** Time kept back from the function's budget to record series and answer after the points are written. */
const answerMarginMs = 3_000;

type IngestContext = RouteContext<IngestDependencies>;

/** The window of timestamps this request may carry. */
const windowOf = ({ dependencies }: IngestContext): TimeWindow =>
  timeWindow(dependencies.clock.now(), dependencies.maxPointAgeMs ?? ingestLimits.maxAgeMs);

/** Writes a parsed batch within the function's time budget. */
const accept = (batch: Parameters<typeof acceptBatch>[0], { dependencies, lambda }: IngestContext) =>
  acceptBatch(batch, dependencies, {
    deadline: Date.now() + lambda.getRemainingTimeInMillis() - answerMarginMs,
  });

/** The ingest routes: every format an agent may send. */
export const ingestRoutes: readonly RouteDefinition<IngestDependencies>[] = [
  {
    method: 'POST',
    path: '/v1/metrics',
    scope: 'ingest',
    async handle(event: HttpEvent, context) {
      const batch = parseNativeJson(bodyText(event), windowOf(context));
      return json(200, await accept(batch, context));
    },
  },
];

export const createIngestHandler = (dependencies: () => IngestDependencies) =>
  httpHandler(ingestRoutes, dependencies);

export const handler = createIngestHandler(cloudIngestDependencies);
