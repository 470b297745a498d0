import { afterEach, describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../scripts/dev/random.ts';
import { dayMs, hourMs, minuteMs, weekMs } from '../helpers/series.ts';
import { type Scenario, type Source, startScenario } from './scenario.ts';

/**
 * Alerting as a user lives it: a real local server (HTTP API, SQLite, the band job with the default engine)
 * on a fake clock, fed through the ingest API, configured through the alerts API, history sent at once and
 * then the present lived five minutes at a time with the band job running after each step.
 */

const monday = Date.UTC(2025, 10, 3);
const iso = (time: number) => new Date(time).toISOString();

/** A 5-minute series with a daily cycle around 100 and a little noise, plus whatever `extra` adds. */
function dailySource(name: string, seed: number, extra: (t: number) => number | undefined = () => 0): Source {
  const noise = gaussian(seededRandom(seed));
  return {
    name,
    dimensions: { host: 'web-1' },
    valueAt: (t) => {
      const added = extra(t);
      if (added === undefined) return undefined;
      return 100 + 40 * Math.sin((2 * Math.PI * (t % dayMs)) / dayMs) + 3 * noise() + added;
    },
  };
}

const between = (t: number, from: number, to: number) => t >= from && t < to;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('Scenario: the Thursday 04:00 deploy', () => {
  it('after two weeks the weekly deploy spike is normal, and a spike never seen before still pages', async () => {
    const deploy = (t: number) =>
      between((t - monday) % weekMs, 3 * dayMs + 4 * hourMs, 3 * dayMs + 4.5 * hourMs);
    const thirdThursday = monday + 2 * weekMs + 3 * dayMs;
    const novel = (t: number) =>
      between(t, thirdThursday + 10 * hourMs, thirdThursday + 10 * hourMs + 10 * minuteMs);
    const source = dailySource('shop.cpu', 7, (t) => (deploy(t) || novel(t) ? 200 : 0));
    scenario = await startScenario(monday);

    await scenario.backfill([source], monday, thirdThursday + 3 * hourMs);
    await scenario.live([source], thirdThursday + 3 * hourMs, thirdThursday + 6 * hourMs);
    expect(scenario.timeline()).toEqual([]);

    await scenario.live([source], thirdThursday + 6 * hourMs, thirdThursday + 12 * hourMs);
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(thirdThursday + 10 * hourMs)],
      ['RESOLVED', iso(thirdThursday + 10 * hourMs + 10 * minuteMs)],
    ]);
  });
});

describe('Scenario: an outage', () => {
  it('gives one OPEN and one RESOLVED, no more', async () => {
    const down = monday + 8 * dayMs + 14 * hourMs;
    const source = dailySource('shop.requests', 11);
    const outage: Source = {
      ...source,
      valueAt: (t) => (between(t, down, down + 45 * minuteMs) ? 0 : source.valueAt(t)),
    };
    scenario = await startScenario(monday);
    await scenario.backfill([outage], monday, down - 2 * hourMs);
    await scenario.live([outage], down - 2 * hourMs, down + 4 * hourMs);
    expect(scenario.timeline().map(([state]) => state)).toEqual(['OPEN', 'RESOLVED']);
    const [open, resolved] = scenario.delivered.map((entry) => entry.notification);
    expect(open).toMatchObject({
      at: down,
      severity: 'critical',
      value: 0,
      name: 'shop.requests',
      rule: { id: 'default' },
    });
    expect(open?.reason).toBe('below its band for 5 min');
    // When the band job calls the series recovered is the engine's judgement; it is never before data is back
    // by much, and never after.
    expect(resolved?.at).toBeGreaterThan(down + 15 * minuteMs);
    expect(resolved?.at).toBeLessThanOrEqual(down + 45 * minuteMs);
    expect(resolved?.alertId).toBe(open?.alertId);
    const { alerts } = await scenario.server.getJson<{ alerts: { state: string; paged: boolean }[] }>(
      `/v1/alerts?from=${down}`,
    );
    expect(alerts).toEqual([expect.objectContaining({ state: 'resolved', paged: true })]);
  });
});

describe('Scenario: a flapping series', () => {
  it('gives at most one alert per episode', async () => {
    const from = monday + 8 * dayMs + 9 * hourMs;
    // For an hour: ten minutes far out, ten minutes normal, and again.
    const flapping = (t: number) =>
      between(t, from, from + hourMs) && (t - from) % (20 * minuteMs) < 10 * minuteMs ? 250 : 0;
    const source = dailySource('shop.queue', 13, flapping);
    scenario = await startScenario(monday);
    await scenario.backfill([source], monday, from - hourMs);
    await scenario.live([source], from - hourMs, from + 3 * hourMs);
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(from)],
      ['RESOLVED', iso(from + 50 * minuteMs)],
    ]);
  });
});

