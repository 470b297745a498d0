import { describe, expect, it } from 'vitest';
import type { KeyStore } from '../../lib/ports/key-store.ts';
import type { SeriesProgress, SeriesStore, SeriesTouch } from '../../lib/ports/series-store.ts';

const base = Date.parse('2026-03-01T00:00:00Z');
const touch = (
  id: string,
  minTimestamp: number,
  maxTimestamp = minTimestamp,
  backfill = false,
): SeriesTouch => ({
  id,
  name: `metric.${id.slice(0, 4)}`,
  type: 'gauge',
  dimensions: { host: 'web-1', region: 'eu' },
  minTimestamp,
  maxTimestamp,
  backfill,
});
const progress = (processedUntil: number, anomalous = false): SeriesProgress => ({
  stepMs: 60_000,
  processedUntil,
  engineState: { engine: 'test/1', buckets: [1, 2, 3] },
  anomalous,
});
const seriesA = 'aaaaaaaaaaaaaaaa';
const seriesB = 'bbbbbbbbbbbbbbbb';

/** What every series catalog and key store promises (one adapter may serve both ports, as DynamoDB's does). */
export function seriesStoreContract(
  name: string,
  makeStores: () => Promise<{ readonly series: SeriesStore; readonly keys: KeyStore }>,
): void {
  describe(`SeriesStore and KeyStore contract: ${name}`, () => {
    it('records new series once and lists them by name', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesB, base, base + 60_000), touch(seriesA, base)]);
      await series.recordSeries([touch(seriesB, base - 60_000)]);
      const list = await series.listSeries();
      expect(list.map((s) => [s.id, s.lastTimestamp])).toEqual([
        [seriesA, base],
        [seriesB, base + 60_000],
      ]);
      expect(await series.getSeries(seriesA)).toEqual({
        id: seriesA,
        name: 'metric.aaaa',
        type: 'gauge',
        dimensions: { host: 'web-1', region: 'eu' },
        lastTimestamp: base,
        stepMs: null,
        anomalous: false,
        kind: null,
        seasonality: null,
      });
      expect(await series.getSeries('cccccccccccccccc')).toBeUndefined();
    });

    it('lists series with new data as pending until the band job has caught up with them', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesA, base), touch(seriesB, base)]);
      const pending = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      expect(pending.map((p) => p.series.id).sort()).toEqual([seriesA, seriesB]);
      const a = pending.find((p) => p.series.id === seriesA);
      expect(a?.progress).toBeUndefined();
      await series.saveProgress(seriesA, progress(base + 60_000, true), a?.version ?? 0, true);
      const after = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      expect(after.map((p) => p.series.id)).toEqual([seriesB]);
      expect(await series.getSeries(seriesA)).toMatchObject({ stepMs: 60_000, anomalous: true });
    });

    it('keeps a series pending when a backfill arrived while the job ran, with the saved progress', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesA, base)]);
      const [seen] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      await series.recordSeries([touch(seriesA, base + 60_000, base + 60_000, true)]);
      await series.saveProgress(seriesA, progress(base + 60_000), seen?.version ?? 0, true);
      const [again] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      expect(again?.series.id).toBe(seriesA);
      expect(again?.progress).toEqual(progress(base + 60_000));
      expect(again?.version).toBeGreaterThan(seen?.version ?? 0);
    });

    it('marks a known series pending again only for a backfill, and settles it at the version seen', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesA, base)]);
      const [seen] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      await series.settlePending(seriesA, seen?.version ?? 0);
      await series.recordSeries([touch(seriesA, base + 60_000)]);
      expect(await series.pendingSeries(10, Number.MAX_SAFE_INTEGER)).toEqual([]);
      await series.recordSeries([touch(seriesA, base - 86_400_000, base - 86_400_000, true)]);
      const [marked] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      expect(marked?.series.id).toBe(seriesA);
      await series.recordSeries([touch(seriesA, base - 2 * 86_400_000, base - 86_400_000, true)]);
      await series.settlePending(seriesA, marked?.version ?? 0);
      expect((await series.pendingSeries(10, Number.MAX_SAFE_INTEGER)).map((p) => p.series.id)).toEqual([
        seriesA,
      ]);
    });

    it('keeps a series pending when the job saved progress without catching up', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesA, base)]);
      const [seen] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      await series.saveProgress(seriesA, progress(base), seen?.version ?? 0, false);
      expect((await series.pendingSeries(10, Number.MAX_SAFE_INTEGER)).map((p) => p.series.id)).toEqual([
        seriesA,
      ]);
    });

    it('says from which point a backfill marked a series, the oldest of them, until it is settled', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesA, base)]);
      const [created] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      await series.settlePending(seriesA, created?.version ?? 0);
      await series.recordSeries([touch(seriesA, base - 60_000, base, true)]);
      await series.recordSeries([touch(seriesA, base - 180_000, base, true)]);
      await series.recordSeries([touch(seriesA, base - 120_000, base, true)]);
      const [marked] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      expect(marked?.pendingFrom).toBe(base - 180_000);
      await series.settlePending(seriesA, marked?.version ?? 0);
      await series.recordSeries([touch(seriesA, base - 30_000, base, true)]);
      const [again] = await series.pendingSeries(10, Number.MAX_SAFE_INTEGER);
      expect(again?.pendingFrom).toBe(base - 30_000);
    });

    it('lists a series put off only once its time has come, or at once when a backfill marks it again', async () => {
      const { series } = await makeStores();
      await series.recordSeries([touch(seriesA, base), touch(seriesB, base)]);
      const pending = await series.pendingSeries(10, base);
      const a = pending.find((entry) => entry.series.id === seriesA);
      await series.deferPending(seriesA, a?.version ?? 0, base + 3_600_000);
      expect((await series.pendingSeries(10, base + 60_000)).map((p) => p.series.id)).toEqual([seriesB]);
      expect((await series.pendingSeries(10, base + 3_600_000)).map((p) => p.series.id).sort()).toEqual([
        seriesA,
        seriesB,
      ]);
      await series.recordSeries([touch(seriesA, base - 60_000, base, true)]);
      expect((await series.pendingSeries(10, base + 60_000)).map((p) => p.series.id).sort()).toEqual([
        seriesA,
        seriesB,
      ]);
    });

    it('returns at most the limit of pending series', async () => {
      const { series } = await makeStores();
      const ids = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(16));
      await series.recordSeries(ids.map((id) => touch(id, base)));
      expect(await series.pendingSeries(3, Number.MAX_SAFE_INTEGER)).toHaveLength(3);
    });

    it('stores key hashes, finds them, lists them and revokes them once', async () => {
      const { keys } = await makeStores();
      const record = { hash: 'f'.repeat(64), name: 'agents', scopes: ['ingest'] as const, createdAt: base };
      await keys.putKey({ ...record, scopes: [...record.scopes], revokedAt: null });
      expect(await keys.findKey(record.hash)).toEqual({ ...record, scopes: ['ingest'], revokedAt: null });
      expect(await keys.findKey('e'.repeat(64))).toBeUndefined();
      expect((await keys.listKeys()).map((k) => k.name)).toEqual(['agents']);
      expect(await keys.revokeKey(record.hash, base + 1)).toBe(true);
      expect(await keys.revokeKey(record.hash, base + 2)).toBe(false);
      expect((await keys.findKey(record.hash))?.revokedAt).toBe(base + 1);
    });
  });
}
