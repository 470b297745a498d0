/**
 * The band of normalcy: what a series does at this time of day and week, and how far it wanders from that
 * when nothing is wrong. It is the series' normal, not its recent past: only buckets outside departures teach
 * it, a weekly event seen one or two weeks before is inside it, and a departure that lasts
 * `relearnAfterMs` on one side is accepted as the new level.
 *
 *   expected = level (12 h) + the weekday's level (median of its last three days) + the daily profile
 *   (5-minute slots, used when it explains the series better than the level alone), on a log scale for counts
 *   and latencies; band = expected ± the noise at this hour × the edges the learned tails (tails.ts) give for
 *   two buckets in three at the rarity `pagesPerYear`.
 *
 * A bucket outside the band is an anomaly, and so is a value stuck longer than the series repeats one by
 * chance; one past the single-bucket edge of that rarity is extreme. Pure, causal, O(1) per bucket; the state
 * is a few kilobytes of base64. How and why, every constant: docs/engine.md.
 */

import { dayMs, hourMs, minuteMs, weekMs } from '../time.ts';
import type { BandSettings } from './engine.ts';
import { learnProfile, readProfile, slotPosition } from './seasonal-profile.ts';
import { countDeviation, deviationAt, independence, pairDeviationAt, tailRungs, tailShape } from './tails.ts';

/** Mean absolute deviation × this = standard deviation, for normal data. */
const madToSd = 1.2533;

/** The band's constants: what each one is for, in one place. */
export const bandTuning = {
  /** Time constant of the level, learned outside departures (ms). */
  levelMs: 12 * hourMs,
  /** Share of a day's news a daily profile slot learns each day (a young profile: a running mean of its days). */
  profileRate: 0.2,
  /** Time constant of the noise scale (ms). */
  scaleMs: 3 * dayMs,
  /** How long the tails remember (ms). */
  tailMemoryMs: 14 * dayMs,
  /** The first buckets learn level and noise as plain averages, from every bucket; none is an anomaly. */
  warmUpBuckets: 60,
  /** Daily profile slots (5 minutes each), and noise slots (an hour each). */
  dailySlots: 288,
  scaleSlots: 24,
  /** The daily profile is used when it cuts the level's error by this share, over two weeks of errors. */
  seasonGain: 0.1,
  seasonErrorMs: 14 * dayMs,
  /** Departures remembered to recognise weekly events, and how far an event's timing may move (ms). */
  episodes: 16,
  episodeToleranceMs: 5 * minuteMs,
  /** Buckets in a row inside that end a departure. */
  departureEndBuckets: 3,
  /** The edges are re-read from the tails every this many buckets. */
  refreshBuckets: 32,
  /** Time constant of the running mean of deviations that sees a shift too small for any one bucket (ms). */
  sustainMs: 30 * minuteMs,
} as const;

/**
 * Pages a year a normal series would get from the default rule at a sensitivity: one in fifty years at the
 * default 0.5, ten times more per 0.25 of sensitivity. O(1).
 *
 * @example pagesPerYear(0.5) // 0.02
 */
export const pagesPerYear = (sensitivity: number): number =>
  0.02 * 10 ** (4 * ((Number.isFinite(sensitivity) ? Math.min(1, Math.max(0, sensitivity)) : 0.5) - 0.5));

/** What the band says of a bucket. */
export interface BandReading {
  expected: number;
  lower: number;
  upper: number;
  /** Outside the band, on a side the settings watch, once the band has its minimum history. */
  anomaly: boolean;
  /** Past the single-bucket edge as well: one such bucket is enough to page. */
  extreme: boolean;
  /** This bucket made a departure that lasted `relearnAfterMs` the new level. */
  relearned: boolean;
  /**
   * The value has stayed exactly the same for longer than a series that moves like this one would by chance
   * (once in the band's rarity): an agent or a counter stuck. Anomalous even inside the band.
   */
  stuck: boolean;
}

/** The scalars of a band, stored in this order as float64s. */
/** The scalars' names, in the order they are stored. */
const scalarNames = Object.keys(freshScalars()) as (keyof Scalars)[];
type Scalars = ReturnType<typeof freshScalars>;

