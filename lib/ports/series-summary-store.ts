/**
 * The series summary store port: what listings show of each series beside its catalog entry, written once
 * per band job run.
 */
import type { LearnedKind, Seasonality } from '../bands/engine.ts';
import type { SeriesFault } from './series-store.ts';

/** What listings show of a series beside its catalog entry, as the band job last saw it. */
export interface SeriesSummary {
  readonly id: string;
  readonly lastTimestamp: number;
  readonly lastValue: number | null;
  readonly stepMs: number;
  readonly anomalous: boolean;
  readonly kind: LearnedKind | null;
  readonly seasonality: Seasonality | null;
  /** Set while the series is kept aside by the band job. */
  readonly fault?: SeriesFault;
}

export interface SeriesSummariesSnapshot {
  readonly version: string;
  readonly summaries: ReadonlyMap<string, SeriesSummary>;
}

/** Every series' summary in one document, written by the band job once per run, read by listings. */
export interface SeriesSummaryStore {
  /** The summaries; 'unchanged' when still at `knownVersion`; undefined before the first save. */
  loadSummaries(knownVersion?: string): Promise<SeriesSummariesSnapshot | 'unchanged' | undefined>;
  saveSummaries(summaries: readonly SeriesSummary[]): Promise<void>;
}
