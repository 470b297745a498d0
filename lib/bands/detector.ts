import { dayMs, hourMs, weekMs } from '../time.ts';
import {
  type AnomalyReason,
  type BandEngine,
  type BandEngineFactory,
  type BandResult,
  type BandSettings,
  defaultBandSettings,
  directions,
  type EngineState,
  type MetricKind,
  metricKinds,
} from './engine.ts';
import { beyondEngineLimit, withinEngineLimit, withRealValue } from './finite.ts';
import { clampToBounds, type KindBounds, kindBounds } from './metric-kind.ts';
import { type StateReader, type StateWriter, toFloat32 } from './packed-state.ts';
import { learnProfile, readProfile, slotPosition } from './seasonal-profile.ts';
import { allFinite, base64Length, decodeInto, scratchFloat64s } from './stored-bytes.ts';
import {
  deviationAtProbability,
  type ExceedanceCounts,
  ladderRungs,
  recordExceedance,
  rescaleExceedanceCounts,
  type TailReading,
  tailProbability,
} from './tail-surprise.ts';

/**
 * The detector of the Normalcy engine: normalcy/5's engine, unchanged, which lib/bands/normalcy.ts
 * (normalcy/7) runs beside the band of lib/bands/band.ts. It says how surprising each bucket is as news:
 * `score`, and `anomaly` with its `reason` (normalcy/7's `news`). O(1) per bucket, about 4 KB of JSON state
 * per series.
 *
 * It learns a fast robust level and scale, daily and half-hour-of-week profiles (used when they explain the
 * series better), and for five departures (`outside-band`, `sustained-shift`, `unusual-level`,
 * `variance-change`, `stuck`) how rare each size is for this series: surprise = −log10 of the learned tail
 * probability. A departure no larger than the series' recent precedent, or a known weekly event, is not news;
 * one beyond everything the series has shown is rarer than its tail says; an incident's surprise is held, so
 * one incident makes one alert. score = surprise / (surprise + threshold), the threshold set by the
 * sensitivity (3, one in a thousand, at 0.5). It keeps a band of its own for its departures and weekly
 * events; normalcy/7 shows band.ts's band instead.
 *
 * How and why, at length: docs/engine.md, "The detector".
 */

/** The engine's fixed constants: one place to read them, not per-series settings. */
export const detectorTuning = {
  /** Per-bucket rate of the Huber level. */
  levelRate: 0.25,
  /** Per-bucket rate of the robust scale. */
  scaleRate: 0.02,
  /** Deviations beyond this many scales are clipped before they move the level or the scale. */
  huberLimit: 3,
  /** Rate of the short moving average of deviations (the sustained-shift detector). */
  shortRate: 0.1,
  /** Rate of the slow level that seasonal profiles and the unusual-level detector are measured from. */
  slowRate: 0.003,
  /** Rate of the long deviation scale of the unusual-level detector, and its clip in scales. */
  longDeviationRate: 0.003,
  longDeviationClip: 5,
  /**
   * Rate of the long-run mean absolute deviation that floors the scales (so a flat-zero series has one), and of
   * the long-run average and spread that the short average of the deviations' size is judged by.
   */
  longRate: 0.001,
  /** Scales never fall below this fraction of the long-run mean absolute deviation. */
  scaleFloorFraction: 0.3,
  /** Per-bucket decay of the deviation counts: they remember about this many buckets. */
  tailMemoryPoints: 6000,
  /** How many buckets' worth of normal tail the learned tails start from. */
  priorWeight: 20,
  /** Power-law exponent of a tail past the largest counted deviation. */
  tailExponent: 3,
  /**
   * Half-life (ms) of the precedents: the largest departures above and below the expected value, and above and
   * below the slow level, that the series has shown. A departure no larger than its precedent is not news.
   */
  precedentHalfLifeMs: 12 * 86_400_000,
  /** A departure is news only when it passes its precedent by this many robust standard deviations. */
  precedentSlack: 0.5,
  /** Precedents are learned from this many buckets on (the first ones only set the level), warm-up included. */
  precedentFromPoints: 10,
  /**
   * A value beyond every value the series has shown (a new high or low), or further from the expected value
   * than the series has ever been on that side, once it has this much history, is `extremeSurprise` more
   * surprising (100 times less likely), when it is at least half the threshold's worth surprising on its own.
   */
  extremeHistoryMs: 7 * 86_400_000,
  extremeSurprise: 2,
  /**
   * An extreme has to pass the largest value or departure before by this many robust standard deviations: a
   * repeat that only matches it up to noise (a nightly job peaking where it did before) is not beyond it.
   */
  extremeMargin: 0.125,
  /** Surprise is capped here (p = 1e-6) so that one freak bucket cannot mute a series for long. */
  maxSurprise: 9,
  /** An incident's peak surprise is held this long after its alert (ms)... */
  incidentHoldMs: 3 * 3_600_000,
  /** ...then fades with this half-life (ms). */
  incidentHalfLifeMs: 24 * 3_600_000,
  /** During an incident, a bucket this many times as far from the expected value as its alert alerts again. */
  incidentEscalation: 10,
  /** How much of an incident's surprise a departure on the other side of the expected value must also clear. */
  /**
   * A new departure on the other side of the expected value, at least this far from it relative to the
   * incident's alert, that starts after the band has been left alone for incidentReleaseMs, needs only
   * incidentReleaseShare of the incident's surprise on top of the threshold: an outage after a spike is news.
   */
  incidentReleaseDeparture: 0.5,
  incidentReleaseMs: 20 * 60_000,
  incidentReleaseShare: 0.6,
  /** Rate of the short average of the deviations' size (the variance-change detector), and their clip. */
  noiseRate: 0.05,
  noiseClip: 4,
  /** Daily profile resolution: one slot per bucket, between these bounds (96: quarter-hours, read interpolated). */
  minDailySlots: 24,
  maxDailySlots: 96,
  /** Half-hour-of-week profile slots (read whole: weekly jobs start on the hour or the half hour). */
  weeklySlots: 336,
  /** The weekly profile's per-bucket rate is that of a profile of this many slots (a quarter of its slots). */
  weeklyRateSlots: 84,
  /** Per-day learning rate of the profiles. */
  profileDailyRate: 0.25,
  /** Profiles learn from values clipped to this many long deviations around the expected value. */
  profileClip: 4,
  /** Memory of the running errors that choose the seasonality: two weeks, so a weekly event is remembered. */
  seasonErrorMemoryMs: 14 * 86_400_000,
  /** A daily profile is used once it cuts the error of the level alone by this fraction. */
  dailyStrength: 0.25,
  /** The hour-of-week profile is used once it cuts the daily model's error to this fraction. */
  weeklyGain: 0.85,
  /** Rate of the repeat frequency, and the smallest frequency a stuck run is judged against. */
  repeatRate: 0.001,
  minRepeatFrequency: 0.01,
  /** Stuck values are judged only in series that repeat a value less often than this. */
  movingSeriesRepeatFrequency: 0.01,
  /** A gap longer than this many typical intervals forgets the short-run evidence. */
  gapResetIntervals: 6,
  /** The first buckets only set the level and scale: their deviations are not counted (nor alerted on). */
  warmUpPoints: 100,
  /** The band's edges are re-read from the tails every this many buckets. */
  bandRefreshPoints: 16,
  /** Per-bucket rate of the band's level (learned only outside departures, from values clipped to the band). */
  baseRate: 0.02,
  /** Per-bucket rate of the band's scale (mean absolute residual, clipped to the band). */
  baseScaleRate: 0.01,
  /** The band's scale never falls below this fraction of the long-run mean absolute deviation. */
  bandFloorFraction: 0.05,
  /** Per-bucket rate at which a departure that recurs in the same weekly slot is learned. */
  recurrenceRate: 0.5,
  /** The band around a learned weekly event is wider by this share of the event's size. */
  weeklyEventWidth: 0.1,
  /** This many buckets in a row outside the band, on one side, start a departure even if none was surprising. */
  outsideRunBuckets: 3,
  /**
   * This many buckets in a row outside the band, on one side, in a series with this much history, are as
   * surprising as `runSurprise` (one in 30,000): a slow leak the detector follows still alerts once.
   */
  runAnomalyBuckets: 12,
  runAnomalyHistoryMs: 7 * 86_400_000,
  runSurprise: 4.5,
} as const;

