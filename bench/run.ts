/**
 * Runs a benchmark as the functions run in Lambda: bundled by esbuild (tsx, which runs everything else here,
 * wraps every function in a naming helper that would skew the figures), dependencies left to node_modules.
 *
 *   tsx bench/run.ts bench/ingest.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const entry = process.argv[2];
if (!entry) throw new Error('usage: tsx bench/run.ts <bench file>');
// Inside node_modules, so that the bundle's bare imports resolve to the repository's packages.
const directory = resolve('node_modules', '.cache', 'normalcy-bench');
mkdirSync(directory, { recursive: true });
const outfile = join(directory, 'bench.mjs');
buildSync({
  entryPoints: [resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  absWorkingDir: resolve('.'),
  banner: {
    js: `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(resolve('package.json'))});`,
  },
  define: { 'import.meta.dirname': JSON.stringify(resolve(entry, '..')) },
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, [outfile], { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
