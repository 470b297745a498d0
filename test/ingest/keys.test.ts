import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';

describe('key scopes and the admin routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const as = (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) },
    });
  const sendMetric = (key: string) =>
    as(key, '/v1/metrics', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metrics: [{ name: 'k', value: 1 }] }),
    });

  it('creates a key with an admin key, shows it once, and lists only its hash', async () => {
    const created = await as(server.key, '/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'web-agents', scopes: ['ingest'] }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { key: string; id: string; scopes: string[] };
    expect(body.key).toMatch(/^nrm_/);
    expect(body.scopes).toEqual(['ingest']);
    expect((await sendMetric(body.key)).status).toBe(200);
    const listing = await (await as(server.key, '/v1/keys')).text();
    expect(listing).toContain(body.id);
    expect(listing).toContain('web-agents');
    expect(listing).not.toContain(body.key);
  });

  it('keeps each scope to its routes: ingest cannot read or manage keys, read cannot ingest', async () => {
    const ingestOnly = await server.addKey(['ingest']);
    const readOnly = await server.addKey(['read']);
    expect((await as(ingestOnly, '/v1/series')).status).toBe(403);
    expect((await as(ingestOnly, '/v1/keys')).status).toBe(403);
    expect((await as(readOnly, '/v1/keys', { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await sendMetric(readOnly)).status).toBe(403);
    expect((await as(readOnly, '/v1/series')).status).toBe(200);
  });

  it('revokes a key by a prefix of its id; the key stops working at once', async () => {
    const created = (await (
      await as(server.key, '/v1/keys', {
        method: 'POST',
        body: JSON.stringify({ name: 'temp', scopes: ['ingest'] }),
      })
    ).json()) as { key: string; id: string };
    const revoked = await as(server.key, `/v1/keys/${created.id.slice(0, 12)}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { key: { revokedAt: number | null } }).key.revokedAt).toBeGreaterThan(
      0,
    );
    expect((await sendMetric(created.key)).status).toBe(401);
  });

  it('answers 400 naming the field for a bad key request, and 404 for an unknown id', async () => {
    const bad = await as(server.key, '/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scopes: ['root'] }),
    });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { error: { problems: { field: string }[] } }).error.problems[0]?.field,
    ).toBe('scopes');
    expect((await as(server.key, '/v1/keys/0123456789abcdef', { method: 'DELETE' })).status).toBe(404);
  });
});
