/**
 * Builds the dashboard: one HTML page with its script (bundled by esbuild, uPlot included) and styles inline,
 * and a Content-Security-Policy that allows exactly those two inline blocks and requests to its own origin (the
 * query function sends it as a header too, adding `frame-ancestors`, which a meta tag cannot carry).
 * Local mode builds it on first request; the CDK stack builds it at synth and ships it beside the query
 * function. Run `tsx dashboard/build.ts OUT.html` to write it to a file.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type BuildOptions, build, buildSync } from 'esbuild';

const directory = import.meta.dirname;
const require = createRequire(import.meta.url);

const bundleOptions: BuildOptions = {
  entryPoints: [join(directory, 'src', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  write: false,
  legalComments: 'none',
};

/** What the page is told about the server that serves it. */
export interface DashboardPageOptions {
  /**
   * The local server's data directory, named in the key prompt (where `npm start` keeps its key). The
   * cloud's page has none: its prompt says how a deployment's keys are made.
   */
  readonly dataDirectory?: string;
}

/** The dashboard page, built asynchronously (local mode). */
export async function buildDashboardHtml(options: DashboardPageOptions = {}): Promise<string> {
  const result = await build(bundleOptions);
  return page(result.outputFiles?.[0]?.text ?? '', options);
}

/** The dashboard page, built synchronously (the CDK stack, whose constructors cannot await). */
export function buildDashboardHtmlSync(): string {
  const result = buildSync(bundleOptions);
  return page(result.outputFiles?.[0]?.text ?? '');
}

/** Text made safe inside a double-quoted HTML attribute. */
const attribute = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function page(script: string, options: DashboardPageOptions = {}): string {
  if (script === '') throw new Error('the dashboard bundle is empty');
  const styles =
    readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') +
    readFileSync(join(directory, 'src', 'style.css'), 'utf8');
  // A closing tag inside the inline script would end it early.
  const safeScript = script.replaceAll('</script', '<\\/script');
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const policy = [
    "default-src 'none'",
    `script-src ${hash(safeScript)}`,
    `style-src ${hash(styles)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return readFileSync(join(directory, 'src', 'index.html'), 'utf8')
    .replace('%POLICY%', policy)
    .replace('%SERVER%', () =>
      options.dataDirectory === undefined
        ? ''
        : `<meta name="normalcy-data-directory" content="${attribute(options.dataDirectory)}">`,
    )
    .replace('%STYLES%', () => `<style>${styles}</style>`)
    .replace('%SCRIPT%', () => `<script>${safeScript}</script>`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: tsx dashboard/build.ts OUT.html');
  writeFileSync(out, buildDashboardHtmlSync());
}
