import type { NabProfile } from './profiles.ts';

/**
 * The official NAB scoring rules (NAB v1.1), as a pure function of timestamps, anomaly scores and labelled
 * windows. See /work/shared/nab/README.md (copied to test/fixtures/nab/README.md) for the rules in words.
 */

/** A labelled anomaly window, both ends inclusive, as epoch milliseconds. */
export type NabWindow = readonly [start: number, end: number];

/** One data file as the scorer sees it: its row timestamps, a detector's score per row, its windows. */
export interface ScoredFile {
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly scores: readonly number[];
  readonly windows: readonly NabWindow[];
}

/** The rows of one file that count (after probation), with what a detection on each would be worth. */
export interface SweptFile {
  readonly name: string;
  /** The detector's anomaly score per scorable row. */
  readonly scores: Float64Array;
  /** What a detection on each scorable row adds (inside a window) or costs (outside), profile-weighted. */
  readonly weights: Float64Array;
  /** The window (index into the file's windows) that holds each scorable row, or -1 outside windows. */
  readonly windowOf: Int32Array;
  /** How many windows have at least one scorable row (the ones that count for this file). */
  readonly countedWindows: number;
}

export interface CorpusScore {
  readonly threshold: number;
  /** The sum of the file scores at the threshold. */
  readonly raw: number;
  /** 100 × (raw − null) / (perfect − null). */
  readonly normalized: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
}

/** The threshold that means "detect nothing". */
export const detectNothingThreshold = 1.1;

/**
 * NAB's scaled sigmoid: 2 / (1 + e^(5y)) − 1, and −1 past y = 3. O(1).
 *
 * @example scaledSigmoid(0) // 0
 */
export function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

/** The number of rows of a file of `rowCount` rows that are neither rewarded nor penalised. O(1). */
export function probationLength(rowCount: number): number {
  return Math.min(Math.floor(0.15 * rowCount), 750);
}

/**
 * Row index ranges of the windows: the row whose timestamp equals the start to the row whose timestamp equals
 * the end (the first row at or after the start and the last row at or before the end when no row matches
 * exactly). Windows that hold no row are dropped. O(n + w).
 */
export function windowRowRanges(
  timestamps: readonly number[],
  windows: readonly NabWindow[],
): Array<readonly [left: number, right: number]> {
  const ranges: Array<readonly [number, number]> = [];
  let row = 0;
  for (const [start, end] of windows) {
    while (row < timestamps.length && (timestamps[row] ?? Number.POSITIVE_INFINITY) < start) row++;
    let right = row;
    while (right + 1 < timestamps.length && (timestamps[right + 1] ?? Number.POSITIVE_INFINITY) <= end)
      right++;
    if (row < timestamps.length && (timestamps[row] ?? Number.POSITIVE_INFINITY) <= end) {
      ranges.push([row, right]);
    }
    row = right + 1;
  }
  return ranges;
}

/**
 * Weighs every row of one file as the official sweeper does, and keeps the rows after probation. O(n).
 *
 * @example sweepFile({ name: 'f', timestamps: [0, 1, 2, 3, 4, 5, 6, 7], scores: [0, 0, 0, 0, 0, 0, 0, 1],
 *   windows: [[4, 5]] }, nabProfiles.standard).weights
 *   // 7 rows after a 1-row probation: −0.11 ×3, then 1 and ≈0.86 in the window, then ≈−0.109 and ≈−0.11
 */
export function sweepFile(file: ScoredFile, profile: NabProfile): SweptFile {
  const { timestamps, scores } = file;
  const rowCount = timestamps.length;
  if (scores.length !== rowCount) {
    throw new RangeError(`${file.name}: ${scores.length} scores for ${rowCount} rows`);
  }
  const ranges = windowRowRanges(timestamps, file.windows);
  const probation = probationLength(rowCount);
  const scorable = rowCount - probation;
  const sweptScores = new Float64Array(scorable);
  const weights = new Float64Array(scorable);
  const windowOf = new Int32Array(scorable).fill(-1);
  const maxTruePositive = scaledSigmoid(-1);
  const counted = new Set<number>();

  let nextWindow = 0;
  let currentWindow = -1;
  let previousRight = -1;
  let previousWidth = 0;
  for (let row = 0; row < rowCount; row++) {
    const nextRange = ranges[nextWindow];
    if (currentWindow < 0 && nextRange && nextRange[0] === row) {
      currentWindow = nextWindow;
      nextWindow++;
    }
    const range = ranges[currentWindow];
    let weight: number;
    if (range) {
      const width = range[1] - range[0] + 1;
      weight = (profile.truePositiveWeight * scaledSigmoid(-(range[1] - row + 1) / width)) / maxTruePositive;
    } else if (previousRight < 0) {
      weight = -profile.falsePositiveWeight;
    } else {
      weight =
        profile.falsePositiveWeight * scaledSigmoid(Math.abs(previousRight - row) / (previousWidth - 1));
    }
    if (row >= probation) {
      const index = row - probation;
      sweptScores[index] = scores[row] ?? 0;
      weights[index] = weight;
      windowOf[index] = range ? currentWindow : -1;
      if (range) counted.add(currentWindow);
    }
    if (range && range[1] === row) {
      previousRight = range[1];
      previousWidth = range[1] - range[0] + 1;
      currentWindow = -1;
    }
  }
  return { name: file.name, scores: sweptScores, weights, windowOf, countedWindows: counted.size };
}