export type DetectorTuning = {
  -readonly [K in keyof typeof detectorTuning]: (typeof detectorTuning)[K] extends number
    ? number
    : (typeof detectorTuning)[K];
};

/** Mean absolute deviation × this = standard deviation, for normal data. */
const madToSd = 1.2533;
const seasonNone = 0;
const seasonDaily = 1;
const seasonWeekly = 2;

/** The seasons as `describe()` names them, by their number. */
const seasonNames = ['none', 'daily', 'daily+weekly'] as const;
/** What a season adds to the level at a bucket: nothing, the daily profile, or the daily and weekly ones. */
const seasonalPart = (season: number, dailyPart: number, weeklyPart: number): number =>
  season === seasonWeekly ? dailyPart + weeklyPart : season === seasonDaily ? dailyPart : 0;

/** The engine's numbers about a series (all finite): stored as plain JSON numbers. */
interface NormalcyScalars {
  points: number;
  firstTimestamp: number;
  lastTimestamp: number;
  /** Typical interval between buckets (ms). */
  intervalMs: number;
  level: number;
  scale: number;
  slow: number;
  longLevel: number;
  longScale: number;
  longDeviation: number;
  shortDeviation: number;
  /** Short average of the point deviations' size (clipped), its long-run average and spread. */
  noise: number;
  noiseMean: number;
  noiseSpread: number;
  /** Decayed number of buckets counted in the tails, in units of `countUnit`. */
  counted: number;
  /** The weight of the newest bucket in the tail counts (grows as older ones decay; rescaled to 1 at 1e6). */
  countUnit: number;
  /** The band's half-widths above and below, in robust standard deviations (refreshed every few buckets). */
  upperWidth: number;
  lowerWidth: number;
  errorNone: number;
  errorDaily: number;
  errorWeekly: number;
  /**
   * The band's own season and the same three errors without the departures that are not weekly events: an
   * outage says nothing about which model is right, and must not switch the band's season off for weeks.
   */
  bandSeason: number;
  bandErrorNone: number;
  bandErrorDaily: number;
  bandErrorWeekly: number;
  season: number;
  /** The current incident's alert surprise (held, then fading), and when it was raised. */
  incident: number;
  incidentAt: number;
  /** How far the incident's alert was from the expected value (see incidentEscalation). */
  incidentDeparture: number;
  /** Which side of the expected value the incident's alert was on (1 above, -1 below). */
  incidentSide: number;
  /** The smallest and the largest value the series has shown. */
  smallestSeen: number;
  largestSeen: number;
  /** The largest departures above and below the expected value the series has shown (never fading). */
  largestDepartureUp: number;
  largestDepartureDown: number;
  /** Since when the extremes have been learned: the first bucket, or the upgrade from normalcy/3. */
  extremesSince: number;
  lastValue: number;
  repeatRun: number;
  repeatFrequency: number;
  outsideSide: number;
  outsideSince: number;
  /** The band's level (without the season) and scale: learned only from buckets that are not a departure. */
  base: number;
  baseScale: number;
  /** The ongoing departure's side (1 above the band, -1 below, 0 none), and since when on that side. */
  departureSide: number;
  departureSince: number;
  /** When the series was last in a departure. */
  departedAt: number;
  /** The band's half-widths above and below, in robust standard deviations of the band's scale. */
  bandUpperWidth: number;
  bandLowerWidth: number;
  /**
   * The weekly slot the series is in, and whether it has been in a departure there this week (the slot's bit
   * in `recurrence` is written when the series leaves the slot; -1: none yet).
   */
  weekSlot: number;
  weekSlotDeparted: number;
  /** How many buckets in a row the series has been outside the band (positive above, negative below). */
  outsideRun: number;
  /**
   * The precedents (fading with precedentHalfLifeMs): the largest departures from the expected value above and
   * below it, and from the slow level (with the season) above and below it, in the series' units.
   */
  precedentUp: number;
  precedentDown: number;
  levelPrecedentUp: number;
  levelPrecedentDown: number;
  /**
   * What the ongoing departure has taught the daily profile, by slot (four slots, -1: unused): the band reads
   * the profile without it, so a departure does not move the band while the detector's profile learns as ever.
   */
  driftSlot0: number;
  drift0: number;
  driftSlot1: number;
  drift1: number;
  driftSlot2: number;
  drift2: number;
  driftSlot3: number;
  drift3: number;
}

/** The learned tails, one block of {@link ladderRungs} counts each in `NormalcyState.tails`. */
const tailNames = [
  'pointUp',
  'pointDown',
  'shortUp',
  'shortDown',
  'levelUp',
  'levelDown',
  'noiseUp',
  /** Residuals from the band's expected value, of buckets outside departures: the band's edges. */
  'bandUp',
  'bandDown',
] as const;
type TailName = (typeof tailNames)[number];

/** Everything the engine knows about a series, in memory. */
interface NormalcyState extends NormalcyScalars {
  settings: BandSettings;
  /** Daily profile (one slot per bucket, between the tuning's bounds) and hour-of-week profile. */
  daily: Float32Array;
  weekly: Float32Array;
  /** All tail counts, one block per tail (see {@link tailNames}). */
  tails: Float32Array;
  /**
   * Two bits per weekly slot: whether the series was in a departure in that slot the week before (the first
   * weeklySlots bits), so that a departure that recurs there is learned and a one-off is not, and two weeks
   * before (the next weeklySlots bits), so that a departure there both weeks is a weekly event, not news.
   */
  recurrence: Uint8Array;
}

/** The state as stored: the scalars as base64 of their float64 bytes, the arrays as base64 of theirs. */
interface StoredNormalcyState extends EngineState {
  settings: BandSettings;
  /** The scalars' float64 bytes as base64, in the order of {@link scalarNames}. */
  scalars: string;
  daily: string;
  weekly: string;
  tails: string;
  recurrence: string;
}

const engineName = 'normalcy/5';
/** One recurrence bit per weekly slot per week: last week's, then the week before's (added by normalcy/5). */
const recurrenceBytes = detectorTuning.weeklySlots / 8;
/** The scalars in their stored order. */
const scalarNames = Object.keys(freshState(undefined)).filter(
  (name) => !['settings', 'daily', 'weekly', 'tails', 'recurrence'].includes(name),
) as ReadonlyArray<keyof NormalcyScalars>;
/** The version before: the same scalars, only last week's recurrence bits (the week before's start clear). */
const previousEngineName = 'normalcy/4';
/** The version before that, whose states are upgraded rather than dropped too: its scalars are these, in order. */
const olderEngineName = 'normalcy/3';
const addedScalars: ReadonlySet<keyof NormalcyScalars> = new Set([
  'largestSeen',
  'largestDepartureUp',
  'largestDepartureDown',
  'extremesSince',
  'precedentUp',
  'precedentDown',
  'levelPrecedentUp',
  'levelPrecedentDown',
] as const);
/** The band's own season, added by normalcy/5: upgraded states start it from the detector's. */
const bandSeasonScalars: ReadonlySet<keyof NormalcyScalars> = new Set([
  'bandSeason',
  'bandErrorNone',
  'bandErrorDaily',
  'bandErrorWeekly',
] as const);
/** The scalars of normalcy/4 and of normalcy/3, in their stored order. */
const previousScalarNames = scalarNames.filter((name) => !bandSeasonScalars.has(name));
const olderScalarNames = previousScalarNames.filter((name) => !addedScalars.has(name));

