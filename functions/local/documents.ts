import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildDashboardHtml } from '../../dashboard/build.ts';
import type { QueryDocuments } from '../../lib/query/documents.ts';

const root = join(import.meta.dirname, '..', '..');

/** The OpenAPI document as JSON, read from docs/openapi.yaml. */
export async function readOpenApiDocument(): Promise<unknown> {
  return parse(await readFile(join(root, 'docs', 'openapi.yaml'), 'utf8'));
}

/** Local mode's documents: the dashboard built from source and the OpenAPI document, each once. */
export function localDocuments(): QueryDocuments {
  let dashboard: Promise<string> | undefined;
  let openApi: Promise<unknown> | undefined;
  const once = <T>(make: () => Promise<T>, reset: () => void) =>
    make().catch((error: unknown) => {
      reset(); // A failed build is retried on the next request rather than cached.
      throw error;
    });
  return {
    dashboardHtml: () => {
      dashboard ??= once(buildDashboardHtml, () => {
        dashboard = undefined;
      });
      return dashboard;
    },
    openApi: () => {
      openApi ??= once(readOpenApiDocument, () => {
        openApi = undefined;
      });
      return openApi;
    },
  };
}
