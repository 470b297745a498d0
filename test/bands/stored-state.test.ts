import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BandResult, EngineState } from '../../lib/bands/index.ts';
import { normalcyEngine } from '../../lib/bands/index.ts';
import { dayMs, hourMs, jobSettings, minuteMs, syntheticSeries, weekMs } from '../helpers/series.ts';
import { monday } from './band-results.ts';

/**
 * How the engine's state is stored (normalcy/9, lib/bands/packed-state.ts): small, read back as it was
 * written, and normalcy/8 and normalcy/7 states read as they are.
 */

/** A 5-minute counter with a deploy ×3 every Thursday at 04:00 for 20 minutes (the fixture's series). */
const thursdayDeploy = (t: number) => {
  const into = (t - monday) % weekMs;
  return into >= 3 * dayMs + 4 * hourMs && into < 3 * dayMs + 4 * hourMs + 20 * minuteMs;
};
const counter = syntheticSeries({
  type: 'counter',
  stepMs: 5 * minuteMs,
  from: monday,
  to: monday + 3 * weekMs + 4 * dayMs,
  seed: 7,
  change: (t) => (thursdayDeploy(t) ? 3 : 1),
});
const cut = monday + 3 * weekMs + 3 * dayMs;
const before = counter.filter(([t]) => t < cut);
const after = counter.filter(([t]) => t >= cut);

const asStored = (state: EngineState): EngineState => JSON.parse(JSON.stringify(state));
const bandOf = (result: BandResult) => [result.expected, result.lower, result.upper, result.score];

/** The allowed difference from what an earlier engine said: `was`, with the band's width. */
type Tolerance = (was: number, width: number) => number;

describe.each([
  {
    version: 'normalcy/7',
    // Written by normalcy/7 (commit 436f7b0). To float32 precision: what it kept in float32 it read back so.
    tolerance: ((was) => 1e-6 * Math.max(1, Math.abs(was))) as Tolerance,
  },
  {
    version: 'normalcy/8',
    // Written by normalcy/8 (commit 7954bec); the running count starts at zero. What it said came from the
    // engine before it was stored: to what the state keeps.
    tolerance: ((_, width) => 1e-3 * width) as Tolerance,
  },
])('Engine: a $version state', ({ version, tolerance }) => {
  // Written after the first three weeks and three days of the series above, with what that engine said of the
  // next day's buckets.
  const fixture = JSON.parse(
    readFileSync(new URL(`./fixtures/${version.replace('/', '-')}-state.json`, import.meta.url), 'utf8'),
  ) as { state: EngineState; next: number[][] };

  it('is read as it is: the next day says what it said, the weekly deploy inside the band', () => {
    expect(fixture.state.engine).toBe(version);
    const engine = normalcyEngine.restore(fixture.state, jobSettings.counter);
    const results = after.map(([t, v]) => engine.update(t, v));
    expect(results).toHaveLength(fixture.next.length);
    results.forEach((result, index) => {
      const [expected = 0, lower = 0, upper = 0, score = 0, anomaly = 0] = fixture.next[index] ?? [];
      const at = new Date(result.timestamp).toISOString();
      expect(result.anomaly, at).toBe(anomaly === 1);
      for (const [value, was] of [
        [result.expected, expected],
        [result.lower, lower],
        [result.upper, upper],
        [result.score, score],
      ] as const) {
        expect(Math.abs(value - was), at).toBeLessThanOrEqual(tolerance(was, upper - lower));
      }
    });
    expect(engine.toState().engine).toBe('normalcy/9');
  });
});

describe('Engine: the normalcy/9 state', () => {
  const trained = () => {
    const engine = normalcyEngine.create(jobSettings.counter);
    for (const [t, v] of before) engine.update(t, v);
    return engine;
  };

  it('restores an engine that says what the one that wrote it says, the deploy inside the band', () => {
    const original = trained();
    const restored = normalcyEngine.restore(asStored(original.toState()), jobSettings.counter);
    for (const [t, v] of after) {
      const want = original.update(t, v);
      const got = restored.update(t, v);
      const at = new Date(t).toISOString();
      expect(got.anomaly, at).toBe(want.anomaly);
      expect(got.news ?? false, at).toBe(want.news ?? false);
      // The profiles are kept to 1/32,768 of their range: far inside the band's width.
      const width = want.upper - want.lower;
      bandOf(got).forEach((value, index) => {
        expect(Math.abs(value - (bandOf(want)[index] ?? 0)), at).toBeLessThanOrEqual(1e-3 * width);
      });
    }
  });

  it('reads back exactly what it wrote: stored again without an update, it is the same string', () => {
    const state = trained().toState();
    const again = normalcyEngine.restore(asStored(state), jobSettings.counter).toState();
    expect(again).toEqual(state);
  });

  it('is at most 4 KB for two weeks of one-minute data with a daily cycle and a full memory of events', () => {
    const engine = normalcyEngine.create(jobSettings.gauge);
    const minutes = syntheticSeries({
      type: 'gauge',
      stepMs: minuteMs,
      from: monday,
      to: monday + 2 * weekMs,
      seed: 3,
      // A short spike every 6 hours: the band remembers its last 16 such runs as possible weekly events.
      change: (t) => ((t - monday) % (6 * hourMs) < 3 * minuteMs ? 2 : 1),
    });
    for (const [t, v] of minutes) engine.update(t, v);
    const stored = JSON.stringify(engine.toState());
    expect(stored.length).toBeLessThanOrEqual(4096);
  });

  it.each([
    ['cut short', (text: string) => text.slice(0, 400)],
    [
      'with bytes after it',
      (text: string) => Buffer.concat([Buffer.from(text, 'base64'), Buffer.alloc(3)]).toString('base64'),
    ],
    ['not base64 of a state', () => 'AAAA'],
    ['not a string', () => 42],
  ])('starts afresh when %s, as a fresh engine would', (_, damage) => {
    const state = trained().toState() as EngineState & { state: string };
    const damaged = { ...state, state: damage(state.state) } as EngineState;
    const engine = normalcyEngine.restore(damaged, jobSettings.counter);
    const fresh = normalcyEngine.create(jobSettings.counter);
    const [t = 0, v = 0] = after[0] ?? [];
    expect(engine.update(t, v)).toEqual(fresh.update(t, v));
  });
});