/** How far the current bucket departs, each way the engine measures it. */
interface Departures {
  pointDeviation: number;
  shortDeviation: number;
  levelDeviation: number;
  levelError: number;
  levelScale: number;
  noiseDeviation: number;
  flagged: boolean;
  /** The bucket is part of a departure from the band; did the last pass through its slots depart too? */
  departing: boolean;
  recurringWeekly: boolean;
  /** The bucket departs in a slot the series departed in the two weeks before too (a known weekly event). */
  recurring: boolean;
}

class NormalcyEngine implements BandEngine {
  private readonly reading: { priorWeight: number; tailExponent: number; unit: number } & TailReading;
  /** Views of each tail's block of counts in `state.tails`. */
  private readonly tail: Record<TailName, Float32Array>;
  /** Scratch of the surprise judged so far on the current bucket, and why. */
  private surprise = 0;
  private reason: AnomalyReason = 'outside-band';
  /** The current bucket's departures, handed to `learn` (one object reused: no allocation per bucket). */
  private readonly departures: Departures = {
    pointDeviation: 0,
    shortDeviation: 0,
    levelDeviation: 0,
    levelError: 0,
    levelScale: 0,
    noiseDeviation: 0,
    flagged: false,
    departing: false,
    recurringWeekly: false,
    recurring: false,
  };
  /** What the kind allows, and whether it was read for a series never below zero (a cache: not state). */
  private bounds: KindBounds = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  private boundsNonNegative: boolean | undefined;
  /** The last gap the precedents faded over, and their factor (a cache: not state). */
  private precedentGap = Number.NaN;
  private precedentFactor = 1;
  /** The last span the incident faded over, and its factor (a cache: not state). */
  private fadeSpan = Number.NaN;
  private fadeFactor = 1;
  /** The surprise threshold of the series' sensitivity, and the tail probability of the edges (settings are fixed). */
  private readonly threshold: number;
  private readonly edgeProbability: number;

  constructor(
    private readonly state: NormalcyState,
    private readonly tuning: DetectorTuning,
  ) {
    this.reading = {
      priorWeight: tuning.priorWeight,
      tailExponent: tuning.tailExponent,
      unit: state.countUnit,
    };
    this.tail = tailViews(state.tails);
    this.threshold = surpriseThreshold(state.settings.sensitivity);
    this.edgeProbability = 10 ** -this.threshold;
  }

