import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../lib/alerts/model.ts';
import { alertViewUrl } from '../../lib/dashboard-links.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { launchChromium, screenshot } from '../../scripts/dev/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { outageStory } from '../helpers/outage.ts';

/**
 * Alerts in the dashboard, from the alerts API, in headless Chromium against a real local server: a steady
 * series goes to 0 for 30 minutes. While it is down, the band job opens a critical alert, which the list
 * shows and someone acknowledges from the page; once it is back, the alert shows resolved, and both its
 * link in the list and the notification's link open the series view centred on it, the alert marked.
 * The browser's clock stands where the server's does. Screenshots land in test-artifacts/.
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
    server = await startTestServer({ clock: { now: () => now } });
    readKey = generateKey();
    await server.store.putKey({
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

  /** Where the marked alert's shading and line fall on the chart, as fractions of the canvas' width. */
  const markedColumns = (page: Page) =>
    page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=band-chart] canvas');
      const context = canvas?.getContext('2d');
      if (!canvas || !context) return [];
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      const columns = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        const [r = 0, g = 0, b = 0, a = 0] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        // The marker's amber (#b7791f) and its translucent shade: red well above green, green above blue.
        if (a > 20 && r > g + 30 && g > b + 40) columns.add(((i / 4) % canvas.width) / canvas.width);
      }
      return [...columns].sort((x, y) => x - y);
    });

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
    const details = await item.locator('.alert-detail').allTextContents();
    expect(details[0]).toBe('Default band rule: below its band for 5 min');
    expect(details[1]).toMatch(/^started .+, open for 31 min$/);
    expect(details[2]).toMatch(/^value 0, expected 10\d \(band .+\); peak [\d.]+× the band's half-width$/);
    await screenshot(page, 'alerts-open');

    await item.getByRole('button', { name: 'Acknowledge' }).click();
    const acknowledged = page.locator(`[data-alert-id="${alert?.id}"] .acknowledged`);
    await acknowledged.waitFor();
    expect(await acknowledged.textContent()).toMatch(/^acknowledged by on-call, /);
    expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    const [stored] = await alertsNow();
    expect(stored).toMatchObject({ acknowledgedBy: 'on-call', acknowledgedAt: now });
    await screenshot(page, 'alerts-acknowledged');
    expect(errors).toEqual([]);
  });

  it('shows the alert resolved once the series is back, and its link opens the series centred on it', async () => {
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

    await item.locator('.alert-link').click();
    await drawn(page);
    const hash = new URL(page.url()).hash;
    const view = /^#\/series\/([0-9a-f]{16})\?from=(\d+)&to=(\d+)&at=(\d+)$/.exec(hash);
    expect(view?.[1]).toBe(series);
    const [from, to, at] = [Number(view?.[2]), Number(view?.[3]), Number(view?.[4])];
    expect(at).toBe(outageStory.outageStart);
    expect((from + to) / 2).toBe((outageStory.outageStart + outageStory.outageEnd) / 2);
    expect(from).toBeLessThan(outageStory.outageStart - 5 * 3_600_000);
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
      `#/series/${series}?from=${outageStory.outageStart - 6 * 3_600_000}&to=${outageStory.outageEnd + 6 * 3_600_000}&at=${outageStory.outageStart}`,
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
    const columns = await markedColumns(page);
    expect(columns.length).toBeGreaterThan(0);
    // Centred: the marks lie around the middle of the plot, not at an edge.
    expect(columns[0]).toBeGreaterThan(0.4);
    expect(columns.at(-1)).toBeLessThan(0.6);
    const highlighted = page.locator('[data-testid=series-alerts] .alert[aria-current=true]');
    expect(await highlighted.getAttribute('data-alert-id')).toBe(alertId);
    expect(await highlighted.locator('.severity').textContent()).toBe('critical');
  }
});
