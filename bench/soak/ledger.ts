export type MetricType = 'counter' | 'gauge' | 'timer';

/** A series as a client names it: the name, its type and its dimensions. */
export interface SeriesIdentity {
  readonly name: string;
  readonly type: MetricType;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** One point a client sent. */
export interface SentPoint {
  readonly series: SeriesIdentity;
  readonly timestamp: number;
  readonly value: number;
}

/** A name and dimensions as one string (dimensions sorted), to match a series the API lists. */
export const seriesKey = (name: string, dimensions: Readonly<Record<string, string>>): string =>
  `${name}${JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;

export interface SeriesRecord {
  readonly series: SeriesIdentity;
  /** Points answered 2xx and not listed in the answer's problems, by timestamp. */
  readonly acknowledged: Map<number, number>;
  /** Points sent without a final answer (the request gave up): they may or may not be stored. */
  readonly inDoubt: Map<number, number>;
}

/**
 * Every point the clients sent, by series: acknowledged, or in doubt while its request has no final answer.
 * A series gets one value per timestamp (the generators are deterministic), so a retry or a resent backfill
 * sends the same point again and the store must keep it once.
 */
export class Ledger {
  readonly series = new Map<string, SeriesRecord>();
  acknowledgedPoints = 0;

  /** The points of a request about to be sent: in doubt until its answer. */
  sending(points: readonly SentPoint[]): void {
    for (const point of points) {
      const record = this.recordOf(point.series);
      if (!record.acknowledged.has(point.timestamp)) record.inDoubt.set(point.timestamp, point.value);
    }
  }

  /** A final answer: `accepted` are stored, `refused` are not (neither is in doubt any more). */
  settle(accepted: readonly SentPoint[], refused: readonly SentPoint[]): void {
    for (const point of accepted) {
      const record = this.recordOf(point.series);
      const known = record.acknowledged.get(point.timestamp);
      if (known !== undefined && !Object.is(known, point.value)) {
        throw new Error(
          `the soak sent ${point.series.name} at ${point.timestamp} twice with different values (${known}, ${point.value})`,
        );
      }
      if (known === undefined) {
        record.acknowledged.set(point.timestamp, point.value);
        this.acknowledgedPoints += 1;
      }
      record.inDoubt.delete(point.timestamp);
    }
    for (const point of refused) this.recordOf(point.series).inDoubt.delete(point.timestamp);
  }

  get pointsInDoubt(): number {
    let count = 0;
    for (const record of this.series.values()) count += record.inDoubt.size;
    return count;
  }

  private recordOf(series: SeriesIdentity): SeriesRecord {
    const key = seriesKey(series.name, series.dimensions);
    let record = this.series.get(key);
    if (!record) {
      record = { series, acknowledged: new Map(), inDoubt: new Map() };
      this.series.set(key, record);
    } else if (record.series.type !== series.type) {
      throw new Error(`the soak sent ${series.name} as both ${record.series.type} and ${series.type}`);
    }
    return record;
  }
}
