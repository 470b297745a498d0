import type { MetricType } from '../metrics/point.ts';
import type { LearnedKind, LearnedTraits, Seasonality } from '../ports.ts';
import { seasonalities } from '../ports.ts';

const learnedKinds: readonly LearnedKind[] = ['gauge', 'count', 'ratio', 'percent', 'latency'];

/**
 * The hook through which a band engine reports what it learned about a series. An engine that can tell
 * implements `describe(): { kind, seasonality }`; the band job passes `learnedTraits(engine)` as
 * `SeriesProgress.learned`, the stores keep it, and `GET /v1/series` shows it. Engines without `describe`
 * (the skeleton's) report nothing, and the API shows null. Invalid reports are dropped, not stored.
 */
export function learnedTraits(engine: unknown): LearnedTraits | undefined {
  const describe = (engine as { describe?: unknown } | null)?.describe;
  if (typeof describe !== 'function') return undefined;
  const report = describe.call(engine) as { kind?: unknown; seasonality?: unknown } | undefined;
  const kind = learnedKinds.includes(report?.kind as LearnedKind) ? (report?.kind as LearnedKind) : null;
  const seasonality = (seasonalities as readonly unknown[]).includes(report?.seasonality)
    ? (report?.seasonality as Seasonality)
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
