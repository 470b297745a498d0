import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../lib/alerts/model.ts';
import { incidentViewUrl } from '../../lib/dashboard-links.ts';
import type { Feedback } from '../../lib/feedback/model.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import type { IncidentNotification, Notifier } from '../../lib/ports/notifier.ts';
import { demoStory } from '../../scripts/demo-data.ts';
import { launchChromium, screenshot } from '../../scripts/dev/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { minuteMs } from '../helpers/series.ts';
import { chartColours, readCanvas } from './canvas.ts';

const story = demoStory(Date.UTC(2025, 10, 27, 18, 0));
const memberNames = [
  'shop.db.queries',
  'shop.idp.calls',
  'shop.idp.time',
  'shop.login.time',
  'shop.requests',
];

interface IncidentDocument {
  id: string;
  state: string;
  acknowledgedBy: string | null;
  originAlertId: string;
  startedAt: number;
  members: { alertId: string; name: string; seriesId: string; dimensions: Record<string, string> }[];
  timeline: { kind: string }[];
}

/**
 * Incidents and feedback in the dashboard, in headless Chromium against a real local server: the demo's
 * identity-provider outage (scripts/demo-data.ts) posted through the ingest API and the band job run while it
 * lasts, so its five alerts are one open incident. The front page lists it, its alerts folded under it, and
 * someone acknowledges it there; its view draws the five series on one time axis, the origin marked; "This was
 * normal" on an alert and "Mark as incident" on a stretch reach the API and show on the page, and withdrawing
 * them does too. The browser's clock and zone are the server's (UTC), its language British English. Screenshots land in test-artifacts/.
 */
