import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The last test reads what the function logs (tests are silent otherwise): set before any import.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

import { createIngestHandler } from '../../functions/ingest.ts';
import { lambdaContext } from '../../functions/local/lambda-events.ts';
import { legacyKeyDigest } from '../../lib/keys.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/** An element as netuitive-statsd sends it: every metric a GAUGE with its statsd type in a tag. */
const statsdElement = (timestamp: number) => ({
  id: 'web-1',
  name: 'web-1',
  type: 'SERVER',
  location: '',
  tags: [{ name: 'env', value: 'prod' }],
  attributes: [{ name: 'agent', value: 'netuitive-statsd' }],
  relations: [],
  metrics: [
    {
      id: 'shop.logins',
      type: 'GAUGE',
      sparseDataStrategy: 'None',
      unit: '',
      tags: [{ name: 'statsdType', value: 'c' }],
    },
    {
      id: 'shop.login.time',
      type: 'GAUGE',
      sparseDataStrategy: 'None',
      unit: 'ms',
      tags: [{ name: 'statsdType', value: 'ms' }],
    },
    {
      id: 'shop.memory',
      type: 'GAUGE',
      sparseDataStrategy: 'None',
      unit: '',
      tags: [{ name: 'statsdType', value: 'g' }],
    },
  ],
  samples: [
    { metricId: 'shop.logins', timestamp, val: 3, min: 1, max: 2, avg: 1.5, sum: 3, cnt: 2 },
    { metricId: 'shop.login.time', timestamp, val: 140, min: 68, max: 72, avg: 70, sum: 140, cnt: 2 },
    { metricId: 'shop.memory', timestamp, val: 0.42 },
  ],
});

/** Runs Python with stdin (asynchronously: the server under test runs in this process). */
function python(script: string, args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-c', script, ...args],
      { encoding: 'utf8' },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
    child.stdin?.end(input);
  });
}

/** POSTs like netuitive-client-python's Client.post: urllib, JSON, its User-Agent, the key in the URL. */
async function pythonPost(url: string, payload: unknown): Promise<{ status: number; body: string }> {
  const output = await python(
    `
import json, sys, urllib.request, urllib.error
request = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(), headers={'Content-Type': 'application/json', 'User-Agent': 'Netuitive-Python/0.3.5'})
try:
    response = urllib.request.urlopen(request)
    print(json.dumps({'status': response.getcode(), 'body': response.read().decode()}))
except urllib.error.HTTPError as error:
    print(json.dumps({'status': error.code, 'body': error.read().decode()}))
`,
    [url],
    JSON.stringify(payload),
  );
  return JSON.parse(output) as { status: number; body: string };
}

