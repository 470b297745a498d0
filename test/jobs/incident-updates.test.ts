import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentNotification, Notification, Notifier } from '../../lib/ports/notifier.ts';
import { type Scenario, type Source, startScenario } from '../alerts/scenario.ts';
import { dayMs, hourMs, minuteMs } from '../helpers/series.ts';

/**
 * Incident UPDATEs through the real local server and band job (SQLite), live step by step: members that
 * join after the OPEN are folded into one UPDATE per interval, and the RESOLVED names them all.
 */
const monday = Date.UTC(2025, 10, 3);
const down = monday + 8 * dayMs + 14 * hourMs;
const usual = (t: number) => 100 + (((t / 300_000) * 7919) % 11) - 5;

/** A series of host web-1 that drops to 0 from `delay` after `down` until 40 minutes after `down`. */
const dropping = (name: string, delay: number): Source => ({
  name,
  dimensions: { host: 'web-1' },
  valueAt: (t) => (t >= down + delay && t < down + 40 * minuteMs ? 0 : usual(t)),
});

const sources = [
  dropping('api.requests', 0),
  dropping('db.queries', 5 * minuteMs),
  dropping('cache.hits', 5 * minuteMs),
  dropping('queue.depth', 10 * minuteMs),
];

let scenario: Scenario | undefined;

afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('Incident updates, live', () => {
  it('one OPEN, then the joins of the next runs folded into one UPDATE when the interval allows, then one RESOLVED', async () => {
    const incidentPages: { page: IncidentNotification; at: number }[] = [];
    const alertPages: Notification[] = [];
    let now = () => 0;
    const notifier: Notifier = {
      notify: async (notification) => {
        alertPages.push(notification);
      },
      notifyIncident: async (page) => {
        incidentPages.push({ page, at: now() });
      },
    };
    scenario = await startScenario(monday, { notifier, incidents: { updateIntervalMs: 12 * minuteMs } });
    const clock = scenario.clock;
    now = () => clock.now();
    await scenario.backfill(sources, monday, down - hourMs);
    await scenario.live(sources, down - hourMs, down + 2 * hourMs);

    expect(alertPages).toEqual([]);
    // The origin first (it left its band first), then the others in the order they joined.
    const names = (page: IncidentNotification) => {
      const [origin, ...others] = page.members.map((member) => member.name);
      return [origin, ...others.sort()];
    };
    expect(incidentPages.map(({ page }) => [page.state, names(page)])).toEqual([
      ['OPEN', ['api.requests']],
      ['UPDATE', ['api.requests', 'cache.hits', 'db.queries', 'queue.depth']],
      ['RESOLVED', ['api.requests', 'cache.hits', 'db.queries', 'queue.depth']],
    ]);
    const [open, update, resolved] = incidentPages;
    // The three joins of two runs, told at once: 12 minutes after the OPEN, not at each join.
    expect(update?.page.joined).toHaveLength(3);
    expect((update?.at ?? 0) - (open?.at ?? 0)).toBeGreaterThanOrEqual(12 * minuteMs);
    expect(update?.page.transitionId).toBe(`${open?.page.incidentId}.update.1`);
    expect(resolved?.page).toMatchObject({ incidentId: open?.page.incidentId, tiedBy: ['host=web-1'] });
    expect(resolved?.page.resolvedAt).toBeGreaterThanOrEqual(down + 40 * minuteMs);
  });
});
