import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../lib/ports/notifier.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { dayMs, hourMs, minuteMs, type SeriesType, syntheticSeries, weekMs } from '../helpers/series.ts';

/**
 * Issue 12, item 2, the alert side, end to end through the real HTTP API, SQLite store and band job with the
 * default engine and rule: a p90 latency that triples within 30 minutes and stays there for two hours opens one
 * alert, escalates it to critical and resolves it; a deploy spike every Thursday 04:00 stops paging after its
 * second occurrence. Both series send a point a minute (what the statsd agent's flushes aggregate to), the
 * history at once, then the present lived with the band job running every five minutes on a fake clock.
 */

/** 2025-11-03 00:00 UTC, a Monday. */
const monday = Date.UTC(2025, 10, 3);
const thursday = (week: number) => monday + week * weekMs + 3 * dayMs + 4 * hourMs;
const iso = (time: number) => new Date(time).toISOString();
/** The job waits this long after a bucket ends for late points (its default is 15 s). */
const settleMs = 20_000;

// The third Wednesday: from 14:00 the p90 latency climbs to three times its value by 14:30, stays there until
// 16:30, and is back to normal at once.
const climbAt = monday + 2 * weekMs + 2 * dayMs + 14 * hourMs;
const tripledAt = climbAt + 30 * minuteMs;
const recoveredAt = tripledAt + 2 * hourMs;
const latencyChange = (t: number) => {
  if (t < climbAt || t >= recoveredAt) return 1;
  return t >= tripledAt ? 3 : 1 + (2 * (t - climbAt + minuteMs)) / (30 * minuteMs);
};
// Every Thursday at 04:00 a deploy makes 3.5 times the requests for 15 minutes.
const deploy = (t: number) => (t >= thursday(0) && (t - thursday(0)) % weekMs < 15 * minuteMs ? 3.5 : 1);

const sources: readonly { name: string; type: SeriesType; seed: number; change: (t: number) => number }[] = [
  { name: 'shop.checkout.time.p90', type: 'timer', seed: 31, change: latencyChange },
  { name: 'shop.requests', type: 'counter', seed: 32, change: deploy },
];
const end = thursday(3) + 3 * hourMs;
const values = sources.map((source) =>
  syntheticSeries({
    type: source.type,
    stepMs: minuteMs,
    from: monday,
    to: end,
    seed: source.seed,
    change: source.change,
  }),
);

describe("the band job on a series' normal: one alert for a tripled latency, none for a weekly deploy", () => {
  let server: TestServer;
  let time = monday;

  /** Sends every source's points in `[from, to)`, in bulk items of a day at most. */
  async function send(from: number, to: number) {
    const metrics = [];
    for (const [index, source] of sources.entries()) {
      const points = (values[index] ?? []).filter(([t]) => t >= from && t < to);
      for (let offset = 0; offset < points.length; offset += 1440) {
        metrics.push({
          name: source.name,
          type: source.type,
          dimensions: { host: 'web-1' },
          points: points.slice(offset, offset + 1440),
        });
      }
    }
    for (let offset = 0; offset < metrics.length; offset += 8) {
      const response = await server.postMetrics(metrics.slice(offset, offset + 8));
      expect(response.status).toBe(200);
    }
  }

  /** History at once: the points of `[from, to)` sent, then the job run once. */
  async function backfill(from: number, to: number) {
    time = to + settleMs;
    await send(from, to);
    await server.runBandJob();
  }

  /** The present, five minutes at a time: the points sent as they happen, the job run after each five. */
  async function live(from: number, to: number) {
    for (let t = from; t < to; t += 5 * minuteMs) {
      time = t;
      await send(t, t + 5 * minuteMs);
      time = t + 5 * minuteMs + settleMs;
      await server.runBandJob();
    }
  }

  const timeline = (notifications: readonly Notification[]) =>
    notifications.map(
      (n) =>
        `${n.state} ${n.name} ${iso(n.at)} ${n.severity}: ${n.value} against [${n.lower}, ${n.upper}], ${n.reason}`,
    );

  beforeAll(async () => {
    server = await startTestServer({ clock: { now: () => time } });
    await backfill(monday, climbAt - 2 * hourMs);
  });

  afterAll(() => server.close());

  it('history is recorded, not paged', () => {
    expect(timeline(server.notifications)).toEqual([]);
  });

  it('pages once for the tripled latency: OPEN, ESCALATED to critical, RESOLVED after it ends', async () => {
    await live(climbAt - 2 * hourMs, recoveredAt + 2 * hourMs);
    const latency = server.notifications.filter((n) => n.name === 'shop.checkout.time.p90');
    expect(
      latency.map((n) => n.state),
      timeline(server.notifications).join('\n'),
    ).toEqual(['OPEN', 'ESCALATED', 'RESOLVED']);
    const [open, escalated, resolved] = latency;
    expect(new Set(latency.map((n) => n.alertId)).size).toBe(1);
    // Opened during the climb, critical by the time it tripled, resolved within a few buckets of the end.
    expect(open?.at).toBeGreaterThanOrEqual(climbAt);
    expect(open?.at).toBeLessThan(tripledAt);
    expect(open?.severity).toBe('warning');
    expect(escalated?.severity).toBe('critical');
    expect(escalated?.at).toBeLessThanOrEqual(tripledAt);
    expect(resolved?.at).toBeGreaterThanOrEqual(recoveredAt);
    expect(resolved?.at).toBeLessThanOrEqual(recoveredAt + 5 * minuteMs);
    // Every bucket from the tripling to its end was far above the band, which did not follow it.
    const { series } = await server.getJson<{ series: { id: string; name: string }[] }>('/v1/series');
    const id = series.find((s) => s.name === 'shop.checkout.time.p90')?.id;
    const { points } = await server.getJson<{
      points: { timestamp: number; value: number; expected: number; upper: number; anomaly: boolean }[];
    }>(`/v1/series/${id}/points?from=${tripledAt}&to=${recoveredAt - 1}`);
    expect(points).toHaveLength(120);
    const inside = points.filter((p) => !p.anomaly || p.value < 1.8 * p.upper);
    expect(inside.map((p) => `${iso(p.timestamp)} ${p.value} ≤ 1.8 × ${p.upper}`)).toEqual([]);
    const before = points[0]?.expected ?? 0;
    expect(points.every((p) => Math.abs(p.expected - before) < 0.15 * before)).toBe(true);
  });

  it('does not page for the weekly deploy spike after its second occurrence', async () => {
    const paged = server.notifications.length;
    await backfill(recoveredAt + 2 * hourMs, thursday(2) - hourMs);
    await live(thursday(2) - hourMs, thursday(2) + 2 * hourMs);
    await backfill(thursday(2) + 2 * hourMs, thursday(3) - hourMs);
    await live(thursday(3) - hourMs, end);
    expect.soft(timeline(server.notifications.slice(paged))).toEqual([]);
    // The alerts on record: the latency's, and none for requests on the third and fourth Thursdays.
    const { alerts } = await server.getJson<{ alerts: { name: string; startedAt: number }[] }>(
      `/v1/alerts?from=${thursday(2) - dayMs}`,
    );
    expect(alerts.filter((alert) => alert.name === 'shop.requests').map((a) => iso(a.startedAt))).toEqual([]);
  });
});
