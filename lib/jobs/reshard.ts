/**
 * Re-sharding: when the configured number of state shards differs from the one the stored state was written
 * with (the store's layout record), the states move to the new count's shards before the band job processes
 * any, each series' state as it was (engine state, monitor, everything), none lost and none kept twice.
 *
 * Crash-safe by its order; a run that dies at any point leaves a state the next run completes:
 * 1. The new count's shards are written (conditional saves), holding every state of the old ones, while the
 *    layout record still names the old count: the old shards stay whole and the job goes on reading them. A
 *    run that dies here is started over by the next one, which overwrites what it wrote.
 * 2. The old shards are checked unchanged since they were read (no run saved one meanwhile), then the layout
 *    record switches to the new count, conditional on the version read: from then on the new shards hold the
 *    states.
 * 3. The old shards are emptied, then the record forgets them. A run that dies here leaves the old count in
 *    the record as `retiring`: the next run empties them.
 * Names differ by count ("64-007", "128-007"), so the two layouts never share an object.
 *
 * Memory: shard k of n shards and shard j of m can hold the same series only when k ≡ j (mod gcd(n, m)), so
 * the states move one such class at a time, 1/gcd(n, m) of them in memory at once: two shards' worth when the
 * count doubles or halves, all of them when the counts have no common divisor.
 *
 * Pure but for the state store port.
 */
import type { SeriesState, SeriesStateStore, StateLayout } from '../ports/series-state-store.ts';
import { shardNames, shardOf } from './state-shards.ts';

/** What a re-sharding did (the band job reports it). */
export interface Resharding {
  readonly from: number;
  readonly to: number;
  /** Series whose state moved to the new shards. */
  readonly series: number;
  /** Shards of the new count written, and of the old count emptied. */
  readonly shardsWritten: number;
  readonly shardsEmptied: number;
}

/** Another run saved a shard or the layout record while this one re-sharded: the next run starts over. */
export class ReshardConflictError extends Error {
  constructor(
    readonly what: string,
    options?: ErrorOptions,
  ) {
    super(
      `${what} was saved by another run while this one re-sharded the band job's state; ` +
        'the old layout stays in use and the next run re-shards again',
      options,
    );
    this.name = 'ReshardConflictError';
  }
}

/** What a conflict on the layout record names. */
const layoutRecord = 'the layout record';

/** The count each store was last seen laid out with in this process: later runs need no request for it. */
const settledCounts = new WeakMap<SeriesStateStore, number>();

/**
 * Makes the stored state laid out in `shardCount` shards: moves it there from the count it was written with
 * (see the module's comment), finishes a re-sharding a run left halfway, or records the layout of a store
 * that has none (one written before layouts were recorded holds the configured count's shards). Returns what
 * it moved, undefined when nothing had to move. Costs one request per process when the layout is settled.
 * Throws a store's error or a {@link ReshardConflictError}: the state then stays whole in the layout the record
 * names (the old one until the switch), and the next call takes it from there.
 */
export async function reshardState(
  store: SeriesStateStore,
  shardCount: number,
): Promise<Resharding | undefined> {
  if (settledCounts.get(store) === shardCount) return undefined;
  try {
    return await settleLayout(store, shardCount);
  } catch (error) {
    // Another run saved the layout first (two first runs both recording it): what it left is read again, once.
    if (!(error instanceof ReshardConflictError) || error.what !== layoutRecord) throw error;
    return await settleLayout(store, shardCount);
  }
}

/** One attempt of {@link reshardState}. */
async function settleLayout(store: SeriesStateStore, shardCount: number): Promise<Resharding | undefined> {
  const stored = await store.loadLayout();
  let layout: StateLayout = stored?.layout ?? { shardCount };
  let version = stored?.version;
  let moved: Awaited<ReturnType<typeof moveStates>> | undefined;
  const from = layout.shardCount;
  if (!stored || from !== shardCount) {
    if (stored) moved = await moveStates(store, from, shardCount);
    layout = stored ? { shardCount, retiring: from } : { shardCount };
    version = await saved(store.saveLayout(layout, version), layoutRecord);
  }
  let shardsEmptied = 0;
  if (layout.retiring !== undefined) {
    shardsEmptied = await emptyShards(store, layout.retiring, moved?.versionsRead);
    await saved(store.saveLayout({ shardCount }, version), layoutRecord);
  }
  settledCounts.set(store, shardCount);
  return (
    moved && { from, to: shardCount, series: moved.series, shardsWritten: moved.shardsWritten, shardsEmptied }
  );
}

