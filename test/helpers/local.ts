import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalServer, type LocalServerOptions, startLocalServer } from '../../functions/local/server.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import type { KeyScope } from '../../lib/ports/key-store.ts';
import type { Notification, Notifier } from '../../lib/ports/notifier.ts';

export interface TestServer extends LocalServer {
  readonly key: string;
  readonly dataDir: string;
  readonly notifications: Notification[];
  /** fetch against the server with the key (unless `headers` says otherwise). */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** GET a JSON document with the key. */
  getJson<T = unknown>(path: string): Promise<T>;
  /** POST native JSON metrics with the key. */
  postMetrics(metrics: unknown[]): Promise<Response>;
  addKey(scopes: KeyScope[]): Promise<string>;
}

/** A real local server (HTTP, SQLite) on a free port, in a temporary data dir, with a key of every scope. */
export async function startTestServer(options: Partial<LocalServerOptions> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-test-'));
  const notifications: Notification[] = [];
  const notifier: Notifier = {
    notify: async (notification) => {
      notifications.push(notification);
    },
  };
  const server = await startLocalServer({ dataDir, port: 0, notifier, ...options });
  const addKey = async (scopes: KeyScope[]) => {
    const key = generateKey();
    await server.stores.keys.putKey({
      hash: hashKey(key),
      name: 'test',
      scopes,
      createdAt: Date.now(),
      revokedAt: null,
    });
    return key;
  };
  const key = await addKey(['ingest', 'read', 'admin']);
  const request = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string> | undefined) },
    });
  return {
    ...server,
    key,
    dataDir,
    notifications,
    request,
    addKey,
    async getJson<T>(path: string) {
      const response = await request(path);
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    postMetrics: (metrics) =>
      request('/v1/metrics', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metrics }),
      }),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
