import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { dayMs, hourMs, minuteMs, syntheticSeries, weekMs } from '../helpers/series.ts';

/**
 * Feedback through the band job and the default rule, on a real local server (HTTP API, SQLite) on a fake
 * clock: "this was normal" teaches the band a departure, "this was an incident" keeps a stretch out of
 * learning, and a withdrawn feedback leaves the series as if it had never been given.
 */

/** 2025-11-03 00:00 UTC, a Monday. */
const monday = Date.UTC(2025, 10, 3);
const stepMs = 5 * minuteMs;
/** After a bucket ends, the band job waits this long for late points before it processes the bucket. */
const settleMs = 20_000;

interface Band {
  timestamp: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

interface Alert {
  id: string;
  seriesId: string;
  startedAt: number;
  resolvedAt: number | null;
  feedback: { id: string; verdict: string; by: string; at: number; note: string } | null;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server on a clock the test moves, with helpers to send a series' points and read what it made of them. */
async function start() {
  const clock = { time: monday };
  const started = await startTestServer({ clock: { now: () => clock.time } });
  server = started;
  const send = async (name: string, points: readonly [number, number][]) => {
    for (let offset = 0; offset < points.length; offset += 5000) {
      const response = await started.postMetrics([
        { name, type: 'counter', points: points.slice(offset, offset + 5000) },
      ]);
      expect(response.status).toBe(200);
    }
  };
  const seriesIds = new Map<string, string>();
  const idOf = async (name: string) => {
    const known = seriesIds.get(name);
    if (known) return known;
    const { series } = await started.getJson<{ series: { id: string; name: string }[] }>('/v1/series');
    for (const entry of series) seriesIds.set(entry.name, entry.id);
    return seriesIds.get(name) ?? '';
  };
  const bands = async (name: string, from: number, to: number): Promise<Band[]> => {
    const { points } = await started.getJson<{ points: Band[] }>(
      `/v1/series/${await idOf(name)}/points?from=${from}&to=${to}`,
    );
    return points.map(({ timestamp, expected, lower, upper }) => ({ timestamp, expected, lower, upper }));
  };
  const alerts = async (name: string) =>
    (await started.getJson<{ alerts: Alert[] }>(`/v1/alerts?series=${await idOf(name)}&limit=1000`)).alerts;
  const post = (path: string, body: unknown) =>
    started.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** Sends every series' points in `[from, to)` at once, then runs the band job once. */
  const backfill = async (all: Record<string, [number, number][]>, from: number, to: number) => {
    clock.time = Math.max(clock.time, to + settleMs);
    for (const [name, points] of Object.entries(all)) {
      await send(
        name,
        points.filter(([t]) => t >= from && t < to),
      );
    }
    return started.runBandJob();
  };
  /** Lives through `[from, to)` a step at a time: the points of the step, then the band job. */
  const live = async (all: Record<string, [number, number][]>, from: number, to: number) => {
    for (let t = from; t < to; t += stepMs) {
      clock.time = Math.max(clock.time, t);
      for (const [name, points] of Object.entries(all)) {
        await send(
          name,
          points.filter(([at]) => at >= t && at < t + stepMs),
        );
      }
      clock.time = t + stepMs + settleMs;
      await started.runBandJob();
    }
  };
  return { server: started, clock, idOf, bands, alerts, post, backfill, live };
}

describe('Feedback: "this was normal" on a weekly departure', () => {
  // Requests 15 % up for two hours every Thursday from 04:00, from the fourth week on: a shift too small for any
  // one bucket to be notable, which the band does not remember on its own (it pages every week).
  const first = monday + 3 * weekMs + 3 * dayMs + 4 * hourMs;
  const second = first + weekMs;
  const lasting = 2 * hourMs;
  const during = (t: number) => (t >= first && t < first + lasting) || (t >= second && t < second + lasting);
  const points = syntheticSeries({
    type: 'counter',
    stepMs,
    from: monday,
    to: second + 6 * hourMs,
    seed: 2,
    change: (t) => (during(t) ? 1.15 : 1),
  });
  const taught = 'shop.batch.requests';
  const twin = 'shop.batch.requests.twin';
  const both = { [taught]: points, [twin]: points };

  it('learns it at once: its second occurrence a week later does not page, where the twin without it pages', async () => {
    const run = await start();
    await run.backfill(both, monday, first + lasting + hourMs);
    const firstAlerts = (await run.alerts(taught)).filter(
      (alert) => alert.startedAt >= first && alert.startedAt < first + lasting,
    );
    expect(firstAlerts.length).toBeGreaterThan(0);
    for (const alert of firstAlerts) {
      const answer = await run.post(`/v1/alerts/${alert.id}/feedback`, {
        verdict: 'normal',
        note: 'the Thursday batch',
      });
      expect(answer.status).toBe(201);
      const body = (await answer.json()) as { alert: Alert; feedback: { start: number; end: number } };
      expect(body.alert.feedback).toMatchObject({
        verdict: 'normal',
        by: 'test',
        note: 'the Thursday batch',
      });
      expect([body.feedback.start, body.feedback.end]).toEqual([alert.startedAt, alert.resolvedAt]);
    }
    run.clock.time += 1000;
    expect((await run.server.runBandJob()).seriesRelearned).toBe(1);

    await run.backfill(both, first + lasting + hourMs, second - hourMs);
    const pagedBefore = run.server.notifications.length;
    await run.live(both, second - hourMs, second + lasting + hourMs);
    const pages = run.server.notifications
      .slice(pagedBefore)
      .filter((notification) => notification.state === 'OPEN')
      .map((notification) => notification.name);
    expect(pages).toContain(twin);
    expect(pages).not.toContain(taught);
    // The alert stays marked.
    const marked = (await run.alerts(taught))
      .filter((alert) => alert.feedback !== null)
      .map((alert) => alert.id);
    expect(marked).toEqual(firstAlerts.map((alert) => alert.id));
  }, 120_000);

  it('withdrawn, leaves the series to learn as its twin that never had it', async () => {
    const run = await start();
    await run.backfill(both, monday, first + lasting + hourMs);
    const [alert] = (await run.alerts(taught)).filter(
      (candidate) => candidate.startedAt >= first && candidate.startedAt < first + lasting,
    );
    const answer = await run.post(`/v1/alerts/${alert?.id}/feedback`, { verdict: 'normal' });
    expect(answer.status).toBe(201);
    const { feedback } = (await answer.json()) as { feedback: { id: string } };
    run.clock.time += 1000;
    expect((await run.server.runBandJob()).seriesRelearned).toBe(1);
    await run.backfill(both, first + lasting + hourMs, second - hourMs);
    // Taught, the series' band differs from its twin's at the time of week it was taught.
    await run.live(both, second - hourMs, second + hourMs);
    expect(await run.bands(taught, second, second + hourMs)).not.toEqual(
      await run.bands(twin, second, second + hourMs),
    );

    const withdrawn = await run.server.request(`/v1/feedback/${feedback.id}`, { method: 'DELETE' });
    expect(withdrawn.status).toBe(200);
    expect(((await withdrawn.json()) as { feedback: { withdrawnAt: number } }).feedback.withdrawnAt).toBe(
      run.clock.time,
    );
    const { feedback: listed } = await run.server.getJson<{
      feedback: { id: string; withdrawnAt: number }[];
    }>(`/v1/series/${await run.idOf(taught)}/feedback`);
    expect(listed.map((record) => [record.id, record.withdrawnAt])).toEqual([[feedback.id, run.clock.time]]);
    expect((await run.alerts(taught)).every((candidate) => candidate.feedback === null)).toBe(true);
    run.clock.time += 1000;
    expect((await run.server.runBandJob()).seriesRelearned).toBe(1);
    run.clock.time += 1000;
    expect((await run.server.runBandJob()).seriesRelearned).toBe(0);
    await run.live(both, second + hourMs, second + 3 * hourMs);
    const after = await run.bands(taught, second + hourMs, second + 3 * hourMs);
    expect(after).toHaveLength(24);
    // The same readings as the twin's: times exactly, numbers to the precision the engine stores its state in
    // (normalcy/8 keeps noise units and profiles to about 1e-4 of their range; 1e-3 here).
    const twinAfter = await run.bands(twin, second + hourMs, second + 3 * hourMs);
    expect(after.map((band) => band.timestamp)).toEqual(twinAfter.map((band) => band.timestamp));
    after.forEach((band, index) => {
      const other = twinAfter[index];
      for (const key of ['expected', 'lower', 'upper'] as const) {
        const value = band[key];
        const twinValue = other?.[key] ?? null;
        if (value === null || twinValue === null) expect(value, `${key} at ${index}`).toBe(twinValue);
        else {
          expect(Math.abs(value - twinValue), `${key} at ${index}`).toBeLessThanOrEqual(
            1e-3 * Math.max(1, Math.abs(twinValue)),
          );
        }
      }
    });
  }, 120_000);
});

describe('Feedback: "this was an incident" on a stretch no alert covered', () => {
  it('keeps its buckets out of learning, as an exclusion of that stretch does', async () => {
    // Eight hours 30 % up, from Wednesday 10:00 of the second week: long enough for the band to take it as the
    // new level (it lasts past six hours), unless it is kept out.
    const stretch = monday + weekMs + 2 * dayMs + 10 * hourMs;
    const end = stretch + 8 * hourMs;
    const points = syntheticSeries({
      type: 'counter',
      stepMs,
      from: monday,
      to: end + 6 * hourMs,
      seed: 5,
      change: (t) => (t >= stretch && t < end ? 1.3 : 1),
    });
    const told = 'shop.api.requests';
    const excluded = 'shop.api.requests.excluded';
    const plain = 'shop.api.requests.plain';
    const all = { [told]: points, [excluded]: points, [plain]: points };
    const run = await start();
    await run.backfill(all, monday, end + 2 * hourMs);

    const answer = await run.post(`/v1/series/${await run.idOf(told)}/feedback`, {
      verdict: 'incident',
      start: new Date(stretch).toISOString(),
      end,
      note: 'a slow dependency',
    });
    expect(answer.status).toBe(201);
    expect(((await answer.json()) as { feedback: unknown }).feedback).toMatchObject({
      seriesId: await run.idOf(told),
      alertId: null,
      verdict: 'incident',
      start: stretch,
      end,
      by: 'test',
      note: 'a slow dependency',
      withdrawnAt: null,
    });
    const exclusion = await run.post('/v1/exclusions', {
      selector: { seriesId: await run.idOf(excluded) },
      start: stretch,
      end,
    });
    expect(exclusion.status).toBe(201);
    run.clock.time += 1000;
    expect((await run.server.runBandJob()).seriesRelearned).toBe(2);

    await run.live(all, end + 2 * hourMs, end + 4 * hourMs);
    const after = await run.bands(told, end + 2 * hourMs, end + 4 * hourMs);
    expect(after).toHaveLength(24);
    expect(after).toEqual(await run.bands(excluded, end + 2 * hourMs, end + 4 * hourMs));
    // The stretch mattered: the series that learned it draws another band.
    expect(after).not.toEqual(await run.bands(plain, end + 2 * hourMs, end + 4 * hourMs));
  }, 120_000);
});
