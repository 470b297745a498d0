import type { KeyScope } from '../ports/key-store.ts';

/** The Lambda functions behind the HTTP API. */
export type ApiFunction = 'ingest' | 'query' | 'alerts';

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** API Gateway path syntax: `{id}` is a path parameter. */
  readonly path: string;
  readonly function: ApiFunction;
  /** The key scope the route needs; undefined means no key. */
  readonly scope: KeyScope | undefined;
}

/** Every route of the HTTP API: the stack creates them, the functions route them, local mode serves them. */
export const apiRoutes = [
  { method: 'POST', path: '/v1/metrics', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/otlp/v1/metrics', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/v1/influx/write', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/api/v2/write', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/v1/collectd', function: 'ingest', scope: 'ingest' },
  // Netuitive agents carry the key in the path (API Gateway access logs show paths: see docs/ingest.md).
  { method: 'POST', path: '/ingest/{apiKey}', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/ingest/infrastructure/{apiKey}', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/ingest/statsd/{apiKey}', function: 'ingest', scope: 'ingest' },
  { method: 'POST', path: '/ingest/events/{apiKey}', function: 'ingest', scope: 'ingest' },
  { method: 'GET', path: '/v1/keys', function: 'ingest', scope: 'admin' },
  { method: 'POST', path: '/v1/keys', function: 'ingest', scope: 'admin' },
  { method: 'DELETE', path: '/v1/keys/{id}', function: 'ingest', scope: 'admin' },
  { method: 'HEAD', path: '/time', function: 'ingest', scope: undefined },
  { method: 'GET', path: '/time', function: 'ingest', scope: undefined },
  // Prometheus remote write 1.0 (snappy protobuf WriteRequest; functions/ingest.ts, lib/ingest/remote-write.ts).
  { method: 'POST', path: '/api/v1/write', function: 'ingest', scope: 'ingest' },
  { method: 'GET', path: '/health', function: 'query', scope: undefined },
  { method: 'GET', path: '/v1/series', function: 'query', scope: 'read' },
  { method: 'GET', path: '/v1/series/{id}', function: 'query', scope: 'read' },
  { method: 'GET', path: '/v1/series/{id}/points', function: 'query', scope: 'read' },
  { method: 'GET', path: '/v1/anomalies', function: 'query', scope: 'read' },
  { method: 'GET', path: '/', function: 'query', scope: undefined },
  { method: 'GET', path: '/v1/openapi.json', function: 'query', scope: undefined },
  // Prometheus HTTP query API (functions/shared/prometheus-routes.ts): PromQL for Grafana and promtool.
  { method: 'GET', path: '/api/v1/query', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/query', function: 'query', scope: 'read' },
  { method: 'GET', path: '/api/v1/query_range', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/query_range', function: 'query', scope: 'read' },
  { method: 'GET', path: '/api/v1/series', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/series', function: 'query', scope: 'read' },
  { method: 'GET', path: '/api/v1/labels', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/labels', function: 'query', scope: 'read' },
  { method: 'GET', path: '/api/v1/label/{name}/values', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/label/{name}/values', function: 'query', scope: 'read' },
  { method: 'GET', path: '/api/v1/metadata', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/metadata', function: 'query', scope: 'read' },
  { method: 'GET', path: '/api/v1/status/buildinfo', function: 'query', scope: 'read' },
  { method: 'POST', path: '/api/v1/status/buildinfo', function: 'query', scope: 'read' },
  { method: 'GET', path: '/v1/rules', function: 'alerts', scope: 'read' },
  { method: 'POST', path: '/v1/rules', function: 'alerts', scope: 'admin' },
  { method: 'GET', path: '/v1/rules/{id}', function: 'alerts', scope: 'read' },
  { method: 'PUT', path: '/v1/rules/{id}', function: 'alerts', scope: 'admin' },
  { method: 'DELETE', path: '/v1/rules/{id}', function: 'alerts', scope: 'admin' },
  // What a rule would have paged on a series: read only (nothing stored or sent), so a read key may ask.
  { method: 'POST', path: '/v1/series/{id}/replay', function: 'alerts', scope: 'read' },
  { method: 'GET', path: '/v1/mutes', function: 'alerts', scope: 'read' },
  { method: 'POST', path: '/v1/mutes', function: 'alerts', scope: 'admin' },
  { method: 'DELETE', path: '/v1/mutes/{id}', function: 'alerts', scope: 'admin' },
  { method: 'GET', path: '/v1/exclusions', function: 'alerts', scope: 'read' },
  { method: 'POST', path: '/v1/exclusions', function: 'alerts', scope: 'admin' },
  { method: 'DELETE', path: '/v1/exclusions/{id}', function: 'alerts', scope: 'admin' },
  { method: 'GET', path: '/v1/alerts', function: 'alerts', scope: 'read' },
  { method: 'GET', path: '/v1/alerts/{id}', function: 'alerts', scope: 'read' },
  { method: 'POST', path: '/v1/alerts/{id}/acknowledge', function: 'alerts', scope: 'read' },
  // Incidents (functions/incident-routes.ts): acknowledging one acknowledges its members, like an alert.
  { method: 'GET', path: '/v1/incidents', function: 'alerts', scope: 'read' },
  { method: 'GET', path: '/v1/incidents/{id}', function: 'alerts', scope: 'read' },
  { method: 'POST', path: '/v1/incidents/{id}/acknowledge', function: 'alerts', scope: 'read' },
  // Feedback ("this was normal", "this was an incident"): a read key may give it, as it may acknowledge.
  { method: 'POST', path: '/v1/alerts/{id}/feedback', function: 'alerts', scope: 'read' },
  { method: 'POST', path: '/v1/series/{id}/feedback', function: 'alerts', scope: 'read' },
  { method: 'GET', path: '/v1/series/{id}/feedback', function: 'alerts', scope: 'read' },
  { method: 'DELETE', path: '/v1/feedback/{id}', function: 'alerts', scope: 'read' },
] as const satisfies readonly ApiRoute[];

/**
 * The HEAD twin of every GET route that has no HEAD route of its own: HEAD answers like GET without a body
 * (RFC 9110), so monitors and link checkers can probe any readable route. API Gateway's HTTP APIs match a
 * route's method exactly (a GET route does not take HEAD), so the stack creates these routes too.
 */
export function headTwins<Route extends { readonly method: string; readonly path: string }>(
  routes: readonly Route[],
): (Route & { readonly method: 'HEAD' })[] {
  const heads = new Set(routes.filter((route) => route.method === 'HEAD').map((route) => route.path));
  return routes
    .filter((route) => route.method === 'GET' && !heads.has(route.path))
    .map((route) => ({ ...route, method: 'HEAD' as const }));
}

/** Every route the HTTP API serves: the table above and the HEAD twins of its GET routes. */
export const servedRoutes: readonly ApiRoute[] = [...apiRoutes, ...headTwins(apiRoutes)];

export type RouteKey = `${(typeof apiRoutes)[number]['method']} ${(typeof apiRoutes)[number]['path']}`;
