import {
  type BandEngine,
  type LearnedKind,
  type LearnedTraits,
  type Seasonality,
  seasonalities,
} from '../bands/engine.ts';
import type { MetricType } from '../metrics/point.ts';

const learnedKinds: readonly LearnedKind[] = ['gauge', 'count', 'ratio', 'percent', 'latency'];

/**
 * What a band engine reports it learned about a series (`BandEngine.describe`); the band job passes
 * `learnedTraits(engine)` as `SeriesProgress.learned`, the stores keep it, and `GET /v1/series` shows it.
 * Engines without `describe` report nothing, and the API shows null. A report outside the known kinds and
 * seasonalities (an engine's state restored from elsewhere, a plug-in's mistake) is dropped, not stored.
 */
export function learnedTraits(engine: Pick<BandEngine, 'describe'>): LearnedTraits | undefined {
  const report = engine.describe?.();
  if (report === undefined) return undefined;
  const kind = learnedKinds.includes(report.kind as LearnedKind) ? report.kind : null;
  const seasonality = (seasonalities as readonly unknown[]).includes(report.seasonality)
    ? (report.seasonality as Seasonality)
    : null;
  return { kind, seasonality };
}

/**
 * The kind of a series as listings show it: a StatsD counter counts and a timer times, whatever their values;
 * a gauge is what its engine says it learned (a ratio, say), or a plain gauge when it cannot tell.
 *
 * @example seriesKind('timer', { kind: 'ratio', seasonality: null }) // 'latency'
 * @example seriesKind('gauge', { kind: 'ratio', seasonality: 'daily' }) // 'ratio'
 * @example seriesKind('gauge', undefined) // 'gauge'
 */
export function seriesKind(type: MetricType, learned: LearnedTraits | undefined): LearnedKind {
  if (type === 'counter') return 'count';
  if (type === 'timer') return 'latency';
  return learned?.kind ?? 'gauge';
}
