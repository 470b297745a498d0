import type Database from 'better-sqlite3';
import type { AnomalyRecord, BandStore, SeriesBand, StoredBand } from '../ports/band-store.ts';

/** A row of the `bands` table (read by the query store too). */
export interface BandRow {
  series_id: string;
  ts: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  score: number;
  anomaly: number;
}

/**
 * Local mode's bands (the `bands` table of the shared database, see sqlite-database.ts). A batch is written in
 * one transaction: stored whole or not at all.
 */
export class SqliteBandStore implements BandStore {
  constructor(private readonly database: Database.Database) {}

  async writeBands(seriesId: string, bands: readonly StoredBand[]): Promise<void> {
    await this.writeManyBands(bands.map((band) => ({ ...band, seriesId })));
  }

  async writeManyBands(bands: readonly SeriesBand[]): Promise<void> {
    const insert = this.database.prepare(`
      INSERT INTO bands (series_id, ts, value, expected, lower, upper, score, anomaly)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET value = excluded.value, expected = excluded.expected, lower = excluded.lower,
        upper = excluded.upper, score = excluded.score, anomaly = excluded.anomaly`);
    this.database.transaction(() => {
      for (const band of bands) {
        insert.run(
          band.seriesId,
          band.timestamp,
          band.value,
          band.expected,
          band.lower,
          band.upper,
          band.score,
          band.anomaly ? 1 : 0,
        );
      }
    })();
  }

  async readBands(seriesId: string, from: number, to: number): Promise<StoredBand[]> {
    return this.database
      .prepare<[string, number, number], BandRow>(
        'SELECT * FROM bands WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts',
      )
      .all(seriesId, from, to)
      .map(toBand);
  }

  async listAnomalies(from: number, to: number, limit: number): Promise<AnomalyRecord[]> {
    return this.database
      .prepare<[number, number, number], BandRow>(
        'SELECT * FROM bands WHERE anomaly = 1 AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT ?',
      )
      .all(from, to, limit)
      .map(toAnomaly);
  }
}

export const toBand = (row: BandRow): StoredBand => ({
  timestamp: row.ts,
  value: row.value,
  expected: row.expected,
  lower: row.lower,
  upper: row.upper,
  score: row.score,
  anomaly: row.anomaly === 1,
});

export const toAnomaly = (row: BandRow): AnomalyRecord => ({ seriesId: row.series_id, ...toBand(row) });
