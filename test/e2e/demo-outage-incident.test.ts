import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentNotification, Notification, Notifier } from '../../lib/ports/notifier.ts';
import { demoStory } from '../../scripts/demo-data.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { minuteMs } from '../helpers/series.ts';

const story = demoStory(Date.UTC(2025, 10, 27, 18, 0));

interface Played {
  readonly server: TestServer;
  readonly alertPages: Notification[];
  readonly incidentPages: IncidentNotification[];
}

/**
 * Plays the outage through a fresh server: history and the outage posted, the band job run at its end, the
 * hour after posted, the band job run again. `defaultRule` replaces the default rule first (through the API).
 */
async function playDemoOutage(defaultRule?: Record<string, unknown>): Promise<Played> {
  let now = story.outage.end + minuteMs;
  const alertPages: Notification[] = [];
  const incidentPages: IncidentNotification[] = [];
  const notifier: Notifier = {
    notify: async (notification) => {
      alertPages.push(notification);
    },
    notifyIncident: async (notification) => {
      incidentPages.push(notification);
    },
  };
  const server = await startTestServer({ clock: { now: () => now }, notifier });
  const post = async (from: number, to: number) => {
    const metrics = story.metrics.filter((metric) => metric.timestamp >= from && metric.timestamp < to);
    for (let offset = 0; offset < metrics.length; offset += 5000) {
      const response = await server.postMetrics(metrics.slice(offset, offset + 5000));
      expect(response.status).toBe(200);
    }
  };
  if (defaultRule) {
    const response = await server.request('/v1/rules/default', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(defaultRule),
    });
    expect(response.status).toBe(200);
  }
  await post(story.start, story.outage.end);
  await server.runBandJob();
  // An hour after the outage: every series is back inside its band for long enough to resolve.
  now = story.outage.end + 60 * minuteMs + minuteMs;
  await post(story.outage.end, story.outage.end + 60 * minuteMs);
  await server.runBandJob();
  return { server, alertPages, incidentPages };
}

/**
 * The demo's identity-provider outage (scripts/demo-data.ts), played through the real local server as it
 * happened: four weeks of the shop's metrics posted through the ingest API up to the outage's end, the band
 * job run then (the outage's alerts open), then the recovery posted and the band job run again. The outage
 * opens five critical alerts; with incidents (the default) they are one page naming the series that moved
 * first, and one RESOLVED once the last of them is back.
 */
describe("the demo's identity-provider outage", () => {
  let server: TestServer;
  let alertPages: Notification[];
  let incidentPages: IncidentNotification[];

  beforeAll(async () => {
    ({ server, alertPages, incidentPages } = await playDemoOutage());
  }, 120_000);

  afterAll(() => server.close());

  it('opens five critical alerts at its start', async () => {
    const { alerts } = await server.getJson<{
      alerts: { id: string; name: string; severity: string; startedAt: number; state: string }[];
    }>(`/v1/alerts?from=${story.outage.start}`);
    expect(alerts).toHaveLength(5);
    for (const alert of alerts) {
      expect(alert).toMatchObject({ severity: 'critical', state: 'resolved' });
      expect(alert.startedAt).toBeGreaterThanOrEqual(story.outage.start);
      expect(alert.startedAt).toBeLessThan(story.outage.start + 15 * minuteMs);
    }
  });

  it('pages one incident OPEN naming all five and the series that moved first, then one RESOLVED', async () => {
    expect(alertPages).toEqual([]);
    expect(incidentPages.map((page) => page.state)).toEqual(['OPEN', 'RESOLVED']);
    const [open, resolved] = incidentPages;
    const { alerts } = await server.getJson<{ alerts: { id: string; name: string; startedAt: number }[] }>(
      `/v1/alerts?from=${story.outage.start}`,
    );
    const firstStart = Math.min(...alerts.map((alert) => alert.startedAt));
    expect(open?.members.map((member) => member.alertId).sort()).toEqual(
      alerts.map((alert) => alert.id).sort(),
    );
    expect(open?.origin.startedAt).toBe(firstStart);
    // All five left their bands in the outage's first bucket: the one furthest out, the provider's latency
    // (from about 130 ms to 4,800), is named as the origin.
    expect(open?.origin.name).toBe('shop.idp.time');
    expect(open?.tiedBy).toEqual(['service=web', 'shop.*', 'provider=identity']);
    expect(open?.members[0]?.alertId).toBe(open?.origin.alertId);
    expect(open?.severity).toBe('critical');
    expect(resolved?.incidentId).toBe(open?.incidentId);
    const lastBack = await server.getJson<{ incident: { resolvedAt: number } }>(
      `/v1/incidents/${open?.incidentId}`,
    );
    expect(resolved?.resolvedAt).toBe(lastBack.incident.resolvedAt);
    expect(resolved?.members.every((member) => member.state === 'resolved')).toBe(true);
  });

  it('lists it as one resolved incident of five members, the origin first', async () => {
    const { incidents } = await server.getJson<{
      incidents: {
        id: string;
        state: string;
        memberCount: number;
        originAlertId: string;
        tiedBy: string[];
        members: { alertId: string; name: string }[];
      }[];
    }>('/v1/incidents');
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    expect(incident).toMatchObject({ state: 'resolved', memberCount: 5 });
    expect(incident?.members[0]?.alertId).toBe(incident?.originAlertId);
    expect(new Set(incident?.members.map((member) => member.name))).toEqual(
      new Set(['shop.requests', 'shop.login.time', 'shop.db.queries', 'shop.idp.calls', 'shop.idp.time']),
    );
  });
});

describe("the demo's outage with the rule paging each alert on its own (notify: alert)", () => {
  let played: Played;

  beforeAll(async () => {
    played = await playDemoOutage({ kind: 'band', notify: 'alert' });
  }, 120_000);

  afterAll(() => played.server.close());

  it('pages five OPENs and five RESOLVEDs, as before incidents, and makes no incident', async () => {
    expect(played.incidentPages).toEqual([]);
    expect(played.alertPages.filter((page) => page.state === 'OPEN')).toHaveLength(5);
    expect(played.alertPages.filter((page) => page.state === 'RESOLVED')).toHaveLength(5);
    expect((await played.server.getJson<{ incidents: unknown[] }>('/v1/incidents')).incidents).toEqual([]);
  });
});
