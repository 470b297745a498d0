import { gunzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { S3StateStore } from '../../lib/adapters/s3-state-store.ts';
import { openSqliteStores, type SqliteStores } from '../../lib/adapters/sqlite-stores.ts';
import type { SeriesState, StateShardSnapshot } from '../../lib/ports/series-state-store.ts';
import { FakeS3 } from '../../scripts/dev/fake-s3.ts';
import { stateStoreContract } from './state-store.contract.ts';

const opened: SqliteStores[] = [];
const s3 = new FakeS3();
afterAll(() => {
  for (const store of opened) store.close();
  s3.restore();
});

stateStoreContract('SQLite', async () => {
  const stores = openSqliteStores(':memory:');
  opened.push(stores);
  return stores.states;
});

let buckets = 0;
const s3Store = (bucket = `state-${++buckets}`) =>
  new S3StateStore({ bucket, client: new S3Client({ region: 'eu-west-1' }) });

stateStoreContract('S3 (aws-sdk-client-mock)', async () => s3Store());

describe('S3StateStore requests', () => {
  it('writes a shard as one gzip object, conditional on absence, then on the ETag read; reads it conditionally', async () => {
    s3.clearRequests();
    const store = s3Store('requests');
    const first = await store.saveShard('16-007', [], undefined);
    await store.saveShard('16-007', [], first === 'conflict' ? undefined : first);
    await store.loadShard('16-007', 'stale');
    expect(s3.puts.map(({ Body, ...input }) => input)).toEqual([
      {
        Bucket: 'requests',
        Key: 'state/shards/16-007.json.gz',
        ContentType: 'application/gzip',
        IfNoneMatch: '*',
      },
      {
        Bucket: 'requests',
        Key: 'state/shards/16-007.json.gz',
        ContentType: 'application/gzip',
        IfMatch: first,
      },
    ]);
    expect(gunzipSync(s3.puts[0]?.Body as Uint8Array).toString()).toBe('[]');
    expect(s3.gets).toEqual([
      { Bucket: 'requests', Key: 'state/shards/16-007.json.gz', IfNoneMatch: 'stale' },
    ]);
  });

  it('keeps shard bodies for revalidation within its byte budget, the same shards from run to run', async () => {
    const state = (id: string) => ({ id, padding: 'x'.repeat(100) }) as unknown as SeriesState;
    const writer = s3Store('kept');
    for (const shard of ['16-001', '16-002', '16-003'])
      await writer.saveShard(shard, [state(shard)], undefined);
    const size = s3.body('kept/state/shards/16-001.json.gz')?.length ?? 0;
    // Room for two bodies: the first two shards read are kept, the third is not (nor does it push one out).
    const store = new S3StateStore({
      bucket: 'kept',
      client: new S3Client({ region: 'eu-west-1' }),
      keptBytes: 2 * size + 10,
    });
    const versions: Record<string, string> = {};
    for (const shard of ['16-001', '16-002', '16-003']) {
      const loaded = await store.loadShard(shard);
      if (loaded && loaded !== 'unchanged') versions[shard] = loaded.version;
    }
    await store.saveShard('16-001', [state('16-001')], versions['16-001']);
    s3.clearRequests();
    for (const shard of ['16-001', '16-002', '16-003']) {
      expect((await store.loadShard(shard)) as StateShardSnapshot).toMatchObject({ states: [state(shard)] });
    }
    expect(s3.gets.map((get) => get.IfNoneMatch !== undefined)).toEqual([true, true, false]);
  });

  it('fails loudly on an object that is not gzip (something else under its key)', async () => {
    const store = s3Store('denied');
    s3.objects.set('denied/state/shards/16-001.json.gz', { body: new Uint8Array([1, 2, 3]), etag: '"x"' });
    await expect(store.loadShard('16-001')).rejects.toThrow(/incorrect header check/);
  });
});
