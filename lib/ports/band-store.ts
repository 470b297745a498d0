import type { BandResult } from '../bands/engine.ts';

/**
 * The band store port: the band engine's verdict on each bucket, and the anomalies among them.
 */
/**
 * The band engine's verdict on one bucket, as stored: the fields of the engine's result that every store keeps
 * (why a bucket was news, and the engine's other remarks, are not kept).
 */
export type StoredBand = Pick<
  BandResult,
  'timestamp' | 'value' | 'expected' | 'lower' | 'upper' | 'score' | 'anomaly'
>;

export interface AnomalyRecord extends StoredBand {
  readonly seriesId: string;
}

/** A band of some series (bulk writes). */
export type SeriesBand = AnomalyRecord;

export interface BandStore {
  writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void>;
  /** Bands of many series in one go: the band job's one bulk write per run (batched by the store). */
  writeManyBands(bands: readonly SeriesBand[]): Promise<void>;
  /** Bands with `from <= timestamp < to`, in time order. */
  readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]>;
  /** Anomalous buckets of every series with `from <= timestamp < to`, newest first, at most `limit`. */
  listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]>;
}