  update(timestamp: number, value: number): BandResult {
    const state = this.state;
    const tuning = this.tuning;
    const { settings } = state;
    if (!Number.isFinite(value) || !Number.isFinite(timestamp)) return this.ignore(timestamp, value);
    if (beyondEngineLimit(value))
      return withRealValue(this.update(timestamp, withinEngineLimit(value)), value);
    if (state.points === 0) this.start(timestamp, value);

    // Time: the typical interval, and what a long gap forgets.
    const previous = state.lastTimestamp;
    const gap = timestamp - previous;
    if (gap > 0) {
      if (state.incident > 0) this.fadeIncident(previous, timestamp);
      state.intervalMs =
        state.intervalMs === 0
          ? gap
          : state.intervalMs + 0.05 * (Math.min(gap, 4 * state.intervalMs) - state.intervalMs);
      if (gap > tuning.gapResetIntervals * state.intervalMs) {
        state.shortDeviation = 0;
        state.repeatRun = 0;
      }
      state.lastTimestamp = timestamp;
    }
    state.points += 1;
    if (state.daily.length === 0 && state.points >= 8 && state.intervalMs > 0) {
      const slots = Math.round(dayMs / state.intervalMs);
      const size = Math.max(tuning.minDailySlots, Math.min(tuning.maxDailySlots, slots));
      state.daily = new Float32Array(size);
      state.weekly = new Float32Array(tuning.weeklySlots);
    }

    // Expectation: level plus the chosen seasonality.
    const history = state.lastTimestamp - state.firstTimestamp;
    const dayPosition = slotPosition(timestamp, dayMs, state.daily.length);
    // Hour-of-week slots hold whole hours (no interpolation): weekly events are usually hour-aligned jobs.
    const weekPosition = Math.floor(slotPosition(timestamp, weekMs, state.weekly.length));
    const dailyPart = readProfile(state.daily, dayPosition);
    const weeklyPart = readProfile(state.weekly, weekPosition);
    const seasonal = seasonalPart(state.season, dailyPart, weeklyPart);
    const expected = state.level + seasonal;
    const floor = tuning.scaleFloorFraction * state.longScale;
    const scale = Math.max(state.scale, floor, 1e-9 * (1 + Math.abs(expected)));

    // Departures, each in robust standard deviations.
    const error = value - expected;
    const pointDeviation = error / (madToSd * scale);
    state.shortDeviation += tuning.shortRate * (pointDeviation - state.shortDeviation);
    const shortDeviation = state.shortDeviation * Math.sqrt((2 - tuning.shortRate) / tuning.shortRate);
    const levelError = value - (state.slow + seasonal);
    const levelScale = Math.max(state.longDeviation, floor, 1e-9 * (1 + Math.abs(expected)));
    const levelDeviation = levelError / (madToSd * levelScale);
    // A weekly event: the series departed in this weekly slot in each of the two weeks before, and the bucket
    // departs no further from the learned weekly profile than that profile's size (an outage in the slot is
    // further). It is not news, is no slow leak, and moves neither the noise nor the detector's level and scale.
    const recurring =
      this.departedTwoWeeks(weekPosition) &&
      Math.abs(error - (state.season === seasonWeekly ? 0 : weeklyPart)) <= Math.abs(weeklyPart);
    // Clipped, so that one spike cannot pass for a noisier series.
    if (!recurring) {
      state.noise += tuning.noiseRate * (Math.min(Math.abs(pointDeviation), tuning.noiseClip) - state.noise);
    }
    // In robust standard deviations of its own long-run spread, like every other departure.
    const noiseDeviation =
      state.noiseSpread > 0 ? (state.noise - state.noiseMean) / (madToSd * state.noiseSpread) : 0;

    // Surprise of each departure on each side the user asked about.
    const tails = this.tail;
    const up = settings.direction !== 'below';
    const down = settings.direction !== 'above';
    this.surprise = 0;
    this.reason = 'outside-band';
    const threshold = this.threshold;
    // A bucket that departs no further than the series has within the last weeks is not news: its departures'
    // surprise is dropped, so only the level's tails are read (the relearning side needs them). Most buckets.
    const precedented =
      state.points > tuning.precedentFromPoints &&
      this.precedented(error, levelError, gap, tuning.precedentSlack * madToSd * scale);
    const news = !((precedented || recurring) && state.points > tuning.warmUpPoints);
    let levelSide = 0;
    if (up) {
      if (news) {
        this.consider(tails.pointUp, pointDeviation, 'outside-band');
        this.consider(tails.shortUp, shortDeviation, 'sustained-shift');
      }
      if (this.consider(tails.levelUp, levelDeviation, 'unusual-level') >= threshold) levelSide = 1;
    }
    if (down) {
      if (news) {
        this.consider(tails.pointDown, -pointDeviation, 'outside-band');
        this.consider(tails.shortDown, -shortDeviation, 'sustained-shift');
      }
      if (this.consider(tails.levelDown, -levelDeviation, 'unusual-level') >= threshold) levelSide = -1;
    }
    // A noisier series leaves its band on both sides: judged when the user asked for both.
    if (up && down && news) this.consider(tails.noiseUp, noiseDeviation, 'variance-change');
    if (!news) {
      this.surprise = 0;
      this.reason = 'outside-band';
    }
    let surprise = this.surprise;
    let reason: AnomalyReason = this.reason;
    const repeated = value === state.lastValue && state.points > 1;
    state.repeatRun = repeated ? state.repeatRun + 1 : 0;
    const movingSeries = state.repeatFrequency < tuning.movingSeriesRepeatFrequency && state.points > 100;
    if (up && down && movingSeries && state.repeatRun >= 2 && value !== state.smallestSeen) {
      const stuck = -state.repeatRun * Math.log10(Math.max(state.repeatFrequency, tuning.minRepeatFrequency));
      if (stuck > surprise) {
        surprise = stuck;
        reason = 'stuck';
      }
    }
    const margin = tuning.extremeMargin * madToSd * scale;
    let extreme = value > state.largestSeen + margin || value < state.smallestSeen - margin;
    if (state.points > tuning.precedentFromPoints) {
      if (error > state.largestDepartureUp + margin || -error > state.largestDepartureDown + margin) {
        extreme = true;
      }
      if (error > 0) state.largestDepartureUp = Math.max(state.largestDepartureUp, error);
      else state.largestDepartureDown = Math.max(state.largestDepartureDown, -error);
    }
    const extremesKnown = timestamp - state.extremesSince >= tuning.extremeHistoryMs;
    if (extreme && extremesKnown && surprise >= threshold / 2) {
      // Beyond anything the series has shown: rarer than its tails alone say (they forget, and they are read
      // in the detector's fast scale).
      surprise += tuning.extremeSurprise;
    }
    state.largestSeen = Math.max(state.largestSeen, value);
    surprise = state.points > tuning.warmUpPoints ? Math.min(surprise, tuning.maxSurprise) : 0;

    // Edges of the detector's point deviations (for relearning) and of the band, within what the kind allows.
    state.smallestSeen = Math.min(state.smallestSeen, value);
    const nonNegative = state.smallestSeen >= 0;
    if (nonNegative !== this.boundsNonNegative) {
      // The bounds change only when the series first goes below zero: not re-made for every bucket.
      this.bounds = kindBounds(settings.kind, state.smallestSeen);
      this.boundsNonNegative = nonNegative;
    }
    const bounds = this.bounds;
    if (state.upperWidth === 0 || state.points % tuning.bandRefreshPoints === 0) {
      // The tails move slowly: their edges are re-read every few buckets, not every one.
      const edgeProbability = this.edgeProbability;
      state.upperWidth = deviationAtProbability(tails.pointUp, state.counted, edgeProbability, this.reading);
      state.lowerWidth = deviationAtProbability(
        tails.pointDown,
        state.counted,
        edgeProbability,
        this.reading,
      );
    }
    if (state.bandUpperWidth === 0 || state.points % tuning.bandRefreshPoints === 0) {
      const edgeProbability = this.edgeProbability;
      state.bandUpperWidth = deviationAtProbability(
        tails.bandUp,
        state.counted,
        edgeProbability,
        this.reading,
      );
      state.bandLowerWidth = deviationAtProbability(
        tails.bandDown,
        state.counted,
        edgeProbability,
        this.reading,
      );
    }
    // The band: the robust level plus the season, as wide as the band's own residuals outside departures.
    const drift = this.drift(dayPosition);
    const bandSeasonal = seasonalPart(state.bandSeason, dailyPart, weeklyPart);
    const bandExpected = state.base + bandSeasonal - (state.bandSeason === seasonNone ? 0 : drift);
    const bandFloor = tuning.bandFloorFraction * state.longScale;
    const bandScale = Math.max(state.baseScale, bandFloor, 1e-9 * (1 + Math.abs(bandExpected)));
    const bandResidual = value - bandExpected;
    // A learned weekly event is known to happen, not to the unit: its size widens the band by a share.
    const eventReach = state.bandSeason === seasonWeekly ? tuning.weeklyEventWidth * Math.abs(weeklyPart) : 0;
    const upperReach = state.bandUpperWidth * madToSd * bandScale + eventReach;
    const lowerReach = state.bandLowerWidth * madToSd * bandScale + eventReach;
    const lower = clampToBounds(bandExpected - lowerReach, bounds);
    const upper = clampToBounds(bandExpected + upperReach, bounds);
    const outside = value > upper ? 1 : value < lower ? -1 : 0;
    state.outsideRun =
      outside === 0 || outside !== Math.sign(state.outsideRun) ? outside : state.outsideRun + outside;
    const longRun =
      Math.abs(state.outsideRun) >= tuning.outsideRunBuckets && state.points > tuning.warmUpPoints;
    if (
      Math.abs(state.outsideRun) === tuning.runAnomalyBuckets &&
      !recurring &&
      history >= tuning.runAnomalyHistoryMs &&
      tuning.runSurprise > surprise
    ) {
      surprise = tuning.runSurprise;
      reason = 'unusual-level';
    }
    // A departure starts with a surprising bucket outside the band and lasts while the series stays outside.
    const departing = outside !== 0 && (state.departureSide !== 0 || surprise >= threshold || longRun);
    const departureSide = departing ? outside : 0;
    if (departureSide === 0 || departureSide !== state.departureSide) state.departureSince = timestamp;
    state.departureSide = departureSide;
    const calm = timestamp - state.departedAt >= tuning.incidentReleaseMs;
    if (departing) state.departedAt = timestamp;
    const relearnAfterMs = settings.relearnAfterMs ?? defaultBandSettings.relearnAfterMs ?? 0;
    const bandRelearned =
      departureSide !== 0 && timestamp - state.departureSince >= relearnAfterMs && history > 0;

    // One alert per incident: a new alert needs the threshold on top of the current incident's (fading) peak,
    // unless it is an order of magnitude further out than the incident's alert.
    const errorSide = error >= 0 ? 1 : -1;
    const released =
      departing &&
      calm &&
      errorSide !== state.incidentSide &&
      Math.abs(error) >= tuning.incidentReleaseDeparture * state.incidentDeparture;
    const incident = released ? state.incident * tuning.incidentReleaseShare : state.incident;
    const departure = Math.abs(error);
    const escalated =
      surprise >= threshold &&
      departure >= tuning.incidentEscalation * state.incidentDeparture &&
      incident > 0;
    const effective = escalated ? Math.max(surprise - incident, threshold) : surprise - incident;
    const score = effective > 0 ? effective / (effective + threshold) : 0;
    const experienced = history >= settings.minHistoryMs;
    const anomaly = score >= 0.5 && experienced;
    if (score >= 0.5) {
      // What would alert raises the incident: an actual alert, or a departure seen before the minimum history
      // (not alerted, but already going on when alerts start, so not news). A surprise under the threshold
      // raises nothing, so that it cannot mute a slowly building anomaly.
      state.incident = surprise;
      state.incidentAt = timestamp;
      state.incidentDeparture = departure;
      state.incidentSide = errorSide;
    }

    // Relearning: a series that stays away from its usual level by more than the band's width, on one side,
    // is accepted at its new level.
    const levelWidth = levelDeviation > 0 ? state.upperWidth : state.lowerWidth;
    const side =
      levelSide !== 0 ? levelSide : Math.abs(levelDeviation) > levelWidth ? Math.sign(levelDeviation) : 0;
    if (side === 0 || side !== state.outsideSide) state.outsideSince = timestamp;
    state.outsideSide = side;
    const relearned = side !== 0 && timestamp - state.outsideSince >= relearnAfterMs && history > 0;

    const departures = this.departures;
    departures.pointDeviation = pointDeviation;
    departures.shortDeviation = shortDeviation;
    departures.levelDeviation = levelDeviation;
    departures.levelError = levelError;
    departures.levelScale = levelScale;
    departures.noiseDeviation = noiseDeviation;
    departures.flagged = surprise >= threshold;
    departures.departing = departing;
    const weeklySlots = state.weekly.length;
    departures.recurring = recurring && departing;
    departures.recurringWeekly = weeklySlots > 0 && this.trackSlot(weekPosition % weeklySlots, departing);
    this.learn(value, error, scale, seasonal, dailyPart, dayPosition, weekPosition, departures);
    if (!departing) this.learnBand(bandResidual, bandScale, upperReach, lowerReach);
    if (relearned) this.relearn(value, seasonal, timestamp);
    if (bandRelearned) {
      state.base = value - bandSeasonal;
      state.departureSide = 0;
      state.departureSince = timestamp;
    }
    state.repeatFrequency += tuning.repeatRate * ((repeated ? 1 : 0) - state.repeatFrequency);
    state.lastValue = value;

    const result: { -readonly [K in keyof BandResult]: BandResult[K] } = {
      timestamp,
      value,
      expected: clampToBounds(bandExpected, bounds),
      lower,
      upper,
      score,
      anomaly,
    };
    if (anomaly) result.reason = reason;
    if (bandRelearned) result.relearned = true;
    return result;
  }

