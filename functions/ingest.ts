import { acceptBatch } from '../lib/ingest/accept.ts';
import { parseNativeJson } from '../lib/ingest/native-json.ts';
import type { Clock, KeyStore, MetricStore, SeriesStore } from '../lib/ports.ts';
import { cloudIngestDependencies } from './shared/cloud.ts';
import { bodyText, httpHandler, json, type RouteDefinition } from './shared/http.ts';
import { logger } from './shared/logger.ts';

export interface IngestDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
}

/** The ingest routes: every format an agent may send. */
export const ingestRoutes: readonly RouteDefinition<IngestDependencies>[] = [
  {
    method: 'POST',
    path: '/v1/metrics',
    scope: 'ingest',
    async handle(event, { dependencies }) {
      const batch = parseNativeJson(bodyText(event), dependencies.clock.now());
      const outcome = await acceptBatch(batch, dependencies);
      if (outcome.rejected > 0) logger.warn('items rejected', { rejectedItems: outcome.rejected });
      return json(200, outcome);
    },
  },
];

export const createIngestHandler = (dependencies: () => IngestDependencies) =>
  httpHandler(ingestRoutes, dependencies);

export const handler = createIngestHandler(cloudIngestDependencies);
