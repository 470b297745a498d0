import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import type { BandStore, StoredBand } from '../../lib/ports/band-store.ts';
import type { MetricStore } from '../../lib/ports/metric-store.ts';
import { dayMs } from '../../lib/time.ts';

const base = Date.parse('2026-03-01T00:00:00Z');
const seriesA = 'aaaaaaaaaaaaaaaa';
const seriesB = 'bbbbbbbbbbbbbbbb';

const point = (seriesId: string, timestamp: number, value: number): SeriesPoint => ({
  seriesId,
  name: seriesId === seriesA ? 'shop.requests' : 'shop.errors',
  type: 'gauge',
  value,
  timestamp,
  dimensions: { host: 'web-1' },
});

const band = (timestamp: number, value: number, anomaly = false): StoredBand => ({
  timestamp,
  value,
  expected: 10,
  lower: 5,
  upper: 15,
  score: anomaly ? 0.9 : 0.1,
  anomaly,
});

/**
 * What every metric and band store promises, whatever it is built on. Each adapter's test file calls this
 * with a factory that returns a fresh, empty store.
 */
export function metricStoreContract(name: string, makeStore: () => Promise<MetricStore & BandStore>): void {
  describe(`MetricStore and BandStore contract: ${name}`, () => {
    it('reads back the points of one series in [from, to), in time order, across days', async () => {
      const store = await makeStore();
      await store.writePoints([
        point(seriesA, base + dayMs + 60_000, 3),
        point(seriesA, base, 1),
        point(seriesA, base + 60_000, 2),
        point(seriesB, base, 100),
        point(seriesA, base + 2 * dayMs, 4),
      ]);
      expect(await store.readPoints(seriesA, base, base + 2 * dayMs)).toEqual([
        { timestamp: base, value: 1 },
        { timestamp: base + 60_000, value: 2 },
        { timestamp: base + dayMs + 60_000, value: 3 },
      ]);
      expect(await store.readPoints(seriesA, base + 60_000, base + 60_001)).toEqual([
        { timestamp: base + 60_000, value: 2 },
      ]);
      expect(await store.readPoints(seriesB, base - dayMs, base + dayMs)).toEqual([
        { timestamp: base, value: 100 },
      ]);
    });

    it('keeps the last value written for a series and timestamp (a retried write is harmless)', async () => {
      const store = await makeStore();
      await store.writePoints([point(seriesA, base, 1)]);
      await store.writePoints([point(seriesA, base, 1)]);
      await store.writePoints([point(seriesA, base, 7)]);
      expect(await store.readPoints(seriesA, base, base + 1)).toEqual([{ timestamp: base, value: 7 }]);
    });

    it('knows the earliest timestamp of a series, even when older points arrive later', async () => {
      const store = await makeStore();
      expect(await store.earliestTimestamp(seriesA)).toBeUndefined();
      await store.writePoints([point(seriesA, base + dayMs, 1)]);
      expect(await store.earliestTimestamp(seriesA)).toBe(base + dayMs);
      await store.writePoints([point(seriesA, base - 3 * dayMs, 1), point(seriesA, base + 5 * dayMs, 1)]);
      expect(await store.earliestTimestamp(seriesA)).toBe(base - 3 * dayMs);
    });

    it('stores many points in one call (more than one batch of the underlying API)', async () => {
      const store = await makeStore();
      const many = Array.from({ length: 260 }, (_, i) => point(seriesA, base + i * 60_000, i));
      await store.writePoints(many);
      const read = await store.readPoints(seriesA, base, base + dayMs);
      expect(read).toHaveLength(260);
      expect(read.at(-1)).toEqual({ timestamp: base + 259 * 60_000, value: 259 });
    });

    it('reads back bands and lists anomalies of every series newest first, up to a limit', async () => {
      const store = await makeStore();
      await store.writeBands(seriesA, [
        band(base, 10),
        band(base + 60_000, 50, true),
        band(base + dayMs, 60, true),
      ]);
      await store.writeBands(seriesB, [band(base + 120_000, 70, true)]);
      expect(await store.readBands(seriesA, base, base + 120_000)).toEqual([
        band(base, 10),
        band(base + 60_000, 50, true),
      ]);
      const anomalies = await store.listAnomalies(base, base + 2 * dayMs, 10);
      expect(anomalies.map((a) => [a.seriesId, a.timestamp])).toEqual([
        [seriesA, base + dayMs],
        [seriesB, base + 120_000],
        [seriesA, base + 60_000],
      ]);
      expect(anomalies[0]).toEqual({ ...band(base + dayMs, 60, true), seriesId: seriesA });
      expect(await store.listAnomalies(base, base + 2 * dayMs, 2)).toHaveLength(2);
      expect(await store.listAnomalies(base + 2 * dayMs, base + 3 * dayMs, 10)).toEqual([]);
    });

    it("reads every series' points of a recent time range at once, each series in time order", async () => {
      const store = await makeStore();
      // Recent points: stores may keep a log of the last minutes only for this read.
      const start = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
      await store.writePoints([
        point(seriesA, start + 60_000, 2),
        point(seriesB, start + 30_000, 7),
        point(seriesA, start, 1),
      ]);
      await store.writePoints([point(seriesA, start + 120_000, 3), point(seriesB, start + 180_000, 8)]);
      const recent = await store.readRecentPoints(start, start + 180_000);
      expect(Object.fromEntries(recent)).toEqual({
        [seriesA]: [
          { timestamp: start, value: 1 },
          { timestamp: start + 60_000, value: 2 },
          { timestamp: start + 120_000, value: 3 },
        ],
        [seriesB]: [{ timestamp: start + 30_000, value: 7 }],
      });
      expect(await store.readRecentPoints(start + 240_000, start + 300_000)).toEqual(new Map());
    });

    it('writes bands of many series at once', async () => {
      const store = await makeStore();
      await store.writeManyBands([
        { ...band(base, 10), seriesId: seriesA },
        { ...band(base, 20, true), seriesId: seriesB },
        { ...band(base + 60_000, 11), seriesId: seriesA },
      ]);
      expect(await store.readBands(seriesA, base, base + dayMs)).toEqual([
        band(base, 10),
        band(base + 60_000, 11),
      ]);
      expect(await store.readBands(seriesB, base, base + dayMs)).toEqual([band(base, 20, true)]);
      expect((await store.listAnomalies(base, base + dayMs, 10)).map((a) => a.seriesId)).toEqual([seriesB]);
    });

    it('overwrites a band when the band job reprocesses a bucket', async () => {
      const store = await makeStore();
      await store.writeBands(seriesA, [band(base, 50, true)]);
      await store.writeBands(seriesA, [band(base, 50, false)]);
      expect(await store.readBands(seriesA, base, base + 1)).toEqual([band(base, 50, false)]);
      expect(await store.listAnomalies(base, base + 1, 10)).toEqual([]);
    });
  });
}
