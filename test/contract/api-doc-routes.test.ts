import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../lib/http/routes.ts';

const apiDoc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');

/** The routes docs/api.md's tables list (the README links it), one per row, as `METHOD /path` (no query strings). */
function documentedRoutes(): string[] {
  const start = apiDoc.indexOf('\n## Routes\n');
  const end = apiDoc.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(-1);
  const section = apiDoc.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([A-Z]+) (\/[^`?]*)(?:\?[^`]*)?` +\|/gm)].map(
    ([, method, path]) => `${method} ${path}`,
  );
}

describe('docs/api.md, Routes', () => {
  it('lists every route of lib/http/routes.ts, each once', () => {
    const listed = documentedRoutes();
    expect(listed.sort()).toEqual(apiRoutes.map((route) => `${route.method} ${route.path}`).sort());
  });
});
