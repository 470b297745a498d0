import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../lib/adapters/sqlite-store.ts';
import { generateKey, hashKey } from '../../lib/keys.ts';
import { launchChromium, screenshot } from '../../scripts/dev/chromium.ts';
import { freeTcpPort, type RunningProcess, startProcess } from '../helpers/processes.ts';

/**
 * The dashboard in headless Chromium against `npm run demo`, run as a newcomer would: the page loads with
 * the demo's series, draws a band, follows an alert to its view and explains a wrong key. Screenshots land
 * in test-artifacts/.
 */
describe('the dashboard on the demo data', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-demo-'));
  let demo: RunningProcess;
  let browser: Browser;
  let base: string;
  let readKey: string;

  beforeAll(async () => {
    const port = await freeTcpPort();
    demo = startProcess('npm', ['run', 'demo'], { PORT: String(port), NORMALCY_DEMO_DIR: dataDir });
    await demo.waitFor('Press Ctrl-C', 90_000);
    const link = /(http:\/\/127\.0\.0\.1:\d+)\/#key=(\S+)/.exec(demo.output());
    if (!link?.[1] || !link[2]) throw new Error(`no dashboard link in the demo's output:\n${demo.output()}`);
    base = link[1];
    readKey = link[2];
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh browser tab (its own storage) with the console's errors collected. */
  const openPage = async (): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return { page, errors };
  };

  const ready = (page: Page) => page.waitForSelector('body[data-ready]', { timeout: 20_000 });

  /** The share of the plot's pixels painted in the band's green (over white), read from uPlot's canvas. */
  const bandShare = (page: Page) =>
    page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=band-chart] canvas');
      const context = canvas?.getContext('2d');
      if (!canvas || !context) return 0;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      let green = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r = 0, g = 0, b = 0, a = 0] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        // rgba(46, 160, 90, 0.22): a translucent green, darker in red than in green, on a transparent canvas.
        if (a > 20 && a < 140 && g > r + 40 && g > b + 20) green += 1;
      }
      return green / (canvas.width * canvas.height);
    });

  it('loads with the demo series, the anomalous ones first, with sparklines and recent alerts', async () => {
    const { page, errors } = await openPage();
    await page.goto(`${base}/#key=${readKey}`);
    await ready(page);
    expect(new URL(page.url()).hash).toBe('#/');
    const names = await page.locator('.series-name').allTextContents();
    expect(names.sort()).toEqual([
      'shop.db.queries',
      'shop.idp.calls',
      'shop.idp.time',
      'shop.login.time',
      'shop.memory.share',
      'shop.requests',
    ]);
    // Memory share is leaking at the end of the demo: outside its band now, so listed first.
    const rows = await page
      .locator('.series-table tbody tr')
      .evaluateAll((all) =>
        all.map((row) => [
          row.querySelector('.series-name')?.textContent,
          row.classList.contains('anomalous'),
        ]),
      );
    expect(rows[0]).toEqual(['shop.memory.share', true]);
    const flags = rows.map(([, anomalous]) => anomalous);
    expect(flags).toEqual([...flags].sort((a, b) => Number(b) - Number(a)));
    // Sparklines are drawn as their rows scroll into view (below a long list of recent alerts, they may not be).
    await page.locator('.series-table').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('.spark-box[data-state=drawn]').length === 6);
    expect(await page.locator('[data-testid=alerts] .alert').count()).toBeGreaterThan(0);
    await screenshot(page, 'dashboard-home');
    // The demo's own summary counts what was recorded and what was paged, as the page lists them.
    const summary = /(\d+) alerts recorded and\s+(\d+) paged/.exec(demo.output());
    expect(summary, demo.output()).not.toBeNull();
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(Number(summary?.[2]));
    expect(demo.output()).toMatch(/outage on\s+.+ GMT: (\d+ of them, \d+ paged|none of them)\./);
    expect(errors).toEqual([]);
  });

  it('draws the band of normalcy around a seeded series', async () => {
    const { page, errors } = await openPage();
    await page.goto(`${base}/#key=${readKey}`);
    await ready(page);
    await page.getByRole('link', { name: 'shop.requests', exact: true }).click();
    await page.waitForSelector('[data-testid=band-chart][data-state=drawn]');
    expect(await page.locator('h1').textContent()).toBe('shop.requests');
    const chart = page.locator('[data-testid=band-chart]');
    expect(Number(await chart.getAttribute('data-bands'))).toBeGreaterThan(500);
    // The band is drawn as a visible area (a tight band on a steady series covers a few per cent of the chart).
    expect(await bandShare(page)).toBeGreaterThan(0.015);
    await screenshot(page, 'dashboard-series');
    expect(errors).toEqual([]);
  });

  it('opens an alert in its series view, around the alert and marking it', async () => {
    const { page, errors } = await openPage();
    await page.goto(`${base}/#key=${readKey}`);
    await ready(page);
    const alert = page.locator('[data-testid=alerts] .alert', { hasText: 'shop.login.time' }).first();
    await alert.locator('a').click();
    await page.waitForSelector('[data-testid=band-chart][data-state=drawn]');
    const hash = new URL(page.url()).hash;
    expect(hash).toMatch(/^#\/series\/[0-9a-f]{16}\?from=\d+&to=\d+&at=\d+$/);
    expect(await page.locator('h1').textContent()).toBe('shop.login.time');
    expect(
      Number(await page.locator('[data-testid=band-chart]').getAttribute('data-anomalies')),
    ).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid=series-alerts] .alert').count()).toBeGreaterThan(0);
    await screenshot(page, 'dashboard-alert');
    expect(errors).toEqual([]);
  });

  it('says clearly when the key is wrong or cannot read, and asks again', async () => {
    const { page } = await openPage();
    await page.goto(`${base}/#key=${generateKey()}`);
    const refused = page.getByRole('alert');
    await expect.poll(() => refused.textContent()).toContain('Normalcy refused this key');
    expect(await refused.textContent()).toContain('not valid (unknown or revoked)');
    expect(await page.locator('h1').textContent()).toBe('Enter a read key');
    await screenshot(page, 'dashboard-wrong-key');

    await page.getByLabel('API key').fill(await ingestOnlyKey());
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await expect.poll(() => refused.textContent()).toContain('This key cannot read');
    expect(await refused.textContent()).toContain('Use a key with the "read" scope');

    await page.getByLabel('API key').fill(readKey);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await ready(page);
    expect(await page.locator('.series-name').count()).toBe(6);
  });

  /** A key without the read scope, added to the demo's database (SQLite in WAL mode takes a second writer). */
  async function ingestOnlyKey(): Promise<string> {
    const store = new SqliteStore(join(dataDir, 'normalcy.db'));
    const key = generateKey();
    await store.putKey({
      hash: hashKey(key),
      name: 'agents',
      scopes: ['ingest'],
      createdAt: 0,
      revokedAt: null,
    });
    store.close();
    return key;
  }
});
