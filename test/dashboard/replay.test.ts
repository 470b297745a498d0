import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../lib/alerts/model.ts';
import { seriesViewFragment, windowAround } from '../../lib/dashboard-links.ts';
import { seriesId } from '../../lib/metrics/series.ts';
import { launchChromium, screenshot } from '../../scripts/dev/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { outageStory, playOutage } from '../helpers/outage.ts';
import { chartColours, readCanvas } from './canvas.ts';

/**
 * "What would a rule page?" in the series view, in headless Chromium against a real local server: the band
 * job alerted on a 30-minute outage; replaying the default rule lists the same alert as a would-be one and
 * marks it on the chart in violet; a draft threshold is replayed too, and a wrong draft is refused field by
 * field. Nothing is stored or sent. Screenshots land in test-artifacts/.
 */
describe('replaying a rule in the series view', () => {
  const series = seriesId(outageStory.name, outageStory.dimensions);
  let now = outageStory.outageEnd + 60_000;
  let server: TestServer;
  let browser: Browser;
  let readKey: string;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ clock: { now: () => now } });
    // The outage while it happens (the band job opens an alert and pages it), then the recovery (resolved).
    await playOutage(server, (at) => {
      now = at;
    });
    readKey = await server.addKey(['read']);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The series view around the outage, with a read key, its clock where the server's is. */
  const openSeriesView = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    await page.clock.setFixedTime(now);
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${server.url}/#key=${readKey}`);
    await page.waitForSelector('body[data-ready]', { timeout: 20_000 });
    const view = seriesViewFragment(series, windowAround(outageStory.outageStart, outageStory.outageEnd));
    await page.evaluate((fragment) => {
      location.hash = fragment;
    }, view);
    await page.waitForSelector('[data-testid=band-chart][data-state=drawn]', { timeout: 20_000 });
    // The saved rules are in the list once read.
    await page.waitForSelector('[data-testid=replay-rule] option[value=default]', { state: 'attached' });
    return page;
  };

  /** Where the chart is painted in the replay's violet, as fractions of the canvas' width. */
  const violetColumns = async (page: Page) =>
    (await readCanvas(page, '[data-testid=band-chart]'))?.columns(chartColours.replayed) ?? [];

  it('replays the default rule: lists the alert the band job raised and marks it on the chart', async () => {
    const [real] = (await server.getJson<{ alerts: Alert[] }>('/v1/alerts')).alerts;
    const notified = server.notifications.length;
    const page = await openSeriesView();
    expect(await violetColumns(page)).toEqual([]);
    expect(await page.locator('[data-testid=replay-rule]').inputValue()).toBe('default');
    await page.getByRole('button', { name: 'Replay' }).click();
    const item = page.locator('[data-testid=replay-alerts] li.replayed');
    await item.waitFor();
    expect(await item.count()).toBe(1);
    expect(await item.getAttribute('data-alert-id')).toBe(real?.id);
    expect(await item.locator('.severity').textContent()).toBe('critical');
    expect(await item.locator('.paging').textContent()).toMatch(/^paged /);
    expect(await item.locator('.alert-detail').nth(1).textContent()).toMatch(/resolved .+ after 30 min$/);
    // Explained as the band job explained the real one: the same evaluator over the same buckets.
    expect(real?.explanation).toMatch(
      /^Tuesday 12:00 usually 10\d, was 0, 100% below, for 30 min until 12:30 /,
    );
    expect(await item.locator('.alert-explanation').textContent()).toBe(real?.explanation);
    expect(await page.getByTestId('replay-summary').textContent()).toMatch(
      /^ Default band rule: 1 alert would have opened, 1 paged, over 90 buckets\.$/,
    );
    const chart = page.getByTestId('band-chart');
    expect(await chart.getAttribute('data-replayed-alerts')).toBe(real?.id);
    // Marked in violet where the outage is, six hours into a range ending at now (7.5 hours); the real alert
    // list is unchanged.
    const columns = await violetColumns(page);
    expect(columns.length).toBeGreaterThan(0);
    expect(columns[0]).toBeGreaterThan(0.7);
    expect(columns.at(-1)).toBeLessThan(0.92);
    await screenshot(page, 'replay-default-rule');
    expect((await server.getJson<{ alerts: Alert[] }>('/v1/alerts')).alerts).toEqual([real]);
    expect(server.notifications).toHaveLength(notified);
    expect(errors).toEqual([]);
  });

  it('replays a draft edited as JSON, and names each wrong field of a bad one', async () => {
    const page = await openSeriesView();
    await page.getByTestId('replay-rule').selectOption('(draft)');
    const draft = page.getByTestId('replay-draft');
    expect(await draft.isVisible()).toBe(true);
    // Choosing a saved rule first made it the draft's starting point.
    expect(JSON.parse(await draft.inputValue())).toMatchObject({ id: 'default', kind: 'band' });
    await draft.fill('{"kind":"threshold","direction":"below","threshold":50,"severity":"warning"}');
    await page.getByRole('button', { name: 'Replay' }).click();
    await expect
      .poll(() => page.getByTestId('replay-summary').textContent())
      .toMatch(/^ draft: 1 alert would have opened, 1 paged, over 90 buckets\.$/);
    const item = page.locator('[data-testid=replay-alerts] li.replayed');
    expect(await item.locator('.severity').textContent()).toBe('warning');
    expect(await item.locator('.alert-detail').first().textContent()).toBe('below 50 for 5 min');
    await screenshot(page, 'replay-draft');

    await draft.fill('{"kind":"threshold","direction":"sideways","debounce":{"breaches":3,"outOf":2}}');
    await page.getByRole('button', { name: 'Replay' }).click();
    const problems = page.locator('[data-testid=replay-summary] ul.error li');
    await problems.first().waitFor();
    expect((await problems.allTextContents()).map((line) => line.split(':')[0]).sort()).toEqual([
      'rule.debounce.breaches',
      'rule.direction',
      'rule.threshold',
    ]);
    expect(await page.locator('[data-testid=replay-alerts] li').count()).toBe(0);
    expect(await page.getByTestId('band-chart').getAttribute('data-replayed-alerts')).toBe('');
    await draft.fill('{"kind":');
    await page.getByRole('button', { name: 'Replay' }).click();
    await expect
      .poll(() => page.getByTestId('replay-summary').textContent())
      .toMatch(/^The draft is not JSON/);
    expect(errors.filter((error) => !/status of 400/.test(error))).toEqual([]);
  });
});
