import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BandEngineFactory, BandResult, BandSettings } from '../../lib/bands/engine.ts';
import { isSoundResult } from '../../lib/bands/finite.ts';
import {
  detectorEngine,
  normalcyEngine,
  rollingZScoreEngine,
  seasonalMedianEngine,
} from '../../lib/bands/index.ts';

const engines: readonly BandEngineFactory[] = [
  normalcyEngine,
  detectorEngine,
  rollingZScoreEngine,
  seasonalMedianEngine,
];

/** Finite values an agent may send, weighted toward the ones that break arithmetic. */
const hostileValue = fc.oneof(
  fc.constantFrom(1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 0, -0, 1e-308, 1e154),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1000, max: 1000 }),
);

const settings = fc.record({
  kind: fc.constantFrom('auto', 'gauge', 'count', 'ratio', 'percent', 'latency'),
  direction: fc.constantFrom('above', 'below', 'both'),
  sensitivity: fc.double({ min: 0, max: 1, noNaN: true }),
  minHistoryMs: fc.constantFrom(0, 3_600_000),
}) as fc.Arbitrary<Partial<BandSettings>>;

/** Bucket gaps: regular minutes mostly, with repeats of the same time and long silences. */
const gap = fc.oneof(fc.constant(60_000), fc.constant(0), fc.integer({ min: 1, max: 40 * 86_400_000 }));

/** A normal stretch after the hostile one, so that what follows the extremes is judged too. */
const calm = Array.from({ length: 30 }, (_, index) => 100 + (index % 7));

/**
 * Whether a restored engine said the same: exactly for the engines that store every number as they keep it;
 * for normalcy (which stores noise units as float32, and profiles to 1/32,768 of their range, which the values
 * seen bound) the same flags, and numbers within that: a few thousandths of their size or the band's width
 * (on the log scale of counts and latencies an error in the profile is a share of the value), plus 1/32,768
 * of the largest magnitude seen.
 */
function expectSame(restored: BandResult, result: BandResult, lossless: boolean, largest: number): void {
  if (lossless) {
    expect(JSON.stringify(restored)).toBe(JSON.stringify(result));
    return;
  }
  const flags = (r: BandResult) => [
    r.timestamp,
    r.value,
    r.anomaly,
    r.extreme,
    r.news,
    r.reason,
    r.relearned,
  ];
  expect(flags(restored)).toEqual(flags(result));
  const width = result.upper - result.lower;
  for (const field of ['expected', 'lower', 'upper', 'score'] as const) {
    const tolerance = 5e-3 * Math.max(1, Math.abs(result[field]), width) + largest / 32_768;
    expect(Math.abs(restored[field] - result[field]), field).toBeLessThanOrEqual(tolerance);
  }
}

describe('Band engines under extreme and adversarial values', () => {
  for (const factory of engines) {
    it(`${factory.name}: every result is finite and ordered, and a JSON round trip changes nothing`, () => {
      const lossless = factory !== normalcyEngine;
      fc.assert(
        fc.property(
          settings,
          fc.array(fc.tuple(gap, hostileValue), { minLength: 1, maxLength: 60 }),
          (chosen, hostile) => {
            const engine = factory.create(chosen);
            let time = Date.UTC(2026, 0, 5);
            const feed = [...hostile, ...calm.map((value) => [60_000, value] as const)];
            let largest = 0;
            for (const [index, [step, value]] of feed.entries()) {
              largest = Math.max(largest, Math.min(Math.abs(value), 1e30));
              time += index === 0 ? 0 : Math.max(step, 1);
              const copy = factory.restore(JSON.parse(JSON.stringify(engine.toState())), chosen);
              const result = engine.update(time, value);
              if (!isSoundResult(result)) {
                throw new Error(`unsound result at ${index}: ${JSON.stringify(result)}`);
              }
              expect(result.value).toBe(value);
              expectSame(copy.update(time, value), result, lossless, largest);
            }
          },
        ),
        {
          numRuns: 200,
          examples: [
            // Found by a run (seed -451884903): two remembered runs of equal size in float32 on opposite
            // sides, which the engine in memory told apart by their float64 sizes and the restored one could
            // not. An episode's size is now rounded as the state stores it.
            [
              { kind: 'auto', direction: 'above', sensitivity: 0, minHistoryMs: 0 },
              [
                [0, -1.7976931348623157e308],
                [1485064655, -1e308],
                [0, 0],
                [60000, 0],
                [60000, 1],
                [0, 0],
                [60000, -9.999999996721418e29],
                [60000, 0],
              ],
            ],
          ],
        },
      );
    });
  }

  it('the five points that stopped every band job get a finite band, and the series recovers', () => {
    const engine = normalcyEngine.create();
    const start = Date.UTC(2026, 0, 5);
    const hostile = [1e308, -1e308, 1e308, -1e308, 1e308];
    for (const [index, value] of hostile.entries()) {
      expect(isSoundResult(engine.update(start + index * 60_000, value))).toBe(true);
    }
    const after = engine.update(start + 5 * 60_000, 5);
    expect(isSoundResult(after)).toBe(true);
  });
});