describe('incidents and feedback in the dashboard', () => {
  const now = story.outage.end + minuteMs;
  const incidentPages: IncidentNotification[] = [];
  let server: TestServer;
  let browser: Browser;
  let readKey: string;
  let incident: IncidentDocument;
  const errors: string[] = [];

  beforeAll(async () => {
    const notifier: Notifier = {
      notify: async () => {},
      notifyIncident: async (notification) => {
        incidentPages.push(notification);
      },
    };
    server = await startTestServer({ clock: { now: () => now }, notifier });
    readKey = generateKey();
    await server.stores.keys.putKey({
      hash: hashKey(readKey),
      name: 'on-call',
      scopes: ['read'],
      createdAt: now,
      revokedAt: null,
    });
    const metrics = story.metrics.filter((metric) => metric.timestamp < story.outage.end);
    for (let offset = 0; offset < metrics.length; offset += 5000) {
      const response = await server.postMetrics(metrics.slice(offset, offset + 5000));
      expect(response.status).toBe(200);
    }
    await server.runBandJob();
    const { incidents } = await server.getJson<{ incidents: IncidentDocument[] }>('/v1/incidents');
    expect(incidents).toHaveLength(1);
    incident = (await server.getJson<{ incident: IncidentDocument }>(`/v1/incidents/${incidents[0]?.id}`))
      .incident;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh tab of the given size, the key kept, its clock and zone the server's, errors collected. */
  const openPage = async (viewport = { width: 1280, height: 900 }): Promise<Page> => {
    const context = await browser.newContext({ viewport, timezoneId: 'UTC', locale: 'en-GB' });
    await context.addInitScript((key) => localStorage.setItem('normalcy.readKey', key), readKey);
    const page = await context.newPage();
    await page.clock.setFixedTime(now);
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return page;
  };
  const ready = (page: Page) => page.waitForSelector('body[data-ready]', { timeout: 20_000 });
  const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);
  const alertsNow = async () =>
    (
      await server.getJson<{ alerts: (Alert & { feedback: { id: string; by: string } | null })[] }>(
        '/v1/alerts',
      )
    ).alerts;
  const memberAlert = async (name: string) => {
    const alert = (await alertsNow()).find((candidate) => candidate.name === name);
    if (!alert) throw new Error(`no alert on ${name}`);
    return alert;
  };

  it('lists the incident on the front page, its five alerts folded under it, and acknowledges it', async () => {
    const page = await openPage();
    await page.goto(`${server.url}/#/`);
    await ready(page);
    const item = page.locator(`[data-testid=alerts] li.incident[data-incident-id="${incident.id}"]`);
    expect(await page.locator('[data-testid=alerts] li.incident').count()).toBe(1);
    expect(await item.locator('> .severity').textContent()).toBe('critical');
    expect(await item.locator('> .state').textContent()).toBe('open');
    expect(await item.locator('.incident-link').textContent()).toBe(
      'started with shop.idp.time{provider=identity}',
    );
    expect(await item.locator('.member-count').textContent()).toBe('5 alerts');
    expect(await item.locator('.tied-by').textContent()).toBe(
      'tied by service=web, shop.*, provider=identity',
    );
    expect(await item.locator('.incident-detail').first().textContent()).toMatch(
      /^started Tue 25 Nov, 13:20 \(46 min ago\), open for 46 min$/,
    );
    // Folded: the five alerts are there but hidden until the incident is opened, none listed on its own.
    const members = item.locator('li.alert');
    expect(await members.count()).toBe(5);
    expect(await members.first().isVisible()).toBe(false);
    const loose = await page.locator('[data-testid=alerts] > li.alert .alert-link').allTextContents();
    expect(loose.filter((name) => memberNames.includes(name.replace(/\{.*$/, '')))).toEqual([]);
    await screenshot(page, 'incident-folded');
    await item.locator('summary').click();
    await members.first().waitFor({ state: 'visible' });
    const names = await members.locator('.alert-link').allTextContents();
    expect(names.map((name) => name.replace(/\{.*$/, '')).sort()).toEqual(memberNames);
    // Each explained in one line; the origin first, said to have left its band first.
    for (const explanation of await members.locator('.alert-explanation').allTextContents()) {
      expect(explanation).toMatch(/^Tuesday \d\d:\d\d usually .+, now .+, for \d+ min \(/);
    }
    expect(await members.first().locator('.alert-link').textContent()).toBe(
      'shop.idp.time{provider=identity}',
    );
    expect(await members.first().locator('.origin-badge').textContent()).toBe('left its band first');
    expect(await item.locator('.origin-badge').count()).toBe(1);
    await screenshot(page, 'incident-unfolded');

    await item.getByRole('button', { name: 'Acknowledge incident' }).click();
    await item.locator('> .acknowledged').waitFor();
    expect(await item.locator('> .acknowledged').textContent()).toMatch(/^acknowledged by on-call, /);
    // Still unfolded, its members acknowledged with it.
    expect(await item.locator('li.alert .acknowledged').count()).toBe(5);
    const stored = await server.getJson<{ incident: IncidentDocument }>(`/v1/incidents/${incident.id}`);
    expect(stored.incident.acknowledgedBy).toBe('on-call');
    const memberIds = new Set(incident.members.map((member) => member.alertId));
    const acknowledgedBy = (await alertsNow())
      .filter((alert) => memberIds.has(alert.id))
      .map((alert) => alert.acknowledgedBy);
    expect(acknowledgedBy).toEqual(Array(5).fill('on-call'));
    expect(errors).toEqual([]);
  });

  it("draws the incident's series on one time axis, the origin marked, and lists its timeline", async () => {
    const page = await openPage();
    // Where its notifications link.
    const link = incidentPages.find((notification) => notification.state === 'OPEN')?.link;
    expect(link).toBe(incidentViewUrl(server.url, incident.id));
    await page.goto(link ?? '');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=incident-chart][data-state=drawn]').length === 5,
    );
    expect(await page.locator('h1').textContent()).toBe(
      'Incident: started with shop.idp.time{provider=identity}',
    );
    const charts = await page.locator('[data-testid=incident-chart]').evaluateAll((all) =>
      all.map((chart) => ({
        series: (chart as HTMLElement).dataset.seriesId,
        origin: (chart as HTMLElement).dataset.origin === 'true',
        from: Number((chart as HTMLElement).dataset.from),
        to: Number((chart as HTMLElement).dataset.to),
        width: chart.querySelector('canvas')?.getBoundingClientRect().width,
        left: chart.querySelector('canvas')?.getBoundingClientRect().left,
      })),
    );
    const origin = incident.members.find((member) => member.alertId === incident.originAlertId);
    expect(charts.map((chart) => chart.series).sort()).toEqual(
      incident.members.map((member) => member.seriesId).sort(),
    );
    // The origin first and marked, alone.
    expect(charts.filter((chart) => chart.origin).map((chart) => chart.series)).toEqual([origin?.seriesId]);
    expect(charts[0]?.series).toBe(origin?.seriesId);
    expect(
      await page
        .locator('[data-testid=incident-chart][data-origin=true]')
        .locator('xpath=..')
        .locator('.origin-badge')
        .textContent(),
    ).toBe('left its band first');
    // One axis: the same range (two hours either side of the outage, up to now), the same place on the page.
    for (const chart of charts) {
      expect(chart).toMatchObject({
        from: incident.startedAt - 2 * 3_600_000,
        to: now,
        width: charts[0]?.width,
        left: charts[0]?.left,
      });
    }
    // ...so the origin's start, dashed on every chart, falls on the same column of each.
    const markerStarts: number[] = [];
    for (const chart of charts) {
      const canvas = await readCanvas(page, `[data-testid=incident-chart][data-series-id="${chart.series}"]`);
      const columns = canvas?.columns(chartColours.marker) ?? [];
      expect(columns.length).toBeGreaterThan(0);
      markerStarts.push(columns[0] ?? -1);
    }
    for (const start of markerStarts) expect(start).toBeCloseTo(markerStarts[0] ?? 0, 2);
    // Two hours into a range of 2 h 46 min: most of the way along.
    expect(markerStarts[0]).toBeGreaterThan(0.6);
    expect(markerStarts[0]).toBeLessThan(0.8);

    const timeline = page.locator('[data-testid=incident-timeline] li');
    expect(await timeline.count()).toBe(incident.timeline.length + 1);
    expect(await timeline.evaluateAll((all) => all.map((li) => (li as HTMLElement).dataset.kind))).toEqual([
      ...incident.timeline.map((event) => event.kind),
      'acknowledged',
    ]);
    expect(await timeline.first().textContent()).toContain('opened');
    expect(await timeline.last().textContent()).toContain('by on-call');
    expect(await page.locator('[data-testid=incident-alerts] li.alert').count()).toBe(5);
    expect(await pageWidth(page)).toBeLessThanOrEqual(1280);
    expect(errors).toEqual([]);
  });

  it('fits a phone (390 px) and a wide screen (1,400 px): front page and incident view', async () => {
    for (const width of [390, 1400]) {
      const page = await openPage({ width, height: width === 390 ? 844 : 1000 });
      await page.goto(`${server.url}/#/`);
      await ready(page);
      await page.locator('li.incident summary').click();
      expect(await pageWidth(page)).toBeLessThanOrEqual(width);
      await screenshot(page, `incident-front-page-${width}`);
      await page.goto(`${server.url}/#/incidents/${incident.id}`);
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid=incident-chart][data-state=drawn]').length === 5,
      );
      expect(await pageWidth(page)).toBeLessThanOrEqual(width);
      const canvas = await page.locator('[data-testid=incident-chart] canvas').first().boundingBox();
      expect((canvas?.x ?? 0) + (canvas?.width ?? 9999)).toBeLessThanOrEqual(width);
      await screenshot(page, `incident-view-${width}`);
      await page.close();
    }
    expect(errors).toEqual([]);
  });

  it('records "This was normal" on an alert, shows who said it and when, and withdraws it', async () => {
    const alert = await memberAlert('shop.login.time');
    const page = await openPage();
    await page.goto(`${server.url}/#/incidents/${incident.id}`);
    await ready(page);
    const item = page.locator(`[data-testid=incident-alerts] li.alert[data-alert-id="${alert.id}"]`);
    await item.getByRole('button', { name: 'This was normal' }).click();
    const said = item.locator('.said-normal');
    await said.waitFor();
    expect(await said.textContent()).toBe('said normal by on-call, Tue 25 Nov, 14:06');
    const { feedback } = await server.getJson<{ feedback: Feedback[] }>(
      `/v1/series/${alert.seriesId}/feedback`,
    );
    expect(feedback).toHaveLength(1);
    expect(feedback[0]).toMatchObject({
      alertId: alert.id,
      verdict: 'normal',
      by: 'on-call',
      at: now,
      start: alert.startedAt,
      withdrawnAt: null,
    });
    expect((await memberAlert('shop.login.time')).feedback).toMatchObject({
      id: feedback[0]?.id,
      by: 'on-call',
    });
    await screenshot(page, 'feedback-normal');

    await item.getByRole('button', { name: 'Withdraw' }).click();
    await item.getByRole('button', { name: 'This was normal' }).waitFor();
    expect(await item.locator('.said-normal').count()).toBe(0);
    const after = await server.getJson<{ feedback: Feedback[] }>(`/v1/series/${alert.seriesId}/feedback`);
    expect(after.feedback.map((record) => record.withdrawnAt)).toEqual([now]);
    expect((await memberAlert('shop.login.time')).feedback).toBeNull();
    expect(errors).toEqual([]);
  });

  it('marks a stretch of a series as an incident from its view, lists it, and withdraws it', async () => {
    const series = seriesId('shop.db.queries', {});
    const member = incident.members.find((candidate) => candidate.name === 'shop.db.queries');
    const from = Date.UTC(2025, 10, 24, 9, 0);
    const to = Date.UTC(2025, 10, 24, 10, 30);
    const page = await openPage();
    await page.goto(`${server.url}/#/series/${member?.seriesId ?? series}?from=${from}&to=${to}`);
    await page.waitForSelector('[data-testid=band-chart][data-state=drawn]');
    const panel = page.locator('.feedback-panel');
    await panel.getByText('Nothing said of this series yet.').waitFor();
    // The form starts with the range the chart shows.
    expect(await page.getByLabel('Incident from').inputValue()).toBe('2025-11-24T09:00');
    expect(await page.getByLabel('Incident to').inputValue()).toBe('2025-11-24T10:30');
    await page.getByLabel('Note').fill('a slow replica');
    await panel.getByRole('button', { name: 'Mark as incident' }).click();
    const record = panel.locator('[data-testid=series-feedback] li[data-verdict=incident]');
    await record.waitFor();
    expect(await record.textContent()).toContain('was an incident');
    expect(await record.textContent()).toContain('Mon 24 Nov, 09:00 – Mon 24 Nov, 10:30');
    expect(await record.textContent()).toContain('said by on-call, Tue 25 Nov, 14:06');
    expect(await record.textContent()).toContain('a slow replica');
    const { feedback } = await server.getJson<{ feedback: Feedback[] }>(
      `/v1/series/${member?.seriesId}/feedback`,
    );
    expect(feedback).toEqual([
      expect.objectContaining({
        alertId: null,
        verdict: 'incident',
        start: from,
        end: to,
        by: 'on-call',
        at: now,
        note: 'a slow replica',
        withdrawnAt: null,
      }),
    ]);
    await screenshot(page, 'feedback-incident');

    await record.getByRole('button', { name: 'Withdraw' }).click();
    await panel.locator('li[data-verdict=incident][data-withdrawn=true]').waitFor();
    expect(await panel.locator('li[data-withdrawn=true] .withdrawn-note').textContent()).toBe(
      'withdrawn Tue 25 Nov, 14:06',
    );
    expect(await panel.getByRole('button', { name: 'Withdraw' }).count()).toBe(0);
    const after = await server.getJson<{ feedback: Feedback[] }>(`/v1/series/${member?.seriesId}/feedback`);
    expect(after.feedback.map((entry) => entry.withdrawnAt)).toEqual([now]);

    // A stretch the wrong way round is refused on the page, before it reaches the API.
    await page.getByLabel('Incident from').fill('2025-11-24T11:00');
    await page.getByLabel('Incident to').fill('2025-11-24T10:00');
    await panel.getByRole('button', { name: 'Mark as incident' }).click();
    expect(await panel.getByRole('alert').textContent()).toBe('Give a stretch: a "from" before its "to".');
    expect(
      (await server.getJson<{ feedback: Feedback[] }>(`/v1/series/${member?.seriesId}/feedback`)).feedback,
    ).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
