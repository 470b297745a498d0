import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../lib/http/routes.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { loadOpenApi, OpenApiResponseValidator, openApiPath } from './openapi-validator.ts';

const methods = ['get', 'post', 'put', 'delete', 'head', 'patch'];

describe('docs/openapi.yaml', () => {
  const document = loadOpenApi();
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => methods.includes(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(openApiPath);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('describes exactly the routes of lib/http/routes.ts', () => {
    expect(operations.sort()).toEqual(apiRoutes.map((route) => `${route.method} ${route.path}`).sort());
  });

  it('documents 401 and 403 on every route that needs a key, and no security on the others', () => {
    for (const route of apiRoutes) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()] as unknown as {
        security?: unknown[];
        responses: Record<string, unknown>;
      };
      if (route.scope === undefined) {
        expect(operation.security, `${route.method} ${route.path}`).toEqual([]);
      } else {
        expect(Object.keys(operation.responses), `${route.method} ${route.path}`).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      }
    }
  });
});

describe('real ingest responses match the document', () => {
  let server: TestServer;
  const validator = new OpenApiResponseValidator();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const check = async (response: Response) => {
    const body = await response.json();
    validator.assertResponse(
      'POST',
      '/v1/metrics',
      response.status,
      response.headers.get('content-type') ?? '',
      body,
    );
    return response.status;
  };

  it('for a partial success, bad input, a missing key and a body too large', async () => {
    expect(await check(await server.postMetrics([{ name: 'a', value: 1 }, { name: 'b' }]))).toBe(200);
    expect(await check(await server.postMetrics([{ value: 1 }]))).toBe(400);
    expect(await check(await fetch(`${server.url}/v1/metrics`, { method: 'POST', body: '{}' }))).toBe(401);
    const readOnly = await server.addKey(['read']);
    const forbidden = await fetch(`${server.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly}` },
      body: '{"metrics":[]}',
    });
    expect(await check(forbidden)).toBe(403);
    const huge = JSON.stringify({ metrics: [{ name: 'x', value: 1, dimensions: { pad: 'y'.repeat(6e6) } }] });
    expect(await check(await server.request('/v1/metrics', { method: 'POST', body: huge }))).toBe(413);
  });

  it('serves the document at /v1/openapi.json', async () => {
    const response = await fetch(`${server.url}/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(loadOpenApi());
  });
});
