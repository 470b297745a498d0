/**
 * Engine benchmark: point updates per second on one core, the shipped NAB corpus end to end (read, run, score),
 * and state bytes per series, for the default engine and, as the baseline, the rolling z-score engine, in the
 * same process. The engines are measured as the bands Lambda runs them: bundled by esbuild (minified ESM, as
 * the stack builds it); updates per second are also measured on the TypeScript sources run by tsx (local mode).
 * Run: npm run bench:engine
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { BandEngineFactory } from '../lib/bands/engine.ts';
import * as sourceEngines from '../lib/bands/index.ts';
import { listDataFiles, readDataFile, readLabels } from './nab/corpus.ts';
import { runEngine, scoreAllProfiles } from './nab/run.ts';

const nabDir = process.env.NAB_DIR ?? fileURLToPath(new URL('../test/fixtures/nab', import.meta.url));
const dataDir = `${nabDir}/data`;
const labelsFile = `${nabDir}/labels/combined_windows.json`;
const names = listDataFiles(dataDir);
const corpus = names.map((name) => readDataFile(dataDir, name));
const rows = corpus.reduce((sum, file) => sum + file.timestamps.length, 0);

const bundleDir = fileURLToPath(new URL('../dist/bench-engine', import.meta.url));
mkdirSync(bundleDir, { recursive: true });
const bundleFile = join(bundleDir, 'bands.mjs');
await build({
  entryPoints: [fileURLToPath(new URL('../lib/bands/index.ts', import.meta.url))],
  outfile: bundleFile,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  logLevel: 'error',
});
const bundled = (await import(pathToFileURL(bundleFile).href)) as typeof sourceEngines;
const { defaultEngine, rollingZScoreEngine } = bundled;

/** Best of `repeats` runs of updates over the whole corpus: updates per second. */
function updatesPerSecond(factory: BandEngineFactory, repeats: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const started = performance.now();
    for (const file of corpus) {
      const engine = factory.create();
      const { timestamps, values } = file;
      for (let i = 0; i < timestamps.length; i++) engine.update(timestamps[i] ?? 0, values[i] ?? 0);
    }
    best = Math.min(best, performance.now() - started);
  }
  return rows / (best / 1000);
}

/** Seconds to read the corpus from disk, run the engine over it and score it in all three profiles. */
function endToEndSeconds(factory: BandEngineFactory): number {
  const started = performance.now();
  const labels = readLabels(labelsFile);
  const series = listDataFiles(dataDir).map((name) => {
    const file = readDataFile(dataDir, name);
    const run = runEngine(factory, file.timestamps, file.values);
    return { name, timestamps: file.timestamps, scores: run.scores, windows: labels.get(name) ?? [] };
  });
  scoreAllProfiles(series, 57);
  return (performance.now() - started) / 1000;
}

/** Mean and largest JSON state size over the corpus' series, after each has seen its whole series. */
function stateBytes(factory: BandEngineFactory): { mean: number; max: number } {
  const sizes = corpus.map((file) => {
    const engine = factory.create();
    for (let i = 0; i < file.timestamps.length; i++)
      engine.update(file.timestamps[i] ?? 0, file.values[i] ?? 0);
    return Buffer.byteLength(JSON.stringify(engine.toState()));
  });
  return { mean: sizes.reduce((a, b) => a + b, 0) / sizes.length, max: Math.max(...sizes) };
}

updatesPerSecond(defaultEngine, 1);
updatesPerSecond(rollingZScoreEngine, 1);
updatesPerSecond(sourceEngines.defaultEngine, 1);
updatesPerSecond(sourceEngines.rollingZScoreEngine, 1);
const engine = {
  rate: updatesPerSecond(defaultEngine, 5),
  sourceRate: updatesPerSecond(sourceEngines.defaultEngine, 5),
  endToEnd: Math.min(endToEndSeconds(defaultEngine), endToEndSeconds(defaultEngine)),
  state: stateBytes(defaultEngine),
};
const baseline = {
  rate: updatesPerSecond(rollingZScoreEngine, 5),
  sourceRate: updatesPerSecond(sourceEngines.rollingZScoreEngine, 5),
  endToEnd: Math.min(endToEndSeconds(rollingZScoreEngine), endToEndSeconds(rollingZScoreEngine)),
  state: stateBytes(rollingZScoreEngine),
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const lines = [
  `corpus: ${names.length} series, ${fmt(rows)} rows (${nabDir})`,
  `| measure | ${defaultEngine.name} | ${rollingZScoreEngine.name} (baseline) | ratio |`,
  '| --- | --- | --- | --- |',
  `| point updates / s (one core, bundled) | ${fmt(engine.rate)} | ${fmt(baseline.rate)} | ${fmt(engine.rate / baseline.rate, 3)} |`,
  `| point updates / s (one core, tsx) | ${fmt(engine.sourceRate)} | ${fmt(baseline.sourceRate)} | ${fmt(engine.sourceRate / baseline.sourceRate, 3)} |`,
  `| NAB corpus end to end (read, run, score) | ${fmt(engine.endToEnd, 3)} s | ${fmt(baseline.endToEnd, 3)} s | ${fmt(engine.endToEnd / baseline.endToEnd, 2)} |`,
  `| state bytes per series (mean) | ${fmt(engine.state.mean)} | ${fmt(baseline.state.mean)} | ${fmt(engine.state.mean / baseline.state.mean, 1)} |`,
  `| state bytes per series (largest) | ${fmt(engine.state.max)} | ${fmt(baseline.state.max)} | ${fmt(engine.state.max / baseline.state.max, 1)} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
