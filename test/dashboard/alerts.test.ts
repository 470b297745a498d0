import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../lib/alerts/model.ts';
import { alertViewUrl } from '../../lib/dashboard-links.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { launchChromium, screenshot } from '../../scripts/dev/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { outageStory } from '../helpers/outage.ts';
import { chartColours, readCanvas } from './canvas.ts';

/**
 * Alerts in the dashboard, from the alerts API, in headless Chromium against a real local server: a steady
 * series goes to 0 for 30 minutes. While it is down, the band job opens a critical alert, which the list
 * shows and someone acknowledges from the page; once it is back, the alert shows resolved, and both its
 * link in the list and the notification's link open the series view around it, the alert marked.
 * The browser's clock stands where the server's does, and alerts are explained in Paris time (the outage
 * starts on Tuesday at 12:00 UTC, 13:00 there). Screenshots land in test-artifacts/.
 */
describe('alerts in the dashboard', () => {
  const series = seriesId(outageStory.name, outageStory.dimensions);
  const label = `${outageStory.name}{region=eu}`;
  let now = outageStory.outageEnd + 60_000;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let readKey: string;
  const errors: string[] = [];

  const post = async (from: number, to: number) => {
    const response = await server.request('/v1/metrics', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metrics: outageStory.bulkItems(from, to) }),
    });
    expect(response.status).toBe(200);
  };
  const alertsNow = async () => (await server.getJson<{ alerts: Alert[] }>('/v1/alerts')).alerts;

  beforeAll(async () => {
    server = await startTestServer({ clock: { now: () => now }, timeZone: 'Europe/Paris' });
    readKey = generateKey();
    await server.stores.keys.putKey({
      hash: hashKey(readKey),
      name: 'on-call',
      scopes: ['read'],
      createdAt: now,
      revokedAt: null,
    });
    await post(outageStory.start, outageStory.outageEnd);
    await server.runBandJob();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A tab of the shared context (so the key stays), its clock where the server's is, errors collected. */
  const openPage = async (): Promise<Page> => {
    const page = await context.newPage();
    await page.clock.setFixedTime(now);
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return page;
  };
  const ready = (page: Page) => page.waitForSelector('body[data-ready]', { timeout: 20_000 });
  const drawn = (page: Page) =>
    page.waitForSelector('[data-testid=band-chart][data-state=drawn]', { timeout: 20_000 });

  it('lists the open alert with its severity, and acknowledges it from the page', async () => {
    const [alert] = await alertsNow();
    expect(alert).toMatchObject({ seriesId: series, state: 'open', severity: 'critical' });
    const page = await openPage();
    await page.goto(`${server.url}/#key=${readKey}`);
    await ready(page);
    const item = page.locator(`[data-testid=alerts] .alert[data-alert-id="${alert?.id}"]`);
    await item.waitFor();
    expect(await item.locator('.severity').textContent()).toBe('critical');
    expect(await item.locator('.state').textContent()).toBe('open');
    expect(await item.locator('.alert-link').textContent()).toBe(label);
    // The latest bucket out (12:25 UTC) against what the band expects then, in one line.
    expect(await item.locator('.alert-explanation').textContent()).toMatch(
      /^Tuesday 13:25 usually 10\d, now 0, 100% below, for 30 min \([\d.]+ band half-widths out; band [\d.]+ to 1\d\d\)$/,
    );
    expect(alert?.explanation).toBe(await item.locator('.alert-explanation').textContent());
    const details = await item.locator('.alert-detail').allTextContents();
    expect(details).toHaveLength(2);
    expect(details[0]).toBe('Default band rule: below its band for 5 min');
    expect(details[1]).toMatch(/^started .+, open for 31 min$/);
    await screenshot(page, 'alerts-open');

    await item.getByRole('button', { name: 'Acknowledge' }).click();
    const acknowledged = page.locator(`[data-alert-id="${alert?.id}"] .acknowledged`);
    await acknowledged.waitFor();
    expect(await acknowledged.textContent()).toMatch(/^acknowledged by on-call, /);
    expect(await page.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);
    const [stored] = await alertsNow();
    expect(stored).toMatchObject({ acknowledgedBy: 'on-call', acknowledgedAt: now });
    await screenshot(page, 'alerts-acknowledged');
    expect(errors).toEqual([]);
  });

  it('shows the alert resolved once the series is back, and its link opens the series around it', async () => {
    now = outageStory.recoveredAt + 60_000;
    await post(outageStory.outageEnd, outageStory.recoveredAt);
    await server.runBandJob();
    const [alert] = await alertsNow();
    expect(alert).toMatchObject({
      state: 'resolved',
      startedAt: outageStory.outageStart,
      resolvedAt: outageStory.outageEnd,
    });
    const page = await openPage();
    await page.goto(`${server.url}/#/`);
    await ready(page);
    const item = page.locator(`[data-testid=alerts] .alert[data-alert-id="${alert?.id}"]`);
    expect(await item.locator('.state').textContent()).toBe('resolved');
    expect(await item.locator('.acknowledged').count()).toBe(1);
    expect(await item.locator('.alert-detail').nth(1).textContent()).toMatch(/, resolved .+ after 30 min$/);
    expect(await item.locator('.alert-explanation').textContent()).toMatch(
      /^Tuesday 13:00 usually 10\d, was 0, 100% below, for 30 min until 13:30 \([\d.]+ band half-widths out at worst; band [\d.]+ to 1\d\d\)$/,
    );

    await item.locator('.alert-link').click();
    await drawn(page);
    const hash = new URL(page.url()).hash;
    const view = /^#\/series\/([0-9a-f]{16})\?from=(\d+)&to=(\d+)&at=(\d+)$/.exec(hash);
    expect(view?.[1]).toBe(series);
    const [from, to, at] = [Number(view?.[2]), Number(view?.[3]), Number(view?.[4])];
    expect(at).toBe(outageStory.outageStart);
    // Six hours before the alert, and up to now (not six hours after it, most of them still to come).
    expect(from).toBe(outageStory.outageStart - 6 * 3_600_000);
    expect(to).toBe(now);
    await expectAlertMarked(page, alert?.id ?? '');
    await screenshot(page, 'alerts-series-view');
    expect(errors).toEqual([]);
  });

  it("opens the notification's link (?alert=) on the same view, the alert marked", async () => {
    const [alert] = await alertsNow();
    const open = server.notifications.find((notification) => notification.state === 'OPEN');
    expect(open?.link).toBe(alertViewUrl(server.url, series, alert?.id ?? ''));
    const page = await openPage();
    await page.goto(open?.link ?? '');
    await drawn(page);
    const listLink = await page.evaluate(() => location.hash);
    expect(listLink).toBe(
      `#/series/${series}?from=${outageStory.outageStart - 6 * 3_600_000}&to=${now}&at=${outageStory.outageStart}`,
    );
    await expectAlertMarked(page, alert?.id ?? '');
    await screenshot(page, 'alerts-notification-link');
    expect(errors).toEqual([]);
  });

  it('says which alert it cannot find when a link names an unknown one', async () => {
    const page = await openPage();
    await page.goto(`${server.url}/#/series/${series}?alert=al_00000000000000000000`);
    const problem = page.getByRole('alert');
    await expect.poll(() => problem.textContent()).toContain('no alert with id "al_00000000000000000000"');
  });

  /** The view marks the alert: its line and shading in the middle of the chart, highlighted in the list. */
  async function expectAlertMarked(page: Page, alertId: string) {
    expect(await page.locator('h1').textContent()).toBe(outageStory.name);
    const chart = page.locator('[data-testid=band-chart]');
    expect(await chart.getAttribute('data-mark-at')).toBe(String(outageStory.outageStart));
    expect(await chart.getAttribute('data-marked-alerts')).toBe(alertId);
    expect(await chart.getAttribute('data-to')).toBe(String(now));
    const canvas = await readCanvas(page, '[data-testid=band-chart]');
    // The range ends at now: the value line runs to the plot's right edge, with no empty future after it.
    expect(canvas?.columns(chartColours.value).at(-1)).toBeGreaterThan(0.95);
    // The alert's marks lie where it happened: six hours into a range of 7.5 hours, not at an edge.
    const columns = canvas?.columns(chartColours.marker) ?? [];
    expect(columns.length).toBeGreaterThan(0);
    expect(columns[0]).toBeGreaterThan(0.7);
    expect(columns.at(-1)).toBeLessThan(0.92);
    const highlighted = page.locator('[data-testid=series-alerts] .alert[aria-current=true]');
    expect(await highlighted.getAttribute('data-alert-id')).toBe(alertId);
    expect(await highlighted.locator('.severity').textContent()).toBe('critical');
  }
});
