import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLineProtocol, precisionOf } from '../../lib/ingest/influx-line.ts';
import { timeWindow } from '../../lib/ingest/validate.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

const now = Date.parse('2025-11-25T12:00:00Z');
const window = timeWindow(now);
const nanos = (ms: number) => `${ms}000000`;

describe('parseLineProtocol', () => {
  it('follows the escaping rules for measurements, tag keys and values and field keys', () => {
    const body = [
      '# a comment line',
      `my\\ cpu\\,x,host\\=name=web\\ 1,path=C:\\\\tmp usage\\ idle=99.5,load=2i,up=t,flag=FALSE ${nanos(now)}`,
      '',
    ].join('\n');
    const batch = parseLineProtocol(body, 1, window);
    expect(batch.problems).toEqual([]);
    expect(batch.points).toEqual([
      {
        name: 'my cpu,x.usage idle',
        type: 'gauge',
        value: 99.5,
        timestamp: now,
        dimensions: { 'host=name': 'web 1', path: 'C:\\tmp' },
      },
      {
        name: 'my cpu,x.load',
        type: 'gauge',
        value: 2,
        timestamp: now,
        dimensions: { 'host=name': 'web 1', path: 'C:\\tmp' },
      },
      {
        name: 'my cpu,x.up',
        type: 'gauge',
        value: 1,
        timestamp: now,
        dimensions: { 'host=name': 'web 1', path: 'C:\\tmp' },
      },
      {
        name: 'my cpu,x.flag',
        type: 'gauge',
        value: 0,
        timestamp: now,
        dimensions: { 'host=name': 'web 1', path: 'C:\\tmp' },
      },
    ]);
    expect(batch.pointItems).toEqual([2, 2, 2, 2]);
  });

  it('refuses string fields one by one, keeping the line’s numbers, even when the string spans lines', () => {
    const body = `system,host=a load1=0.5,uptime_format="1 day,\\" 2:03\nmore",n_users=2i ${nanos(now)}\nnext value=1 ${nanos(now)}`;
    const batch = parseLineProtocol(body, 1, window);
    expect(batch.points.map((point) => [point.name, point.value])).toEqual([
      ['system.load1', 0.5],
      ['system.n_users', 2],
      ['next', 1],
    ]);
    expect(batch.problems).toEqual([
      {
        index: 1,
        field: 'fields.uptime_format',
        message: 'line 1: string fields are not stored (only numbers, integers and booleans)',
      },
    ]);
    expect(batch.pointItems).toEqual([1, 1, 3]);
  });

  it('names the line and the part of it that is wrong', () => {
    const body = [
      'ok v=1',
      'bad',
      'cpu,host v=1',
      'cpu v=abc',
      `cpu v=1 ${nanos(now)}x`,
      `cpu v=1 ${nanos(now + 3_600_000)}`,
      'cpu v=1e400',
    ].join('\n');
    const batch = parseLineProtocol(body, 1, window);
    expect(batch.points).toHaveLength(1);
    expect(batch.problems.map((problem) => [problem.index, problem.field])).toEqual([
      [2, 'fields'],
      [3, 'tags.host'],
      [4, 'fields.v'],
      [5, 'timestamp'],
      [6, 'timestamp'],
      [7, 'fields.v'],
    ]);
    expect(batch.problems[2]?.message).toBe('line 4: "abc" is not a number, integer or boolean');
  });

  it('reads timestamps at every precision, and refuses an unknown precision', () => {
    const seconds = Math.floor(now / 1000);
    for (const [precision, stamp] of [
      ['s', seconds],
      ['ms', now],
      ['us', now * 1000],
      ['ns', `${now}000000`],
    ] as const) {
      const batch = parseLineProtocol(`m v=1 ${stamp}`, precisionOf(precision), window);
      expect(batch.points[0]?.timestamp).toBe(now);
    }
    expect(() => precisionOf('days')).toThrow(/unknown precision/);
  });
});

describe('Telegraf’s InfluxDB outputs → Normalcy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const storedSeries = async (name: string) => {
    const { series } = await server.getJson<{
      series: { id: string; name: string; dimensions: Record<string, string> }[];
    }>('/v1/series');
    const found = series.find((entry) => entry.name === name);
    const body = await server.getJson<{ points: { value: number }[] }>(
      `/v1/series/${found?.id ?? 'none'}/points`,
    );
    return { dimensions: found?.dimensions, values: body.points.map((point) => point.value) };
  };

  it('accepts outputs.influxdb: gzip body, POST /write?db=..., Basic auth with the key as password, 204', async () => {
    const body = gzipSync(
      `cpu,cpu=cpu-total,host=web-1 usage_idle=97.5,usage_user=1.25 ${nanos(Date.now() - 60_000)}\n`,
    );
    const response = await fetch(`${server.url}/v1/influx/write?db=telegraf&rp=`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`telegraf:${server.key}`).toString('base64')}`,
        'content-encoding': 'gzip',
        'content-type': 'text/plain; charset=utf-8',
        'user-agent': 'Telegraf/1.36',
      },
      body,
    });
    expect(response.status).toBe(204);
    expect(await storedSeries('cpu.usage_idle')).toEqual({
      dimensions: { cpu: 'cpu-total', host: 'web-1' },
      values: [97.5],
    });
  });

  it('accepts outputs.influxdb_v2: POST /api/v2/write?org=&bucket=&precision=s with a Token', async () => {
    const seconds = Math.floor(Date.now() / 1000) - 60;
    const response = await fetch(`${server.url}/api/v2/write?org=acme&bucket=telegraf&precision=s`, {
      method: 'POST',
      headers: { authorization: `Token ${server.key}`, 'content-type': 'text/plain; charset=utf-8' },
      body: `mem,host=web-1 used_percent=41.5,available=8123456i ${seconds}\n`,
    });
    expect(response.status).toBe(204);
    expect((await storedSeries('mem.available')).values).toEqual([8123456]);
  });

  it('answers 400 "partial write" naming the refused field, having stored the rest', async () => {
    const response = await fetch(`${server.url}/api/v2/write?bucket=b`, {
      method: 'POST',
      headers: { authorization: `Token ${server.key}` },
      body: `system,host=web-1 load5=0.25,uptime_format="3 days" ${nanos(Date.now() - 60_000)}\n`,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string; error: string };
    expect(body.code).toBe('invalid');
    expect(body.message).toMatch(
      /^partial write: 1 point\(s\) stored, 1 problem\(s\): fields.uptime_format: line 1: string fields/,
    );
    expect(body.error).toBe(body.message);
    expect((await storedSeries('system.load5')).values).toEqual([0.25]);
  });

  it('answers 401 in the Influx error shape without a key', async () => {
    const response = await fetch(`${server.url}/api/v2/write?bucket=b`, { method: 'POST', body: 'x v=1' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'unauthorized' });
  });
});