  /**
   * What the engine learned about the series (the hook lib/query/learned-traits.ts reads): its band's
   * seasonality, once it has the two days of history the daily choice needs; its kind when its settings name one, or
   * `ratio` when every value it has shown since its warm-up lies in [0, 1]; otherwise null (unknown). O(1).
   */
  describe(): {
    kind: Exclude<MetricKind, 'auto'> | null;
    seasonality: 'none' | 'daily' | 'daily+weekly' | null;
  } {
    const { state, tuning } = this;
    const history = state.lastTimestamp - state.firstTimestamp;
    const seasonality = history < 2 * dayMs ? null : (seasonNames[state.bandSeason] ?? null);
    const { kind } = state.settings;
    if (kind !== 'auto') return { kind, seasonality };
    const ratio = state.points > tuning.warmUpPoints && state.smallestSeen >= 0 && state.largestSeen <= 1;
    return { kind: ratio ? 'ratio' : null, seasonality };
  }

  /**
   * The state into `writer`, in normalcy/8's compact form (see packed-state.ts): the settings and the scalars
   * as numbers (scales and noise as float32), the profiles in 16-bit fixed point, the tails as their float32s
   * (zeros left out), the recurrence bits. O(state).
   */
  write(writer: StateWriter): void {
    const state = this.state;
    const { settings } = state;
    settingsNumbers[0] = settings.sensitivity;
    settingsNumbers[1] = settings.minHistoryMs;
    settingsNumbers[2] = settings.relearnAfterMs ?? -1;
    writer.numbers(settingsNumbers, 0);
    // The two choices in one byte (an unknown one as 255: the default).
    const direction = directions.indexOf(settings.direction);
    const kind = metricKinds.indexOf(settings.kind);
    writer.byte(direction < 0 || kind < 0 ? 255 : direction * metricKinds.length + kind);
    const scalars = scratchScalars;
    for (let index = 0; index < scalarNames.length; index++) {
      const value = state[scalarNames[index] as keyof NormalcyScalars];
      scalars[index] = storedAsFloat32[index] ? toFloat32(value) : value;
    }
    writer.float64(state.lastTimestamp);
    writer.numbers(scalars, state.lastTimestamp);
    // Their lengths in a byte each: the daily profile's (at most maxDailySlots), the weekly's in eighths.
    writer.byte(state.daily.length);
    writer.profile(state.daily);
    writer.byte(state.weekly.length / 8);
    writer.profile(state.weekly);
    writer.counts(state.tails);
    writer.sparseBytes(state.recurrence);
  }

  toState(): EngineState {
    const { settings, daily, weekly, tails, recurrence, ...scalars } = this.state;
    const packed = new Float64Array(scalarNames.length);
    scalarNames.forEach((name, index) => {
      packed[index] = scalars[name];
    });
    const stored: StoredNormalcyState = {
      engine: engineName,
      settings: { ...settings },
      scalars: Buffer.from(packed.buffer).toString('base64'),
      daily: encodeFloats(daily),
      weekly: encodeFloats(weekly),
      tails: encodeFloats(tails),
      recurrence: Buffer.from(recurrence).toString('base64'),
    };
    return stored;
  }

  /** Judges one departure against its learned tail; keeps the most surprising. Returns its surprise. */
  private consider(counts: ExceedanceCounts, deviation: number, why: AnomalyReason): number {
    if (deviation <= 1) return 0;
    const candidate = -Math.log10(tailProbability(counts, this.state.counted, deviation, this.reading));
    if (candidate > this.surprise) {
      this.surprise = candidate;
      this.reason = why;
    }
    return candidate;
  }

  /**
   * Fades the precedents over `gap`, says whether this bucket departs no further than they do plus `slack` (on
   * the side it departs, from the expected value and from the slow level), and raises them to it. O(1).
   */
  private precedented(error: number, levelError: number, gap: number, slack: number): boolean {
    const state = this.state;
    if (gap > 0) {
      if (gap !== this.precedentGap) {
        // Buckets are mostly evenly spaced: the factor of the last gap is usually the one needed.
        this.precedentGap = gap;
        this.precedentFactor = 0.5 ** (gap / this.tuning.precedentHalfLifeMs);
      }
      const factor = this.precedentFactor;
      state.precedentUp *= factor;
      state.precedentDown *= factor;
      state.levelPrecedentUp *= factor;
      state.levelPrecedentDown *= factor;
    }
    let news: boolean;
    if (error > 0) {
      news = error > state.precedentUp + slack;
      state.precedentUp = Math.max(state.precedentUp, error);
    } else {
      news = -error > state.precedentDown + slack;
      state.precedentDown = Math.max(state.precedentDown, -error);
    }
    if (levelError > 0) {
      news ||= levelError > state.levelPrecedentUp + slack;
      state.levelPrecedentUp = Math.max(state.levelPrecedentUp, levelError);
    } else {
      news ||= -levelError > state.levelPrecedentDown + slack;
      state.levelPrecedentDown = Math.max(state.levelPrecedentDown, -levelError);
    }
    return !news;
  }

  /** Fades the incident's peak over the part of (previous, timestamp] that lies past its hold. */
  private fadeIncident(previous: number, timestamp: number): void {
    const state = this.state;
    const span = timestamp - Math.max(previous, state.incidentAt + this.tuning.incidentHoldMs);
    if (span <= 0) return;
    if (span !== this.fadeSpan) {
      // Buckets are mostly evenly spaced: the factor of the last span is usually the one needed.
      this.fadeSpan = span;
      this.fadeFactor = 0.5 ** (span / this.tuning.incidentHalfLifeMs);
    }
    state.incident = state.incident > 1e-6 ? state.incident * this.fadeFactor : 0;
  }

  private start(timestamp: number, value: number): void {
    const state = this.state;
    state.firstTimestamp = timestamp;
    state.lastTimestamp = timestamp;
    state.level = value;
    state.slow = value;
    state.base = value;
    state.longLevel = value;
    state.lastValue = value;
    state.smallestSeen = value;
    state.largestSeen = value;
    state.extremesSince = timestamp;
    state.outsideSince = timestamp;
  }

