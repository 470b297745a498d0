import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDocuments } from '../../functions/local/documents.ts';
import { lambdaContext } from '../../functions/local/lambda-events.ts';
import { createQueryHandler } from '../../functions/query.ts';
import { apiRoutes, headTwins, servedRoutes } from '../../lib/http/routes.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

const getRoutes = apiRoutes.filter((route) => route.method === 'GET');

describe('HEAD on every GET route', () => {
  let server: TestServer;
  const paths: Record<string, string> = {};
  beforeAll(async () => {
    server = await startTestServer();
    const stored = await server.postMetrics([{ name: 'head.probe', value: 1 }]);
    expect(stored.status).toBe(200);
    const { series } = await server.getJson<{ series: { id: string }[] }>('/v1/series');
    const seriesId = series[0]?.id ?? '';
    // Each GET route with real ids where it has some; an unknown alert id answers 404 to both methods.
    for (const route of getRoutes) {
      paths[route.path] = route.path
        .replace('/v1/series/{id}', `/v1/series/${seriesId}`)
        .replace('/v1/rules/{id}', '/v1/rules/default')
        .replace('/v1/alerts/{id}', '/v1/alerts/al_00000000000000000000')
        .replace('/v1/incidents/{id}', '/v1/incidents/in_00000000000000000000');
    }
    // The Prometheus query routes need their parameters to answer 200.
    paths['/api/v1/query'] = '/api/v1/query?query=1%2B1';
    paths['/api/v1/query_range'] = '/api/v1/query_range?query=1&start=0&end=60&step=15';
    paths['/api/v1/series'] = `/api/v1/series?match[]=${encodeURIComponent('{__name__="head.probe"}')}`;
    paths['/api/v1/label/{name}/values'] = '/api/v1/label/__name__/values';
  });
  afterAll(() => server.close());

  it('is in the served routes: one HEAD beside each GET, the explicit HEAD /time kept once', () => {
    const keys = servedRoutes.map((route) => `${route.method} ${route.path}`);
    for (const route of getRoutes) expect(keys).toContain(`HEAD ${route.path}`);
    expect(keys.filter((key) => key === 'HEAD /time')).toHaveLength(1);
    expect(headTwins(apiRoutes)).toHaveLength(getRoutes.length - 1);
  });

  it.each(getRoutes.map((route) => route.path))('HEAD %s answers like GET, without a body', async (path) => {
    const url = paths[path] ?? path;
    const get = await server.request(url);
    const head = await server.request(url, { method: 'HEAD' });
    expect(head.status, url).toBe(get.status);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(await head.text()).toBe('');
    if (!['/v1/alerts/{id}', '/v1/incidents/{id}'].includes(path)) expect(get.status, url).toBe(200);
  });

  it('keeps the key check: HEAD of a route that needs a key is a 401 without one', async () => {
    const anonymous = await fetch(`${server.url}/v1/series`, { method: 'HEAD' });
    expect(anonymous.status).toBe(401);
  });

  it('answers HEAD in the Lambda handler itself, as API Gateway invokes it', async () => {
    const handler = createQueryHandler(() => ({
      metrics: server.stores.metrics,
      series: server.stores.series,
      bands: server.stores.bands,
      queries: server.stores.queries,
      keys: server.stores.keys,
      clock: { now: () => Date.now() },
      documents: localDocuments(),
    }));
    const event = {
      version: '2.0',
      routeKey: 'HEAD /health',
      rawPath: '/health',
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'HEAD', path: '/health' }, requestId: 'head' },
    } as unknown as APIGatewayProxyEventV2;
    const result = (await handler(
      event,
      lambdaContext('normalcy-query'),
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toContain('application/json');
    expect(result.body).toBe('');
  });
});
