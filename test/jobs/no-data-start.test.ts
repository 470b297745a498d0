import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { minuteMs } from '../helpers/series.ts';

describe('No-data rules and a series that has just started', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('count the silence from the series’ first point, not from 1970', async () => {
    const start = Date.UTC(2026, 2, 10, 12, 0, 20);
    let time = start + 26_000;
    server = await startTestServer({ clock: { now: () => time } });
    const rule = await server.request('/v1/rules', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'silent',
        kind: 'nodata',
        selector: { metric: 'shop.*' },
        afterMs: 15 * minuteMs,
      }),
    });
    expect(rule.status).toBe(201);
    // Six points ten seconds apart (a one-minute step), all in a bucket that is not closed when the job runs.
    const points = Array.from({ length: 6 }, (_, index) => ({
      name: 'shop.new',
      value: 3,
      timestamp: start + index * 5_000,
    }));
    expect((await server.postMetrics(points)).status).toBe(200);

    await server.runBandJob();
    time = start + 10 * minuteMs;
    await server.runBandJob();
    expect(server.notifications).toEqual([]);

    time = start + 16 * minuteMs;
    await server.runBandJob();
    expect(server.notifications.map((n) => [n.state, n.startedAt])).toEqual([['OPEN', start + 25_000]]);
    expect(server.notifications[0]?.reason).toBe('no data for 15 min');
  });
});
