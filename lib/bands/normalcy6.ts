/**
 * Prototype of normalcy/6 (to be split into modules once settled).
 */
import {
  type BandEngine,
  type BandEngineFactory,
  type BandResult,
  type BandSettings,
  defaultBandSettings,
  type EngineState,
} from './engine.ts';
import { beyondEngineLimit, withinEngineLimit, withRealValue } from './finite.ts';
import { clampToBounds, kindBounds } from './metric-kind.ts';
import { learnProfile, readProfile, slotPosition } from './seasonal-profile.ts';
import {
  countDeviation,
  deviationAt,
  fadeCounts,
  independence,
  pairDeviationAt,
  probabilityOf,
  type TailShape,
  tailRungs,
  tailShape,
} from './tails.ts';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;
const weekMs = 7 * dayMs;

export const tuning6 = {
  /** Pages a normal series may get per year from the default rule (sets the band's probability). */
  pagesPerYear: Number(process.env.PPY ?? 0.5),
  /** Time constant of the level (ms). */
  levelMs: 12 * hourMs,
  /** Per-period learning rate of the daily profile (a slot learns this share of a day's news each day). */
  profileRate: 0.2,
  /** Time constant of the scale (ms). */
  scaleMs: 3 * dayMs,
  /** How long the tails remember (ms). */
  tailMemoryMs: 14 * dayMs,
  warmUpBuckets: 60,
  dailySlots: 288,
  scaleSlots: 24,
  /** Memory of the errors that choose whether the daily profile is used (ms). */
  seasonErrorMs: 14 * dayMs,
  /** The daily profile is used when it cuts the error of the level alone by this share. */
  seasonGain: 0.1,
  /** Weekly events remembered, and how far their timing may move (ms). */
  episodes: 16,
  episodeToleranceMs: 5 * minuteMs,
  /** Buckets in a row inside that end a departure. */
  departureEndBuckets: 3,
  /** Band edges are re-read from the tails every this many buckets. */
  refreshBuckets: 16,
};

const madToSd = 1.2533;

/** A departure the series made, kept to recognise weekly events. */
interface Episode {
  start: number;
  end: number;
  side: number;
  max: number;
}

interface State6 {
  engine: string;
  settings: BandSettings;
  points: number;
  first: number;
  last: number;
  interval: number;
  /** Log offset of the domain: > 0 log(value + offset), -1 the values as they are, 0 not chosen yet. */
  offset: number;
  smallest: number;
  level: number;
  /** The level as the current day began: what the day's mean deviation is measured from. */
  dayLevel: number;
  scale: number;
  daily: number[];
  /** Noise by hour of day, as a share of `scale`. */
  dailyScale: number[];
  weekday: number[];
  weekdayMeans: number[];
  today: number;
  todaySum: number;
  todayBuckets: number;
  errNone: number;
  errDaily: number;
  season: number;
  up: number[];
  down: number[];
  pairUp: number[];
  pairDown: number[];
  counted: number;
  z1: number;
  z2: number;
  side: number;
  since: number;
  insideRun: number;
  residualSum: number;
  residualCount: number;
  residualMax: number;
  recent: number[];
  /** The level before the last departure accepted as a new one, until when coming back to it is normal. */
  formerLevel: number;
  formerUntil: number;
  /** The most surprising bucket of the ongoing departure (its news is only what goes past it). */
  departureSurprise: number;
  /** The largest deviations above and below the expected value lately (fading): no larger one is news. */
  precedentUp: number;
  precedentDown: number;
  /** The news of the last bucket that scored past the threshold, and when: the next needs more (one score per incident). */
  incident: number;
  incidentAt: number;
  episodes: Episode[];
}

function fresh(settings: BandSettings): State6 {
  return {
    engine: 'normalcy/6',
    settings,
    points: 0,
    first: 0,
    last: 0,
    interval: 0,
    offset: 0,
    smallest: Number.MAX_VALUE,
    level: 0,
    dayLevel: 0,
    scale: 0,
    daily: Array(tuning6.dailySlots).fill(0),
    dailyScale: Array(tuning6.scaleSlots).fill(1),
    weekday: Array(7).fill(0),
    weekdayMeans: Array(21).fill(0),
    today: -1,
    todaySum: 0,
    todayBuckets: 0,
    errNone: 0,
    errDaily: 0,
    season: 0,
    up: Array(tailRungs).fill(0),
    down: Array(tailRungs).fill(0),
    pairUp: Array(tailRungs).fill(0),
    pairDown: Array(tailRungs).fill(0),
    counted: 0,
    z1: 0,
    z2: 0,
    side: 0,
    since: 0,
    insideRun: 0,
    residualSum: 0,
    residualCount: 0,
    residualMax: 0,
    recent: [0, 0, 0],
    departureSurprise: 0,
    formerLevel: 0,
    formerUntil: 0,
    precedentUp: 0,
    precedentDown: 0,
    incident: 0,
    incidentAt: 0,
    episodes: [],
  };
}