/** The arrays of a band, stored as float32s in this order. */
const arrayLengths = {
  daily: bandTuning.dailySlots,
  dailyScale: bandTuning.scaleSlots,
  weekday: 7,
  /** Each weekday's last three deviations (newest first), and how many of them it has had (up to three). */
  weekdayMeans: 21,
  weekdayCount: 7,
  dayMeans: 7,
  up: tailRungs,
  down: tailRungs,
  pairUp: tailRungs,
  pairDown: tailRungs,
  sustainedUp: tailRungs,
  sustainedDown: tailRungs,
} as const;
type Arrays = Record<keyof typeof arrayLengths, Float32Array> & { readonly all: Float32Array };
/** Where each array starts in the one buffer they share, and the buffer's length. */
const arrayLayout = Object.entries(arrayLengths).map(([name, length], index, entries) => ({
  name: name as keyof typeof arrayLengths,
  offset: entries.slice(0, index).reduce((sum, [, before]) => sum + before, 0),
  length,
}));
const arraysLength = Object.values(arrayLengths).reduce((sum, length) => sum + length, 0);

/** A departure the series made: start, end, and its largest deviation (signed). Kept as three float64s. */
const episodeFields = 3;

/** The band's state as stored: base64 of its float64 scalars, float32 arrays and float64 episodes. */
export interface StoredBand {
  readonly scalars: string;
  readonly arrays: string;
  readonly episodes: string;
}

export class SeasonalBand {
  private readonly s: Scalars;
  private readonly a: Arrays;
  /** Recent departures (start, end, largest deviation), oldest first. */
  private readonly episodes: number[];
  private readonly target: number;
  /** The reading of the last bucket (one object, written over by each update: no allocation per bucket). */
  private readonly reading: BandReading = {
    expected: 0,
    lower: 0,
    upper: 0,
    anomaly: false,
    extreme: false,
    relearned: false,
    stuck: false,
  };

  constructor(
    private readonly settings: BandSettings,
    stored?: StoredBand,
  ) {
    const restored = stored && decode(stored);
    this.s = restored?.scalars ?? freshScalars();
    this.a = restored?.arrays ?? freshArrays();
    this.episodes = restored?.episodes ?? [];
    this.target = pagesPerYear(settings.sensitivity);
  }

  /** What the band has learned of the series' seasonality (after two days), for listings. */
  seasonality(): 'none' | 'daily' | 'weekly' | 'daily+weekly' | null {
    const s = this.s;
    if (s.points === 0 || s.last - s.first < 2 * dayMs) return null;
    const weekly = this.a.weekday.some((value) => Math.abs(value) > 2 * s.scale);
    if (s.season === 1) return weekly ? 'daily+weekly' : 'daily';
    return weekly ? 'weekly' : 'none';
  }

  toState(): StoredBand {
    const scalars = new Float64Array(scalarNames.length);
    for (let index = 0; index < scalarNames.length; index++)
      scalars[index] = this.s[scalarNames[index] ?? 'points'];
    return {
      scalars: base64(scalars),
      // Every array is a view of one buffer, stored as it is.
      arrays: base64(this.a.all),
      episodes: base64(new Float64Array(this.episodes)),
    };
  }

