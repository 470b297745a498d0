import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../lib/metrics/point.ts';
import { seriesHash } from '../../lib/metrics/series-hash.ts';
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
 * with a factory that returns fresh, empty stores (one adapter may serve both ports, as the cloud's do).
 */
export function metricStoreContract(
  name: string,
  makeStores: () => Promise<{ readonly metrics: MetricStore; readonly bands: BandStore }>,
): void {
  describe(`MetricStore and BandStore contract: ${name}`, () => {
    it('reads back the points of one series in [from, to), in time order, across days', async () => {
      const { metrics } = await makeStores();
      await metrics.writePoints([
        point(seriesA, base + dayMs + 60_000, 3),
        point(seriesA, base, 1),
        point(seriesA, base + 60_000, 2),
        point(seriesB, base, 100),
        point(seriesA, base + 2 * dayMs, 4),
      ]);
      expect(await metrics.readPoints(seriesA, base, base + 2 * dayMs)).toEqual([
        { timestamp: base, value: 1 },
        { timestamp: base + 60_000, value: 2 },
        { timestamp: base + dayMs + 60_000, value: 3 },
      ]);
      expect(await metrics.readPoints(seriesA, base + 60_000, base + 60_001)).toEqual([
        { timestamp: base + 60_000, value: 2 },
      ]);
      expect(await metrics.readPoints(seriesB, base - dayMs, base + dayMs)).toEqual([
        { timestamp: base, value: 100 },
      ]);
    });

    it('keeps the last value written for a series and timestamp (a retried write is harmless)', async () => {
      const { metrics } = await makeStores();
      await metrics.writePoints([point(seriesA, base, 1)]);
      await metrics.writePoints([point(seriesA, base, 1)]);
      await metrics.writePoints([point(seriesA, base, 7)]);
      expect(await metrics.readPoints(seriesA, base, base + 1)).toEqual([{ timestamp: base, value: 7 }]);
    });

    it('knows the earliest timestamp of a series, even when older points arrive later', async () => {
      const { metrics } = await makeStores();
      expect(await metrics.earliestTimestamp(seriesA)).toBeUndefined();
      await metrics.writePoints([point(seriesA, base + dayMs, 1)]);
      expect(await metrics.earliestTimestamp(seriesA)).toBe(base + dayMs);
      await metrics.writePoints([point(seriesA, base - 3 * dayMs, 1), point(seriesA, base + 5 * dayMs, 1)]);
      expect(await metrics.earliestTimestamp(seriesA)).toBe(base - 3 * dayMs);
    });

    it('stores many points in one call (more than one batch of the underlying API)', async () => {
      const { metrics } = await makeStores();
      const many = Array.from({ length: 260 }, (_, i) => point(seriesA, base + i * 60_000, i));
      await metrics.writePoints(many);
      const read = await metrics.readPoints(seriesA, base, base + dayMs);
      expect(read).toHaveLength(260);
      expect(read.at(-1)).toEqual({ timestamp: base + 259 * 60_000, value: 259 });
    });

    it('reads back bands and lists anomalies of every series newest first, up to a limit', async () => {
      const { bands } = await makeStores();
      await bands.writeBands(seriesA, [
        band(base, 10),
        band(base + 60_000, 50, true),
        band(base + dayMs, 60, true),
      ]);
      await bands.writeBands(seriesB, [band(base + 120_000, 70, true)]);
      expect(await bands.readBands(seriesA, base, base + 120_000)).toEqual([
        band(base, 10),
        band(base + 60_000, 50, true),
      ]);
      const anomalies = await bands.listAnomalies(base, base + 2 * dayMs, 10);
      expect(anomalies.map((a) => [a.seriesId, a.timestamp])).toEqual([
        [seriesA, base + dayMs],
        [seriesB, base + 120_000],
        [seriesA, base + 60_000],
      ]);
      expect(anomalies[0]).toEqual({ ...band(base + dayMs, 60, true), seriesId: seriesA });
      expect(await bands.listAnomalies(base, base + 2 * dayMs, 2)).toHaveLength(2);
      expect(await bands.listAnomalies(base + 2 * dayMs, base + 3 * dayMs, 10)).toEqual([]);
    });

    it("reads every series' points of a recent time range at once, each series in time order", async () => {
      const { metrics } = await makeStores();
      // Recent points: stores may keep a log of the last minutes only for this read.
      const start = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
      await metrics.writePoints([
        point(seriesA, start + 60_000, 2),
        point(seriesB, start + 30_000, 7),
        point(seriesA, start, 1),
      ]);
      await metrics.writePoints([point(seriesA, start + 120_000, 3), point(seriesB, start + 180_000, 8)]);
      const recent = await metrics.readRecentPoints(start, start + 180_000);
      expect(Object.fromEntries(recent)).toEqual({
        [seriesA]: [
          { timestamp: start, value: 1 },
          { timestamp: start + 60_000, value: 2 },
          { timestamp: start + 120_000, value: 3 },
        ],
        [seriesB]: [{ timestamp: start + 30_000, value: 7 }],
      });
      expect(await metrics.readRecentPoints(start + 240_000, start + 300_000)).toEqual(new Map());
    });

    it('reads, given a selection of series by hash, exactly those series of the whole recent read', async () => {
      const { metrics } = await makeStores();
      const start = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
      const ids = Array.from({ length: 48 }, (_, index) => `series-${index}`);
      await metrics.writePoints(
        ids.flatMap((id, index) => [
          point(id, start + index * 1000, index),
          point(id, start + 60_000, -index),
        ]),
      );
      const whole = await metrics.readRecentPoints(start, start + 120_000);
      expect(whole.size).toBe(ids.length);
      // A fan-out worker's two shards of 8, and a selection no store can partition by.
      for (const selection of [
        { modulus: 8, residues: [1, 6] },
        { modulus: 5, residues: [0] },
      ]) {
        const wanted = (id: string) => selection.residues.includes(seriesHash(id) % selection.modulus);
        const expected = new Map([...whole].filter(([id]) => wanted(id)));
        expect(expected.size).toBeGreaterThan(0);
        expect(expected.size).toBeLessThan(ids.length);
        expect(await metrics.readRecentPoints(start, start + 120_000, selection)).toEqual(expected);
      }
      expect(await metrics.readRecentPoints(start, start + 120_000, { modulus: 8, residues: [] })).toEqual(
        new Map(),
      );
    });

    it('writes bands of many series at once', async () => {
      const { bands } = await makeStores();
      await bands.writeManyBands([
        { ...band(base, 10), seriesId: seriesA },
        { ...band(base, 20, true), seriesId: seriesB },
        { ...band(base + 60_000, 11), seriesId: seriesA },
      ]);
      expect(await bands.readBands(seriesA, base, base + dayMs)).toEqual([
        band(base, 10),
        band(base + 60_000, 11),
      ]);
      expect(await bands.readBands(seriesB, base, base + dayMs)).toEqual([band(base, 20, true)]);
      expect((await bands.listAnomalies(base, base + dayMs, 10)).map((a) => a.seriesId)).toEqual([seriesB]);
    });

    it('overwrites a band when the band job reprocesses a bucket', async () => {
      const { bands } = await makeStores();
      await bands.writeBands(seriesA, [band(base, 50, true)]);
      await bands.writeBands(seriesA, [band(base, 50, false)]);
      expect(await bands.readBands(seriesA, base, base + 1)).toEqual([band(base, 50, false)]);
      expect(await bands.listAnomalies(base, base + 1, 10)).toEqual([]);
    });
  });
}