class Engine6 implements BandEngine {
  private shapeUp: TailShape = { z01: 2.33, row: 9, lastZ: 0, lastProbability: 1 };
  private shapeDown: TailShape = { z01: 2.33, row: 9, lastZ: 0, lastProbability: 1 };
  private edgeUp = 4;
  private edgeDown = 4;
  private extremeUp = 5;
  private extremeDown = 5;
  private refreshed = Number.NEGATIVE_INFINITY;

  constructor(private readonly s: State6) {}

  toState(): EngineState {
    return JSON.parse(JSON.stringify(this.s)) as EngineState;
  }

  describe() {
    const s = this.s;
    const weekly = s.weekday.some((value) => Math.abs(value) > 2 * s.scale);
    return {
      kind: null,
      seasonality:
        s.points > 0 && s.last - s.first >= 2 * dayMs
          ? s.season === 1
            ? weekly
              ? 'daily+weekly'
              : 'daily'
            : weekly
              ? 'weekly'
              : 'none'
          : null,
    };
  }

  private toDomain(value: number): number {
    const o = this.s.offset;
    return o > 0 ? Math.log(Math.max(value, 0) + o) : value;
  }

  private fromDomain(y: number): number {
    const o = this.s.offset;
    return o > 0 ? Math.exp(Math.min(y, 700)) - o : y;
  }

