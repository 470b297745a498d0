/**
 * `npm run bench:bundle`: the size of each Lambda bundle (built as the stack builds it: esbuild, minified,
 * CommonJS, the AWS SDK left to the runtime) and the time to load it in a fresh Node.js process (module
 * initialisation, what a cold start pays before the handler runs), as a ratio to an empty handler's bundle
 * loaded the same way in the same run. Goals: ≤ 250 KB and ≤ 80 ms per function.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist', 'bench-bundle');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const functionsDir = join(root, 'functions');
const entries = readdirSync(functionsDir)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.replace(/\.ts$/, ''));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const emptyEntry = join(out, 'empty-handler.ts');
writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');

async function bundle(name: string, entry: string): Promise<string> {
  const outfile = join(out, `${name}.cjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['@aws-sdk/*'],
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  return outfile;
}

/** Median milliseconds to load a bundle in a fresh process (module resolution and top-level code). */
function importTime(file: string): number {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    // Lambda loads a CommonJS handler with require(); so does this.
    const script = `const t=performance.now();require(${JSON.stringify(file)});console.log(performance.now()-t)`;
    samples.push(Number(execFileSync(process.execPath, ['-e', script], { cwd: root })));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

const baselineFile = await bundle('empty-handler', emptyEntry);
const baseline = importTime(baselineFile);
console.log(`bundle sizes and import times (median of ${runs} fresh processes; Node ${process.version})`);
console.log(`baseline: empty handler ${statSync(baselineFile).size} B, import ${baseline.toFixed(1)} ms`);
console.log('| function | minified size | import ms | ratio to empty handler |');
console.log('|---|---|---|---|');
for (const name of entries) {
  const file = await bundle(name, join(functionsDir, `${name}.ts`));
  const ms = importTime(file);
  const kb = statSync(file).size / 1024;
  console.log(`| ${name} | ${kb.toFixed(1)} KB | ${ms.toFixed(1)} | ${(ms / baseline).toFixed(1)}x |`);
}
