import { describe, expect, it } from 'vitest';
import { baselineEngines } from '../../lib/backtest/baseline-engines.ts';
import { hourMs, weekMs } from '../../lib/time.ts';

describe('Function: hour-of-week median baseline', () => {
  it('judges an hour only once it has come round before, by the median ± 4 scaled MADs of its values', () => {
    const engine = baselineEngines['hour-of-week-median'].create();
    // Week 0, the same hour: 10, 12, 14 (median 12, MAD 2, scaled 2.9652, so the band is 12 ± 11.8608).
    for (const [minute, value] of [
      [0, 10],
      [20, 12],
      [40, 14],
    ] as const) {
      expect(engine.update(minute * 60_000, value).anomaly).toBe(false);
    }
    // Another hour of the same week is not judged either (nothing seen at that hour yet).
    expect(engine.update(5 * hourMs, 1_000).anomaly).toBe(false);
    const inside = engine.update(weekMs, 23.8);
    expect(inside).toMatchObject({ expected: 12, anomaly: false });
    expect(inside.upper).toBeCloseTo(23.8608, 4);
    // Now 10, 12, 14, 23.8: median 13, MAD 2, band 13 ± 11.8608; the state carries them over.
    const restored = baselineEngines['hour-of-week-median'].restore(engine.toState());
    expect(restored.update(weekMs + 10 * 60_000, 60).anomaly).toBe(true);
  });
});

describe('Function: static line baseline', () => {
  it('is silent for two weeks, then flags what passes the first two weeks 99.9th percentile', () => {
    const engine = baselineEngines['static-line'].create();
    // 1,000 values 1..1000 in the first two weeks: the 99.9th percentile is the 1,000th, 1000.
    for (let i = 0; i < 1_000; i++) {
      expect(engine.update((i * 2 * weekMs) / 1_000, 1 + i).anomaly).toBe(false);
    }
    expect(engine.update(2 * weekMs, 1_000)).toMatchObject({ upper: 1_000, anomaly: false });
    expect(engine.update(2 * weekMs + hourMs, 1_000.5).anomaly).toBe(true);
  });
});
