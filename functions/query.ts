import { ValidationError } from '../lib/errors.ts';
import type { BandStore, Clock, KeyStore, MetricStore, SeriesStore } from '../lib/ports.ts';
import { readSeriesPoints, requireSeries, timeRange } from '../lib/query/read.ts';
import { cloudQueryDependencies } from './shared/cloud.ts';
import { httpHandler, json, type RouteDefinition } from './shared/http.ts';

export interface QueryDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly bands: BandStore;
  readonly keys: KeyStore;
  readonly clock: Clock;
}

const maxAnomalies = 1000;

/** The read side: series, points with their bands, anomalies, health. */
export const queryRoutes: readonly RouteDefinition<QueryDependencies>[] = [
  {
    method: 'GET',
    path: '/health',
    scope: undefined,
    handle: async (_event, { dependencies }) => json(200, { status: 'ok', time: dependencies.clock.now() }),
  },
  {
    method: 'GET',
    path: '/v1/series',
    scope: 'read',
    handle: async (_event, { dependencies }) => json(200, { series: await dependencies.series.listSeries() }),
  },
  {
    method: 'GET',
    path: '/v1/series/{id}',
    scope: 'read',
    handle: async (event, { dependencies }) =>
      json(200, { series: await requireSeries(dependencies.series, event.pathParameters?.id) }),
  },
  {
    method: 'GET',
    path: '/v1/series/{id}/points',
    scope: 'read',
    async handle(event, { dependencies }) {
      const series = await requireSeries(dependencies.series, event.pathParameters?.id);
      const range = timeRange(event.queryStringParameters ?? {}, dependencies.clock.now());
      return json(200, await readSeriesPoints(dependencies, series, range));
    },
  },
  {
    method: 'GET',
    path: '/v1/anomalies',
    scope: 'read',
    async handle(event, { dependencies }) {
      const range = timeRange(event.queryStringParameters ?? {}, dependencies.clock.now());
      const records = await dependencies.bands.listAnomalies(range.from, range.to, maxAnomalies);
      const byId = new Map((await dependencies.series.listSeries()).map((series) => [series.id, series]));
      if (records.length > maxAnomalies)
        throw new ValidationError('too many anomalies: narrow the time range');
      const anomalies = records.map((record) => {
        const series = byId.get(record.seriesId);
        return { ...record, name: series?.name, dimensions: series?.dimensions };
      });
      return json(200, { from: range.from, to: range.to, anomalies });
    },
  },
];

export const createQueryHandler = (dependencies: () => QueryDependencies) =>
  httpHandler(queryRoutes, dependencies);

export const handler = createQueryHandler(cloudQueryDependencies);