  /** Reads and learns one bucket. The reading returned is written over by the next update. */
  update(timestamp: number, value: number): Readonly<BandReading> {
    const s = this.s;
    const a = this.a;
    this.chooseDomain(value, timestamp);
    if (value < s.smallest) s.smallest = value;
    if (s.points === 0) {
      s.first = timestamp;
      s.last = timestamp;
    }
    const gap = timestamp - s.last;
    if (gap > 0)
      s.interval = s.interval === 0 ? gap : s.interval + 0.05 * (Math.min(gap, 4 * s.interval) - s.interval);
    const interval = s.interval || minuteMs;
    // A silence is no incident: what the last buckets said is forgotten, and learning goes on after it.
    if (gap > 6 * interval) this.forgetRecent();
    s.last = Math.max(s.last, timestamp);

    const y = this.toDomain(value);
    if (s.points === 0) {
      s.level = y;
    }
    const weekday = (Math.floor(timestamp / dayMs) + 3) % 7; // Monday is 0 (1970-01-01 was a Thursday)
    if (weekday !== s.today) this.closeDay(weekday, interval);
    const dayPosition = slotPosition(timestamp, dayMs, bandTuning.dailySlots);
    const scalePosition = slotPosition(timestamp, dayMs, bandTuning.scaleSlots);
    const weekdayPart = a.weekday[weekday] ?? 0;
    const dailyPart = readProfile(a.daily, dayPosition);
    const expectedY = s.level + weekdayPart + (s.season === 1 ? dailyPart : 0);
    // The noise at this hour: the series' scale times the hour's share of it (noise is larger when busy). A
    // count is never less noisy than counting: on its log scale, 1 / sqrt(expected + 1) (a quiet weekend night
    // counting 5 a minute swings far more than the busy hours the scale learned from).
    const scale = Math.max(
      s.scale * readProfile(a.dailyScale, scalePosition),
      1e-9 * Math.max(1, Math.abs(expectedY)),
      this.counting ? Math.exp(-0.5 * Math.min(expectedY, 700)) : 0,
    );
    const residual = y - expectedY;
    const z = residual / scale;
    // The running mean of the deviations (each clipped at four noise units: a spike is the band's business),
    // standardized so that independent normal buckets give it unit spread: a shift of two noise units that no
    // single bucket shows is plain in half an hour of them.

    // The edges move slowly: re-read every few buckets (and kept in the state, so a restored band reads the same).
    if (s.points % bandTuning.refreshBuckets === 0 || s.edgeUp === 0) this.refresh(interval);
    let upperY = expectedY + s.edgeUp * scale;
    let lowerY = expectedY - s.edgeDown * scale;
    const baseUpper = upperY;
    const baseLower = lowerY;
    // Outside the band without weekly events: what departures (and weekly events) are measured against.
    const outsideBase = y > baseUpper || y < baseLower;
    // A weekly event seen at this time one or two weeks before is normal: the band covers it.
    const event = this.weeklyEvent(timestamp, interval);
    if (event > 0) upperY = Math.max(upperY, expectedY + 1.1 * event + s.edgeUp * scale);
    if (event < 0) lowerY = Math.min(lowerY, expectedY + 1.1 * event - s.edgeDown * scale);
    let outside = y > upperY || y < lowerY;
    // The running mean sees what no single bucket shows: buckets outside the band (the band's own business, which
    // would linger in the mean after they end) and a weekly event's buckets on its side (expected) add nothing.
    const sustainRate = Math.min(0.5, interval / bandTuning.sustainMs);
    const seen = outsideBase || (event !== 0 && Math.sign(event) === Math.sign(z));
    s.meanZ += sustainRate * ((seen ? 0 : clamp(z, -4, 4)) - s.meanZ);
    const meanZ = s.meanZ / Math.sqrt(sustainRate / (2 - sustainRate));
    // What the bucket is shown against: the band, or the former level's when the series is back at it.
    let shownShift = 0;
    if (timestamp < s.formerUntil) {
      // Back to the level the series had before a departure was accepted, two buckets in a row: the old level is
      // back, not news (one noisy bucket is not a return).
      const shift = s.formerLevel - s.level;
      const back = outside && y > lowerY + shift && y < upperY + shift;
      s.backRun = back ? s.backRun + 1 : 0;
      // A bucket at the former level is not news (it was normal hours ago): its band reaches the former level's
      // too. Only two in a row set the level back (one noisy bucket does not), and show the former band alone.
      if (s.backRun >= 2) {
        s.level = s.formerLevel;
        s.meanZ = 0;
        s.formerUntil = 0;
        s.backRun = 0;
        shownShift = shift;
        upperY += shift;
        lowerY += shift;
      } else if (back) {
        upperY = Math.max(upperY, upperY + shift);
        lowerY = Math.min(lowerY, lowerY + shift);
      }
      if (back) outside = false;
    }

    const warm = s.points >= bandTuning.warmUpBuckets && timestamp - s.first >= this.settings.minHistoryMs;
    const side = residual > 0 ? 1 : -1;
    const direction = this.settings.direction;
    const wanted = direction === 'both' || (direction === 'above') === side > 0;
    // A value that stays exactly the same in a series that usually moves: as rare as the band says, it is stuck.
    const repeated = s.points > 0 && value === s.lastValue;
    s.repeatRun = repeated ? s.repeatRun + 1 : 0;
    const target = (this.target * interval) / (365 * dayMs);
    // Only in a series that seldom repeats a value, and not at a value it has as a floor or a ceiling (zero, 100 %).
    const stuck =
      warm &&
      s.repeatRun >= 2 &&
      s.repeatFrequency < 0.05 &&
      value > s.smallest &&
      value < s.largest &&
      Math.max(s.repeatFrequency, 1e-3) ** s.repeatRun < target;
    s.repeatFrequency +=
      Math.max(1 / (s.points + 1), interval / bandTuning.tailMemoryMs) *
      ((repeated ? 1 : 0) - s.repeatFrequency);
    s.lastValue = value;
    if (value > s.largest) s.largest = value;
    // A shift too small for one bucket, held long enough to move the running mean past its own learned edge.
    // It must be a shift of at least one noise unit: a smaller one is the model's bias, not an incident. And
    // only on the log scale (counts, latencies), where weekends and busy hours are ratios as the model has them:
    // on a plain gauge a multiplicative weekly pattern leaves the additive model a bias of a few noise units.
    const shifted = s.offset > 0 && Math.abs(s.meanZ) >= 1;
    const sustainedSide = !shifted ? 0 : meanZ > s.sustainUp ? 1 : -meanZ > s.sustainDown ? -1 : 0;
    const sustained =
      warm && sustainedSide !== 0 && (direction === 'both' || (direction === 'above') === sustainedSide > 0);
    const anomaly = warm && ((wanted && (outside || stuck)) || sustained);
    const extreme = anomaly && (side > 0 ? z > s.extremeUp : -z > s.extremeDown);
    // Departures are tracked against the band without weekly events: an event is a departure too, which is how
    // it is remembered week to week.
    const relearned = this.track(
      timestamp,
      residual,
      outsideBase || sustainedSide !== 0,
      outsideBase || sustainedSide === 0 ? side : sustainedSide,
    );
    // What may be a weekly event is remembered whether or not the band (wide while young) calls it a departure:
    // a bucket past a normal noise's once-in-a-decade (4.5 of them) is notable.
    this.note(
      timestamp,
      residual,
      Math.abs(z) > Math.min(4.5, side > 0 ? s.edgeUp : s.edgeDown),
      side,
      interval,
    );
    this.learn(
      timestamp,
      y,
      residual,
      z,
      scale,
      interval,
      weekdayPart,
      dailyPart,
      dayPosition,
      scalePosition,
      event !== 0 && outsideBase,
      meanZ,
    );
    s.points += 1;
    const reading = this.reading;
    reading.expected = this.fromDomain(expectedY + shownShift);
    reading.lower = this.fromDomain(lowerY);
    reading.upper = this.fromDomain(upperY);
    if (!Number.isFinite(reading.lower + reading.upper + s.level + s.scale)) {
      // Values that broke the arithmetic (adversarial extremes in a young series): the band starts afresh
      // from this bucket rather than carry a number no store can keep.
      this.restart(timestamp, value);
      reading.expected = value;
      reading.lower = value;
      reading.upper = value;
      reading.anomaly = false;
      reading.extreme = false;
      reading.stuck = false;
      return reading;
    }
    reading.anomaly = anomaly;
    reading.extreme = extreme;
    reading.relearned = relearned;
    reading.stuck = stuck;
    return reading;
  }

