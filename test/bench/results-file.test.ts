import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repositoryRoot, resultsFile } from '../../bench/results-file.ts';

const run = promisify(execFile);

describe('Function: resultsFile', () => {
  it('puts results in the ignored bench/out unless the command line says --record', () => {
    expect(resultsFile('bands', ['node', 'bench/bands.ts', '--series', '1000'], '/repo')).toBe(
      '/repo/bench/out/bands.json',
    );
    expect(resultsFile('bands', ['node', 'bench/bands.ts', '--series', '1000', '--record'], '/repo')).toBe(
      '/repo/bench/results/bands.json',
    );
  });

  it('is the checkout of the bench folder by default, not the working directory', () => {
    expect(resultsFile('bands', [])).toBe(join(repositoryRoot, 'bench', 'out', 'bands.json'));
    expect(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')).toContain('"name": "normalcy"');
  });
});

/**
 * `npm run bench:bands` at a tiny size (about 7 s, most of it training the 64 template engines): the tracked
 * results file, which `npm run cost` reads and BENCHMARKS.md quotes, stays as committed; the run's results go
 * to bench/out/bands.json, which .gitignore ignores.
 */
describe('Benchmark: bench:bands without --record', () => {
  it('leaves bench/results/bands.json as it was and writes bench/out/bands.json', async () => {
    const recorded = join(repositoryRoot, 'bench', 'results', 'bands.json');
    const before = readFileSync(recorded);
    const startedAt = Date.now();
    try {
      await run(
        join(repositoryRoot, 'node_modules', '.bin', 'tsx'),
        ['bench/bands.ts', '--series', '40', '--shards', '2'],
        { cwd: repositoryRoot, maxBuffer: 16 * 1024 * 1024 },
      );
      expect(readFileSync(recorded).equals(before)).toBe(true);
      const written = JSON.parse(readFileSync(join(repositoryRoot, 'bench', 'out', 'bands.json'), 'utf8'));
      expect(written.seriesCount).toBe(40);
      expect(Date.parse(written.measuredAt)).toBeGreaterThanOrEqual(startedAt - 1000);
      const { stdout: ignored } = await run('git', ['check-ignore', 'bench/out/bands.json'], {
        cwd: repositoryRoot,
      });
      expect(ignored.trim()).toBe('bench/out/bands.json');
    } finally {
      // Should the run have overwritten the committed figures (the old behaviour), put them back.
      if (!readFileSync(recorded).equals(before)) writeFileSync(recorded, before);
    }
  }, 30_000);
});