/** A save's new version; throws when another run saved first. */
async function saved(saving: Promise<string | 'conflict'>, what: string): Promise<string> {
  const version = await saving;
  if (version === 'conflict') throw new ReshardConflictError(what);
  return version;
}

/**
 * Writes every state of the `from` shards into the `to` shards, class by class (see the module's comment),
 * then checks that no old shard changed meanwhile.
 */
async function moveStates(
  store: SeriesStateStore,
  from: number,
  to: number,
): Promise<{ series: number; shardsWritten: number; versionsRead: OldShards }> {
  const oldNames = shardNames(from);
  const newNames = shardNames(to);
  const classes = greatestCommonDivisor(from, to);
  const versionsRead: OldShards = new Map();
  let series = 0;
  let shardsWritten = 0;
  for (let residue = 0; residue < classes; residue++) {
    const byNewShard = new Map<string, Map<string, SeriesState>>();
    for (let index = residue; index < from; index += classes) {
      const name = oldNames[index] ?? '';
      const loaded = await store.loadShard(name);
      // No version is known to the store yet, so 'unchanged' cannot come back; treated as no shard all the same.
      const snapshot = loaded === 'unchanged' ? undefined : loaded;
      versionsRead.set(name, snapshot?.states.length ? snapshot.version : undefined);
      for (const state of snapshot?.states ?? []) {
        const target = shardOf(state.id, to);
        let states = byNewShard.get(target);
        if (!states) {
          states = new Map();
          byNewShard.set(target, states);
        }
        // One shard per series: a copy elsewhere would be a stray, the furthest along is kept.
        const other = states.get(state.id);
        if (!other) series += 1;
        if (!other || other.processedUntil < state.processedUntil) states.set(state.id, state);
      }
    }
    for (let index = residue; index < to; index += classes) {
      const name = newNames[index] ?? '';
      const states = [...(byNewShard.get(name)?.values() ?? [])];
      // What a shard of the new count holds (a run that died, an earlier layout of that count) is replaced.
      const loaded = await store.loadShard(name);
      const existing = loaded === 'unchanged' ? undefined : loaded;
      if (states.length === 0 && (existing?.states.length ?? 0) === 0) continue;
      await saved(store.saveShard(name, states, existing?.version), `state shard ${name}`);
      shardsWritten += 1;
    }
  }
  for (const [name, version] of versionsRead) {
    const now = await store.loadShard(name, version);
    const unchanged =
      version === undefined
        ? now === undefined || (now !== 'unchanged' && now.states.length === 0)
        : now === 'unchanged';
    if (!unchanged) throw new ReshardConflictError(`state shard ${name}`);
  }
  return { series, shardsWritten, versionsRead };
}

/** The version of each shard of the old count as read, undefined for one that held no state. */
type OldShards = Map<string, string | undefined>;

/**
 * Empties the shards of a count the states left (conditional saves), at the versions the move read or, when
 * another run moved the states, as they are now; returns how many it emptied.
 */
async function emptyShards(
  store: SeriesStateStore,
  shardCount: number,
  versionsRead: OldShards | undefined,
): Promise<number> {
  let emptied = 0;
  for (const name of shardNames(shardCount)) {
    let version = versionsRead?.get(name);
    if (!versionsRead) {
      const loaded = await store.loadShard(name);
      version = loaded && loaded !== 'unchanged' && loaded.states.length > 0 ? loaded.version : undefined;
    }
    if (version === undefined) continue;
    await saved(store.saveShard(name, [], version), `state shard ${name}`);
    emptied += 1;
  }
  return emptied;
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}
