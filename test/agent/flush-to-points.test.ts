import { describe, expect, it } from 'vitest';
import { backoffDelay, DeliveryQueue } from '../../agent/delivery-queue.ts';
import { flushToMetrics, parseKey } from '../../agent/flush-to-points.ts';

describe('parseKey', () => {
  it('turns statsd 0.9 folded tags into dimensions, flags into "true"', () => {
    expect(parseKey('api.calls;env=prod;canary')).toEqual({
      name: 'api.calls',
      dimensions: { env: 'prod', canary: 'true' },
    });
    expect(parseKey('plain.name')).toEqual({ name: 'plain.name', dimensions: {} });
  });
});

describe('flushToMetrics', () => {
  it('sends counters, gauges, sets and timer summaries with percentiles, skipping statsd internals', () => {
    const metrics = flushToMetrics(1764028800, {
      counters: { 'shop.logins;host=web-1': 3, 'statsd.packets_received': 9 },
      gauges: { 'shop.memory': 0.5 },
      sets: { 'shop.users': { size: () => 4 } },
      timer_data: {
        'shop.login.time': { count: 2, lower: 68, upper: 72, mean: 70, median: 70, sum: 140, upper_90: 72 },
        'idle.timer': { count: 0 },
      },
      pctThreshold: [90],
    });
    const at = 1764028800000;
    expect(metrics).toEqual([
      { name: 'shop.logins', type: 'counter', value: 3, timestamp: at, dimensions: { host: 'web-1' } },
      { name: 'shop.memory', type: 'gauge', value: 0.5, timestamp: at },
      { name: 'shop.users', type: 'gauge', value: 4, timestamp: at },
      { name: 'shop.login.time.mean', type: 'timer', value: 70, timestamp: at },
      { name: 'shop.login.time.upper', type: 'timer', value: 72, timestamp: at },
      { name: 'shop.login.time.lower', type: 'timer', value: 68, timestamp: at },
      { name: 'shop.login.time.median', type: 'timer', value: 70, timestamp: at },
      { name: 'shop.login.time.count', type: 'counter', value: 2, timestamp: at },
      { name: 'shop.login.time.sum', type: 'timer', value: 140, timestamp: at },
      { name: 'shop.login.time.p90', type: 'timer', value: 72, timestamp: at },
      { name: 'idle.timer.count', type: 'counter', value: 0, timestamp: at },
    ]);
  });
});

describe('DeliveryQueue', () => {
  it('drops the oldest payloads past its capacity, keeps order and counts the drops', () => {
    const queue = new DeliveryQueue<number>(3);
    for (let i = 1; i <= 5; i++) queue.push(i);
    expect(queue.dropped).toBe(2);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([3, 4, 5, undefined]);
  });

  it('backs off exponentially up to the cap', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelay(20, 1000, 60_000, () => 0)).toBe(0);
  });
});
