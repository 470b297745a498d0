import type { BandEngineFactory, BandSettings } from '../../lib/bands/engine.ts';
import { type NabProfileName, nabProfiles } from './profiles.ts';
import { type CorpusScore, type NabWindow, scoreCorpusProfiles, windowRowRanges } from './scorer.ts';

/**
 * Running a band engine over NAB series, causally, one row at a time, and turning its output into NAB
 * results. Pure: the CLI reads and writes the files.
 */

/** What the engine said about every row of one series. */
export interface EngineRun {
  readonly scores: Float64Array;
  /** 1 where the engine's default alerting decision fired. */
  readonly alerts: Uint8Array;
}

/**
 * Feeds a series to a fresh engine, row by row, and keeps its score and alert per row. O(n) engine updates.
 *
 * @example runEngine(defaultEngine, [0, 300_000], [1, 2]).scores.length // 2
 */
export function runEngine(
  factory: BandEngineFactory,
  timestamps: readonly number[],
  values: readonly number[],
  settings?: Partial<BandSettings>,
): EngineRun {
  const engine = factory.create(settings);
  const scores = new Float64Array(timestamps.length);
  const alerts = new Uint8Array(timestamps.length);
  for (let i = 0; i < timestamps.length; i++) {
    const result = engine.update(timestamps[i] ?? 0, values[i] ?? 0);
    scores[i] = result.score;
    alerts[i] = result.anomaly ? 1 : 0;
  }
  return { scores, alerts };
}

/** 1 for every row inside a labelled window, else 0. O(n). */
export function windowLabels(timestamps: readonly number[], windows: readonly NabWindow[]): Uint8Array {
  const labels = new Uint8Array(timestamps.length);
  for (const [left, right] of windowRowRanges(timestamps, windows)) labels.fill(1, left, right + 1);
  return labels;
}

/** The rows of a NAB result file: `timestamp,value,anomaly_score,label,alert`. O(n). */
export function resultCsv(
  timestampTexts: readonly string[],
  values: readonly number[],
  run: EngineRun,
  labels: Uint8Array,
): string {
  const lines = ['timestamp,value,anomaly_score,label,alert'];
  for (let i = 0; i < timestampTexts.length; i++) {
    lines.push(
      `${timestampTexts[i] ?? ''},${values[i] ?? ''},${run.scores[i] ?? 0},${labels[i] ?? 0},${run.alerts[i] ?? 0}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** One series with a detector's scores, ready for the scorer. */
export interface ScoredSeries {
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly scores: ArrayLike<number>;
  readonly windows: readonly NabWindow[];
}

/** The corpus score in every profile, each at its own optimised threshold. O(n log n). */
export function scoreAllProfiles(
  series: readonly ScoredSeries[],
  labelledWindowCount: number,
): Record<NabProfileName, CorpusScore> {
  const files = series.map((one) => ({ ...one, scores: Array.from(one.scores) }));
  return scoreCorpusProfiles(files, nabProfiles, labelledWindowCount);
}