  /** Whether the series is a count judged on its log scale (whole numbers, log(value + 1)). */
  private get counting(): boolean {
    return this.settings.kind === 'count' && this.s.offset === 1;
  }

  /** The smallest value the series has shown (for the bounds of its kind). */
  smallestSeen(): number {
    return this.s.smallest;
  }

  private toDomain(value: number): number {
    const offset = this.s.offset;
    return offset > 0 ? Math.log(Math.max(value, 0) + offset) : value;
  }

  private fromDomain(y: number): number {
    const offset = this.s.offset;
    return offset > 0 ? Math.exp(Math.min(y, 700)) - offset : y;
  }

  /** Counts and latencies vary by ratios: judged on a log scale; every other series as it is. */
  private chooseDomain(value: number, timestamp: number): void {
    const s = this.s;
    if (s.offset === 0) {
      const multiplicative = this.settings.kind === 'count' || this.settings.kind === 'latency';
      if (value < 0 || !multiplicative) s.offset = -1;
      else if (value > 0 || s.points >= 5) s.offset = Number.isInteger(value) ? 1 : 0.05 * value;
    } else if (value < 0 && s.offset > 0) {
      // A count that goes below zero is no count: judged as it is, from now on, learned again.
      Object.assign(this.s, freshScalars(), { offset: -1, first: timestamp, last: timestamp });
      Object.assign(this.a, freshArrays());
      this.episodes.length = 0;
    }
  }

  private refresh(interval: number): void {
    const s = this.s;
    const a = this.a;
    // The band's rarity per bucket: a page every 1 / pagesPerYear years from two buckets in three.
    const target = (this.target * interval) / (365 * dayMs);
    const tail = (counts: Float32Array) => ({ counts, total: s.counted, unit: s.unit });
    const shapeUp = tailShape(tail(a.up));
    const shapeDown = tailShape(tail(a.down));
    s.edgeUp = pairDeviationAt(shapeUp, independence(tail(a.pairUp), shapeUp), target);
    s.edgeDown = pairDeviationAt(shapeDown, independence(tail(a.pairDown), shapeDown), target);
    s.extremeUp = deviationAt(shapeUp, target);
    s.extremeDown = deviationAt(shapeDown, target);
    // The running mean passes its edge in runs some sustainMs long: a page per run, so each bucket may pass it
    // that many times more often.
    const runBuckets = Math.max(1, bandTuning.sustainMs / interval);
    const sustainTarget = Math.min(0.01, target * runBuckets);
    s.sustainUp = deviationAt(tailShape(tail(a.sustainedUp)), sustainTarget);
    s.sustainDown = deviationAt(tailShape(tail(a.sustainedDown)), sustainTarget);
    // Tails a pathological series has broken read as a normal's (4.2 at these rarities) until they mend.
    for (const edge of [
      'edgeUp',
      'edgeDown',
      'extremeUp',
      'extremeDown',
      'sustainUp',
      'sustainDown',
    ] as const) {
      if (!Number.isFinite(s[edge]) || s[edge] <= 0) s[edge] = 4.2;
    }
  }