/** The score of a never-detecting detector and of a perfect one, for `windowCount` labelled windows. */
export function nullAndPerfectScores(windowCount: number, profile: NabProfile): readonly [number, number] {
  return [-profile.falseNegativeWeight * windowCount, profile.truePositiveWeight * windowCount];
}

interface ThresholdTally {
  threshold: number;
  raw: number;
  truePositives: number;
  falsePositives: number;
}

/** The scorable rows of a corpus, laid end to end, with the rows' order by descending score (shared by profiles). */
interface SweptCorpus {
  readonly scores: Float64Array;
  /** The corpus-wide window of each row, or -1 outside windows. */
  readonly windows: Int32Array;
  readonly windowCount: number;
  /** Row indexes, highest score first. */
  readonly order: Uint32Array;
}

function layOut(files: readonly SweptFile[]): SweptCorpus {
  const rows = files.reduce((sum, file) => sum + file.scores.length, 0);
  const scores = new Float64Array(rows);
  const windows = new Int32Array(rows);
  let row = 0;
  let windowCount = 0;
  for (const file of files) {
    let fileWindows = 0;
    for (let i = 0; i < file.scores.length; i++, row++) {
      const window = file.windowOf[i] ?? -1;
      scores[row] = file.scores[i] ?? 0;
      windows[row] = window < 0 ? -1 : windowCount + window;
      fileWindows = Math.max(fileWindows, window + 1);
    }
    windowCount += fileWindows;
  }
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  order.sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0));
  return { scores, windows, windowCount, order };
}

/**
 * The corpus score at every candidate threshold (1.1, then every distinct score of a scorable row, highest
 * first), the way the official optimiser sweeps them. O(n) given the corpus laid out (which sorts once).
 */
function tallyThresholds(corpus: SweptCorpus, weights: Float64Array, profile: NabProfile): ThresholdTally[] {
  // A window present in the scorable rows starts as a miss; windows without scorable rows are not counted.
  const best = new Float64Array(corpus.windowCount).fill(Number.NaN);
  let raw = 0;
  for (let row = 0; row < corpus.windows.length; row++) {
    const window = corpus.windows[row] ?? -1;
    if (window >= 0 && Number.isNaN(best[window] ?? 0)) {
      best[window] = -profile.falseNegativeWeight;
      raw -= profile.falseNegativeWeight;
    }
  }
  const tallies: ThresholdTally[] = [];
  let threshold = detectNothingThreshold;
  let truePositives = 0;
  let falsePositives = 0;
  for (const row of corpus.order) {
    const score = corpus.scores[row] ?? 0;
    if (score !== threshold) {
      tallies.push({ threshold, raw, truePositives, falsePositives });
      threshold = score;
    }
    const window = corpus.windows[row] ?? -1;
    const weight = weights[row] ?? 0;
    if (window < 0) {
      raw += weight;
      falsePositives++;
    } else {
      const current = best[window] ?? 0;
      if (current === -profile.falseNegativeWeight && weight > current) truePositives++;
      if (weight > current) {
        raw += weight - current;
        best[window] = weight;
      }
    }
  }
  tallies.push({ threshold, raw, truePositives, falsePositives });
  return tallies;
}

function layOutWeights(files: readonly SweptFile[], rows: number): Float64Array {
  const weights = new Float64Array(rows);
  let row = 0;
  for (const file of files) {
    weights.set(file.weights, row);
    row += file.weights.length;
  }
  return weights;
}

