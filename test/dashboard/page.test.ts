import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboardHtml, buildDashboardHtmlSync } from '../../dashboard/build.ts';
import { lambdaContext, toHttpApiEvent } from '../../functions/local/lambda-events.ts';
import { createQueryHandler } from '../../functions/query.ts';
import type { QueryDependencies } from '../../functions/shared/dependencies.ts';
import { bundledDocuments, documentFiles } from '../../functions/shared/documents.ts';
import { launchChromium, screenshot } from '../../scripts/dev/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/**
 * The dashboard page as it is served: its Content-Security-Policy comes as a response header (a meta tag
 * cannot say `frame-ancestors`), and its key prompt names the data directory of the server that serves it
 * (a deployment's names how its keys are made).
 */
describe('the dashboard page as served', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const keyPrompt = async (page: Page) => {
    await page.getByRole('heading', { name: 'Enter a read key' }).waitFor();
    return page.getByTestId('where-keys-are').textContent();
  };

  it('sends its Content-Security-Policy as a header, with frame-ancestors, the same as its meta tag', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    const body = await response.text();
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(body)?.[1];
    expect(meta).toContain("script-src 'sha256-");
    expect(response.headers.get('content-security-policy')).toBe(`${meta}; frame-ancestors 'none'`);
  });

  it('sends the same header from the cloud, where the query function serves the page the stack bundled', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'normalcy-bundle-'));
    try {
      // What cdk/query-assets.ts puts beside the function's code.
      writeFileSync(join(directory, documentFiles.dashboard), buildDashboardHtmlSync());
      // The page's route reads only the documents.
      const dependencies = { documents: bundledDocuments(directory) } as unknown as QueryDependencies;
      const handler = createQueryHandler(() => dependencies);
      const event = toHttpApiEvent({
        method: 'GET',
        url: new URL('https://api.example.com/'),
        headers: {},
        body: Buffer.alloc(0),
        sourceIp: '192.0.2.1',
      });
      const response = await handler(event, lambdaContext('normalcy-query'));
      expect(response.statusCode).toBe(200);
      const policy = String(response.headers?.['content-security-policy']);
      expect(policy).toMatch(/^default-src 'none'; script-src 'sha256-.+; frame-ancestors 'none'$/);
      expect(response.body).toContain(`content="${policy.replace("; frame-ancestors 'none'", '')}"`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("names the server's own data directory in the key prompt, which fits a phone", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${server.url}/`);
    const prompt = await keyPrompt(page);
    expect(prompt).toContain(`keeps its data in ${server.dataDir}:`);
    expect(prompt).toContain(`put its key in ${server.dataDir}/api-key`);
    expect(prompt).toContain(`NORMALCY_DATA_DIR=${server.dataDir} npm run keys -- create`);
    expect(prompt).not.toContain('.normalcy/');
    // The long path and commands wrap rather than widen the page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'key-prompt-390');
    // The header's policy is the one in force, and it lets the page run.
    expect(errors).toEqual([]);
    await page.close();
  });

  it("tells a deployment's visitor how its keys are made, naming no directory", async () => {
    const html = await buildDashboardHtml();
    expect(html.includes('<meta name="normalcy-data-directory"')).toBe(false);
    const page = await browser.newPage();
    await page.route('http://dashboard.invalid/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    await page.goto('http://dashboard.invalid/');
    const prompt = await keyPrompt(page);
    expect(prompt).toContain('--table <StateTableName> --secret <KeySecretArn>');
    expect(prompt).not.toContain('data in');
    await page.close();
  });
});
