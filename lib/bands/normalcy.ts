/**
 * The Normalcy engine (`normalcy/7`): two parts, kept apart because they answer two questions.
 *
 * - The band (lib/bands/band.ts): what is normal for this series at this time of day and week, and whether a
 *   bucket is outside it (`expected`, `lower`, `upper`, `anomaly`, `extreme`, `relearned`). It is what alerts
 *   and charts follow: every bucket outside it is an anomaly, and it does not chase incidents.
 * - The detector (lib/bands/detector.ts, the engine of normalcy/5): how surprising a bucket is as news, one
 *   score per incident (`score`, `news`, `reason`). It is what NAB's scoring reads, and what says a bucket starts
 *   something new.
 *
 * Each part sees every bucket; the state is both parts' states. A normalcy/6 or normalcy/5 state is upgraded in
 * place: the detector keeps what it learned, the band starts afresh (the band job learns it again from the stored
 * history when the engine changes).
 */
import { SeasonalBand, type StoredBand } from './band.ts';
import { detectorEngine } from './detector.ts';
import {
  type BandEngine,
  type BandEngineFactory,
  type BandResult,
  type BandSettings,
  defaultBandSettings,
  type EngineState,
  type LearnedTraits,
} from './engine.ts';
import { beyondEngineLimit, withinEngineLimit } from './finite.ts';
import { clampToBounds, kindBounds } from './metric-kind.ts';

const engineName = 'normalcy/7';
/** The version before: its detector is this one's, its band's state has another layout (learned again). */
const previousEngineName = 'normalcy/6';

interface StoredNormalcy extends EngineState {
  readonly detector: EngineState;
  readonly band: StoredBand;
}

class NormalcyEngine implements BandEngine {
  constructor(
    private readonly settings: BandSettings,
    private readonly detector: BandEngine,
    private readonly band: SeasonalBand,
  ) {}

  update(timestamp: number, value: number, taughtNormal = false): BandResult {
    const verdict = this.detector.update(timestamp, value);
    if (!Number.isFinite(value) || !Number.isFinite(timestamp)) return verdict;
    const reading = this.band.update(
      timestamp,
      beyondEngineLimit(value) ? withinEngineLimit(value) : value,
      taughtNormal,
    );
    const bounds = kindBounds(this.settings.kind, this.band.smallestSeen());
    const expected = clampToBounds(reading.expected, bounds);
    const result: { -readonly [K in keyof BandResult]: BandResult[K] } = {
      timestamp,
      value,
      expected,
      lower: Math.min(expected, clampToBounds(reading.lower, bounds)),
      upper: Math.max(expected, clampToBounds(reading.upper, bounds)),
      score: verdict.score,
      anomaly: reading.anomaly,
    };
    if (reading.extreme) result.extreme = true;
    if (verdict.anomaly) {
      result.news = true;
      if (verdict.reason) result.reason = verdict.reason;
    }
    if (reading.stuck) result.reason = 'stuck';
    if (reading.relearned) result.relearned = true;
    return result;
  }

  /** What was learned: the kind the detector tells from the values, the seasonality the band uses. */
  describe(): LearnedTraits {
    return { kind: this.detector.describe?.().kind ?? null, seasonality: this.band.seasonality() };
  }

  toState(): StoredNormalcy {
    return { engine: engineName, detector: this.detector.toState(), band: this.band.toState() };
  }
}

const settingsOf = (settings?: Partial<BandSettings>): BandSettings => ({
  ...defaultBandSettings,
  ...settings,
});

/** The Normalcy engine: the product's default. */
export const normalcyEngine: BandEngineFactory = {
  name: engineName,
  create: (settings) =>
    new NormalcyEngine(
      settingsOf(settings),
      detectorEngine.create(settings),
      new SeasonalBand(settingsOf(settings)),
    ),
  restore(state, settings) {
    if (state?.engine === engineName) {
      const stored = state as StoredNormalcy;
      return new NormalcyEngine(
        settingsOf(settings),
        detectorEngine.restore(stored.detector, settings),
        new SeasonalBand(settingsOf(settings), stored.band),
      );
    }
    // A normalcy/6 state keeps its detector's; a normalcy/5 state (or older) is the detector's own. The band
    // starts afresh.
    const detectorState = state?.engine === previousEngineName ? (state as StoredNormalcy).detector : state;
    return new NormalcyEngine(
      settingsOf(settings),
      detectorEngine.restore(detectorState, settings),
      new SeasonalBand(settingsOf(settings)),
    );
  },
};
