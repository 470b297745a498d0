import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  freeTcpPort,
  freeUdpPort,
  type RunningProcess,
  startProcess,
} from '../helpers/processes.ts';

interface SeriesList {
  series: { id: string; name: string; type: string; dimensions: Record<string, string> }[];
}
interface Points {
  points: { value: number; count: number }[];
}

/**
 * The walking skeleton end to end: `npm start` (real HTTP, real SQLite), `npm run agent` (etsy's statsd
 * daemon with our backend), and Debian's python3-statsd client sending over UDP.
 */
describe('a Python app → statsd → Normalcy', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-e2e-'));
  let server: RunningProcess;
  let agent: RunningProcess;
  let url: string;
  let key: string;
  let statsdPort: number;

  beforeAll(async () => {
    const port = await freeTcpPort();
    url = `http://127.0.0.1:${port}`;
    server = startProcess('npm', ['start'], { PORT: String(port), NORMALCY_DATA_DIR: dataDir });
    await server.waitFor('Normalcy is running');
    key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    statsdPort = await freeUdpPort();
    agent = startProcess('npm', ['run', 'agent'], {
      NORMALCY_URL: url,
      NORMALCY_API_KEY: key,
      STATSD_PORT: String(statsdPort),
      STATSD_MGMT_PORT: String(await freeTcpPort()),
      FLUSH_INTERVAL_MS: '1000',
    });
    await agent.waitFor('server is up');
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  it('stores counters, gauges and timers sent with StatsClient(...).incr/timing/gauge', async () => {
    execFileSync('/usr/bin/python3', [
      '-c',
      `
from statsd import StatsClient
client = StatsClient('127.0.0.1', ${statsdPort})
for _ in range(3):
    client.incr('shop.logins')
client.timing('shop.login.time', 68)
client.timing('shop.login.time', 72)
client.gauge('shop.memory.share', 0.42)
`,
    ]);
    const names = ['shop.logins', 'shop.login.time.mean', 'shop.login.time.count', 'shop.memory.share'];
    const { series } = await eventually(async () => {
      const list = await get<SeriesList>('/v1/series');
      return names.every((name) => list.series.some((s) => s.name === name)) ? list : undefined;
    });
    const idOf = (name: string) => series.find((s) => s.name === name)?.id ?? '';
    expect(series.find((s) => s.name === 'shop.logins')?.type).toBe('counter');
    expect(series.find((s) => s.name === 'shop.login.time.mean')?.type).toBe('timer');
    expect(series.find((s) => s.name === 'shop.memory.share')?.type).toBe('gauge');

    const total = async (name: string) =>
      (await get<Points>(`/v1/series/${idOf(name)}/points`)).points.reduce((sum, p) => sum + p.value, 0);
    expect(await total('shop.logins')).toBe(3);
    expect(await total('shop.login.time.count')).toBe(2);
    const mean = (await get<Points>(`/v1/series/${idOf('shop.login.time.mean')}/points`)).points;
    expect(mean.length).toBeGreaterThan(0);
    for (const point of mean) expect(point.value).toBeGreaterThanOrEqual(68);
    for (const point of mean) expect(point.value).toBeLessThanOrEqual(72);
    const memory = (await get<Points>(`/v1/series/${idOf('shop.memory.share')}/points`)).points;
    expect(memory.at(-1)?.value).toBe(0.42);
  });
});