  private learn(
    value: number,
    error: number,
    scale: number,
    seasonal: number,
    dailyPart: number,
    dayPosition: number,
    weekPosition: number,
    departures: Departures,
  ): void {
    const state = this.state;
    const tuning = this.tuning;

    // Tails: every bucket counts toward surprise (a series that often jumps is less surprising when it jumps);
    // flagged buckets are kept out of the band's tails, so an anomaly does not widen the band.
    if (state.points > tuning.warmUpPoints) {
      const tails = this.tail;
      const { pointDeviation: point, shortDeviation: short, levelDeviation: level } = departures;
      // Decay by weighting each new point more (1 / decay per point) rather than shrinking every count.
      let unit = state.countUnit / (1 - 1 / tuning.tailMemoryPoints);
      state.counted += unit;
      recordExceedance(tails.pointUp, point, unit);
      recordExceedance(tails.pointDown, -point, unit);
      recordExceedance(tails.shortUp, short, unit);
      recordExceedance(tails.shortDown, -short, unit);
      recordExceedance(tails.levelUp, level, unit);
      recordExceedance(tails.levelDown, -level, unit);
      recordExceedance(tails.noiseUp, departures.noiseDeviation, unit);
      if (unit > 1e6) {
        rescaleExceedanceCounts(state.tails, unit);
        state.counted /= unit;
        unit = 1;
      }
      state.countUnit = unit;
      this.reading.unit = unit;
    }

    const noiseRate = Math.max(tuning.longRate, 1 / state.points);
    state.noiseMean += noiseRate * (state.noise - state.noiseMean);
    state.noiseSpread += noiseRate * (Math.abs(state.noise - state.noiseMean) - state.noiseSpread);

    // Level and scale, from the clipped error.
    const limit = tuning.huberLimit * madToSd * scale;
    const clipped = Math.max(-limit, Math.min(limit, error));
    // A known weekly event (two weeks running, in this slot) is not the series' level or scale.
    if (!departures.recurring) {
      state.level += tuning.levelRate * clipped;
      if (state.points <= tuning.warmUpPoints) {
        // Until the scale is known, its plain average: clipping relative to a scale of zero would freeze it.
        state.scale += (Math.abs(error) - state.scale) / state.points;
      } else {
        state.scale += tuning.scaleRate * (Math.abs(clipped) - state.scale);
      }
    }
    const deseasonalised = state.level + clipped - tuning.levelRate * clipped;
    state.slow += tuning.slowRate * (deseasonalised - state.slow);
    // Plain averages while young (an EWMA started from the first value would remember it for a thousand buckets).
    const longRate = Math.max(tuning.longRate, 1 / state.points);
    state.longLevel += longRate * (value - state.longLevel);
    state.longScale += longRate * (Math.abs(value - state.longLevel) - state.longScale);
    const levelMagnitude = Math.abs(departures.levelError);
    state.longDeviation =
      state.longDeviation === 0
        ? levelMagnitude
        : state.longDeviation +
          tuning.longDeviationRate *
            (Math.min(levelMagnitude, tuning.longDeviationClip * state.longDeviation) - state.longDeviation);

    // Seasonality: which model explains the series, and the profiles themselves.
    const slowError = value - state.slow;
    const weeklyPart = readProfile(state.weekly, weekPosition);
    const rate = Math.min(0.05, (state.intervalMs || hourMs) / tuning.seasonErrorMemoryMs);
    // Squared errors, so that a large weekly event counts for what it is against a week of small noise.
    const dailyError = slowError - dailyPart;
    const weeklyError = dailyError - weeklyPart;
    state.errorNone += rate * (slowError * slowError - state.errorNone);
    state.errorDaily += rate * (dailyError * dailyError - state.errorDaily);
    state.errorWeekly += rate * (weeklyError * weeklyError - state.errorWeekly);
    // The band's errors leave out a departure that is not a weekly event (an outage, a spike): it says nothing
    // about which model is right, and its square would make every model look alike for weeks.
    if (!departures.departing || departures.recurringWeekly) {
      state.bandErrorNone += rate * (slowError * slowError - state.bandErrorNone);
      state.bandErrorDaily += rate * (dailyError * dailyError - state.bandErrorDaily);
      state.bandErrorWeekly += rate * (weeklyError * weeklyError - state.bandErrorWeekly);
    }
    const bound = tuning.profileClip * madToSd * departures.levelScale;
    const profileValue = Math.max(
      state.slow + seasonal - bound,
      Math.min(state.slow + seasonal + bound, value),
    );
    const history = state.lastTimestamp - state.firstTimestamp;
    const interval = state.intervalMs || dayMs / tuning.maxDailySlots;
    const dailyRate = Math.max(
      Math.min(0.5, (tuning.profileDailyRate * interval * state.daily.length) / dayMs),
      Math.min(1, 1 / (1 + Math.floor(history / dayMs))),
    );
    if (departures.departing) this.noteDrift(dayPosition, -1);
    learnProfile(state.daily, dayPosition, profileValue - state.slow, dailyRate);
    if (departures.departing) this.noteDrift(dayPosition, 1);
    const weeklyRate = Math.max(
      Math.min(0.5, (tuning.profileDailyRate * 7 * interval * tuning.weeklyRateSlots) / weekMs),
      Math.min(1, 1 / (1 + Math.floor(history / weekMs))),
    );
    // The weekly profile learns unclipped: a weekly event is one large departure a week, which clipping would
    // keep it from ever learning; it is only used when it beats the other models over two weeks of errors.
    if (!departures.departing) {
      learnProfile(state.weekly, weekPosition, value - state.slow - dailyPart, weeklyRate);
    } else if (departures.recurringWeekly) {
      // A departure at the same time last week too: a weekly event, learned at once.
      learnProfile(
        state.weekly,
        weekPosition,
        value - state.slow - dailyPart,
        Math.max(weeklyRate, tuning.recurrenceRate),
      );
    }

    const season = this.chooseSeason(history, state.errorNone, state.errorDaily, state.errorWeekly);
    if (season !== state.season) {
      // Keep the expected value continuous when the seasonal model changes.
      state.level += seasonal - seasonalPart(season, dailyPart, weeklyPart);
      state.season = season;
    }
    const bandSeason = this.chooseSeason(
      history,
      state.bandErrorNone,
      state.bandErrorDaily,
      state.bandErrorWeekly,
    );
    if (bandSeason !== state.bandSeason) {
      // Keep the band continuous when its seasonal model changes.
      state.base +=
        seasonalPart(state.bandSeason, dailyPart, weeklyPart) -
        seasonalPart(bandSeason, dailyPart, weeklyPart);
      state.bandSeason = bandSeason;
    }
  }

  /** Whether the series departed in the weekly slot of `weekPosition` in each of the two weeks before. O(1). */
  private departedTwoWeeks(weekPosition: number): boolean {
    const bits = this.state.recurrence;
    const slots = this.state.weekly.length;
    if (slots === 0) return false;
    const slot = weekPosition % slots;
    const mask = 1 << (slot & 7);
    return ((bits[slot >> 3] ?? 0) & (bits[recurrenceBytes + (slot >> 3)] ?? 0) & mask) !== 0;
  }

  /**
   * Keeps the weekly recurrence bits: when the series enters a new weekly slot, the slot it leaves records
   * whether it departed there (and last week's bit moves to the week before's). Returns whether the series
   * departed in `slot` the week before. O(1).
   */
  private trackSlot(slot: number, departing: boolean): boolean {
    const state = this.state;
    const bits = state.recurrence;
    const current = state.weekSlot;
    if (slot !== current) {
      if (current >= 0) {
        const byte = bits[current >> 3] ?? 0;
        const mask = 1 << (current & 7);
        const older = bits[recurrenceBytes + (current >> 3)] ?? 0;
        bits[recurrenceBytes + (current >> 3)] = (byte & mask) !== 0 ? older | mask : older & ~mask;
        bits[current >> 3] = state.weekSlotDeparted === 1 ? byte | mask : byte & ~mask;
      }
      state.weekSlot = slot;
      state.weekSlotDeparted = 0;
    }
    if (departing) state.weekSlotDeparted = 1;
    return (((bits[slot >> 3] ?? 0) >> (slot & 7)) & 1) === 1;
  }

