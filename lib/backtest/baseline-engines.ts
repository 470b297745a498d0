import type { BandEngine, BandEngineFactory, BandResult, EngineState } from '../bands/engine.ts';
import { median, scaledMad } from '../bands/robust-statistics.ts';
import { hourMs, weekMs } from '../time.ts';

/**
 * The two naive detectors the scenarios' README calibrates its scoring with, as band engines so that the
 * backtest runs them through the same server, band job and default alert rule as the product's engine. They
 * are yardsticks, never shipped: the band job uses lib/bands' default engine.
 */

/** Deviations (scaled MADs) from the hour-of-week median that the naive band allows. */
const hourOfWeekBandMads = 4;
/** The static line is the first two weeks' 99.9th percentile. */
const staticLineLearningMs = 2 * weekMs;
const staticLineQuantile = 0.999;

interface HourOfWeekState extends EngineState {
  /** Per hour of the week (0 = Thursday 00:00 UTC, the epoch's weekday): the week it was first seen, its values. */
  slots: Record<string, { firstWeek: number; values: number[] }>;
}

/**
 * "A naive causal hour-of-week median ± 4 MAD band": the median of every earlier value at the same hour of
 * the week, ± 4 scaled MADs of them; nothing is flagged before that hour has come round once before.
 * O(n log n) per update in the hour's values.
 */
class HourOfWeekMedianEngine implements BandEngine {
  constructor(private readonly state: HourOfWeekState) {}

  update(timestamp: number, value: number): BandResult {
    const week = Math.floor(timestamp / weekMs);
    const hour = String(Math.floor((timestamp - week * weekMs) / hourMs));
    const slot = this.state.slots[hour] ?? { firstWeek: week, values: [] };
    this.state.slots[hour] = slot;
    const result =
      slot.firstWeek === week || slot.values.length === 0
        ? unjudged(timestamp, value)
        : judged(timestamp, value, slot.values);
    slot.values.push(value);
    return result;
  }

  toState(): EngineState {
    return this.state;
  }
}

interface StaticLineState extends EngineState {
  firstTimestamp: number | null;
  /** The first two weeks' values, until the line is drawn. */
  learning: number[];
  line: number | null;
}

/**
 * "A static line at the first two weeks' 99.9th percentile": silent for two weeks, then flags every value
 * above that line. O(1) per update (O(n log n) once, when the line is drawn).
 */
class StaticLineEngine implements BandEngine {
  constructor(private readonly state: StaticLineState) {}

  update(timestamp: number, value: number): BandResult {
    const { state } = this;
    state.firstTimestamp ??= timestamp;
    if (state.line === null && timestamp - state.firstTimestamp >= staticLineLearningMs) {
      const sorted = [...state.learning].sort((a, b) => a - b);
      state.line =
        sorted[Math.min(sorted.length - 1, Math.floor(staticLineQuantile * sorted.length))] ?? value;
      state.learning = [];
    }
    if (state.line === null) {
      state.learning.push(value);
      return unjudged(timestamp, value);
    }
    const anomaly = value > state.line;
    return {
      timestamp,
      value,
      expected: state.line,
      lower: Math.min(value, state.line),
      upper: state.line,
      score: anomaly ? 1 : 0,
      anomaly,
    };
  }

  toState(): EngineState {
    return this.state;
  }
}

const hourOfWeekName = 'backtest-hour-of-week-median/1';
/** What a baseline says while it has nothing to judge by: a band of the value itself, never an anomaly. */
function unjudged(timestamp: number, value: number): BandResult {
  return { timestamp, value, expected: value, lower: value, upper: value, score: 0, anomaly: false };
}

/** The hour-of-week median's verdict on a value against the earlier values of its hour. */
function judged(timestamp: number, value: number, reference: readonly number[]): BandResult {
  const expected = median(reference);
  const halfWidth = hourOfWeekBandMads * scaledMad(reference, expected);
  const lower = expected - halfWidth;
  const upper = expected + halfWidth;
  const anomaly = value > upper || value < lower;
  return { timestamp, value, expected, lower, upper, score: anomaly ? 1 : 0, anomaly };
}

const staticLineName = 'backtest-static-line/1';

/** The README's calibration baselines, by the name `npm run backtest -- --engine` takes. */
export const baselineEngines = {
  'hour-of-week-median': {
    name: hourOfWeekName,
    create: () => new HourOfWeekMedianEngine({ engine: hourOfWeekName, slots: {} }),
    restore: (state) =>
      state?.engine === hourOfWeekName
        ? new HourOfWeekMedianEngine(structuredClone(state) as HourOfWeekState)
        : new HourOfWeekMedianEngine({ engine: hourOfWeekName, slots: {} }),
  },
  'static-line': {
    name: staticLineName,
    create: () =>
      new StaticLineEngine({ engine: staticLineName, firstTimestamp: null, learning: [], line: null }),
    restore: (state) =>
      state?.engine === staticLineName
        ? new StaticLineEngine(structuredClone(state) as StaticLineState)
        : new StaticLineEngine({ engine: staticLineName, firstTimestamp: null, learning: [], line: null }),
  },
} as const satisfies Record<string, BandEngineFactory>;
