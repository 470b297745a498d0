import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { parse } from 'yaml';
import { buildDashboardHtmlSync } from '../dashboard/build.ts';
import { documentFiles } from '../functions/shared/documents.ts';

/**
 * The documents the query function serves, built now (at synth) and copied beside its bundle by esbuild's
 * after-bundling hook: the dashboard page (dashboard/build.ts) and docs/openapi.yaml as JSON. The function
 * reads them from its task root (functions/shared/documents.ts). Returns the hooks for its bundling options.
 */
export function queryDocumentHooks(root: string): ICommandHooks {
  const directory = mkdtempSync(join(tmpdir(), 'normalcy-query-documents-'));
  writeFileSync(join(directory, documentFiles.dashboard), buildDashboardHtmlSync());
  const openApi = parse(readFileSync(join(root, 'docs', 'openapi.yaml'), 'utf8'));
  writeFileSync(join(directory, documentFiles.openApi), JSON.stringify(openApi));
  const copy = (outputDir: string) =>
    Object.values(documentFiles).map((file) => `cp "${join(directory, file)}" "${join(outputDir, file)}"`);
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => copy(outputDir),
  };
}