describe('Scenario: a mute', () => {
  it('sends nothing inside the window, and an alert still open at its end arrives after it', async () => {
    const thursday = monday + 7 * dayMs + 3 * dayMs;
    const blip = (t: number) => between(t, thursday + 4 * hourMs, thursday + 4 * hourMs + 10 * minuteMs);
    const outage = (t: number) => between(t, thursday + 4.5 * hourMs, thursday + 5.5 * hourMs);
    const source = dailySource('shop.checkout', 17, (t) => (blip(t) ? 250 : outage(t) ? -200 : 0));
    scenario = await startScenario(monday);
    const response = await scenario.server.request('/v1/mutes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'thursday-deploys',
        schedule: { kind: 'weekly', days: ['thu'], start: '03:30', end: '05:00', timeZone: 'UTC' },
        selector: { metric: 'shop.*' },
        reason: 'weekly deploy',
      }),
    });
    expect(response.status).toBe(201);

    await scenario.backfill([source], monday, thursday + 3 * hourMs);
    await scenario.live([source], thursday + 3 * hourMs, thursday + 7 * hourMs);
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(thursday + 4.5 * hourMs)],
      ['RESOLVED', iso(thursday + 5.5 * hourMs)],
    ]);
    expect(scenario.delivered[0]?.deliveredAt).toBeGreaterThanOrEqual(thursday + 5 * hourMs);
    expect(scenario.delivered[0]?.deliveredAt).toBeLessThan(thursday + 5 * hourMs + 10 * minuteMs);

    const { alerts } = await scenario.server.getJson<{ alerts: { startedAt: number; paged: boolean }[] }>(
      `/v1/alerts?from=${thursday}`,
    );
    expect(alerts.map((alert) => [iso(alert.startedAt), alert.paged])).toEqual([
      [iso(thursday + 4.5 * hourMs), true],
      [iso(thursday + 4 * hourMs), false],
    ]);
  });
});

describe('Scenario: a silent series', () => {
  it('raises the no-data alert, and resolves it when data is back', async () => {
    const quietFrom = monday + 8 * dayMs + 10 * hourMs;
    const source = dailySource('shop.orders', 19, (t) =>
      between(t, quietFrom, quietFrom + hourMs) ? undefined : 0,
    );
    scenario = await startScenario(monday);
    const response = await scenario.server.request('/v1/rules', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'shop-silence',
        kind: 'nodata',
        afterMs: 15 * minuteMs,
        selector: { metric: 'shop.*' },
      }),
    });
    expect(response.status).toBe(201);
    await scenario.backfill([source], monday, quietFrom - hourMs);
    await scenario.live([source], quietFrom - hourMs, quietFrom + 2 * hourMs);
    // The last point is at quietFrom - 5 min: the silence is 15 minutes long at the OPEN (a warning) and
    // critical at 30 minutes, which is notified of its own.
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(quietFrom - 5 * minuteMs + 15 * minuteMs)],
      ['ESCALATED', iso(quietFrom - 5 * minuteMs + 30 * minuteMs)],
      ['RESOLVED', iso(quietFrom + hourMs)],
    ]);
    expect(scenario.delivered[0]?.notification).toMatchObject({
      rule: { id: 'shop-silence', kind: 'nodata' },
      reason: 'no data for 15 min',
      severity: 'warning',
      value: null,
    });
    expect(scenario.delivered[1]?.notification).toMatchObject({
      reason: 'no data for 30 min',
      severity: 'critical',
    });
  });
});

describe('Scenario: a static threshold', () => {
  it('fires where the band would not, and resolves when the threshold is raised', async () => {
    const steady: Source = { name: 'shop.login.time', dimensions: {}, valueAt: () => 900 };
    const now = monday + 8 * dayMs;
    scenario = await startScenario(monday);
    await scenario.backfill([steady], monday, now);
    await scenario.live([steady], now, now + hourMs);
    expect(scenario.timeline()).toEqual([]);

    const rule = (threshold: number) => ({
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'threshold',
        name: 'Login slower than the SLO',
        direction: 'above',
        threshold,
      }),
    });
    expect((await scenario.server.request('/v1/rules/login-slo', rule(500))).status).toBe(200);
    await scenario.live([steady], now + hourMs, now + 2 * hourMs);
    // A warning at first; critical (and notified so) once it has been over the threshold for 30 minutes.
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(now + hourMs)],
      ['ESCALATED', iso(now + hourMs + 25 * minuteMs)],
    ]);
    expect(scenario.delivered[0]?.notification).toMatchObject({
      rule: { id: 'login-slo', kind: 'threshold' },
      threshold: 500,
      value: 900,
      severity: 'warning',
    });
    expect(scenario.delivered[1]?.notification).toMatchObject({
      severity: 'critical',
      reason: 'above 500 for 30 min',
    });

    expect((await scenario.server.request('/v1/rules/login-slo', rule(1000))).status).toBe(200);
    await scenario.live([steady], now + 2 * hourMs, now + 3 * hourMs);
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(now + hourMs)],
      ['ESCALATED', iso(now + hourMs + 25 * minuteMs)],
      ['RESOLVED', iso(now + 2 * hourMs)],
    ]);
  });
});