  /**
   * What the ongoing (or just ended) departure taught the daily profile at `position`, read like the profile.
   * Entries of slots the series has moved away from are dropped. O(1).
   */
  private drift(position: number): number {
    const state = this.state;
    const size = state.daily.length;
    if (size === 0) return 0;
    if (state.driftSlot0 < 0 && state.driftSlot1 < 0 && state.driftSlot2 < 0 && state.driftSlot3 < 0)
      return 0;
    const left = Math.floor(position) % size;
    const right = (left + 1) % size;
    const fraction = position - Math.floor(position);
    let leftDrift = 0;
    let rightDrift = 0;
    for (let entry = 0; entry < 4; entry++) {
      const slot = this.driftSlot(entry);
      if (slot < 0) continue;
      // Slots more than a slot behind or two ahead belong to another pass through the day.
      const ahead = (slot - left + size) % size;
      if (ahead > 2 && ahead < size - 1) {
        this.setDrift(entry, -1, 0);
      } else if (slot === left) {
        leftDrift = this.driftValue(entry);
      } else if (slot === right) {
        rightDrift = this.driftValue(entry);
      }
    }
    return leftDrift * (1 - fraction) + rightDrift * fraction;
  }

  /** Adds `sign` times the daily profile's two slots around `position` to their drift entries. O(1). */
  private noteDrift(position: number, sign: number): void {
    const state = this.state;
    const size = state.daily.length;
    if (size === 0) return;
    const left = Math.floor(position) % size;
    for (const slot of [left, (left + 1) % size]) {
      const entry = slot & 3;
      const known = this.driftSlot(entry) === slot ? this.driftValue(entry) : 0;
      this.setDrift(entry, slot, known + sign * (state.daily[slot] ?? 0));
    }
  }

  private driftSlot(entry: number): number {
    const state = this.state;
    return entry === 0
      ? state.driftSlot0
      : entry === 1
        ? state.driftSlot1
        : entry === 2
          ? state.driftSlot2
          : state.driftSlot3;
  }

  private driftValue(entry: number): number {
    const state = this.state;
    return entry === 0
      ? state.drift0
      : entry === 1
        ? state.drift1
        : entry === 2
          ? state.drift2
          : state.drift3;
  }

  private setDrift(entry: number, slot: number, value: number): void {
    const state = this.state;
    if (entry === 0) {
      state.driftSlot0 = slot;
      state.drift0 = value;
    } else if (entry === 1) {
      state.driftSlot1 = slot;
      state.drift1 = value;
    } else if (entry === 2) {
      state.driftSlot2 = slot;
      state.drift2 = value;
    } else {
      state.driftSlot3 = slot;
      state.drift3 = value;
    }
  }

  /** Learns the band from a bucket that is not a departure: its residual clipped to the band's edges. */
  private learnBand(residual: number, scale: number, upperReach: number, lowerReach: number): void {
    const state = this.state;
    const tuning = this.tuning;
    const clipped = Math.max(-lowerReach, Math.min(upperReach, residual));
    if (state.points <= tuning.warmUpPoints) {
      state.base += residual / Math.max(2, state.points);
      state.baseScale += (Math.abs(residual) - state.baseScale) / state.points;
      return;
    }
    state.base += tuning.baseRate * clipped;
    state.baseScale += tuning.baseScaleRate * (Math.abs(clipped) - state.baseScale);
    const deviation = residual / (madToSd * scale);
    const unit = state.countUnit;
    recordExceedance(this.tail.bandUp, deviation, unit);
    recordExceedance(this.tail.bandDown, -deviation, unit);
  }

  /** The season whose errors are enough lower than the simpler ones' (weekly needs two weeks, daily two days). */
  private chooseSeason(history: number, none: number, daily: number, weekly: number): number {
    const { tuning } = this;
    if (history >= 14 * dayMs && weekly < tuning.weeklyGain * Math.min(daily, none)) return seasonWeekly;
    return history >= 2 * dayMs && daily < (1 - tuning.dailyStrength) * none ? seasonDaily : seasonNone;
  }

  private relearn(value: number, seasonal: number, timestamp: number): void {
    const state = this.state;
    state.level = value - seasonal;
    state.slow = value - seasonal;
    state.shortDeviation = 0;
    // The long-run spread restarts from the short-run one: the jump itself is not the series' spread.
    state.longLevel = value;
    state.longScale = state.scale;
    state.outsideSide = 0;
    state.outsideSince = timestamp;
  }

  private ignore(timestamp: number, value: number): BandResult {
    const expected = this.state.points === 0 ? 0 : this.state.base;
    return { timestamp, value, expected, lower: expected, upper: expected, score: 0, anomaly: false };
  }
}

/**
 * The surprise (−log10 of a tail probability) at which a bucket leaves its band, for a sensitivity in [0, 1].
 * O(1).
 *
 * @example surpriseThreshold(0.5) // 3 (one in a thousand)
 */
export function surpriseThreshold(sensitivity: number): number {
  const clamped = Number.isFinite(sensitivity) ? Math.min(1, Math.max(0, sensitivity)) : 0.5;
  return 1.5 + 3 * (1 - clamped);
}

function freshState(settings: Partial<BandSettings> | undefined): NormalcyState {
  // Spelled out as one literal, not spread from parts: every engine's state then has one hidden class, which
  // keeps update() optimised across series.
  return {
    points: 0,
    firstTimestamp: 0,
    lastTimestamp: 0,
    intervalMs: 0,
    level: 0,
    scale: 0,
    slow: 0,
    longLevel: 0,
    longScale: 0,
    longDeviation: 0,
    shortDeviation: 0,
    noise: 0,
    noiseMean: 0,
    noiseSpread: 0,
    counted: 0,
    countUnit: 1,
    upperWidth: 0,
    lowerWidth: 0,
    errorNone: 0,
    errorDaily: 0,
    errorWeekly: 0,
    bandSeason: seasonNone,
    bandErrorNone: 0,
    bandErrorDaily: 0,
    bandErrorWeekly: 0,
    season: seasonNone,
    incident: 0,
    incidentAt: 0,
    incidentDeparture: 0,
    incidentSide: 0,
    smallestSeen: 0,
    largestSeen: 0,
    largestDepartureUp: 0,
    largestDepartureDown: 0,
    extremesSince: 0,
    lastValue: 0,
    repeatRun: 0,
    repeatFrequency: 0,
    outsideSide: 0,
    outsideSince: 0,
    base: 0,
    baseScale: 0,
    departureSide: 0,
    departureSince: 0,
    departedAt: 0,
    bandUpperWidth: 0,
    bandLowerWidth: 0,
    weekSlot: -1,
    weekSlotDeparted: 0,
    outsideRun: 0,
    precedentUp: 0,
    precedentDown: 0,
    levelPrecedentUp: 0,
    levelPrecedentDown: 0,
    driftSlot0: -1,
    drift0: 0,
    driftSlot1: -1,
    drift1: 0,
    driftSlot2: -1,
    drift2: 0,
    driftSlot3: -1,
    drift3: 0,
    settings: { ...defaultBandSettings, ...settings },
    daily: new Float32Array(0),
    weekly: new Float32Array(0),
    tails: new Float32Array(tailNames.length * ladderRungs),
    recurrence: new Uint8Array(2 * recurrenceBytes),
  };
}

