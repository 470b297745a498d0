import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { buildDashboardHtml } from '../../dashboard/build.ts';
import type { QueryDocuments } from '../../lib/query/documents.ts';

const root = join(import.meta.dirname, '..', '..');

/** The OpenAPI document as JSON, read from docs/openapi.yaml. */
export async function readOpenApiDocument(): Promise<unknown> {
  return parse(await readFile(join(root, 'docs', 'openapi.yaml'), 'utf8'));
}

/**
 * Local mode's documents: the dashboard built from source (its key prompt naming the server's data
 * directory) and the OpenAPI document, each once.
 */
export function localDocuments(dataDirectory?: string): QueryDocuments {
  const page = dataDirectory === undefined ? {} : { dataDirectory: resolve(dataDirectory) };
  let dashboard: Promise<string> | undefined;
  let openApi: Promise<unknown> | undefined;
  const once = <T>(make: () => Promise<T>, reset: () => void) =>
    make().catch((error: unknown) => {
      reset(); // A failed build is retried on the next request rather than cached.
      throw error;
    });
  return {
    dashboardHtml: () => {
      dashboard ??= once(
        () => buildDashboardHtml(page),
        () => {
          dashboard = undefined;
        },
      );
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
