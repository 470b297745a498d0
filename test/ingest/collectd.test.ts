import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCollectdJson } from '../../lib/ingest/collectd.ts';
import { CumulativeTracker } from '../../lib/ingest/cumulative.ts';
import { timeWindow } from '../../lib/ingest/validate.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { eventually, type RunningProcess, startProcess } from '../helpers/processes.ts';

const now = Date.parse('2025-11-25T12:00:00Z');

describe('parseCollectdJson', () => {
  const valueList = (time: number, values: unknown[], extra: Record<string, unknown> = {}) => ({
    values,
    dstypes: ['derive', 'gauge'],
    dsnames: ['rx', 'value'],
    time,
    interval: 10,
    host: 'web-1',
    plugin: 'interface',
    plugin_instance: 'eth0',
    type: 'if_octets',
    type_instance: '',
    ...extra,
  });

  it('turns raw derives into per-second rates from the previous value, keeping gauges as sent', () => {
    const tracker = new CumulativeTracker();
    const parse = (body: unknown) =>
      parseCollectdJson(JSON.stringify(body), timeWindow(now), { storeRates: false, tracker });
    const first = parse([valueList(now / 1000 - 20, [1000, 5])]);
    expect(first.points.map((point) => [point.name, point.value])).toEqual([['interface.if_octets', 5]]);
    const second = parse([valueList(now / 1000 - 10, [3000, null])]);
    expect(second.points).toEqual([
      {
        name: 'interface.if_octets.rx',
        type: 'gauge',
        value: 200,
        timestamp: now - 10_000,
        dimensions: { host: 'web-1', plugin_instance: 'eth0' },
      },
    ]);
  });

  it('takes values as rates when collectd stored rates', () => {
    const batch = parseCollectdJson(JSON.stringify([valueList(now / 1000, [12.5, 1])]), timeWindow(now), {
      storeRates: true,
    });
    expect(batch.points.map((point) => point.value)).toEqual([12.5, 1]);
  });

  it('names the value list and field that is wrong', () => {
    const batch = parseCollectdJson(
      JSON.stringify([
        valueList(now / 1000, [1, 2], { dstypes: ['gauge'] }),
        valueList(now / 1000, [1, 'x'], { dstypes: ['gauge', 'gauge'] }),
        valueList(1, [1, 2]),
        'text',
      ]),
      timeWindow(now),
      { storeRates: false },
    );
    expect(batch.problems.map((problem) => [problem.index, problem.field])).toEqual([
      [0, 'values'],
      [1, 'values[1]'],
      [2, 'time'],
      [3, ''],
    ]);
  });
});

const collectdBinary = '/usr/sbin/collectd';

/** Debian's collectd (collectd-core) with its write_http plugin, started with a generated configuration. */
describe('collectd write_http → Normalcy', () => {
  let server: TestServer;
  let collectd: RunningProcess;
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-collectd-'));

  beforeAll(async () => {
    expect(existsSync(collectdBinary)).toBe(true);
    server = await startTestServer();
    const config = join(directory, 'collectd.conf');
    writeFileSync(
      config,
      `Hostname "collectd-test"
FQDNLookup false
BaseDir "${directory}"
PIDFile "${directory}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File STDOUT
</Plugin>
LoadPlugin load
LoadPlugin memory
LoadPlugin cpu
<LoadPlugin write_http>
  FlushInterval 1
</LoadPlugin>
<Plugin write_http>
  <Node "normalcy">
    URL "${server.url}/v1/collectd"
    Format "JSON"
    Header "Authorization: Bearer ${server.key}"
    StoreRates false
    BufferSize 65536
  </Node>
</Plugin>
`,
      { mode: 0o600 },
    );
    collectd = startProcess(collectdBinary, ['-f', '-C', config], {});
  });

  afterAll(async () => {
    await collectd?.stop();
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('stores load, memory and CPU rates from a running collectd', async () => {
    type Series = { id: string; name: string; dimensions: Record<string, string> };
    const wanted = (series: Series[]) =>
      series.some((entry) => entry.name === 'load.shortterm') &&
      series.some((entry) => entry.name === 'memory' && entry.dimensions.type_instance === 'used') &&
      series.some((entry) => entry.name === 'cpu' && entry.dimensions.type_instance === 'user');
    const { series } = await eventually(async () => {
      const list = await server.getJson<{ series: Series[] }>('/v1/series');
      return wanted(list.series) ? list : undefined;
    }, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\ncollectd output:\n${collectd.output()}`);
    });
    const load = series.find((entry) => entry.name === 'load.shortterm');
    expect(load?.dimensions).toEqual({ host: 'collectd-test' });
    const valuesOf = async (entry: Series | undefined) =>
      (
        await server.getJson<{ points: { value: number }[] }>(`/v1/series/${entry?.id ?? 'none'}/points`)
      ).points.map((point) => point.value);
    for (const value of await valuesOf(load)) expect(value).toBeGreaterThanOrEqual(0);
    const used = series.find((entry) => entry.name === 'memory' && entry.dimensions.type_instance === 'used');
    for (const value of await valuesOf(used)) expect(value).toBeGreaterThan(0);
    // cpu jiffies are derives: stored as rates (jiffies per second), never as the raw ever-growing total.
    const cpuUser = series.find((entry) => entry.name === 'cpu' && entry.dimensions.type_instance === 'user');
    for (const value of await valuesOf(cpuUser)) expect(value).toBeLessThan(100_000);
    expect(collectd.output()).not.toMatch(/write_http plugin: curl_easy_perform failed/);
  });
});
