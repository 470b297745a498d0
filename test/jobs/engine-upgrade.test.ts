import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BandEngine, BandEngineFactory } from '../../lib/bands/engine.ts';
import { normalcyEngine } from '../../lib/bands/normalcy.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { hourMs, minuteMs } from '../helpers/series.ts';

/** The product's engine under another name (its states carry that name), restoring the states of `reads`. */
function renamed(
  name: string,
  reads: readonly string[] = [],
  restoresAsIs?: readonly string[],
): BandEngineFactory {
  const named = (engine: BandEngine): BandEngine =>
    new Proxy(engine, {
      get(target, property) {
        if (property === 'toState') return () => ({ ...target.toState(), engine: name });
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return {
    name,
    ...(restoresAsIs && { restoresAsIs }),
    create: (settings) => named(normalcyEngine.create(settings)),
    restore: (state, settings) =>
      named(
        normalcyEngine.restore(
          state && (state.engine === name || reads.includes(state.engine))
            ? { ...state, engine: normalcyEngine.name }
            : undefined,
          settings,
        ),
      ),
  };
}

describe('Band job: an engine upgrade', () => {
  let server: TestServer | undefined;
  // Both servers of a test share it (a test server's own directory goes when it closes).
  let dataDir = '';
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const now = Date.UTC(2026, 2, 10, 12, 0);
  let time = now;
  const points = (from: number, to: number): [number, number][] => {
    const list: [number, number][] = [];
    for (let t = from; t < to; t += minuteMs) list.push([t, 100 + (t % 7)]);
    return list;
  };

  /** Learns a series with `before`, then feeds it an hour more with `after` on the same data; its relearned count. */
  async function upgrade(before: BandEngineFactory, after: BandEngineFactory): Promise<number> {
    // The first learns up to two hours ago, the second an hour more, as time moves on.
    time = now - 2 * hourMs;
    dataDir = mkdtempSync(join(tmpdir(), 'normalcy-upgrade-'));
    server = await startTestServer({ clock: { now: () => time }, engine: before, dataDir });
    const posted = await server.postMetrics([
      { name: 'shop.requests', type: 'gauge', points: points(now - 6 * hourMs, now - 2 * hourMs) },
    ]);
    expect(posted.status).toBe(200);
    expect((await server.runBandJob()).bucketsProcessed).toBeGreaterThan(0);
    await server.close();
    time = now - hourMs + 5 * minuteMs;
    server = await startTestServer({ clock: { now: () => time }, engine: after, dataDir });
    const more = await server.postMetrics([
      { name: 'shop.requests', type: 'gauge', points: points(now - 2 * hourMs, now - hourMs) },
    ]);
    expect(more.status).toBe(200);
    const run = await server.runBandJob();
    expect(run.bucketsProcessed).toBeGreaterThan(0);
    expect(run.seriesRewound).toBe(0);
    return run.seriesRelearned;
  }

  it('learns the history again when the new engine cannot read the old one state', async () => {
    expect(await upgrade(renamed('test/1'), renamed('test/2'))).toBe(1);
  });

  it('goes on without relearning when the new engine restores the old state as it is', async () => {
    expect(await upgrade(renamed('test/1'), renamed('test/2', ['test/1'], ['test/1']))).toBe(0);
  });
});