describe('Scenario: reminders and acknowledgement', () => {
  it('reminds while an alert stays open, until someone acknowledges it', async () => {
    const down = monday + 8 * dayMs + 14 * hourMs;
    const source = dailySource('shop.payments', 23, (t) => (between(t, down, down + 2 * hourMs) ? -150 : 0));
    scenario = await startScenario(monday);
    const put = await scenario.server.request('/v1/rules/default', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'band', reminderIntervalMs: 30 * minuteMs }),
    });
    expect(put.status).toBe(200);
    await scenario.backfill([source], monday, down - hourMs);
    await scenario.live([source], down - hourMs, down + 65 * minuteMs);
    expect(scenario.timeline()).toEqual([
      ['OPEN', iso(down)],
      ['REMINDER', iso(down + 30 * minuteMs)],
      ['REMINDER', iso(down + hourMs)],
    ]);
    const alertId = scenario.delivered[0]?.notification.alertId ?? '';
    const readKey = await scenario.server.addKey(['read']);
    const ack = await fetch(`${scenario.server.url}/v1/alerts/${alertId}/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ alert: { id: alertId, acknowledgedBy: 'test', state: 'open' } });

    await scenario.live([source], down + 65 * minuteMs, down + 3 * hourMs);
    expect(scenario.timeline().slice(3)).toEqual([['RESOLVED', iso(down + 2 * hourMs)]]);
  });
});

describe('Scenario: an exclusion', () => {
  it('keeps a maintenance period out of learning and out of band alerts', async () => {
    const from = monday + 8 * dayMs + 10 * hourMs;
    const maintenance = (t: number) => between(t, from, from + hourMs);
    const source = dailySource('shop.disk', 29, (t) => (maintenance(t) ? 300 : 0));
    scenario = await startScenario(monday);
    const response = await scenario.server.request('/v1/exclusions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start: iso(from), end: iso(from + hourMs), reason: 'disk migration' }),
    });
    expect(response.status).toBe(201);
    await scenario.backfill([source], monday, from - hourMs);
    await scenario.live([source], from - hourMs, from + 2 * hourMs);
    expect(scenario.timeline()).toEqual([]);

    const { series } = await scenario.server.getJson<{ series: { id: string }[] }>('/v1/series');
    const { points } = await scenario.server.getJson<{
      points: { timestamp: number; expected: number | null }[];
    }>(`/v1/series/${series[0]?.id}/points?from=${from - 10 * minuteMs}&to=${from + hourMs + 10 * minuteMs}`);
    expect(points.map((point) => [iso(point.timestamp), point.expected === null])).toEqual([
      [iso(from - 10 * minuteMs), false],
      [iso(from - 5 * minuteMs), false],
      ...Array.from({ length: 12 }, (_, index) => [iso(from + index * 5 * minuteMs), true]),
      [iso(from + hourMs), false],
      [iso(from + hourMs + 5 * minuteMs), false],
    ]);
  });
});

describe('Scenario: an exclusion added after the fact', () => {
  it('learns the series again without the excluded period, as if the exclusion had been there all along', async () => {
    const incident = monday + 8 * dayMs + 10 * hourMs;
    const during = (t: number) => between(t, incident, incident + 3 * hourMs);
    // Two series with the same values; only when their exclusions are made differs.
    const early = dailySource('shop.disk.early', 31, (t) => (during(t) ? 300 : 0));
    const late = dailySource('shop.disk.late', 31, (t) => (during(t) ? 300 : 0));
    scenario = await startScenario(monday);
    const server = scenario.server;
    const exclude = async (metric: string, start = incident, end = incident + 3 * hourMs) => {
      const response = await server.request('/v1/exclusions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          selector: { metric },
          start: iso(start),
          end: iso(end),
          reason: 'incident',
        }),
      });
      expect(response.status).toBe(201);
    };
    const bands = async (name: string, from: number, to: number) => {
      const { series } = await server.getJson<{ series: { id: string; name: string }[] }>('/v1/series');
      const id = series.find((entry) => entry.name === name)?.id;
      const { points } = await server.getJson<{
        points: { timestamp: number; expected: number; lower: number; upper: number }[];
      }>(`/v1/series/${id}/points?from=${from}&to=${to}`);
      return points.map(({ timestamp, expected, lower, upper }) => [timestamp, expected, lower, upper]);
    };

    await exclude('shop.disk.early');
    const day10 = monday + 10 * dayMs;
    await scenario.backfill([early, late], monday, day10);
    // The late series learned the incident: its bands differ from the early one's since.
    const afterIncident: [number, number] = [incident + 3 * hourMs, day10];
    expect(await bands('shop.disk.late', ...afterIncident)).not.toEqual(
      await bands('shop.disk.early', ...afterIncident),
    );

    await exclude('shop.disk.late');
    scenario.clock.time += 1000;
    expect((await server.runBandJob()).seriesRelearned).toBe(1);
    scenario.clock.time += 1000;
    expect((await server.runBandJob()).seriesRelearned).toBe(0);
    // An exclusion made ahead of its period is kept out of learning as it comes: nothing to learn again.
    await scenario.live([early, late], day10, day10 + hourMs);
    for (const metric of ['shop.disk.early', 'shop.disk.late']) {
      await exclude(metric, day10 + 90 * minuteMs, day10 + 105 * minuteMs);
    }
    const runs = await scenario.live([early, late], day10 + hourMs, day10 + 2 * hourMs);
    expect(runs.map((run) => run.seriesRelearned)).toEqual(runs.map(() => 0));
    const live: [number, number] = [day10, day10 + 2 * hourMs];
    const lateBands = await bands('shop.disk.late', ...live);
    expect(lateBands).toHaveLength(24);
    expect(lateBands).toEqual(await bands('shop.disk.early', ...live));
    // What was stored before is history: the late series' bands before the exclusion stay as they were.
    expect(await bands('shop.disk.late', ...afterIncident)).not.toEqual(
      await bands('shop.disk.early', ...afterIncident),
    );
    expect(scenario.timeline()).toEqual([]);
  });

  it('learns a period again once its exclusion is deleted, as if it had never been excluded', async () => {
    const incident = monday + 8 * dayMs + 10 * hourMs;
    const during = (t: number) => between(t, incident, incident + 3 * hourMs);
    const kept = dailySource('shop.disk.kept', 31, (t) => (during(t) ? 300 : 0));
    const withdrawn = dailySource('shop.disk.withdrawn', 31, (t) => (during(t) ? 300 : 0));
    scenario = await startScenario(monday);
    const { server } = scenario;
    const created = await server.request('/v1/exclusions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'mistaken',
        selector: { metric: 'shop.disk.withdrawn' },
        start: iso(incident),
        end: iso(incident + 3 * hourMs),
      }),
    });
    expect(created.status).toBe(201);
    const day10 = monday + 10 * dayMs;
    await scenario.backfill([kept, withdrawn], monday, day10);
    const bands = async (name: string, from: number, to: number) => {
      const { series } = await server.getJson<{ series: { id: string; name: string }[] }>('/v1/series');
      const id = series.find((entry) => entry.name === name)?.id;
      const { points } = await server.getJson<{
        points: { timestamp: number; expected: number; lower: number; upper: number }[];
      }>(`/v1/series/${id}/points?from=${from}&to=${to}`);
      return points.map(({ timestamp, expected, lower, upper }) => [timestamp, expected, lower, upper]);
    };
    const afterIncident: [number, number] = [incident + 3 * hourMs, day10];
    expect(await bands('shop.disk.withdrawn', ...afterIncident)).not.toEqual(
      await bands('shop.disk.kept', ...afterIncident),
    );

    expect((await server.request('/v1/exclusions/mistaken', { method: 'DELETE' })).status).toBe(204);
    expect((await server.getJson<{ exclusions: unknown[] }>('/v1/exclusions')).exclusions).toEqual([]);
    scenario.clock.time += 1000;
    expect((await server.runBandJob()).seriesRelearned).toBe(1);
    scenario.clock.time += 1000;
    expect((await server.runBandJob()).seriesRelearned).toBe(0);
    await scenario.live([kept, withdrawn], day10, day10 + hourMs);
    const live: [number, number] = [day10, day10 + hourMs];
    expect(await bands('shop.disk.withdrawn', ...live)).toEqual(await bands('shop.disk.kept', ...live));
  });
});
