/**
 * Runs a benchmark as the functions run in Lambda: bundled by esbuild (tsx, which runs everything else here,
 * wraps every function in a naming helper that would skew the figures), dependencies left to node_modules.
 *
 *   tsx bench/run.ts bench/ingest.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const entry = process.argv[2];
if (!entry) throw new Error('usage: tsx bench/run.ts <bench file>');
// Inside node_modules, so that the bundle's bare imports resolve to the repository's packages; one directory
// per run, so that benchmarks run at once (node_modules may be shared between checkouts) keep their bundles.
const directory = resolve('node_modules', '.cache', `normalcy-bench-${process.pid}`);
mkdirSync(directory, { recursive: true });
const outfile = join(directory, 'bench.mjs');
await build({
  entryPoints: [resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  absWorkingDir: resolve('.'),
  banner: {
    // Aliased: a bundled module may import createRequire itself (dashboard/build.ts does).
    js: `import { createRequire as createBenchRequire } from 'node:module'; const require = createBenchRequire(${JSON.stringify(resolve('package.json'))});`,
  },
  plugins: [sourceDirectories()],
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, [outfile, ...process.argv.slice(3)], { stdio: 'inherit' });
rmSync(directory, { recursive: true, force: true });
process.exitCode = result.status ?? 1;

/**
 * `import.meta.dirname` and `import.meta.filename` of each source file are that file's own, as unbundled: the
 * bench reads files beside it, the dashboard builds from its sources (and runs as a command only when it is
 * the file run), local mode starts its band-job thread from its own directory.
 */
function sourceDirectories(): Plugin {
  return {
    name: 'source-directories',
    setup(plugin) {
      plugin.onLoad({ filter: /\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8')
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path)),
        loader: 'ts',
      }));
    },
  };
}
