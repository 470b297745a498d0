/**
 * The Normalcy engine (`normalcy/9`): two parts, kept apart because they answer two questions.
 *
 * - The band (lib/bands/band.ts): what is normal for this series at this time of day and week, and whether a
 *   bucket is outside it (`expected`, `lower`, `upper`, `anomaly`, `extreme`, `relearned`). It is what alerts
 *   and charts follow: every bucket outside it is an anomaly, and it does not chase incidents.
 * - The detector (lib/bands/detector.ts, the engine of normalcy/5): how surprising a bucket is as news, one
 *   score per incident (`score`, `news`, `reason`). It is what NAB's scoring reads, and what says a bucket starts
 *   something new.
 *
 * Each part sees every bucket; the state is both parts' states, stored as one string in the compact form of
 * packed-state.ts (about 4 KB a series, against 7.4 KB for normalcy/7's base64 of every float as it was kept).
 * normalcy/8 is normalcy/7 in that form: a normalcy/7 state is read as it is and goes on exactly where it was.
 * normalcy/9 adds the band's running count (counts judged as counts, band.ts); a normalcy/8 state is read with
 * it at zero. A normalcy/6 or normalcy/5 state is upgraded in place: the detector keeps what it learned, the band starts
 * afresh (the band job learns it again from the stored history when the engine changes).
 */

import { SeasonalBand } from './band.ts';
import { decodeBandState, readBandState, type StoredBand } from './band-state.ts';
import { detectorEngine, readDetector, writeDetector } from './detector.ts';
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
import { StateReader, StateWriter } from './packed-state.ts';

const engineName = 'normalcy/9';
/**
 * The version before: the same state without the band's running count. Read as it is (the count starts at
 * zero) but not restored as is by the band job, which learns the series' history again: the count's spread is
 * learned from days of buckets, and a band upgraded in place would assume a Poisson's until it had them.
 */
const packedEngineName = 'normalcy/8';
/** Before that: the same engine, its parts' states each stored as its own JSON (read as they are). */
const previousEngineName = 'normalcy/7';
/** The version before that: its detector is this one's, its band's state another layout (learned again). */
const olderEngineName = 'normalcy/6';

/** normalcy/8 as stored: both parts' states in one packed string. */
interface StoredNormalcy extends EngineState {
  /** The detector's state (its settings first), then the band's (packed-state.ts). */
  readonly state: string;
}

/** normalcy/7 and normalcy/6 as stored: each part's state as its own. */
interface StoredParts extends EngineState {
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
    const writer = new StateWriter();
    writeDetector(this.detector, writer);
    this.band.write(writer);
    return { engine: engineName, state: writer.toBase64() };
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
    if (state?.engine === engineName || state?.engine === packedEngineName) {
      const stored = state as StoredNormalcy;
      const before9 = state.engine === packedEngineName;
      const parts = StateReader.read(stored.state, (reader) => {
        const detector = readDetector(reader);
        const band = detector && readBandState(reader, before9);
        return band && { detector, band };
      });
      if (parts)
        return new NormalcyEngine(
          settingsOf(settings),
          parts.detector,
          new SeasonalBand(settingsOf(settings), parts.band),
        );
    }
    if (state?.engine === previousEngineName) {
      const stored = state as StoredParts;
      return new NormalcyEngine(
        settingsOf(settings),
        detectorEngine.restore(stored.detector, settings),
        new SeasonalBand(settingsOf(settings), decodeBandState(stored.band)),
      );
    }
    // A normalcy/6 state keeps its detector's; a normalcy/5 state (or older) is the detector's own. The band
    // starts afresh. So does a normalcy/9 or normalcy/8 state that is not a whole one.
    const detectorState =
      state?.engine === olderEngineName
        ? (state as StoredParts).detector
        : state?.engine === engineName || state?.engine === packedEngineName
          ? undefined
          : state;
    return new NormalcyEngine(
      settingsOf(settings),
      detectorEngine.restore(detectorState, settings),
      new SeasonalBand(settingsOf(settings)),
    );
  },
};