  /**
   * A day ended: its mean, less the median of the other days' last means (the series' typical day that week),
   * joins its weekday's last three deviations, and the weekday's part is the median of those it has. Day means
   * are taken as they were, not from a level that may have followed a weekend: the part does not depend on what
   * the level did. The first day has no other day to be measured against.
   */
  private closeDay(weekday: number, interval: number): void {
    const s = this.s;
    const a = this.a;
    if (s.today >= 0 && s.todayBuckets >= (0.5 * dayMs) / interval) {
      const others: number[] = [];
      for (let day = 0; day < 7; day++)
        if (day !== s.today && s.daysSeen & (1 << day)) others.push(a.dayMeans[day] ?? 0);
      a.dayMeans[s.today] = s.todaySum / s.todayBuckets;
      s.daysSeen = s.daysSeen | (1 << s.today);
      // The first day has no other to be measured against: it teaches nothing of its weekday.
      if (others.length > 0) {
        const typical = median(others);
        const at = 3 * s.today;
        const means = a.weekdayMeans;
        means[at + 2] = means[at + 1] ?? 0;
        means[at + 1] = means[at] ?? 0;
        means[at] = (a.dayMeans[s.today] ?? 0) - typical;
        const count = Math.min(3, (a.weekdayCount[s.today] ?? 0) + 1);
        a.weekdayCount[s.today] = count;
        a.weekday[s.today] = median(Array.from(means.subarray(at, at + count)));
      }
    }
    s.today = weekday;
    s.todaySum = 0;
    s.todayBuckets = 0;
  }

