/**
 * NAB scores of the default engine on the whole shipped corpus and on splits of it, to check that a change
 * helps everywhere rather than on a few files: odd and even files (each scored on its own, with its own
 * threshold and windows), the two folder groups, and a leave-one-folder-out threshold (chosen on six folders,
 * applied to the seventh, summed over the seven). `--tuning '{"levelRate":0.2}'` overrides engine constants.
 * `--perturbed` also scores altered copies of the corpus (every other row, the first or last 80% of each file,
 * values rescaled, a little noise added), which no constant was tuned on.
 * Run: npx tsx bench/nab-splits.ts [--tuning JSON] [--files] [--perturbed]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DetectorTuning } from '../lib/bands/detector.ts';
import { detectorEngineWith, detectorTuning } from '../lib/bands/detector.ts';
import { listDataFiles, readDataFile, readLabels } from './nab/corpus.ts';
import { type NabProfileName, nabProfileNames, nabProfiles } from './nab/profiles.ts';
import { runEngine } from './nab/run.ts';
import {
  nullAndPerfectScores,
  type ScoredFile,
  scoreCorpus,
  scoreCorpusAtThreshold,
  scoreCorpusProfiles,
} from './nab/scorer.ts';

const { values: options } = parseArgs({
  options: { tuning: { type: 'string' }, files: { type: 'boolean' }, perturbed: { type: 'boolean' } },
});
const tuning: DetectorTuning = { ...detectorTuning, ...JSON.parse(options.tuning ?? '{}') };
const nabDir = process.env.NAB_DIR ?? fileURLToPath(new URL('../test/fixtures/nab', import.meta.url));
const dataDir = `${nabDir}/data`;
const labels = readLabels(`${nabDir}/labels/combined_windows.json`);
const factory = detectorEngineWith(tuning);

const corpus = listDataFiles(dataDir).map((name) => readDataFile(dataDir, name));

/** Runs the engine over (an altered copy of) each file, keeping the windows that still hold a row. */
function scoreFiles(alter: (timestamps: number[], values: number[]) => [number[], number[]]): ScoredFile[] {
  return corpus.map((file) => {
    const [timestamps, values] = alter(file.timestamps, file.values);
    const first = timestamps[0] ?? 0;
    const last = timestamps.at(-1) ?? 0;
    const windows = (labels.get(file.name) ?? []).filter(([start, end]) => end >= first && start <= last);
    const run = runEngine(factory, timestamps, values);
    return { name: file.name, timestamps, scores: Array.from(run.scores), windows };
  });
}

const files = scoreFiles((timestamps, values) => [timestamps, values]);

const format = (scores: Record<NabProfileName, { normalized: number }>) =>
  nabProfileNames.map((profile) => scores[profile].normalized.toFixed(2)).join(' / ');
const folderOf = (name: string) => name.slice(0, name.indexOf('/'));
const firstGroup = new Set([
  'artificialNoAnomaly',
  'artificialWithAnomaly',
  'realAWSCloudwatch',
  'realAdExchange',
]);

const splits: Array<[string, ScoredFile[]]> = [
  ['all files', files],
  ['odd files', files.filter((_, index) => index % 2 === 0)],
  ['even files', files.filter((_, index) => index % 2 === 1)],
  ['artificial, AWS, ad exchange', files.filter((file) => firstGroup.has(folderOf(file.name)))],
  ['known cause, traffic, tweets', files.filter((file) => !firstGroup.has(folderOf(file.name)))],
];
for (const [label, subset] of splits) {
  process.stdout.write(`${label.padEnd(30)} ${format(scoreCorpusProfiles(subset, nabProfiles))}\n`);
}

const folders = [...new Set(files.map((file) => folderOf(file.name)))];
const windowCount = files.reduce((sum, file) => sum + file.windows.length, 0);
const leaveOneOut = nabProfileNames.map((profileName) => {
  const profile = nabProfiles[profileName];
  let raw = 0;
  for (const folder of folders) {
    const others = files.filter((file) => folderOf(file.name) !== folder);
    const held = files.filter((file) => folderOf(file.name) === folder);
    const { threshold } = scoreCorpus(others, profile);
    raw += scoreCorpusAtThreshold(held, profile, threshold).raw;
  }
  const [nullScore, perfect] = nullAndPerfectScores(windowCount, profile);
  return ((100 * (raw - nullScore)) / (perfect - nullScore)).toFixed(2);
});
process.stdout.write(`${'leave-one-folder-out'.padEnd(30)} ${leaveOneOut.join(' / ')}\n`);
const all = scoreCorpusProfiles(files, nabProfiles);

if (options.perturbed) {
  const everyOther =
    (parity: number) =>
    (timestamps: number[], values: number[]): [number[], number[]] => [
      timestamps.filter((_, row) => row % 2 === parity),
      values.filter((_, row) => row % 2 === parity),
    ];
  const part =
    (from: number, to: number) =>
    (timestamps: number[], values: number[]): [number[], number[]] => {
      const [start, end] = [Math.floor(from * timestamps.length), Math.floor(to * timestamps.length)];
      return [timestamps.slice(start, end), values.slice(start, end)];
    };
  const noisy = (timestamps: number[], values: number[]): [number[], number[]] => {
    // A fixed linear congruential sequence: the same noise on every run.
    let seed = 7;
    const uniform = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648 - 0.5;
    };
    const size = values.reduce((sum, value) => sum + Math.abs(value), 0) / Math.max(1, values.length);
    return [timestamps, values.map((value) => value + 0.01 * size * uniform())];
  };
  const perturbations: Array<[string, (timestamps: number[], values: number[]) => [number[], number[]]]> = [
    ['even rows only', everyOther(0)],
    ['odd rows only', everyOther(1)],
    ['first 80% of each file', part(0, 0.8)],
    ['last 80% of each file', part(0.2, 1)],
    ['values x1000 + 5', (timestamps, values) => [timestamps, values.map((value) => value * 1000 + 5)]],
    ['noise of 1% of the mean size', noisy],
  ];
  for (const [label, alter] of perturbations) {
    process.stdout.write(
      `${label.padEnd(30)} ${format(scoreCorpusProfiles(scoreFiles(alter), nabProfiles))}\n`,
    );
  }
}

process.stdout.write(
  `standard at its threshold ${all.standard.threshold.toFixed(4)}: TP ${all.standard.truePositives}, ` +
    `FP ${all.standard.falsePositives}, FN ${all.standard.falseNegatives}\n`,
);

if (options.files) {
  // Per file, at the whole corpus' standard threshold: windows found of windows, and false-positive rows.
  const threshold = all.standard.threshold;
  for (const file of files) {
    const ranges = file.windows.map(([start, end]) => [start, end] as const);
    const probation = Math.min(Math.floor(0.15 * file.timestamps.length), 750);
    let falsePositives = 0;
    const found = new Set<number>();
    file.timestamps.forEach((timestamp, row) => {
      if (row < probation || (file.scores[row] ?? 0) < threshold) return;
      const window = ranges.findIndex(([start, end]) => timestamp >= start && timestamp <= end);
      if (window < 0) falsePositives++;
      else found.add(window);
    });
    process.stdout.write(`${file.name.padEnd(60)} ${found.size}/${ranges.length} FP ${falsePositives}\n`);
  }
}
