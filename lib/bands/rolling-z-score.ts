import {
  type BandEngine,
  type BandEngineFactory,
  type BandResult,
  type BandSettings,
  defaultBandSettings,
  type EngineState,
} from './engine.ts';
import { beyondEngineLimit, withinEngineLimit, withRealValue } from './finite.ts';
import { normalUpperTail } from './tail-surprise.ts';

/**
 * The plain baseline every benchmark compares against: the mean and standard deviation of the series so far,
 * exponentially weighted (about the last 100 buckets), and a band of ±k standard deviations (k = 3 at the
 * default sensitivity). No seasonality, no robustness. O(1) per bucket, a few numbers of state.
 */
interface RollingZScoreState extends EngineState {
  settings: BandSettings;
  points: number;
  firstTimestamp: number;
  mean: number;
  variance: number;
}

const engineName = 'rolling-z-score/1';
const rate = 0.01;

class RollingZScoreEngine implements BandEngine {
  constructor(private readonly state: RollingZScoreState) {}

  update(timestamp: number, value: number): BandResult {
    if (beyondEngineLimit(value))
      return withRealValue(this.update(timestamp, withinEngineLimit(value)), value);
    const state = this.state;
    const { settings } = state;
    if (state.points === 0) {
      state.firstTimestamp = timestamp;
      state.mean = value;
    }
    const sd = Math.sqrt(state.variance) || 1e-9;
    const width = 4.5 - 3 * settings.sensitivity;
    const z = (value - state.mean) / sd;
    const sided = settings.direction === 'above' ? z : settings.direction === 'below' ? -z : Math.abs(z);
    const surprise = -Math.log10(Math.max(normalUpperTail(sided), 1e-300));
    const edge = -Math.log10(normalUpperTail(width));
    const score = surprise / (surprise + edge);
    const result: BandResult = {
      timestamp,
      value,
      expected: state.mean,
      lower: state.mean - width * sd,
      upper: state.mean + width * sd,
      score,
      anomaly: score >= 0.5 && timestamp - state.firstTimestamp >= settings.minHistoryMs,
    };
    const difference = value - state.mean;
    state.mean += rate * difference;
    state.variance = (1 - rate) * (state.variance + rate * difference * difference);
    state.points += 1;
    return result;
  }

  toState(): EngineState {
    return { ...this.state, settings: { ...this.state.settings } };
  }
}

const freshState = (settings: Partial<BandSettings> | undefined): RollingZScoreState => ({
  engine: engineName,
  settings: { ...defaultBandSettings, ...settings },
  points: 0,
  firstTimestamp: 0,
  mean: 0,
  variance: 0,
});

/** The rolling z-score baseline engine. */
export const rollingZScoreEngine: BandEngineFactory = {
  name: engineName,
  create: (settings) => new RollingZScoreEngine(freshState(settings)),
  restore: (state, settings) =>
    new RollingZScoreEngine(
      state?.engine === engineName ? { ...(state as RollingZScoreState) } : freshState(settings),
    ),
};
