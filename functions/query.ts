import { encodeCursor } from '../lib/query/cursor.ts';
import { readAnomalyQuery, readPointsWindow, readSeriesQuery } from '../lib/query/parameters.ts';
import {
  anomalyViews,
  readSeriesPoints,
  requireSeries,
  seriesCursor,
  seriesViews,
} from '../lib/query/read.ts';
import { cloudQueryDependencies } from './shared/cloud-query.ts';
import { gzipResponses } from './shared/compression.ts';
import type { QueryDependencies } from './shared/dependencies.ts';
import { type HttpResponse, httpHandler, json, type RouteDefinition } from './shared/http.ts';
import { prometheusRoutes } from './shared/prometheus-routes.ts';
import { catalogOf, withinBudget } from './shared/read-budget.ts';

/**
 * The dashboard's Content-Security-Policy as a header: the one its meta tag carries (dashboard/build.ts hashes
 * the inline script and styles into it), and `frame-ancestors 'none'`, which browsers obey only in a header.
 */
function dashboardPolicy(page: string): string {
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page);
  if (!meta?.[1]) throw new Error('the dashboard page has no Content-Security-Policy meta tag');
  return `${meta[1]}; frame-ancestors 'none'`;
}

const html = (body: string): HttpResponse => ({
  statusCode: 200,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': dashboardPolicy(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  },
  body,
});

/**
 * The read side: the dashboard, the API document, series, points with their bands, anomalies, health, and
 * Prometheus's query API.
 */
export const queryRoutes: readonly RouteDefinition<QueryDependencies>[] = [
  {
    method: 'GET',
    path: '/',
    scope: undefined,
    handle: async (_event, { dependencies }) => html(await dependencies.documents.dashboardHtml()),
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    scope: undefined,
    handle: async (_event, { dependencies }) => json(200, await dependencies.documents.openApi()),
  },
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
    async handle(event, context) {
      const query = readSeriesQuery(event.queryStringParameters ?? {});
      const { queries } = context.dependencies;
      const page = await catalogOf(context.dependencies).findSeries(query);
      const series = await withinBudget(context, (options) => seriesViews(queries, page.series, options));
      return json(200, { series, nextCursor: seriesCursor(page.next) });
    },
  },
  {
    method: 'GET',
    path: '/v1/series/{id}',
    scope: 'read',
    async handle(event, context) {
      const found = await requireSeries(catalogOf(context.dependencies), event.pathParameters?.id);
      const [series] = await withinBudget(context, (options) =>
        seriesViews(context.dependencies.queries, [found], options),
      );
      return json(200, { series });
    },
  },
  {
    method: 'GET',
    path: '/v1/series/{id}/points',
    scope: 'read',
    async handle(event, context) {
      const { dependencies } = context;
      const series = await requireSeries(catalogOf(dependencies), event.pathParameters?.id);
      const window = readPointsWindow(event.queryStringParameters ?? {}, series, dependencies.clock.now());
      return json(
        200,
        await withinBudget(context, (options) =>
          readSeriesPoints(dependencies.queries, series, window, options),
        ),
      );
    },
  },
  {
    method: 'GET',
    path: '/v1/anomalies',
    scope: 'read',
    async handle(event, context) {
      const { dependencies } = context;
      const query = readAnomalyQuery(event.queryStringParameters ?? {}, dependencies.clock.now());
      const records = await withinBudget(context, (options) =>
        dependencies.queries.findAnomalies(query, options),
      );
      const last = records.at(-1);
      const nextCursor =
        records.length === query.limit && last
          ? encodeCursor({ timestamp: last.timestamp, seriesId: last.seriesId })
          : null;
      const anomalies = await anomalyViews(catalogOf(dependencies), records);
      return json(200, { from: query.from, to: query.to, anomalies, nextCursor });
    },
  },
  ...prometheusRoutes,
];

export const createQueryHandler = (dependencies: () => QueryDependencies) =>
  httpHandler(queryRoutes, dependencies).use(gzipResponses());

export const handler = createQueryHandler(cloudQueryDependencies);
