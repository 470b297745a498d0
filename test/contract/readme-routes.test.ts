import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../lib/http/routes.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The routes the README's "The API" tables list, one per row, as `METHOD /path` (query strings left out). */
function readmeRoutes(): string[] {
  const start = readme.indexOf('\n## The API\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([A-Z]+) (\/[^`?]*)(?:\?[^`]*)?` +\|/gm)].map(
    ([, method, path]) => `${method} ${path}`,
  );
}

describe('README, The API', () => {
  it('lists every route of lib/http/routes.ts, each once', () => {
    const listed = readmeRoutes();
    expect(listed.sort()).toEqual(apiRoutes.map((route) => `${route.method} ${route.path}`).sort());
  });
});