  update(timestamp: number, value: number): BandResult {
    const s = this.s;
    if (!Number.isFinite(value) || !Number.isFinite(timestamp)) {
      return { timestamp, value, expected: 0, lower: 0, upper: 0, score: 0, anomaly: false };
    }
    if (beyondEngineLimit(value))
      return withRealValue(this.update(timestamp, withinEngineLimit(value)), value);
    this.chooseDomain(value, timestamp);
    if (value < s.smallest) s.smallest = value;
    if (s.points === 0) {
      s.first = timestamp;
      s.last = timestamp;
    }
    const gap = timestamp - s.last;
    if (gap > 0) {
      s.interval = s.interval === 0 ? gap : s.interval + 0.05 * (Math.min(gap, 4 * s.interval) - s.interval);
    }
    const interval = s.interval || minuteMs;
    // A silence is no incident: what the last buckets said is forgotten, and learning goes on after it.
    if (gap > 6 * interval) this.forgetRecent();
    s.last = Math.max(s.last, timestamp);

    const y = this.toDomain(value);
    if (s.points === 0) {
      s.level = y;
      s.dayLevel = y;
    }
    const dayPosition = slotPosition(timestamp, dayMs, tuning6.dailySlots);
    const scalePosition = slotPosition(timestamp, dayMs, tuning6.scaleSlots);
    const weekday = (Math.floor(timestamp / dayMs) + 3) % 7; // Monday is 0 (1970-01-01 was a Thursday)
    if (weekday !== s.today) this.closeDay(weekday, interval);
    const weekdayPart = s.weekday[weekday] ?? 0;
    const dailyPart = readProfile(s.daily, dayPosition);
    const expectedY = s.level + weekdayPart + (s.season >= 1 ? dailyPart : 0);
    // The noise at this time of day: the series' scale times the hour's share of it (noise is larger when busy).
    const scale = Math.max(
      s.scale * readProfile(s.dailyScale, scalePosition),
      1e-9 * Math.max(1, Math.abs(expectedY)),
    );
    const residual = y - expectedY;
    const z = residual / scale;

    // The band is drawn where a normal series passes it twice in three buckets (what the default rule pages
    // on) pagesPerYear times a year; one bucket past the single-bucket edge that often is extreme.
    const target = (tuning6.pagesPerYear * interval) / (365 * dayMs);
    if (s.points - this.refreshed >= tuning6.refreshBuckets) this.refresh(target);
    let upperY = expectedY + this.edgeUp * scale;
    let lowerY = expectedY - this.edgeDown * scale;
    const baseUpper = upperY;
    const baseLower = lowerY;
    // A weekly event seen at this time in each of the two weeks before is normal: the band covers it.
    const event = this.weeklyEvent(timestamp);
    if (event > 0) upperY = Math.max(upperY, expectedY + event * 1.1 + this.edgeUp * scale);
    if (event < 0) lowerY = Math.min(lowerY, expectedY + event * 1.1 - this.edgeDown * scale);

    const warm = s.points >= tuning6.warmUpBuckets && timestamp - s.first >= s.settings.minHistoryMs;
    const side = residual > 0 ? 1 : -1;
    let outside = y > upperY || y < lowerY;
    if (outside && timestamp < s.formerUntil) {
      // Back to the level the series had before a departure was accepted: not news, the old level is back.
      const shift = s.formerLevel - s.level;
      if (y > lowerY + shift && y < upperY + shift) {
        s.level = s.formerLevel;
        s.formerUntil = 0;
        upperY += shift;
        lowerY += shift;
        outside = false;
      }
    }
    const wanted = s.settings.direction === 'both' || (s.settings.direction === 'above') === side > 0;
    const anomaly = warm && outside && wanted;
    const extreme = anomaly && (side > 0 ? z > this.extremeUp : -z > this.extremeDown);

    // Departures are tracked against the band without weekly events: an event is a departure too, which is how
    // it is remembered week to week.
    const wasDeparting = s.side === side;
    const departing = this.track(timestamp, residual, y > baseUpper || y < baseLower, side);
    this.learn(
      timestamp,
      y,
      residual,
      z,
      scale,
      departing,
      interval,
      weekdayPart,
      dailyPart,
      dayPosition,
      scalePosition,
    );
    s.points += 1;

    const bounds = kindBounds(s.settings.kind, s.smallest);
    const expected = clampToBounds(this.fromDomain(expectedY), bounds);
    const lower = Math.min(expected, clampToBounds(this.fromDomain(lowerY), bounds));
    const upper = Math.max(expected, clampToBounds(this.fromDomain(upperY), bounds));
    const probability = probabilityOf(
      side > 0 ? this.shapeUp : this.shapeDown,
      side > 0 ? s.up : s.down,
      s.counted,
      Math.abs(z),
    );
    // The score is news: how surprising the bucket is, less what the departure it continues has shown already.
    const surprise = -Math.log10(Math.max(probability, 1e-300));
    // Nor is a deviation no larger than the series' largest lately (fading with a 12-day half-life).
    const fade = gap > 0 ? 0.5 ** (gap / (12 * dayMs)) : 1;
    s.precedentUp *= fade;
    s.precedentDown *= fade;
    const precedent = side > 0 ? s.precedentUp : s.precedentDown;
    const unprecedented = Math.abs(residual) > precedent + 0.5 * scale;
    const news = !unprecedented ? 0 : wasDeparting ? Math.max(0, surprise - s.departureSurprise) : surprise;
    if (warm || s.points >= 10) {
      if (side > 0) s.precedentUp = Math.max(s.precedentUp, residual);
      else s.precedentDown = Math.max(s.precedentDown, -residual);
    }
    s.departureSurprise = departing ? Math.max(wasDeparting ? s.departureSurprise : 0, surprise) : 0;
    const threshold = -Math.log10(target);
    // After news past the threshold, the next news needs the threshold on top of it: held for three hours,
    // then fading with a day's half-life.
    const since = timestamp - s.incidentAt;
    const held = s.incident * (since <= 3 * hourMs ? 1 : 0.5 ** ((since - 3 * hourMs) / dayMs));
    const fresh = Math.max(0, news - held);
    if (warm && wanted && fresh >= threshold) {
      s.incident = news;
      s.incidentAt = timestamp;
    }
    const score = warm && wanted ? Math.min(1, fresh / (fresh + threshold)) : 0;
    return {
      timestamp,
      value,
      expected,
      lower,
      upper,
      score,
      anomaly,
      ...(extreme && { extreme: true }),
    } as BandResult;
  }

  /** Counts and latencies vary by ratios: judged on a log scale; other values as they are. */
  private chooseDomain(value: number, timestamp: number): void {
    const s = this.s;
    if (s.offset === 0) {
      const multiplicative = s.settings.kind === 'count' || s.settings.kind === 'latency';
      if (value < 0 || !multiplicative) s.offset = -1;
      else if (value > 0 || s.points >= 5)
        s.offset = Number.isInteger(value) ? 1 : Math.max(1e-9, 0.05 * value);
    } else if (value < 0 && s.offset > 0) {
      // A count that goes negative is not one: judged as it is, learned again.
      Object.assign(s, fresh(s.settings), { offset: -1, first: timestamp, last: timestamp });
    }
  }