describe('Netuitive agents and clients → Normalcy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const series = async () =>
    (
      await server.getJson<{
        series: { id: string; name: string; type: string; dimensions: Record<string, string> }[];
      }>('/v1/series')
    ).series;
  const values = async (id: string | undefined) =>
    (await server.getJson<{ points: { value: number }[] }>(`/v1/series/${id ?? 'none'}/points`)).points.map(
      (point) => point.value,
    );

  it('stores what netuitive-statsd posts to /ingest/statsd/{apiKey}, typed by the statsdType tag', async () => {
    const response = await pythonPost(`${server.url}/ingest/statsd/${server.key}`, [
      statsdElement(Date.now() - 60_000),
    ]);
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 13, rejected: 0 });
    const all = await series();
    const find = (name: string) => all.find((entry) => entry.name === name);
    expect(find('shop.logins')).toMatchObject({
      type: 'counter',
      dimensions: { element: 'web-1', env: 'prod' },
    });
    expect(find('shop.login.time')?.type).toBe('timer');
    expect(find('shop.memory')?.type).toBe('gauge');
    expect(await values(find('shop.logins')?.id)).toEqual([3]);
    expect(await values(find('shop.login.time.mean')?.id)).toEqual([70]);
    expect(await values(find('shop.login.time.count')?.id)).toEqual([2]);
    expect(await values(find('shop.memory')?.id)).toEqual([0.42]);
  });

  it('stores a Diamond-style element posted to /ingest/{apiKey} and /ingest/infrastructure/{apiKey}', async () => {
    const element = (timestamp: number) => [
      {
        id: 'db-1',
        name: 'db-1',
        type: 'SERVER',
        tags: [],
        metrics: [
          { id: 'cpu.total.idle', type: 'GAUGE' },
          { id: 'diskspace.root.byte_free', type: 'GAUGE' },
        ],
        samples: [
          { metricId: 'cpu.total.idle', timestamp, val: 91.5 },
          { metricId: 'diskspace.root.byte_free', timestamp, val: 1.5e10 },
        ],
      },
    ];
    const first = await pythonPost(`${server.url}/ingest/${server.key}`, element(Date.now() - 120_000));
    const second = await pythonPost(
      `${server.url}/ingest/infrastructure/${server.key}`,
      element(Date.now() - 60_000),
    );
    expect([first.status, second.status]).toEqual([202, 202]);
    const idle = (await series()).find((entry) => entry.name === 'cpu.total.idle');
    expect(idle?.dimensions).toEqual({ element: 'db-1' });
    expect(await values(idle?.id)).toEqual([91.5, 91.5]);
  });

  it('answers HEAD /time with the server clock in the Date header, as the agents read it', async () => {
    const skew = await python(
      `
import sys, time, urllib.request, email.utils
request = urllib.request.Request(sys.argv[1], method='HEAD')
response = urllib.request.urlopen(request)
server_time = email.utils.mktime_tz(email.utils.parsedate_tz(response.headers['Date']))
print(abs(server_time - time.time()))
`,
      [`${server.url}/time`],
    );
    expect(Number(skew)).toBeLessThan(5);
  });

  it('answers 401 to an unknown key in the path and 400 to a bad payload, never 410 or 418', async () => {
    const unknown = await pythonPost(`${server.url}/ingest/nrm_unknown`, [statsdElement(Date.now())]);
    expect(unknown.status).toBe(401);
    const bad = await pythonPost(`${server.url}/ingest/${server.key}`, [
      { id: 'x', samples: [{ metricId: 'm', timestamp: 'soon', val: 1 }] },
    ]);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.problems).toEqual([
      {
        index: 0,
        field: 'samples[0].timestamp',
        message: 'must be an ISO-8601 date-time such as 2025-11-25T00:00:00Z, got the string "soon"',
      },
    ]);
    const events = await pythonPost(`${server.url}/ingest/events/${server.key}`, [
      { type: 'INFO', title: 'deploy' },
    ]);
    expect(events.status).toBe(202);
  });
});

describe('Function: ingest, the key in a Netuitive path', () => {
  it('is never written to the logs, even when the request fails', async () => {
    const key = 'nrm_secret-key-in-the-path';
    const failing = createIngestHandler(() => ({
      metrics: {
        writePoints: async () => {
          throw new Error('the store is down');
        },
        readPoints: async () => [],
        earliestTimestamp: async () => undefined,
        readRecentPoints: async () => new Map(),
      },
      series: {
        recordSeries: async () => undefined,
        listSeries: async () => [],
        getSeries: async () => undefined,
        pendingSeries: async () => [],
        saveProgress: async () => undefined,
        settlePending: async () => undefined,
        deferPending: async () => undefined,
      },
      keys: {
        digestKey: async (candidate) => legacyKeyDigest(candidate),
        upgradeKeyHash: async () => false,
        findKey: async (hash) =>
          hash === legacyKeyDigest(key)
            ? { hash, name: 'n', scopes: ['ingest'], createdAt: 0, revokedAt: null }
            : undefined,
        putKey: async () => undefined,
        listKeys: async () => [],
        revokeKey: async () => false,
      },
      clock: { now: () => Date.now() },
    }));
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const logs = ['log', 'info', 'warn', 'error', 'debug'].map((level) =>
      vi.spyOn(console, level as 'log').mockImplementation((...args: unknown[]) => {
        written.push(args.map(String).join(' '));
      }),
    );
    try {
      const path = `/ingest/${key}`;
      const result = await failing(
        {
          version: '2.0',
          routeKey: '$default',
          rawPath: path,
          rawQueryString: '',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([statsdElement(Date.now())]),
          isBase64Encoded: false,
          requestContext: { http: { method: 'POST', path }, requestId: 'r' },
        } as never,
        lambdaContext('normalcy-ingest'),
      );
      expect(result.statusCode).toBe(503);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      for (const spy of logs) spy.mockRestore();
    }
    expect(written.join('\n')).toContain('the store is down');
    expect(written.join('\n')).not.toContain(key);
  });
});