  private learn(
    timestamp: number,
    y: number,
    residual: number,
    z: number,
    scale: number,
    interval: number,
    weekdayPart: number,
    dailyPart: number,
    dayPosition: number,
    scalePosition: number,
    inEvent: boolean,
    meanZ: number,
  ): void {
    const s = this.s;
    const a = this.a;
    const young = s.points < bandTuning.warmUpBuckets;
    // Nothing is learned from a departure, nor from a weekly event's buckets outside the band it widens (its
    // first bucket, before it is a departure, would teach the level and the noise the deploy).
    const protectedLearning = (s.side === 0 && !inEvent) || young;
    const firstRate = young ? 1 / (s.points + 1) : 0;
    const age = timestamp - s.first;
    const bandLow = -s.edgeDown * scale;
    const bandHigh = s.edgeUp * scale;
    const wideLimit = 6 * scale;
    // The day's mean takes every bucket as it is, clipped far out from what was expected (a spike does not make a
    // day), not at the band: a weekend 60 % down is 12 noises out. Not less the daily profile: it changes while it
    // is learned, and every whole day carries the same one.
    const usual = s.level + weekdayPart;
    s.todaySum += usual + dailyPart + clamp(y - usual - dailyPart, -4 * wideLimit, 4 * wideLimit);
    s.todayBuckets += 1;
    // The model in use learns only outside departures, from residuals clipped to the band: an incident does not
    // become the normal. The daily profile, while the season does not use it, is a candidate: it learns from
    // every bucket, clipped wider. The season is chosen on every bucket, clipped alike.
    if (protectedLearning)
      s.level +=
        Math.max(Math.min(1, interval / bandTuning.levelMs), firstRate) * clamp(residual, bandLow, bandHigh);
    if (protectedLearning || s.season === 0) {
      const dayShare = Math.max(bandTuning.profileRate, 1 / (1 + Math.floor(age / dayMs)));
      // A slot learns dayShare a day: from each bucket in it, or from the one bucket that lands on it.
      const rate = dayShare * Math.min(1, (interval * bandTuning.dailySlots) / dayMs);
      const own = y - s.level - weekdayPart - dailyPart;
      learnProfile(
        a.daily,
        dayPosition,
        dailyPart + (s.season === 1 ? clamp(own, bandLow, bandHigh) : clamp(own, -wideLimit, wideLimit)),
        rate,
      );
    }
    const errorRate = Math.min(1, interval / bandTuning.seasonErrorMs);
    s.errorNone += errorRate * (Math.min(Math.abs(y - s.level - weekdayPart), wideLimit) - s.errorNone);
    s.errorDaily +=
      errorRate * (Math.min(Math.abs(y - s.level - weekdayPart - dailyPart), wideLimit) - s.errorDaily);
    // The daily profile is taken up when it cuts the error by seasonGain, and dropped only when it no longer cuts
    // it at all: a series near the line does not flip between the two.
    if (age >= 2 * dayMs) {
      if (s.season === 0 && s.errorDaily < (1 - bandTuning.seasonGain) * s.errorNone) {
        s.season = 1;
        this.startTails();
      } else if (s.season === 1 && s.errorDaily >= s.errorNone) s.season = 0;
    }
    if (!protectedLearning) return;
    const absolute = (s.scale === 0 ? Math.abs(residual) : Math.min(Math.abs(residual), 4 * scale)) * madToSd;
    const scaleRate = Math.max(Math.min(1, interval / bandTuning.scaleMs), 1 / (s.scaleCount + 1));
    s.scale = s.scale === 0 ? absolute : s.scale + scaleRate * (absolute - s.scale);
    s.scaleCount += 1;
    if (s.scale > 0) {
      const rate = bandTuning.profileRate * Math.min(1, (interval * bandTuning.scaleSlots) / dayMs);
      learnProfile(a.dailyScale, scalePosition, Math.min(absolute / s.scale, 4), rate);
    }
    // The tails: single deviations, and the 2-of-3 statistic (this one and the larger of the two before),
    // clipped to twice the band's edges: a tail that reaches past them widens the band step by step, while one
    // freak bucket cannot throw it wide at once. Older buckets fade: each new one weighs a little more
    // (`unit`), and every count is brought back down now and then.
    s.unit /= Math.exp(-Math.min(interval, bandTuning.tailMemoryMs) / bandTuning.tailMemoryMs);
    s.counted += s.unit;
    const clipped = Math.max(-2 * s.edgeDown, Math.min(2 * s.edgeUp, z));
    countDeviation(clipped > 0 ? a.up : a.down, Math.abs(clipped), s.unit);
    const pairUp = Math.min(clipped, Math.max(s.previousZ, s.earlierZ));
    const pairDown = Math.min(-clipped, Math.max(-s.previousZ, -s.earlierZ));
    if (pairUp > 0) countDeviation(a.pairUp, pairUp, s.unit);
    if (pairDown > 0) countDeviation(a.pairDown, pairDown, s.unit);
    s.earlierZ = s.previousZ;
    s.previousZ = clipped;
    countDeviation(meanZ > 0 ? a.sustainedUp : a.sustainedDown, Math.abs(meanZ), s.unit);
    if (s.unit > 1e6) {
      for (const counts of [a.up, a.down, a.pairUp, a.pairDown, a.sustainedUp, a.sustainedDown]) {
        for (let rung = 0; rung < counts.length; rung++) counts[rung] = (counts[rung] ?? 0) / s.unit;
      }
      s.counted /= s.unit;
      s.unit = 1;
    }
  }

  /**
   * Tracks departures (two of three buckets outside on one side, then until three in a row inside) and accepts
   * one that lasts `relearnAfterMs` as the new level; true when it did.
   */
  private track(timestamp: number, residual: number, outside: boolean, side: number): boolean {
    const s = this.s;
    s.recent0 = s.recent1;
    s.recent1 = s.recent2;
    s.recent2 = outside ? side : 0;
    // When the run of buckets outside on this side began (a departure is remembered from its first bucket).
    if (!outside) s.outsideSince = 0;
    else if (s.outsideSince === 0 || (s.recent1 !== side && s.recent0 !== side)) s.outsideSince = timestamp;
    const sustained =
      (s.recent0 === side ? 1 : 0) + (s.recent1 === side ? 1 : 0) + (s.recent2 === side ? 1 : 0) >= 2;
    if (outside && (s.side === side || sustained)) {
      if (s.side !== side) {
        s.side = side;
        s.since = s.outsideSince || timestamp;
        s.departureSum = 0;
        s.departureCount = 0;
        s.departureMax = 0;
      }
      s.insideRun = 0;
      s.departureSum += residual;
      s.departureCount += 1;
      s.departureMax = Math.max(s.departureMax, Math.abs(residual));
      // Not before two weeks of history: what departs may be the series' weekly pattern, not learned yet.
      const relearnAfter = this.settings.relearnAfterMs ?? 6 * hourMs;
      if (timestamp - s.since >= relearnAfter && timestamp - s.first >= 2 * weekMs) {
        s.formerLevel = s.level;
        s.formerUntil = timestamp + dayMs;
        s.level += s.departureSum / s.departureCount;
        s.meanZ = 0;
        s.side = 0;
        s.departureCount = 0;
        s.recent0 = 0;
        s.recent1 = 0;
        s.recent2 = 0;
        return true;
      }
    } else if (s.side !== 0) {
      s.insideRun += 1;
      if (s.insideRun >= bandTuning.departureEndBuckets) {
        s.side = 0;
        s.insideRun = 0;
      }
    }
    return false;
  }