  private refresh(target: number): void {
    const s = this.s;
    this.shapeUp = tailShape(s.up, s.counted);
    this.shapeDown = tailShape(s.down, s.counted);
    this.edgeUp = pairDeviationAt(this.shapeUp, independence(s.pairUp, this.shapeUp, s.counted), target);
    this.edgeDown = pairDeviationAt(
      this.shapeDown,
      independence(s.pairDown, this.shapeDown, s.counted),
      target,
    );
    this.extremeUp = deviationAt(this.shapeUp, target);
    this.extremeDown = deviationAt(this.shapeDown, target);
    this.refreshed = s.points;
  }

  /** A day ended: its mean deviation joins its weekday's last three, and the weekday's level is their median. */
  private closeDay(weekday: number, interval: number): void {
    const s = this.s;
    if (s.today >= 0 && s.todayBuckets >= (0.5 * dayMs) / interval) {
      const at = 3 * s.today;
      const means = s.weekdayMeans;
      means[at + 2] = means[at + 1] ?? 0;
      means[at + 1] = means[at] ?? 0;
      means[at] = s.todaySum / s.todayBuckets;
      s.weekday[s.today] = medianOfThree(means[at] ?? 0, means[at + 1] ?? 0, means[at + 2] ?? 0);
    }
    s.today = weekday;
    s.dayLevel = s.level;
    s.todaySum = 0;
    s.todayBuckets = 0;
  }

  private learn(
    timestamp: number,
    y: number,
    residual: number,
    z: number,
    scale: number,
    departing: boolean,
    interval: number,
    weekdayPart: number,
    dailyPart: number,
    dayPosition: number,
    scalePosition: number,
  ): void {
    const s = this.s;
    const young = s.points < tuning6.warmUpBuckets;
    const protectedLearning = !departing || young;
    const firstRate = young ? 1 / (s.points + 1) : 0;
    const age = timestamp - s.first;
    const inBand = (x: number) => Math.max(-this.edgeDown * scale, Math.min(this.edgeUp * scale, x));
    const wide = (x: number) => Math.max(-6 * scale, Math.min(6 * scale, x));
    // The weekday's day mean takes every bucket, from the level as the day began: a weekend departs as a whole,
    // and is learned as one, whatever the level did meanwhile.
    s.todaySum += wide(y - s.dayLevel - dailyPart);
    s.todayBuckets += 1;
    // The model in use learns only outside departures, from residuals clipped to the band: an incident does not
    // become the normal. The daily profile, while the season does not use it, is a candidate: it learns from
    // every bucket, clipped wider. The season is chosen on every bucket, clipped alike.
    if (protectedLearning)
      s.level += Math.max(Math.min(1, interval / tuning6.levelMs), firstRate) * inBand(residual);
    if (protectedLearning || s.season < 1) {
      const dayShare = Math.max(tuning6.profileRate, 1 / (1 + Math.floor(age / dayMs)));
      const rate = Math.min(1, (dayShare * interval * tuning6.dailySlots) / dayMs);
      const own = y - s.level - weekdayPart - dailyPart;
      learnProfile(s.daily, dayPosition, dailyPart + (s.season >= 1 ? inBand(own) : wide(own)), rate);
    }
    const errorRate = Math.min(1, interval / tuning6.seasonErrorMs);
    s.errNone += errorRate * (Math.abs(wide(y - s.level - weekdayPart)) - s.errNone);
    s.errDaily += errorRate * (Math.abs(wide(y - s.level - weekdayPart - dailyPart)) - s.errDaily);
    const season = age >= 2 * dayMs && s.errDaily < (1 - tuning6.seasonGain) * s.errNone ? 1 : 0;
    if (season !== s.season) {
      // Another model: its errors are another distribution. The tails start again from the prior.
      for (const counts of [s.up, s.down, s.pairUp, s.pairDown]) fadeCounts(counts, 0);
      s.counted = 0;
      this.refreshed = Number.NEGATIVE_INFINITY;
      s.season = season;
    }
    if (!protectedLearning) return;
    const absolute = (s.scale === 0 ? Math.abs(residual) : Math.min(Math.abs(residual), 4 * scale)) * madToSd;
    s.scale =
      s.scale === 0
        ? absolute
        : s.scale + Math.max(Math.min(1, interval / tuning6.scaleMs), firstRate) * (absolute - s.scale);
    if (s.scale > 0) {
      const rate = Math.min(1, (tuning6.profileRate * interval * tuning6.scaleSlots) / dayMs);
      learnProfile(s.dailyScale, scalePosition, Math.min(absolute / s.scale, 4), rate);
    }
    // The tails: single deviations, and the 2-of-3 statistic (this one and the larger of the two before),
    // clipped to twice the band's edges: a tail that reaches past them widens the band step by step, while one
    // freak bucket cannot throw it wide at once.
    const keep = 1 - interval / tuning6.tailMemoryMs;
    for (const counts of [s.up, s.down, s.pairUp, s.pairDown]) fadeCounts(counts, keep);
    s.counted = s.counted * keep + 1;
    const clipped = Math.max(-2 * this.edgeDown, Math.min(2 * this.edgeUp, z));
    countDeviation(clipped > 0 ? s.up : s.down, Math.abs(clipped));
    const pairUp = Math.min(clipped, Math.max(s.z1, s.z2));
    const pairDown = Math.min(-clipped, Math.max(-s.z1, -s.z2));
    if (pairUp > 0) countDeviation(s.pairUp, pairUp);
    if (pairDown > 0) countDeviation(s.pairDown, pairDown);
    s.z2 = s.z1;
    s.z1 = clipped;
  }

