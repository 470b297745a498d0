import { afterEach, describe, expect, it, vi } from 'vitest';

// In dev mode Powertools writes through the global console, which the test can watch (set before any import).
vi.hoisted(() => {
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

import { createIngestHandler } from '../../functions/ingest.ts';
import { lambdaContext, toHttpApiEvent } from '../../functions/local/lambda-events.ts';
import type { IngestDependencies } from '../../functions/shared/dependencies.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';

/** What the functions write to their logs: structured JSON with the request id, and never a key. */
describe('Function logs', () => {
  afterEach(() => vi.restoreAllMocks());

  async function failingIngest() {
    const stores = openSqliteStores(':memory:');
    const key = generateKey();
    await stores.keys.putKey({
      hash: hashKey(key),
      name: 't',
      scopes: ['ingest'],
      createdAt: 0,
      revokedAt: null,
    });
    const broken = async () => {
      throw new Error('disk on fire');
    };
    const dependencies: IngestDependencies = {
      metrics: { ...stores.metrics, writePoints: broken, readPoints: broken, earliestTimestamp: broken },
      series: stores.series,
      keys: stores.keys,
      clock: { now: () => Date.now() },
    } as unknown as IngestDependencies;
    return { handler: createIngestHandler(() => dependencies), key };
  }

  const captured = () => {
    const lines: string[] = [];
    for (const method of ['error', 'warn', 'info', 'log', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
    }
    return lines;
  };

  const invoke = async (
    handler: Awaited<ReturnType<typeof failingIngest>>['handler'],
    path: string,
    headers: Record<string, string>,
    body: string,
  ) => {
    const context = lambdaContext('normalcy-ingest');
    const event = toHttpApiEvent({
      method: 'POST',
      url: new URL(path, 'http://localhost'),
      headers: { 'content-type': 'application/json', ...headers },
      body: Buffer.from(body),
      sourceIp: '127.0.0.1',
    });
    const result = await handler(event as never, context);
    return { result, context };
  };

  it('logs a store failure as JSON with the request id, and tells the client to retry without internals', async () => {
    const { handler, key } = await failingIngest();
    const lines = captured();
    const { result, context } = await invoke(
      handler,
      '/v1/metrics',
      { authorization: `Bearer ${key}` },
      JSON.stringify({ metrics: [{ name: 'a', value: 1 }] }),
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(result.body).not.toContain('disk on fire');
    const entries = lines.filter((line) => line.includes('request failed')).map((line) => JSON.parse(line));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 'ERROR', function_request_id: context.awsRequestId });
    expect(lines.join('')).not.toContain(key);
  });

  it('never logs the key of a Netuitive-style path, on any of its routes', async () => {
    const { handler, key } = await failingIngest();
    for (const path of [`/ingest/${key}`, `/ingest/infrastructure/${key}`, `/ingest/events/${key}`]) {
      const lines = captured();
      const { result } = await invoke(handler, path, {}, JSON.stringify([{ id: 'h', type: 'SERVER' }]));
      expect(result.statusCode).toBeGreaterThanOrEqual(200);
      expect(lines.join('')).not.toContain(key);
      vi.restoreAllMocks();
    }
  });
});