  /**
   * The model changed (the daily profile or the weekdays taken up): its errors are another distribution, so the
   * tails start again from the prior, and the noise scale as a running mean of the new model's residuals.
   */
  private startTails(): void {
    const s = this.s;
    const a = this.a;
    for (const counts of [a.up, a.down, a.pairUp, a.pairDown, a.sustainedUp, a.sustainedDown]) counts.fill(0);
    s.counted = 0;
    s.unit = 1;
    s.edgeUp = 0;
    s.scaleCount = 0;
  }

  private restart(timestamp: number, value: number): void {
    Object.assign(this.s, freshScalars());
    Object.assign(this.a, freshArrays());
    this.episodes.length = 0;
    this.update(timestamp, value);
  }

  private forgetRecent(): void {
    const s = this.s;
    this.closeEvent();
    s.side = 0;
    s.insideRun = 0;
    s.recent0 = 0;
    s.recent1 = 0;
    s.recent2 = 0;
    s.previousZ = 0;
    s.earlierZ = 0;
    s.meanZ = 0;
  }

  /**
   * Follows runs of notable buckets on one side (a gap of up to three buckets inside does not end one) and
   * remembers the short ones: what a weekly event is recognised from a week and two weeks later.
   */
  private note(timestamp: number, residual: number, notable: boolean, side: number, interval: number): void {
    const s = this.s;
    if (notable && s.eventSide === side) {
      s.eventEnd = timestamp;
      s.eventMax = Math.max(s.eventMax, Math.abs(residual));
    } else if (notable) {
      this.closeEvent();
      s.eventSide = side;
      s.eventStart = timestamp;
      s.eventEnd = timestamp;
      s.eventMax = Math.abs(residual);
    } else if (s.eventSide !== 0 && timestamp - s.eventEnd > bandTuning.departureEndBuckets * interval) {
      this.closeEvent();
    }
  }

  private closeEvent(): void {
    const s = this.s;
    // A weekly event is short; a departure that lasts (a weekend, an outage) is the level's and the weekday's.
    const short = s.eventEnd - s.eventStart < (this.settings.relearnAfterMs ?? 6 * hourMs);
    if (s.eventSide !== 0 && short) {
      this.episodes.push(s.eventStart, s.eventEnd, s.eventSide * s.eventMax);
      while (this.episodes.length > bandTuning.episodes * episodeFields) this.forgetEpisode(s.eventEnd);
    }
    s.eventSide = 0;
  }

  /**
   * Makes room for a run: forgets one older than two weeks (no longer a precedent), or else the shortest (a
   * lone noisy bucket before a half-hour deploy), the older of equals.
   */
  private forgetEpisode(now: number): void {
    const episodes = this.episodes;
    let forget = 0;
    for (let at = 0; at < episodes.length; at += episodeFields) {
      const end = episodes[at + 1] ?? 0;
      if (now - end > 2 * weekMs + hourMs) {
        forget = at;
        break;
      }
      const length = end - (episodes[at] ?? 0);
      if (length < (episodes[forget + 1] ?? 0) - (episodes[forget] ?? 0)) forget = at;
    }
    episodes.splice(forget, episodeFields);
  }

  /**
   * The size (signed, in the band's domain) of a weekly event at this time one week or two weeks before (the
   * larger, when both on one side; none when on opposite sides). Either is enough: the week that did not show it
   * is most often the second, when the young band was too wide to notice a deploy.
   */
  private weeklyEvent(timestamp: number, interval: number): number {
    const tolerance = Math.max(bandTuning.episodeToleranceMs, interval);
    let lastWeek = 0;
    let weekBefore = 0;
    for (let at = 0; at < this.episodes.length; at += episodeFields) {
      const start = (this.episodes[at] ?? 0) - tolerance;
      const end = (this.episodes[at + 1] ?? 0) + tolerance;
      const size = this.episodes[at + 2] ?? 0;
      if (timestamp - weekMs >= start && timestamp - weekMs <= end) lastWeek = size;
      if (timestamp - 2 * weekMs >= start && timestamp - 2 * weekMs <= end) weekBefore = size;
    }
    if (lastWeek === 0 || weekBefore === 0) return lastWeek || weekBefore;
    if (Math.sign(lastWeek) !== Math.sign(weekBefore)) return 0;
    return lastWeek > 0 ? Math.max(lastWeek, weekBefore) : Math.min(lastWeek, weekBefore);
  }
}

