import type { SeriesState, SeriesStateStore, SeriesSummary } from '../ports.ts';

/** How many shards the band job's state is split into by default (about 600 series each at 10,000 series). */
export const defaultStateShards = 16;

/** FNV-1a of a series id: spreads ids of any form evenly over the shards. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const shardName = (index: number, shardCount: number): string =>
  `${shardCount}-${String(index).padStart(3, '0')}`;

/** The name of the shard holding a series: the shard count is part of it, so a new count starts new shards. */
export const shardOf = (id: string, shardCount: number): string =>
  shardName(hashOf(id) % shardCount, shardCount);

const namesByCount = new Map<number, readonly string[]>();

/** The names of all shards of a count, in order. */
export function shardNames(shardCount: number): readonly string[] {
  let names = namesByCount.get(shardCount);
  if (!names) {
    names = Array.from({ length: shardCount }, (_, index) => shardName(index, shardCount));
    namesByCount.set(shardCount, names);
  }
  return names;
}

interface CachedShard {
  readonly version: string | undefined;
  readonly states: ReadonlyMap<string, SeriesState>;
}

/** What refreshing the cache cost: shards read in full, and shards found unchanged since the last run. */
export interface RefreshSummary {
  readonly loaded: number;
  readonly unchanged: number;
}

/** What saving a run cost: shards written, and shards another run had written first (this run's work dropped). */
export interface SaveSummary {
  readonly saved: number;
  readonly conflicts: readonly string[];
}

/**
 * The band job's state in memory, kept across runs of a warm container: each run checks every shard's
 * version (a cheap request when unchanged), works on its own copy of the shards it changes, and saves each
 * changed shard with the version it read. A shard another run saved meanwhile is dropped from memory (this
 * run's work on it gives way) and read afresh next run.
 */
export class StateCache {
  private readonly shards = new Map<string, CachedShard>();
  /** When the last run in this container read recent points (undefined in a cold container). */
  lastReadAt: number | undefined;

  constructor(
    private readonly store: SeriesStateStore,
    readonly shardCount: number,
  ) {}

  /** Every shard's name. */
  shardNames(): readonly string[] {
    return shardNames(this.shardCount);
  }

  /** Brings every shard up to date with the store and starts a run on it. */
  async begin(): Promise<{ run: StateRun; refresh: RefreshSummary }> {
    let loaded = 0;
    let unchanged = 0;
    await Promise.all(
      this.shardNames().map(async (name) => {
        const cached = this.shards.get(name);
        const found = await this.store.loadShard(name, cached?.version);
        if (found === 'unchanged') {
          unchanged += 1;
          return;
        }
        loaded += found === undefined ? 0 : 1;
        this.shards.set(name, {
          version: found?.version,
          states: new Map((found?.states ?? []).map((state) => [state.id, state])),
        });
      }),
    );
    return { run: new StateRun(this, new Map(this.shards)), refresh: { loaded, unchanged } };
  }

  /** Saves a run's changed shards (a few at once) and keeps those saved as the cache's current state. */
  async commit(run: StateRun, changed: ReadonlyMap<string, Map<string, SeriesState>>): Promise<SaveSummary> {
    const conflicts: string[] = [];
    let saved = 0;
    const entries = [...changed.entries()];
    let next = 0;
    const worker = async () => {
      for (let entry = entries[next++]; entry; entry = entries[next++]) {
        const [name, states] = entry;
        const base = run.baseVersion(name);
        const version = await this.store.saveShard(name, [...states.values()], base);
        if (version === 'conflict') {
          conflicts.push(name);
          this.shards.delete(name);
        } else {
          saved += 1;
          this.shards.set(name, { version, states });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, entries.length) }, worker));
    return { saved, conflicts: conflicts.sort() };
  }
}

/** One run's view of the state: reads see the run's own changes; nothing is stored until the cache commits. */
export class StateRun {
  private readonly changed = new Map<string, Map<string, SeriesState>>();

  constructor(
    private readonly cache: StateCache,
    private readonly base: ReadonlyMap<string, CachedShard>,
  ) {}

  baseVersion(shard: string): string | undefined {
    return this.base.get(shard)?.version;
  }

  get(id: string): SeriesState | undefined {
    const shard = shardOf(id, this.cache.shardCount);
    return (this.changed.get(shard) ?? this.base.get(shard)?.states)?.get(id);
  }

  set(state: SeriesState): void {
    const shard = shardOf(state.id, this.cache.shardCount);
    let states = this.changed.get(shard);
    if (!states) {
      // Copy on first write: the cache keeps the shard as it was until the save succeeds.
      states = new Map(this.base.get(shard)?.states);
      this.changed.set(shard, states);
    }
    states.set(state.id, state);
  }

  /** Every series' state, the run's changes included. */
  *all(): Generator<SeriesState> {
    for (const name of this.cache.shardNames()) {
      const states = this.changed.get(name) ?? this.base.get(name)?.states;
      if (states) yield* states.values();
    }
  }

  /** The shard a series' state lives in. */
  shardOf(id: string): string {
    return shardOf(id, this.cache.shardCount);
  }

  /** Saves the shards this run changed. */
  commit(): Promise<SaveSummary> {
    return this.cache.commit(this, this.changed);
  }
}

/** What listings need of a state. */
export const summaryOf = (state: SeriesState): SeriesSummary => ({
  id: state.id,
  lastTimestamp: state.lastTimestamp,
  lastValue: state.lastValue,
  stepMs: state.stepMs,
  anomalous: state.anomalous,
  kind: state.kind,
  seasonality: state.seasonality,
});
