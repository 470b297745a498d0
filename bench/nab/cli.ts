import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import type { BandEngineFactory } from '../../lib/bands/engine.ts';
import {
  defaultEngine,
  detectorEngine,
  rollingZScoreEngine,
  seasonalMedianEngine,
} from '../../lib/bands/index.ts';
import {
  listDataFiles,
  type NabDataFile,
  readDataFile,
  readLabels,
  readResultScores,
  resultPath,
} from './corpus.ts';
import { nabProfileNames } from './profiles.ts';
import { resultCsv, runEngine, type ScoredSeries, scoreAllProfiles, windowLabels } from './run.ts';

const usage = `Runs a band engine over a NAB-layout corpus and scores it with the official NAB rules.

  npm run nab -- [--data DIR] [--labels FILE] [--out DIR] [--engine normalcy|seasonal-median|rolling-z-score] [--detector NAME]
  npm run nab -- --score-only DIR --detector NAME [--data DIR] [--labels FILE]

  --data        folder of <folder>/<file>.csv series (default: $NAB_DIR/data, else the shipped NAB subset)
  --labels      combined_windows.json (default: beside --data, ../labels/combined_windows.json)
  --out         where results go, as OUT/<detector>/<folder>/<detector>_<file>.csv (default: bench/out/nab)
  --engine      which engine to run (default: normalcy, the product default)
  --detector    the results' detector name (default: the engine's: normalcy or seasonalMedian)
  --score-only  score the results already in DIR/<detector>/ instead of running an engine

The last three lines printed are the normalized scores: standard, reward_low_FP_rate, reward_low_FN_rate.`;

const engines = {
  normalcy: { factory: defaultEngine, detector: 'normalcy' },
  'seasonal-median': { factory: seasonalMedianEngine, detector: 'seasonalMedian' },
  'rolling-z-score': { factory: rollingZScoreEngine, detector: 'rollingZScore' },
  detector: { factory: detectorEngine, detector: 'normalcyDetector' },
} as const satisfies Record<string, { factory: BandEngineFactory; detector: string }>;

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function main(): void {
  const { values: options } = parseArgs({
    options: {
      data: { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
      engine: { type: 'string', default: 'normalcy' },
      detector: { type: 'string' },
      'score-only': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const nabDir = process.env.NAB_DIR;
  const dataDir =
    options.data ?? (nabDir ? join(nabDir, 'data') : join(repositoryRoot, 'test/fixtures/nab/data'));
  const labelsFile = options.labels ?? join(dataDir, '..', 'labels', 'combined_windows.json');
  for (const [what, path] of [
    ['--data', dataDir],
    ['--labels', labelsFile],
  ] as const) {
    if (!existsSync(path)) throw new Error(`${what}: ${path} does not exist\n\n${usage}`);
  }
  const labels = readLabels(labelsFile);
  const names = listDataFiles(dataDir);
  if (names.length === 0) throw new Error(`--data: no .csv under ${dataDir}`);
  const windowCount = [...labels.values()].reduce((sum, windows) => sum + windows.length, 0);

  const scoreOnly = options['score-only'];
  let series: ScoredSeries[];
  if (scoreOnly !== undefined) {
    const detector = options.detector;
    if (!detector) throw new Error(`--score-only needs --detector NAME\n\n${usage}`);
    series = names.map((name) => ({
      name,
      timestamps: readDataFile(dataDir, name).timestamps,
      scores: readResultScores(resultPath(scoreOnly, detector, name)),
      windows: labels.get(name) ?? [],
    }));
  } else {
    const engineName = options.engine ?? 'normalcy';
    if (!(engineName in engines)) throw new Error(`--engine: unknown engine "${engineName}"\n\n${usage}`);
    const engine = engines[engineName as keyof typeof engines];
    const detector = options.detector ?? engine.detector;
    const outDir = options.out ?? join(repositoryRoot, 'bench/out/nab');
    series = runCorpus(engine.factory, dataDir, names, labels, outDir, detector);
    process.stdout.write(`results: ${join(outDir, detector)}\n`);
  }

  const scores = scoreAllProfiles(series, windowCount);
  for (const profile of nabProfileNames) {
    const score = scores[profile];
    process.stdout.write(
      `${profile}: raw ${score.raw.toFixed(4)}, threshold ${score.threshold}, ` +
        `TP ${score.truePositives}, FP ${score.falsePositives}, FN ${score.falseNegatives}\n`,
    );
  }
  for (const profile of nabProfileNames) {
    process.stdout.write(`${profile} ${scores[profile].normalized.toFixed(2)}\n`);
  }
}

function runCorpus(
  factory: BandEngineFactory,
  dataDir: string,
  names: readonly string[],
  labels: ReadonlyMap<string, readonly (readonly [number, number])[]>,
  outDir: string,
  detector: string,
): ScoredSeries[] {
  const files: NabDataFile[] = names.map((name) => readDataFile(dataDir, name));
  const totalRows = files.reduce((sum, file) => sum + file.timestamps.length, 0);
  const bar = process.stderr.isTTY
    ? new SingleBar({
        stream: process.stderr,
        format: 'NAB {bar} {percentage}% | {value}/{total} rows | {file}',
        hideCursor: true,
      })
    : undefined;
  bar?.start(totalRows, 0, { file: '' });
  const series: ScoredSeries[] = [];
  let done = 0;
  for (const file of files) {
    bar?.update(done, { file: file.name });
    const windows = labels.get(file.name) ?? [];
    const run = runEngine(factory, file.timestamps, file.values);
    const path = resultPath(outDir, detector, file.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      resultCsv(file.timestampTexts, file.values, run, windowLabels(file.timestamps, windows)),
    );
    series.push({ name: file.name, timestamps: file.timestamps, scores: run.scores, windows });
    done += file.timestamps.length;
  }
  bar?.update(done, { file: 'scoring' });
  bar?.stop();
  return series;
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