/** `x` within [low, high]. */
const clamp = (x: number, low: number, high: number): number => Math.min(high, Math.max(low, x));

/** The median of a few numbers (sorts them in place). */
function median(values: number[]): number {
  values.sort((x, y) => x - y);
  const middle = values.length >> 1;
  return values.length % 2 === 1
    ? (values[middle] ?? 0)
    : ((values[middle - 1] ?? 0) + (values[middle] ?? 0)) / 2;
}

function freshScalars() {
  // One object literal: every band's scalars share one hidden class (restored ones too), so update() stays fast.
  return {
    points: 0,
    first: 0,
    last: 0,
    interval: 0,
    offset: 0,
    smallest: Number.MAX_VALUE,
    level: 0,
    daysSeen: 0,
    scale: 0,
    today: -1,
    todaySum: 0,
    todayBuckets: 0,
    errorNone: 0,
    errorDaily: 0,
    season: 0,
    counted: 0,
    unit: 1,
    previousZ: 0,
    earlierZ: 0,
    side: 0,
    since: 0,
    insideRun: 0,
    departureSum: 0,
    departureCount: 0,
    departureMax: 0,
    recent0: 0,
    recent1: 0,
    recent2: 0,
    formerLevel: 0,
    formerUntil: 0,
    edgeUp: 0,
    edgeDown: 0,
    extremeUp: 0,
    extremeDown: 0,
    lastValue: 0,
    repeatRun: 0,
    repeatFrequency: 0,
    largest: -Number.MAX_VALUE,
    backRun: 0,
    outsideSince: 0,
    eventSide: 0,
    eventStart: 0,
    eventEnd: 0,
    eventMax: 0,
    scaleCount: 0,
    meanZ: 0,
    sustainUp: 0,
    sustainDown: 0,
  };
}

/** The arrays as views of one buffer (`all`, new unless given): restored and stored without copying. */
function freshArrays(restored?: Float32Array): Arrays {
  const all = restored ?? new Float32Array(arraysLength);
  const arrays = { all } as { all: Float32Array } & Partial<Record<keyof typeof arrayLengths, Float32Array>>;
  for (const { name, offset, length } of arrayLayout) arrays[name] = all.subarray(offset, offset + length);
  // Noise by hour starts at the series' noise.
  if (!restored) arrays.dailyScale?.fill(1);
  return arrays as Arrays;
}

const base64 = (values: Float64Array | Float32Array): string =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');

function bytesOf(text: unknown): Uint8Array | undefined {
  return typeof text === 'string' ? new Uint8Array(Buffer.from(text, 'base64')) : undefined;
}

function allFinite(values: Float32Array | Float64Array): boolean {
  for (let index = 0; index < values.length; index++) if (!Number.isFinite(values[index])) return false;
  return true;
}

/** A stored band read back; undefined when it is not a whole one (the band then starts afresh). */
function decode(stored: StoredBand): { scalars: Scalars; arrays: Arrays; episodes: number[] } | undefined {
  const scalarBytes = bytesOf(stored.scalars);
  const arrayBytes = bytesOf(stored.arrays);
  const episodeBytes = bytesOf(stored.episodes);
  if (!scalarBytes || !arrayBytes || !episodeBytes) return undefined;
  if (scalarBytes.byteLength !== scalarNames.length * 8 || arrayBytes.byteLength !== arraysLength * 4)
    return undefined;
  if (episodeBytes.byteLength % (8 * episodeFields) !== 0) return undefined;
  const scalarValues = new Float64Array(scalarNames.length);
  new Uint8Array(scalarValues.buffer).set(scalarBytes);
  const arrayValues = new Float32Array(arraysLength);
  new Uint8Array(arrayValues.buffer).set(arrayBytes);
  const episodeValues = new Float64Array(episodeBytes.byteLength / 8);
  new Uint8Array(episodeValues.buffer).set(episodeBytes);
  if (!allFinite(scalarValues) || !allFinite(arrayValues)) return undefined;
  const scalars = freshScalars();
  for (let index = 0; index < scalarNames.length; index++) {
    scalars[scalarNames[index] ?? 'points'] = scalarValues[index] ?? 0;
  }
  return { scalars, arrays: freshArrays(arrayValues), episodes: Array.from(episodeValues) };
}