/** One Float32Array view per tail, over its block of the shared counts. */
function tailViews(tails: Float32Array): Record<TailName, Float32Array> {
  const views = {} as Record<TailName, Float32Array>;
  tailNames.forEach((name, index) => {
    views[name] = tails.subarray(index * ladderRungs, (index + 1) * ladderRungs);
  });
  return views;
}

/** The float32 bytes of `values` as base64 (little-endian, as every platform Normalcy runs on). */
function encodeFloats(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/**
 * The arrays of a stored state (daily, weekly, tails, recurrence), decoded into views of one new buffer (one
 * allocation, not four), or undefined when any is not whole, finite base64 of its kind.
 */
function decodeArrays(
  stored: EngineState,
): { daily: Float32Array; weekly: Float32Array; tails: Float32Array; recurrence: Uint8Array } | undefined {
  const texts = [stored.daily, stored.weekly, stored.tails, stored.recurrence];
  const lengths = texts.map(base64Length);
  const [daily = -1, weekly = -1, tails = -1, recurrence = -1] = lengths;
  if (daily % 4 !== 0 || weekly % 4 !== 0 || tails % 4 !== 0 || recurrence < 0) return undefined;
  const buffer = new ArrayBuffer(daily + weekly + tails + recurrence);
  let offset = 0;
  for (const [index, text] of texts.entries()) {
    const length = lengths[index] ?? 0;
    if (!decodeInto(text as string, buffer, offset, length)) return undefined;
    offset += length;
  }
  const arrays = {
    daily: new Float32Array(buffer, 0, daily / 4),
    weekly: new Float32Array(buffer, daily, weekly / 4),
    tails: new Float32Array(buffer, daily + weekly, tails / 4),
    recurrence: new Uint8Array(buffer, daily + weekly + tails, recurrence),
  };
  return allFinite(arrays.daily) && allFinite(arrays.weekly) && allFinite(arrays.tails) ? arrays : undefined;
}

/**
 * The in-memory state of a stored one, of this version or the two before (upgraded: what normalcy/4 added starts
 * from nothing, the extremes a week after the upgrade; the week before's recurrence bits that normalcy/5 added
 * start clear), or undefined when it is not a whole state of any.
 */
function restoredState(stored: EngineState): NormalcyState | undefined {
  const older = stored.engine === olderEngineName;
  const upgraded = older || stored.engine === previousEngineName;
  const names = older ? olderScalarNames : upgraded ? previousScalarNames : scalarNames;
  // Filled in place, not spread into a new object: a restored state then has the hidden class of a created one,
  // and update() stays optimised in a process that runs both (as the bands job does).
  const state = freshState(stored.settings as Partial<BandSettings> | undefined);
  const arrays = decodeArrays(stored);
  if (!arrays || arrays.tails.length !== state.tails.length) return undefined;
  const { daily, weekly, tails, recurrence } = arrays;
  if (recurrence.length !== (upgraded ? 1 : 2) * recurrenceBytes) return undefined;
  const values = scratchFloat64s(stored.scalars);
  if (!values || values.length !== names.length) return undefined;
  for (let index = 0; index < names.length; index++)
    state[names[index] as keyof NormalcyScalars] = values[index] ?? 0;
  if (upgraded) {
    // The band's season starts as the detector's, and its errors from the detector's (unclipped) ones.
    state.bandSeason = state.season;
    state.bandErrorNone = state.errorNone;
    state.bandErrorDaily = state.errorDaily;
    state.bandErrorWeekly = state.errorWeekly;
  }
  if (older) {
    // No precedent yet (every departure is news, as it was), and the range learned afresh for a week.
    state.largestSeen = Math.max(state.lastValue, state.smallestSeen);
    state.extremesSince = state.lastTimestamp;
  }
  state.daily = daily;
  state.weekly = weekly;
  state.tails = tails;
  if (upgraded) state.recurrence.set(recurrence);
  else state.recurrence = recurrence;
  return state;
}

const scratchScalars = new Float64Array(scalarNames.length);
/**
 * Scalars normalcy/8 stores as float32: scales, noise, errors, widths and precedents, whose last digits are far
 * below anything the detector measures (levels, timestamps and the values compared for equality keep theirs).
 */
const float32Scalars: ReadonlySet<keyof NormalcyScalars> = new Set([
  'scale',
  'longScale',
  'longDeviation',
  'shortDeviation',
  'noise',
  'noiseMean',
  'noiseSpread',
  'counted',
  'countUnit',
  'upperWidth',
  'lowerWidth',
  'errorNone',
  'errorDaily',
  'errorWeekly',
  'bandErrorNone',
  'bandErrorDaily',
  'bandErrorWeekly',
  'incident',
  'incidentDeparture',
  'repeatFrequency',
  'baseScale',
  'bandUpperWidth',
  'bandLowerWidth',
  'precedentUp',
  'precedentDown',
  'levelPrecedentUp',
  'levelPrecedentDown',
  'largestDepartureUp',
  'largestDepartureDown',
  'drift0',
  'drift1',
  'drift2',
  'drift3',
] as const);
const storedAsFloat32 = scalarNames.map((name) => float32Scalars.has(name));
/** The settings a detector keeps, as numbers (an unknown one reads back as the default). */
const settingsNumbers = new Float64Array(3);

/**
 * A detector written by its `write` (normalcy/8's compact form), or undefined when it is not a whole one.
 * O(state).
 */
export function readDetector(reader: StateReader): BandEngine | undefined {
  if (!reader.numbers(settingsNumbers, 0)) return undefined;
  const [sensitivity = 0.5, minHistoryMs = 0, relearnAfterMs = -1] = settingsNumbers;
  const choices = reader.byte();
  const known = choices < directions.length * metricKinds.length;
  const state = freshState({
    sensitivity,
    direction:
      (known && directions[Math.floor(choices / metricKinds.length)]) || defaultBandSettings.direction,
    minHistoryMs,
    kind: (known && metricKinds[choices % metricKinds.length]) || defaultBandSettings.kind,
    ...(relearnAfterMs >= 0 ? { relearnAfterMs } : {}),
  });
  const anchor = reader.float64();
  const values = scratchScalars;
  if (!reader.numbers(values, anchor)) return undefined;
  for (let index = 0; index < scalarNames.length; index++)
    state[scalarNames[index] as keyof NormalcyScalars] = values[index] ?? 0;
  const daily = new Float32Array(reader.byte());
  reader.profile(daily);
  const weekly = new Float32Array(8 * reader.byte());
  reader.profile(weekly);
  if (!reader.counts(state.tails)) return undefined;
  reader.sparseBytes(state.recurrence);
  state.daily = daily;
  state.weekly = weekly;
  return new NormalcyEngine(state, detectorTuning);
}

/** Writes a detector of {@link detectorEngine} in normalcy/8's form. */
export function writeDetector(detector: BandEngine, writer: StateWriter): void {
  if (!(detector instanceof NormalcyEngine)) throw new TypeError('not a detector of detectorEngine');
  detector.write(writer);
}

/**
 * A factory of Normalcy engines with other constants (for experiments and benchmarks). O(1).
 *
 * @example detectorEngineWith({ ...detectorTuning, maxSurprise: 8 }).create().update(0, 1).score // 0
 */
export function detectorEngineWith(tuning: DetectorTuning): BandEngineFactory {
  return {
    name: engineName,
    create: (settings) => new NormalcyEngine(freshState(settings), tuning),
    restore: (state, settings) =>
      new NormalcyEngine(
        (state?.engine === engineName ||
        state?.engine === previousEngineName ||
        state?.engine === olderEngineName
          ? restoredState(state)
          : undefined) ?? freshState(settings),
        tuning,
      ),
  };
}

/** The Normalcy engine with its shipped constants: the product's default engine. */
export const detectorEngine: BandEngineFactory = detectorEngineWith(detectorTuning);
