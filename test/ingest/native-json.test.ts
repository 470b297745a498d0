import { describe, expect, it } from 'vitest';
import { acceptBatch, prepareBatch } from '../../lib/ingest/accept.ts';
import { parseNativeJson } from '../../lib/ingest/native-json.ts';
import { timeWindow } from '../../lib/ingest/validate.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { dayMs } from '../../lib/time.ts';

const now = Date.parse('2025-11-25T12:00:00Z');
const window = timeWindow(now, 30 * dayMs);
const parse = (metrics: unknown) => parseNativeJson(JSON.stringify({ metrics }), window);

describe('parseNativeJson, bulk form', () => {
  it('reads many points of one series from one item, with epoch ms and ISO-8601 times', () => {
    const batch = parse([
      {
        name: 'shop.requests',
        type: 'counter',
        dimensions: { host: 'web-1' },
        points: [
          [now - 120_000, 5],
          ['2025-11-25T11:59:00Z', 7],
        ],
      },
      { name: 'single', value: 1 },
    ]);
    expect(batch.problems).toEqual([]);
    expect(batch.points).toEqual([
      {
        name: 'shop.requests',
        type: 'counter',
        value: 5,
        timestamp: now - 120_000,
        dimensions: { host: 'web-1' },
      },
      {
        name: 'shop.requests',
        type: 'counter',
        value: 7,
        timestamp: now - 60_000,
        dimensions: { host: 'web-1' },
      },
      { name: 'single', type: 'gauge', value: 1, timestamp: now, dimensions: {} },
    ]);
    expect(batch.pointItems).toEqual([0, 0, 1]);
  });

  it('keeps the good points of a bulk item and names each bad one by item, point and part', () => {
    const batch = parse([
      { name: 'ok', value: 1 },
      {
        name: 'bulk',
        points: [
          [now, 1],
          [now, 'x'],
          [1, 2],
          'pair',
          [now - 40 * dayMs, 3],
          [now + 3_600_000, 4],
          [now - 1, null],
        ],
      },
      { name: 'bulk', value: 3, points: [] },
      { name: 'bulk', points: { t: 1 } },
    ]);
    expect(batch.points.map((point) => point.value)).toEqual([1, 1]);
    expect(batch.pointItems).toEqual([0, 1]);
    expect(batch.problems).toEqual([
      { index: 1, field: 'points[1][1]', message: 'must be a number, got the string "x"' },
      {
        index: 1,
        field: 'points[2][0]',
        message: '1 looks like epoch seconds: send epoch milliseconds or an ISO-8601 string',
      },
      { index: 1, field: 'points[3]', message: 'must be a [timestamp, value] pair, got the string "pair"' },
      {
        index: 1,
        field: 'points[4][0]',
        message: 'is older than the 30 days the store keeps (2025-10-16T12:00:00.000Z)',
      },
      {
        index: 1,
        field: 'points[5][0]',
        message: 'is more than 10 minutes in the future',
      },
      { index: 1, field: 'points[6][1]', message: 'must be a number, got null' },
      {
        index: 2,
        field: 'value',
        message: 'must not be given beside "points": a bulk item carries its values in "points"',
      },
      { index: 3, field: 'points', message: 'must be an array of [timestamp, value] pairs, got an object' },
    ]);
  });

  it('rejects single points older than the store keeps, with the reason', () => {
    const batch = parse([{ name: 'old', value: 1, timestamp: now - 31 * dayMs }]);
    expect(batch.problems).toEqual([
      {
        index: 0,
        field: 'timestamp',
        message: 'is older than the 30 days the store keeps (2025-10-25T12:00:00.000Z)',
      },
    ]);
  });

  it('does not mistake dimensions named like a problem for a problem', () => {
    const batch = parse([{ name: 'x', value: 1, dimensions: { field: 'a', message: 'b' } }]);
    expect(batch.problems).toEqual([]);
    expect(batch.points[0]?.dimensions).toEqual({ field: 'a', message: 'b' });
  });
});

describe('prepareBatch', () => {
  it('gives each point its series id and merges one series at one instant: counters add, gauges keep the last', () => {
    const batch = parse([
      { name: 'c', type: 'counter', value: 2, timestamp: now, dimensions: { a: '1', b: '2' } },
      { name: 'c', type: 'counter', value: 3, timestamp: now, dimensions: { b: '2', a: '1' } },
      { name: 'g', value: 2, timestamp: now },
      { name: 'g', value: 5, timestamp: now },
      { name: 'g', value: 6, timestamp: now - 1000 },
    ]);
    const prepared = prepareBatch(batch);
    expect(prepared.points.map((point) => [point.name, point.value, point.seriesId])).toEqual([
      ['c', 5, seriesId('c', { a: '1', b: '2' })],
      ['g', 5, seriesId('g', {})],
      ['g', 6, seriesId('g', {})],
    ]);
    expect(prepared.items).toEqual([1, 3, 4]);
  });
});

describe('acceptBatch', () => {
  const stores = () => {
    const written: unknown[] = [];
    return {
      written,
      metrics: {
        writePoints: async (points: readonly unknown[]) => {
          written.push(...points);
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
    };
  };

  it('answers 400 with every problem when no item is valid, and writes nothing', async () => {
    const target = stores();
    const batch = parse([{ name: 'x', value: 'bad' }, { value: 1 }]);
    await expect(acceptBatch(batch, target)).rejects.toMatchObject({
      statusCode: 400,
      message:
        'no metric in the request was valid (item 0, field "value": must be a number, got the string "bad"); 2 problems in all',
      problemCount: 2,
      problems: [
        { index: 0, field: 'value', message: 'must be a number, got the string "bad"' },
        { index: 1, field: 'name', message: 'is required' },
      ],
    });
    expect(target.written).toEqual([]);
  });

  it('writes the valid points of a mixed batch and counts the problems', async () => {
    const target = stores();
    const outcome = await acceptBatch(parse([{ name: 'x', value: 1 }, { name: 'y' }]), target);
    expect(outcome).toEqual({
      accepted: 1,
      rejected: 1,
      problems: [{ index: 1, field: 'value', message: 'is required' }],
      refusedItems: new Set(),
    });
    expect(target.written).toHaveLength(1);
  });
});
