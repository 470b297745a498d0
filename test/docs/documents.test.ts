import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const documents = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync(join(root, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');

const anchorsOf = (file: string): Set<string> =>
  new Set(
    [...readFileSync(join(root, file), 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
      anchorOf(heading ?? ''),
    ),
  );

describe('The README and docs a newcomer reads', () => {
  it('is under 240 lines: the route tables, alert rules and settings are in docs/', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').trimEnd().split('\n');
    // 200 until issue 15 added a short section for each of Prometheus, Grafana and Alertmanager.
    expect(lines.length).toBeLessThan(240);
  });

  it.each(documents)('%s links only to files and headings that exist', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const broken = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map(([, target]) => target ?? '')
      .filter((target) => !/^[a-z]+:/.test(target))
      .filter((target) => {
        const [path = '', anchor] = target.split('#');
        const linked = path === '' ? file : relative(root, join(root, dirname(file), path));
        if (!existsSync(join(root, linked))) return true;
        return anchor !== undefined && linked.endsWith('.md') && !anchorsOf(linked).has(anchor);
      });
    expect(broken).toEqual([]);
  });

  it.each(documents)('%s speaks of the project only: no machine paths, no working names', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const workingWords = /\/work\/|\/tmp\/|\/home\/|skeleton|\bengine\d\b|\bbranch\b|worktree/gi;
    expect(text.match(workingWords)).toBeNull();
  });
});
