import { describe, expect, it } from 'vitest';
import { emptyMonitor } from '../../lib/alerts/model.ts';
import type { SeriesState, SeriesStateStore } from '../../lib/ports/series-state-store.ts';
import type { SeriesSummary, SeriesSummaryStore } from '../../lib/ports/series-summary-store.ts';

const state = (id: string, processedUntil: number): SeriesState => ({
  id,
  name: `metric.${id.slice(0, 4)}`,
  type: 'gauge',
  dimensions: { host: 'web-1' },
  stepMs: 60_000,
  processedUntil,
  engineState: { engine: 'test/1', profile: 'AAAAPw==' },
  anomalous: false,
  monitor: { ...emptyMonitor(id), evaluatedUntil: processedUntil },
  lastTimestamp: processedUntil - 1,
  lastValue: 42.5,
  kind: 'gauge',
  seasonality: null,
});

const summary = (id: string, anomalous: boolean): SeriesSummary => ({
  id,
  lastTimestamp: 1_000,
  lastValue: anomalous ? 99 : null,
  stepMs: 300_000,
  anomalous,
  kind: anomalous ? 'latency' : null,
  seasonality: anomalous ? 'daily' : null,
});

/** What every store of the band job's state shards and listing summaries promises. */
export function stateStoreContract(
  name: string,
  makeStore: () => Promise<SeriesStateStore & SeriesSummaryStore>,
): void {
  describe(`SeriesStateStore and SeriesSummaryStore contract: ${name}`, () => {
    it('saves a shard whole and loads it back, unchanged while its version is the one known', async () => {
      const store = await makeStore();
      expect(await store.loadShard('16-003')).toBeUndefined();
      const states = [state('aaaaaaaaaaaaaaaa', 60_000), state('bbbbbbbbbbbbbbbb', 120_000)];
      const version = await store.saveShard('16-003', states, undefined);
      expect(version).not.toBe('conflict');
      expect(await store.loadShard('16-003')).toEqual({ version, states });
      expect(await store.loadShard('16-003', version)).toBe('unchanged');
      expect(await store.loadShard('16-004')).toBeUndefined();
    });

    it('refuses a save from a run that read an older version, or that thought the shard new', async () => {
      const store = await makeStore();
      const first = await store.saveShard('16-000', [state('aaaaaaaaaaaaaaaa', 60_000)], undefined);
      expect(await store.saveShard('16-000', [state('aaaaaaaaaaaaaaaa', 0)], undefined)).toBe('conflict');
      if (first === 'conflict') throw new Error('the first save of a shard cannot conflict');
      const second = await store.saveShard('16-000', [state('aaaaaaaaaaaaaaaa', 120_000)], first);
      expect(second).not.toBe('conflict');
      expect(await store.saveShard('16-000', [state('aaaaaaaaaaaaaaaa', 180_000)], first)).toBe('conflict');
      const loaded = await store.loadShard('16-000', first);
      expect(loaded === 'unchanged' ? undefined : loaded?.states[0]?.processedUntil).toBe(120_000);
    });

    it('records the shard layout, saved only over the version read', async () => {
      const store = await makeStore();
      expect(await store.loadLayout()).toBeUndefined();
      const first = await store.saveLayout({ shardCount: 64 }, undefined);
      if (first === 'conflict') throw new Error('the first layout cannot conflict');
      expect(await store.saveLayout({ shardCount: 32 }, undefined)).toBe('conflict');
      expect(await store.loadLayout()).toEqual({ version: first, layout: { shardCount: 64 } });
      const second = await store.saveLayout({ shardCount: 128, retiring: 64 }, first);
      expect(second).not.toBe('conflict');
      expect(await store.saveLayout({ shardCount: 16 }, first)).toBe('conflict');
      expect(await store.loadLayout()).toEqual({
        version: second,
        layout: { shardCount: 128, retiring: 64 },
      });
      // Apart from the summaries, and from every shard (shard names start with their count).
      expect(await store.loadSummaries()).toBeUndefined();
      expect(await store.loadShard('128-000')).toBeUndefined();
    });

    it('keeps the latest summaries, unchanged while their version is the one known', async () => {
      const store = await makeStore();
      expect(await store.loadSummaries()).toBeUndefined();
      await store.saveSummaries([summary('aaaaaaaaaaaaaaaa', true), summary('bbbbbbbbbbbbbbbb', false)]);
      const first = await store.loadSummaries();
      if (first === undefined || first === 'unchanged') throw new Error('summaries were saved');
      expect(Object.fromEntries(first.summaries)).toEqual({
        aaaaaaaaaaaaaaaa: summary('aaaaaaaaaaaaaaaa', true),
        bbbbbbbbbbbbbbbb: summary('bbbbbbbbbbbbbbbb', false),
      });
      expect(await store.loadSummaries(first.version)).toBe('unchanged');
      await store.saveSummaries([summary('bbbbbbbbbbbbbbbb', true)]);
      const second = await store.loadSummaries(first.version);
      if (second === undefined || second === 'unchanged') throw new Error('summaries were saved again');
      expect([...second.summaries.keys()]).toEqual(['bbbbbbbbbbbbbbbb']);
    });
  });
}
