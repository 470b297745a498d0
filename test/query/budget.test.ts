import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { localDocuments } from '../../functions/local/documents.ts';
import { fromHttpApiResult, lambdaContext, toHttpApiEvent } from '../../functions/local/lambda-events.ts';
import { createQueryHandler } from '../../functions/query.ts';
import { openSqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import type { QueryStore, ReadOptions } from '../../lib/ports/query-store.ts';

/** A store that answers only when its read is aborted: a query slower than any budget. */
const neverAnswers = <T>(options?: ReadOptions) =>
  new Promise<T>((_resolve, reject) => {
    options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
  });
const slowStore: QueryStore = {
  readValueBuckets: (_query, options) => neverAnswers(options),
  readBandBuckets: (_id, _from, _to, _step, options) => neverAnswers(options),
  valuesAt: (_entries, options) => neverAnswers(options),
  findAnomalies: (_query, options) => neverAnswers(options),
};

describe('the request time budget', () => {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-budget-'));
  const stores = openSqliteStores(join(directory, 'normalcy.db'));
  afterAll(() => {
    stores.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers 504 with advice before the Lambda runs out, when the store is too slow', async () => {
    const key = generateKey();
    await stores.keys.putKey({
      hash: hashKey(key),
      name: 'k',
      scopes: ['read'],
      createdAt: 0,
      revokedAt: null,
    });
    const handler = createQueryHandler(() => ({
      metrics: stores.metrics,
      series: stores.series,
      bands: stores.bands,
      keys: stores.keys,
      queries: slowStore,
      clock: { now: () => Date.now() },
      documents: localDocuments(),
    })) as unknown as (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
    const event = toHttpApiEvent({
      method: 'GET',
      url: new URL('http://localhost/v1/anomalies'),
      headers: { authorization: `Bearer ${key}` },
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
    });
    // 1.6 s left: the budget keeps 1.5 s back to answer, so the read gets 0.1 s.
    const result = fromHttpApiResult(
      (await handler(event, lambdaContext('normalcy-query', 1_600))) as Parameters<
        typeof fromHttpApiResult
      >[0],
    );
    expect(result.statusCode).toBe(504);
    const body = JSON.parse(result.body.toString('utf8'));
    expect(body.error.code).toBe('query_timeout');
    expect(body.error.message).toMatch(/shorter time range or a larger step/);
  });
});
