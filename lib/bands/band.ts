/**
 * The band of normalcy: what a series does at this time of day and week, and how far it wanders from that
 * when nothing is wrong. It is the series' normal, not its recent past: only buckets outside departures teach
 * it, a weekly event seen one or two weeks before is inside it, and a departure that lasts `relearnAfterMs` on
 * one side is accepted as the new level.
 *
 *   expected = level (12 h) + the weekday's level (weekdays.ts) + the daily profile (5-minute slots, used when
 *   it explains the series better than the level alone), on a log scale for counts and latencies; band =
 *   expected ± the noise at this hour × the edges the learned tails (tails.ts) give for two buckets in three at
 *   the rarity `pagesPerYear`, widened over a weekly event (weekly-events.ts).
 *
 * A bucket outside the band is an anomaly, and so is a value stuck longer than the series repeats one by
 * chance, a running mean of deviations past its own learned edge, or a sparse count's running total past a
 * Poisson's edge (counting.ts); one past the single-bucket edge of that rarity is extreme. Pure, causal, O(1)
 * per bucket; the state (band-state.ts) is a few kilobytes.
 * How and why, every constant (band-tuning.ts): docs/engine.md.
 */

import { dayMs, minuteMs, weekMs } from '../time.ts';
import {
  type Arrays,
  type BandState,
  freshBandState,
  resetBandState,
  type Scalars,
  writeBandState,
} from './band-state.ts';
import { bandTuning, defaultRelearnAfterMs, pagesPerYear } from './band-tuning.ts';
import { countDeviate, rateOfMeanLog } from './counting.ts';
import type { BandSettings } from './engine.ts';
import type { StateWriter } from './packed-state.ts';
import { learnProfile, readProfile, slotPosition } from './seasonal-profile.ts';
import {
  countDeviation,
  deviationAt,
  independence,
  normalShape,
  pairDeviationAt,
  tailShape,
} from './tails.ts';
import { closeDay, weekdayOf } from './weekdays.ts';
import { closeRun, noteRun, weeklyEvent } from './weekly-events.ts';

export type { StoredBand } from './band-state.ts';
export { bandTuning, pagesPerYear } from './band-tuning.ts';

/** Mean absolute deviation × this = standard deviation, for normal data. */
const madToSd = 1.2533;

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

/**
 * What the band works out for one bucket, step by step (one object per band, written over by each update: no
 * allocation per bucket). Values ending in Y are in the band's domain (log for counts and latencies).
 */
class Bucket {
  timestamp = 0;
  value = 0;
  interval = 0;
  y = 0;
  dayPosition = 0;
  scalePosition = 0;
  weekdayPart = 0;
  dailyPart = 0;
  expectedY = 0;
  /** The noise at this hour, and the bucket's residual in it. */
  scale = 0;
  residual = 0;
  z = 0;
  upperY = 0;
  lowerY = 0;
  /** Outside the band without weekly events: what departures (and weekly events) are measured against. */
  outsideBase = false;
  /** The size of a weekly event at this time (0: none). */
  event = 0;
  outside = false;
  /** The running mean of deviations, standardized. */
  meanZ = 0;
  /** How far the band is shown moved to the former level the series came back to. */
  shownShift = 0;
  /** The count a bucket is expected to have (a Poisson's rate; counts judged as counts only). */
  countRate = 0;
  /** The running count against the one expected, as a standard normal deviate. */
  countZ = 0;
}

