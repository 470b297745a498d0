import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import { parseNativeJson } from '../../lib/ingest/native-json.ts';

const now = Date.parse('2025-11-25T12:00:00Z');
const parse = (metrics: unknown) => parseNativeJson(JSON.stringify({ metrics }), now);

describe('parseNativeJson', () => {
  it('reads the documented example, with epoch milliseconds, ISO-8601 and missing timestamps', () => {
    const batch = parse([
      {
        name: 'shop.login.time',
        type: 'timer',
        value: 68,
        timestamp: 1764028800000,
        dimensions: { host: 'web-1' },
      },
      { name: 'shop.logins', type: 'counter', value: 1, timestamp: '2025-11-25T00:00:00Z' },
      { name: 'shop.memory', value: 0.5 },
    ]);
    expect(batch.problems).toEqual([]);
    expect(batch.points).toEqual([
      {
        name: 'shop.login.time',
        type: 'timer',
        value: 68,
        timestamp: 1764028800000,
        dimensions: { host: 'web-1' },
      },
      { name: 'shop.logins', type: 'counter', value: 1, timestamp: 1764028800000, dimensions: {} },
      { name: 'shop.memory', type: 'gauge', value: 0.5, timestamp: now, dimensions: {} },
    ]);
  });

  it('names the item index, the field and the problem for each bad item, and keeps the good ones', () => {
    const batch = parse([
      { name: 'ok', value: 1 },
      { type: 'gauge', value: 1 },
      { name: 'x', value: '12' },
      { name: 'x', type: 'histogram', value: 1 },
      { name: 'x', value: 1, timestamp: 1764028800 },
      { name: 'x', value: 1, dimensions: { host: 7 } },
      { name: 'x', value: 1, timestamp: now + 3_600_000 },
      'text',
    ]);
    expect(batch.points).toHaveLength(1);
    expect(batch.problems.map(({ index, field }) => [index, field])).toEqual([
      [1, 'name'],
      [2, 'value'],
      [3, 'type'],
      [4, 'timestamp'],
      [5, 'dimensions.host'],
      [6, 'timestamp'],
      [7, ''],
    ]);
    expect(batch.problems[3]?.message).toContain('looks like epoch seconds');
    expect(batch.problems[0]?.message).toBe('is required');
  });

  it('rejects a body that is not JSON or has no metrics array', () => {
    expect(() => parseNativeJson('{"metrics":', now)).toThrow(ValidationError);
    expect(() => parseNativeJson('{"points":[]}', now)).toThrow(/"metrics" array/);
  });
});
