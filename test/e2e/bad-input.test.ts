import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';

interface ErrorBody {
  error: { code: string; message: string; problems?: { index?: number; field: string; message: string }[] };
}

describe('bad input to POST /v1/metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    server.request('/v1/metrics', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body as BodyInit,
    });

  const expectError = async (response: Response, status: number): Promise<ErrorBody> => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/json');
    return (await response.json()) as ErrorBody;
  };

  it('answers 400 to a body that is not JSON, saying so', async () => {
    const body = await expectError(await post('{"metrics": [ {"name": '), 400);
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it('answers 400 naming the item, field and problem for wrong types, a missing name and NaN', async () => {
    const items = [
      { name: 'a', type: 'gauge', value: 'fast' },
      { type: 'gauge', value: 1 },
      { name: 'b', type: 'gauge', value: 'NaN' },
      { name: 'c', type: 'gauge', value: 1, dimensions: ['host'] },
    ];
    const literalNaN = await expectError(
      await post(JSON.stringify({ metrics: items }).replace('"NaN"', 'NaN')),
      400,
    );
    expect(literalNaN.error.message).toMatch(/not valid JSON/);
    const typed = await expectError(await post(JSON.stringify({ metrics: items })), 400);
    expect(typed.error.problems).toEqual([
      { index: 0, field: 'value', message: 'must be a number, got the string "fast"' },
      { index: 1, field: 'name', message: 'is required' },
      { index: 2, field: 'value', message: 'must be a number, got the string "NaN"' },
      { index: 3, field: 'dimensions', message: 'must be an object of strings, got an array' },
    ]);
    expect(typed.error.message).toContain('item 0, field "value"');
  });

  it('answers 413 to a 10 MB body and to a gzip body that inflates past the limit', async () => {
    const big = JSON.stringify({
      metrics: [{ name: 'x', value: 1, dimensions: { pad: 'y'.repeat(10 * 1024 * 1024) } }],
    });
    const body = await expectError(await post(big), 413);
    expect(body.error.message).toMatch(/larger than/);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(200_000);
    await expectError(await post(bomb, { 'content-encoding': 'gzip' }), 413);
  });

  it('answers 401 without a key and with an unknown key, 403 with a read-only key', async () => {
    const payload = JSON.stringify({ metrics: [{ name: 'x', value: 1 }] });
    const anonymous = await fetch(`${server.url}/v1/metrics`, { method: 'POST', body: payload });
    expect((await expectError(anonymous, 401)).error.message).toMatch(/Authorization: Bearer KEY/);
    await expectError(await post(payload, { authorization: 'Bearer nrm_wrong' }), 401);
    const readOnly = await server.addKey(['read']);
    await expectError(await post(payload, { authorization: `Bearer ${readOnly}` }), 403);
  });

  it('wrote nothing from any rejected item', async () => {
    const { series } = await server.getJson<{ series: unknown[] }>('/v1/series');
    expect(series).toEqual([]);
  });

  it('writes the valid items of a mixed batch and reports the others', async () => {
    const response = await server.postMetrics([
      { name: 'good', value: 1 },
      { name: 'bad', value: null },
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      accepted: 1,
      rejected: 1,
      problems: [{ index: 1, field: 'value', message: 'must be a number, got null' }],
    });
    const { series } = await server.getJson<{ series: { name: string }[] }>('/v1/series');
    expect(series.map((s) => s.name)).toEqual(['good']);
  });
});
