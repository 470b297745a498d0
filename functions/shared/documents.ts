import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueryDocuments } from '../../lib/query/documents.ts';

/** The files the stack's bundling puts beside the query function's code (see cdk/query-assets.ts). */
export const documentFiles = { dashboard: 'dashboard.html', openApi: 'openapi.json' } as const;

/** The dashboard and OpenAPI document as the stack bundled them, read once per container. */
export function bundledDocuments(directory: string): QueryDocuments {
  let dashboard: Promise<string> | undefined;
  let openApi: Promise<unknown> | undefined;
  return {
    dashboardHtml: () => {
      dashboard ??= readFile(join(directory, documentFiles.dashboard), 'utf8');
      return dashboard;
    },
    openApi: () => {
      openApi ??= readFile(join(directory, documentFiles.openApi), 'utf8').then((text) => JSON.parse(text));
      return openApi;
    },
  };
}