/**
 * The corpus score at every candidate threshold (1.1, then every distinct score of a scorable row, highest
 * first), the way the official optimiser sweeps them. O(n log n) in the number of scorable rows.
 */
export function sweepThresholds(files: readonly SweptFile[], profile: NabProfile): ThresholdTally[] {
  const corpus = layOut(files);
  return tallyThresholds(corpus, layOutWeights(files, corpus.scores.length), profile);
}

function bestTally(tallies: readonly ThresholdTally[]): ThresholdTally {
  let best = tallies[0] ?? { threshold: detectNothingThreshold, raw: 0, truePositives: 0, falsePositives: 0 };
  for (const tally of tallies) if (tally.raw > best.raw) best = tally;
  return best;
}

/**
 * Scores a corpus in several profiles at once (the rows are sorted once for all of them), each at its own
 * optimised threshold. O(n log n).
 */
export function scoreCorpusProfiles<Name extends string>(
  files: readonly ScoredFile[],
  profiles: Readonly<Record<Name, NabProfile>>,
  labelledWindowCount = files.reduce((sum, file) => sum + file.windows.length, 0),
): Record<Name, CorpusScore> {
  // Weights scale with the profile: sweep once with unit weights, then scale per profile.
  const unit = { truePositiveWeight: 1, falsePositiveWeight: 1, falseNegativeWeight: 1 };
  const swept = files.map((file) => sweepFile(file, unit));
  const corpus = layOut(swept);
  const unitWeights = layOutWeights(swept, corpus.scores.length);
  const result = {} as Record<Name, CorpusScore>;
  for (const name of Object.keys(profiles) as Name[]) {
    const profile = profiles[name];
    const weights = new Float64Array(unitWeights.length);
    for (let row = 0; row < weights.length; row++) {
      const scale =
        (corpus.windows[row] ?? -1) >= 0 ? profile.truePositiveWeight : profile.falsePositiveWeight;
      weights[row] = scale * (unitWeights[row] ?? 0);
    }
    const tallies = tallyThresholds(corpus, weights, profile);
    result[name] = summarise(bestTally(tallies), swept, profile, labelledWindowCount);
  }
  return result;
}

/**
 * Scores a corpus as the official NAB runner does: the threshold with the highest corpus score (the highest
 * such threshold on ties), normalised between the null detector and a perfect one. `labelledWindowCount` is
 * the number of windows in the label file (the perfect detector catches them all). O(n log n).
 */
export function scoreCorpus(
  files: readonly ScoredFile[],
  profile: NabProfile,
  labelledWindowCount = files.reduce((sum, file) => sum + file.windows.length, 0),
): CorpusScore {
  const swept = files.map((file) => sweepFile(file, profile));
  return summarise(bestTally(sweepThresholds(swept, profile)), swept, profile, labelledWindowCount);
}

/** Scores a corpus at a given threshold (a row is a detection when its score ≥ threshold). O(n log n). */
export function scoreCorpusAtThreshold(
  files: readonly ScoredFile[],
  profile: NabProfile,
  threshold: number,
  labelledWindowCount = files.reduce((sum, file) => sum + file.windows.length, 0),
): CorpusScore {
  const swept = files.map((file) => sweepFile(file, profile));
  const tallies = sweepThresholds(swept, profile);
  let chosen = tallies[0] ?? {
    threshold: detectNothingThreshold,
    raw: 0,
    truePositives: 0,
    falsePositives: 0,
  };
  for (const tally of tallies) if (tally.threshold >= threshold) chosen = tally;
  return summarise({ ...chosen, threshold }, swept, profile, labelledWindowCount);
}

function summarise(
  tally: ThresholdTally,
  swept: readonly SweptFile[],
  profile: NabProfile,
  labelledWindowCount: number,
): CorpusScore {
  const counted = swept.reduce((sum, file) => sum + file.countedWindows, 0);
  // The official runner takes the null detector's own score (windows wholly in probation do not count) and
  // a perfect score of every labelled window.
  const nullScore = nullAndPerfectScores(counted, profile)[0];
  const perfectScore = nullAndPerfectScores(labelledWindowCount, profile)[1];
  return {
    threshold: tally.threshold,
    raw: tally.raw,
    normalized: perfectScore === nullScore ? 0 : (100 * (tally.raw - nullScore)) / (perfectScore - nullScore),
    truePositives: tally.truePositives,
    falsePositives: tally.falsePositives,
    falseNegatives: counted - tally.truePositives,
  };
}