  /** Tracks departures (two of three buckets outside on one side), accepting long ones; true while departing. */
  private track(timestamp: number, residual: number, outside: boolean, side: number): boolean {
    const s = this.s;
    s.recent.shift();
    s.recent.push(outside ? side : 0);
    const sustained = s.recent.filter((x) => x === side).length >= 2;
    if (outside && (s.side === side || sustained)) {
      if (s.side !== side) {
        this.closeEpisode(timestamp);
        s.side = side;
        s.since = timestamp;
        s.residualSum = 0;
        s.residualCount = 0;
        s.residualMax = 0;
      }
      s.insideRun = 0;
      s.residualSum += residual;
      s.residualCount += 1;
      s.residualMax = Math.max(s.residualMax, Math.abs(residual));
      // A departure that lasts relearnAfterMs on one side is accepted: the level moves to the departure's. Not
      // before two weeks of history: what departs may be the series' weekly pattern, not learned yet.
      const relearnAfter = s.settings.relearnAfterMs ?? 6 * hourMs;
      if (timestamp - s.since >= relearnAfter && timestamp - s.first >= 2 * weekMs) {
        s.formerLevel = s.level;
        s.formerUntil = timestamp + dayMs;
        const accepted = s.residualSum / s.residualCount;
        s.level += accepted;

        s.side = 0;
        s.residualSum = 0;
        s.residualCount = 0;
        s.recent = [0, 0, 0];
      }
    } else if (s.side !== 0) {
      s.insideRun += 1;
      if (s.insideRun >= tuning6.departureEndBuckets)
        this.closeEpisode(timestamp - s.insideRun * (s.interval || minuteMs));
    }
    return s.side !== 0;
  }

  private forgetRecent(): void {
    const s = this.s;
    this.closeEpisode(s.last);
    s.recent = [0, 0, 0];
    s.z1 = 0;
    s.z2 = 0;
  }

  private closeEpisode(end: number): void {
    const s = this.s;
    if (s.side !== 0 && s.residualCount > 0) {
      s.episodes.push({ start: s.since, end, side: s.side, max: s.side * s.residualMax });
      while (s.episodes.length > tuning6.episodes) s.episodes.shift();
    }
    s.side = 0;
    s.insideRun = 0;
  }

  /** The size (signed) of a weekly event seen at this time in each of the two weeks before; 0 when none. */
  private weeklyEvent(timestamp: number): number {
    const tolerance = Math.max(tuning6.episodeToleranceMs, 2 * (this.s.interval || minuteMs));
    let one = 0;
    let two = 0;
    for (const episode of this.s.episodes) {
      const covers = (weeks: number) =>
        timestamp - weeks * weekMs >= episode.start - tolerance &&
        timestamp - weeks * weekMs <= episode.end + tolerance;
      if (covers(1)) one = episode.max;
      if (covers(2)) two = episode.max;
    }
    if (one === 0 || two === 0 || Math.sign(one) !== Math.sign(two)) return 0;
    return one > 0 ? Math.max(one, two) : Math.min(one, two);
  }
}

/** The median of three numbers. */
function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

function settingsOf(settings?: Partial<BandSettings>): BandSettings {
  return { ...defaultBandSettings, ...settings };
}

export const normalcy6Engine: BandEngineFactory = {
  name: 'normalcy/6',
  create: (settings) => new Engine6(fresh(settingsOf(settings))),
  restore: (state, settings) =>
    state && state.engine === 'normalcy/6'
      ? new Engine6({ ...(JSON.parse(JSON.stringify(state)) as State6), settings: settingsOf(settings) })
      : new Engine6(fresh(settingsOf(settings))),
};
