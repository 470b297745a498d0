import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createIngestHandler } from '../../functions/ingest.ts';
import { lambdaContext } from '../../functions/local/lambda-events.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { KeyScope } from '../../lib/ports/key-store.ts';

/** The ingest Lambda handler, invoked in-process with API Gateway events, over a SQLite store in a temp dir. */
export interface IngestLambda {
  readonly stores: SqliteStores;
  readonly key: string;
  invoke(event: Partial<APIGatewayProxyEventV2>): Promise<APIGatewayProxyStructuredResultV2>;
  addKey(scopes: KeyScope[]): Promise<string>;
  close(): void;
}

export async function ingestLambda(clock?: Clock): Promise<IngestLambda> {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-lambda-'));
  const stores = openSqliteStores(join(dataDir, 'normalcy.db'));
  const handler = createIngestHandler(() => ({
    metrics: stores.metrics,
    series: stores.series,
    keys: stores.keys,
    clock: clock ?? { now: () => Date.now() },
  }));
  const addKey = async (scopes: KeyScope[]) => {
    const key = generateKey();
    await stores.keys.putKey({ hash: hashKey(key), name: 'test', scopes, createdAt: 0, revokedAt: null });
    return key;
  };
  const key = await addKey(['ingest']);
  return {
    stores,
    key,
    addKey,
    invoke: async (partial) => {
      const path = partial.rawPath ?? '/v1/metrics';
      const method = partial.requestContext?.http.method ?? 'POST';
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath: path,
        rawQueryString: '',
        isBase64Encoded: false,
        ...partial,
        headers: { authorization: `Bearer ${key}`, ...partial.headers },
        requestContext: {
          http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
          requestId: 'test',
          ...partial.requestContext,
        },
      } as APIGatewayProxyEventV2;
      return (await handler(event, lambdaContext('normalcy-ingest'))) as APIGatewayProxyStructuredResultV2;
    },
    close() {
      stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The JSON body of a handler result. */
export const bodyOf = <T = Record<string, unknown>>(result: APIGatewayProxyStructuredResultV2): T =>
  JSON.parse(result.body ?? 'null') as T;
