import { join } from 'node:path';

/** The checkout this file belongs to (bench/..), whatever the working directory. */
export const repositoryRoot = join(import.meta.dirname, '..');

/** The option that records a benchmark's results in the repository (see resultsFile). */
export const recordOption = '--record';

/**
 * Where a benchmark writes its results file `<name>.json`: under `bench/out/` (git-ignored) by default, so a
 * run on a fresh clone leaves `git status` clean; under `bench/results/` (tracked: BENCHMARKS.md quotes it and
 * `npm run cost` reads it) only when the command line asks for it with `--record`, for figures meant to be
 * committed.
 *
 * @example resultsFile('bands', ['node', 'bench/bands.ts'], '/repo') // '/repo/bench/out/bands.json'
 * @example resultsFile('bands', ['node', 'bench/bands.ts', '--record'], '/repo') // '/repo/bench/results/bands.json'
 */
export function resultsFile(
  name: string,
  commandLine: readonly string[] = process.argv,
  root: string = repositoryRoot,
): string {
  const folder = commandLine.includes(recordOption) ? 'results' : 'out';
  return join(root, 'bench', folder, `${name}.json`);
}
