import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Headless Chromium for the dashboard tests and the query benchmark (both import it from here: bench/ does not
 * import test/).
 */

/** Where screenshots go: git-ignored, kept by CI as test artifacts. */
export const artifactsDir = join(import.meta.dirname, '..', '..', 'test-artifacts');

/**
 * Debian's Chromium (`apt-get install chromium`, see .ci/run), headless, driven by playwright-core (which
 * gives each launch a fresh profile). The background-networking flags keep it from calling out: this
 * machine's network is closed.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot under test-artifacts/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