export class SeasonalBand {
  private readonly state: BandState;
  private readonly s: Scalars;
  private readonly a: Arrays;
  private readonly target: number;
  private readonly relearnAfterMs: number;
  private readonly bucket = new Bucket();
  /** The edge of the running count's deviate at the band's rarity (from the settings and the step; not stored). */
  private countEdge = 0;
  private countEdgeInterval = 0;
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
    restored?: BandState,
  ) {
    this.state = restored ?? freshBandState();
    this.s = this.state.s;
    this.a = this.state.a;
    this.target = pagesPerYear(settings.sensitivity);
    this.relearnAfterMs = settings.relearnAfterMs ?? defaultRelearnAfterMs;
  }

  /** What the band has learned of the series' seasonality (after two days), for listings. */
  seasonality(): 'none' | 'daily' | 'weekly' | 'daily+weekly' | null {
    const s = this.s;
    if (s.points === 0 || s.last - s.first < 2 * dayMs) return null;
    const weekly = this.a.weekday.some((value) => Math.abs(value) > 2 * s.scale);
    if (s.season === 1) return weekly ? 'daily+weekly' : 'daily';
    return weekly ? 'weekly' : 'none';
  }

  /** The band's state into `writer` (see band-state.ts). */
  write(writer: StateWriter): void {
    writeBandState(this.state, writer);
  }

  /** The smallest value the series has shown (for the bounds of its kind). */
  smallestSeen(): number {
    return this.s.smallest;
  }

  /**
   * Reads and learns one bucket. The reading returned is written over by the next update. A bucket
   * `taughtNormal` (a person said its departure was normal) is part of a notable run whatever its size, on the
   * run's side: the departure is remembered whole, as a weekly event next week.
   */
  update(timestamp: number, value: number, taughtNormal = false): Readonly<BandReading> {
    const b = this.bucket;
    this.observe(b, timestamp, value);
    this.expect(b);
    this.drawBand(b);
    this.followMean(b);
    this.followCount(b);
    this.backAtFormerLevel(b);
    const s = this.s;
    const warm = s.points >= bandTuning.warmUpBuckets && timestamp - s.first >= this.settings.minHistoryMs;
    const side = b.residual > 0 ? 1 : -1;
    const stuck = this.stuck(b, warm);
    const sustainedSide = this.sustainedSide(b);
    const anomaly =
      warm &&
      ((this.watches(side) && (b.outside || stuck)) || (sustainedSide !== 0 && this.watches(sustainedSide)));
    const extreme = anomaly && (side > 0 ? b.z > s.extremeUp : -b.z > s.extremeDown);
    // Departures are tracked against the band without weekly events: an event is a departure too, which is how
    // it is remembered week to week.
    const departing = b.outsideBase || sustainedSide !== 0;
    const relearned = this.track(
      timestamp,
      b.residual,
      departing,
      b.outsideBase || sustainedSide === 0 ? side : sustainedSide,
    );
    // What may be a weekly event is remembered whether or not the band (wide while young) calls it a departure:
    // a bucket past a normal noise's once-in-a-decade (4.5 of them) is notable.
    const notable = Math.abs(b.z) > Math.min(4.5, side > 0 ? s.edgeUp : s.edgeDown);
    noteRun(
      this.state,
      timestamp,
      b.residual,
      notable ? 'notable' : taughtNormal ? 'taught' : 'plain',
      side,
      {
        interval: b.interval,
        relearnAfterMs: this.relearnAfterMs,
      },
    );
    this.learn(b);
    s.points += 1;
    return this.read(b, anomaly, extreme, relearned, stuck);
  }

  /** Whether the settings watch a side (1 above, -1 below). */
  private watches(side: number): boolean {
    const direction = this.settings.direction;
    return direction === 'both' || (direction === 'above') === side > 0;
  }

  /** Takes the bucket in: its domain, the series' step, a silence before it, the day it is in. */
  private observe(b: Bucket, timestamp: number, value: number): void {
    const s = this.s;
    const a = this.a;
    b.timestamp = timestamp;
    b.value = value;
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
    b.interval = interval;
    // A silence is no incident: what the last buckets said is forgotten, and learning goes on after it.
    if (gap > 6 * interval) this.forgetRecent();
    s.last = Math.max(s.last, timestamp);
    b.y = this.toDomain(value);
    if (s.points === 0) s.level = b.y;
    const weekday = weekdayOf(timestamp);
    if (weekday !== s.today) closeDay(this.state, weekday, interval);
    b.dayPosition = slotPosition(timestamp, dayMs, bandTuning.dailySlots);
    b.scalePosition = slotPosition(timestamp, dayMs, bandTuning.scaleSlots);
    b.weekdayPart = a.weekday[weekday] ?? 0;
    b.dailyPart = readProfile(a.daily, b.dayPosition);
  }

  /** The expected value, the noise at this hour, and how far out the bucket is in it. */
  private expect(b: Bucket): void {
    const s = this.s;
    const expectedY = s.level + b.weekdayPart + (s.season === 1 ? b.dailyPart : 0);
    b.expectedY = expectedY;
    // The noise at this hour: the series' scale times the hour's share of it (noise is larger when busy). A
    // count is never less noisy than counting: on its log scale, 1 / sqrt(expected + 1) (a quiet weekend night
    // counting 5 a minute swings far more than the busy hours the scale learned from).
    b.scale = Math.max(
      s.scale * readProfile(this.a.dailyScale, b.scalePosition),
      1e-9 * Math.max(1, Math.abs(expectedY)),
      this.counting ? Math.exp(-0.5 * Math.min(expectedY, 700)) : 0,
    );
    b.residual = b.y - expectedY;
    b.z = b.residual / b.scale;
  }

  /** The band's edges, widened over a weekly event, and whether the bucket is outside them. */
  private drawBand(b: Bucket): void {
    const s = this.s;
    // The edges move slowly: re-read every few buckets (and kept in the state, so a restored band reads the same).
    if (s.points % bandTuning.refreshBuckets === 0 || s.edgeUp === 0) this.refresh(b.interval);
    const { expectedY, scale, y } = b;
    b.upperY = expectedY + s.edgeUp * scale;
    b.lowerY = expectedY - s.edgeDown * scale;
    b.outsideBase = y > b.upperY || y < b.lowerY;
    // A weekly event seen at this time one or two weeks before is normal: the band covers it.
    b.event = weeklyEvent(this.state.episodes, b.timestamp, b.interval);
    if (b.event > 0) b.upperY = Math.max(b.upperY, expectedY + 1.1 * b.event + s.edgeUp * scale);
    if (b.event < 0) b.lowerY = Math.min(b.lowerY, expectedY + 1.1 * b.event - s.edgeDown * scale);
    b.outside = y > b.upperY || y < b.lowerY;
  }

  /**
   * The running mean of the deviations (each clipped at four noise units: a spike is the band's business),
   * standardized so that independent normal buckets give it unit spread: a shift of two noise units that no
   * single bucket shows is plain in half an hour of them. Buckets outside the band (which would linger in the
   * mean after they end) and a weekly event's buckets on its side (expected) add nothing.
   */
  private followMean(b: Bucket): void {
    const s = this.s;
    const sustainRate = Math.min(0.5, b.interval / bandTuning.sustainMs);
    const seen = b.outsideBase || (b.event !== 0 && Math.sign(b.event) === Math.sign(b.z));
    s.meanZ += sustainRate * ((seen ? 0 : clamp(b.z, -4, 4)) - s.meanZ);
    b.meanZ = s.meanZ / Math.sqrt(sustainRate / (2 - sustainRate));
  }

  /**
   * A count's running total against the total the band expects, both as counts: a sparse counter raised five
   * times over for an hour stays inside the band bucket by bucket (a 1 where 0.04 is expected is not far on the
   * log scale), while the half hour's total is plain (17 counts where 2.4 are expected). Running means with the
   * running mean of deviations' time constant; buckets outside the band, and a weekly event's on its side,
   * count as expected. The deviate is a Poisson's, divided by the spread the series showed it when nothing
   * was wrong (counts that vary more than a Poisson's, a rate the band misses a little).
   */
  private followCount(b: Bucket): void {
    const s = this.s;
    b.countZ = 0;
    if (!this.counting) return;
    const rate = Math.min(0.5, b.interval / bandTuning.sustainMs);
    const expected = rateOfMeanLog(b.expectedY);
    const seen =
      b.outsideBase || (b.event !== 0 && Math.sign(b.event) === Math.sign(b.z)) ? expected : b.value;
    s.countSeen += rate * (seen - s.countSeen);
    s.countExpected += rate * (expected - s.countExpected);
    // Running means of independent Poisson counts, times (2 - rate) / rate, have a Poisson's mean and variance.
    const buckets = (2 - rate) / rate;
    b.countRate = expected;
    b.countZ =
      countDeviate(s.countSeen * buckets, s.countExpected * buckets) / Math.sqrt(Math.max(1, s.countSpread));
  }

  /**
   * Back to the level the series had before a departure was accepted: not news (it was normal hours ago), so
   * the bucket's band reaches the former level's too. Two buckets in a row set the level back (one noisy bucket
   * is not a return) and show the former band alone.
   */
  private backAtFormerLevel(b: Bucket): void {
    const s = this.s;
    b.shownShift = 0;
    if (b.timestamp >= s.formerUntil) return;
    const shift = s.formerLevel - s.level;
    const back = b.outside && b.y > b.lowerY + shift && b.y < b.upperY + shift;
    s.backRun = back ? s.backRun + 1 : 0;
    if (s.backRun >= 2) {
      s.level = s.formerLevel;
      s.meanZ = 0;
      s.formerUntil = 0;
      s.backRun = 0;
      b.shownShift = shift;
      b.upperY += shift;
      b.lowerY += shift;
    } else if (back) {
      b.upperY = Math.max(b.upperY, b.upperY + shift);
      b.lowerY = Math.min(b.lowerY, b.lowerY + shift);
    }
    if (back) b.outside = false;
  }

  /**
   * A value that stays exactly the same in a series that usually moves: as rare as the band says, it is stuck.
   * Only in a series that seldom repeats a value, and not at a value it has as a floor or a ceiling (zero, 100 %).
   */
  private stuck(b: Bucket, warm: boolean): boolean {
    const s = this.s;
    const { value, interval } = b;
    const repeated = s.points > 0 && value === s.lastValue;
    s.repeatRun = repeated ? s.repeatRun + 1 : 0;
    const target = (this.target * interval) / (365 * dayMs);
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
    return stuck;
  }

  /**
   * A shift too small for one bucket, held long enough to move the running mean past its own learned edge: its
   * side, or 0. It must be a shift of at least one noise unit: a smaller one is the model's bias, not an
   * incident. And only on the log scale (counts, latencies), where weekends and busy hours are ratios as the
   * model has them: on a plain gauge a multiplicative weekly pattern leaves the additive model a bias of a few
   * noise units.
   */
  private sustainedSide(b: Bucket): number {
    const s = this.s;
    // Counts judged as counts where a bucket expects fewer than one: where the log scale cannot see a rate. Past
    // its edge the running count starts a departure, which lasts while the count stays a standard deviation
    // above the expected one (a raise counted in zeros and ones crosses its edge back and forth: one alert, not
    // one per crossing; a count wandering about its expected value after a burst does not hold one open).
    if (b.countZ > 1 && b.countRate < 1 && (s.side === 1 || b.countZ > this.countEdgeAt(b.interval)))
      return 1;
    if (!(s.offset > 0 && Math.abs(s.meanZ) >= 1)) return 0;
    return b.meanZ > s.sustainUp ? 1 : -b.meanZ > s.sustainDown ? -1 : 0;
  }

  /** The reading of the bucket, back in the series' units. */
  private read(
    b: Bucket,
    anomaly: boolean,
    extreme: boolean,
    relearned: boolean,
    stuck: boolean,
  ): BandReading {
    const s = this.s;
    const reading = this.reading;
    reading.expected = this.fromDomain(b.expectedY + b.shownShift);
    reading.lower = this.fromDomain(b.lowerY);
    reading.upper = this.fromDomain(b.upperY);
    if (!Number.isFinite(reading.lower + reading.upper + s.level + s.scale)) {
      // Values that broke the arithmetic (adversarial extremes in a young series): the band starts afresh
      // from this bucket rather than carry a number no store can keep.
      const { timestamp, value } = b;
      resetBandState(this.state);
      this.update(timestamp, value);
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
      resetBandState(this.state);
      Object.assign(s, { offset: -1, first: timestamp, last: timestamp });
    }
  }

  /** The running count's edge: a normal deviate at the running mean's rarity (read once per step). */
  private countEdgeAt(interval: number): number {
    if (Math.abs(interval - this.countEdgeInterval) > 0.01 * interval) {
      const target = (this.target * interval) / (365 * dayMs);
      this.countEdge = deviationAt(
        normalShape,
        Math.min(0.01, target * Math.max(1, bandTuning.sustainMs / interval)),
      );
      this.countEdgeInterval = interval;
    }
    return this.countEdge;
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

  /** Learns from the bucket: the day's mean, the level, the daily profile, the season, the noise and the tails. */
  private learn(b: Bucket): void {
    const s = this.s;
    const a = this.a;
    const { timestamp, y, residual, z, scale, interval, weekdayPart, dailyPart, meanZ } = b;
    const inEvent = b.event !== 0 && b.outsideBase;
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
        b.dayPosition,
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
    if (this.counting) {
      // Clipped at three Poisson deviations: a raise not yet past its edge (which is no departure yet) does not
      // teach the spread that it is normal.
      const deviate = clamp(b.countZ * Math.sqrt(Math.max(1, s.countSpread)), -3, 3);
      s.countSpread += scaleRate * (deviate * deviate - s.countSpread);
    }
    if (s.scale > 0) {
      const rate = bandTuning.profileRate * Math.min(1, (interval * bandTuning.scaleSlots) / dayMs);
      learnProfile(a.dailyScale, b.scalePosition, Math.min(absolute / s.scale, 4), rate);
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
      const relearnAfter = this.relearnAfterMs;
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

  private forgetRecent(): void {
    const s = this.s;
    closeRun(this.state, this.relearnAfterMs);
    s.side = 0;
    s.insideRun = 0;
    s.recent0 = 0;
    s.recent1 = 0;
    s.recent2 = 0;
    s.previousZ = 0;
    s.earlierZ = 0;
    s.meanZ = 0;
  }
}

/** `x` within [low, high]. */
const clamp = (x: number, low: number, high: number): number => Math.min(high, Math.max(low, x));
