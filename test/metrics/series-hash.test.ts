import { describe, expect, it } from 'vitest';
import { logBucket, logBucketsOfSelection } from '../../lib/adapters/dynamodb-packing.ts';
import { shardBatches } from '../../lib/jobs/band-fanout.ts';
import { fanoutShardOrder, shardNames, shardOf, shardSelection } from '../../lib/jobs/state-shards.ts';
import { partitionsOfSelection, selectsSeries, seriesHash } from '../../lib/metrics/series-hash.ts';

const ids = Array.from({ length: 2_000 }, (_, index) => `series-${index.toString(36)}`);

describe('seriesHash: the one FNV-1a of state shards and log buckets', () => {
  it('is FNV-1a of 32 bits (the published test values)', () => {
    expect(seriesHash('')).toBe(0x811c9dc5);
    expect(seriesHash('a')).toBe(0xe40c292c);
    expect(seriesHash('foobar')).toBe(0xbf9cf968);
  });

  it('puts a series in the shard and the log bucket of its hash', () => {
    for (const id of ids.slice(0, 100)) {
      expect(shardOf(id, 256)).toBe(shardNames(256)[seriesHash(id) % 256]);
      expect(logBucket(id)).toBe((seriesHash(id) % 24) + 1);
    }
  });
});

describe('series selections', () => {
  it('select the series whose hash modulo the modulus is a residue', () => {
    const selected = selectsSeries({ modulus: 16, residues: [3, 5] });
    expect(ids.filter(selected)).toEqual(ids.filter((id) => [3, 5].includes(seriesHash(id) % 16)));
  });

  it('refuse a modulus or residue that selects nothing sensible, saying which', () => {
    expect(() => selectsSeries({ modulus: 0, residues: [] })).toThrow(
      'modulus must be a positive integer, not 0',
    );
    expect(() => selectsSeries({ modulus: 8, residues: [8] })).toThrow('an integer in [0, 8), not 8');
  });

  it('name the partitions of another count that can hold their series', () => {
    expect(partitionsOfSelection({ modulus: 64, residues: [3] }, 24)).toEqual([3, 11, 19]);
    expect(partitionsOfSelection({ modulus: 12, residues: [1, 2] }, 24)).toEqual([1, 2, 13, 14]);
    expect(partitionsOfSelection({ modulus: 5, residues: [0] }, 24)).toHaveLength(24);
    // Every selected series is in one of them.
    for (const modulus of [8, 12, 16, 256]) {
      const selection = { modulus, residues: [1, modulus - 1] };
      const buckets = new Set(logBucketsOfSelection(selection));
      for (const id of ids.filter(selectsSeries(selection))) expect(buckets.has(logBucket(id))).toBe(true);
    }
  });
});

describe('fanoutShardOrder: the fan-out lists shards so that consecutive ones share log buckets', () => {
  it('lists every shard once, grouped by index modulo 8', () => {
    expect(fanoutShardOrder(16)).toEqual(
      [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15].map((index) => shardNames(16)[index]),
    );
    for (const count of [1, 3, 8, 12, 64, 256]) {
      expect([...fanoutShardOrder(count)].sort()).toEqual([...shardNames(count)]);
    }
  });

  it('gives batches of 4 shards of 256 (and 2 of 64) 3 log buckets of the 24 each, not 12 (or 6)', () => {
    const bucketsOf = (batch: readonly string[], count: number) =>
      logBucketsOfSelection(shardSelection(batch, count)).length;
    for (const batch of shardBatches(fanoutShardOrder(256), 4)) expect(bucketsOf(batch, 256)).toBe(3);
    for (const batch of shardBatches(fanoutShardOrder(64), 2)) expect(bucketsOf(batch, 64)).toBe(3);
    expect(bucketsOf(shardNames(256).slice(0, 4), 256)).toBe(12);
  });

  it('selects, for a batch, exactly the series of its shards', () => {
    const batch = shardBatches(fanoutShardOrder(64), 4)[5] ?? [];
    const selected = selectsSeries(shardSelection(batch, 64));
    expect(ids.filter(selected)).toEqual(ids.filter((id) => batch.includes(shardOf(id, 64))));
    expect(shardSelection(['64-003', '32-001'], 64)).toEqual({ modulus: 64, residues: [3] });
  });
});
