/**
 * What a change of the state shard count costs the run that re-shards (lib/jobs/reshard.ts):
 * `npx tsx bench/reshard.ts [SERIES]` (default 20,000) moves SERIES states (each with an engine state of the real
 * engine after 2,000 buckets) from 64 shards to 128 and back, with the S3 adapter against the fake S3, and
 * prints each move's wall time, S3 requests and the process's peak RSS.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3StateStore } from '../lib/adapters/s3-state-store.ts';
import { defaultEngine } from '../lib/bands/index.ts';
import { reshardState } from '../lib/jobs/reshard.ts';
import { shardNames, shardOf } from '../lib/jobs/state-shards.ts';
import type { SeriesState } from '../lib/ports/series-state-store.ts';
import { FakeS3 } from '../scripts/dev/fake-s3.ts';

const seriesCount = Number(process.argv[2] ?? 20_000);
const start = Date.UTC(2026, 2, 10);
const engine = defaultEngine.create({ kind: 'auto' });
for (let bucket = 0; bucket < 2_000; bucket++)
  engine.update(start + bucket * 60_000, 100 + ((bucket * 13) % 31));
const engineState = engine.toState();
const states: SeriesState[] = Array.from({ length: seriesCount }, (_, index) => ({
  id: `series-${index}`,
  name: 'shop.requests',
  type: 'gauge',
  dimensions: { host: `web-${index}` },
  stepMs: 60_000,
  processedUntil: start + 2_000 * 60_000,
  engineState,
  anomalous: false,
  monitor: undefined,
  lastTimestamp: start + 2_000 * 60_000 - 1,
  lastValue: 100,
  kind: 'gauge',
  seasonality: null,
}));

const s3 = new FakeS3();
/** A new store each time: a new process, which knows no shard body yet. */
const storeOfNewProcess = () =>
  new S3StateStore({ bucket: 'reshard', client: new S3Client({ region: 'eu-west-1' }) });
const seeded = storeOfNewProcess();
for (const name of shardNames(64)) {
  await seeded.saveShard(
    name,
    states.filter((state) => shardOf(state.id, 64) === name),
    undefined,
  );
}
await seeded.saveLayout({ shardCount: 64 }, undefined);

for (const to of [128, 64]) {
  s3.clearRequests();
  const began = performance.now();
  const moved = await reshardState(storeOfNewProcess(), to);
  console.log(
    JSON.stringify({
      ...moved,
      seconds: Number(((performance.now() - began) / 1000).toFixed(2)),
      gets: s3.gets.length,
      puts: s3.puts.length,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
s3.restore();
